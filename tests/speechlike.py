"""A deterministic stand-in for synthesized speech, for tests and benchmarks.

Syllables of a harmonic voice (gliding pitch, two formants, spectral tilt) with fricative
noise bursts, short gaps between syllables and longer ones between phrases: it has speech's
crest factor, pauses and bandwidth, which is what loudness gating, true-peak limiting and
MP3 encoding react to. Not intelligible: tests that need words use a real engine.
"""

from __future__ import annotations

import numpy as np

from pangocast.audio.pcm import Audio


def speech_like(
    seconds: float, rate: int = 44100, *, f0: float = 120.0, level_db: float = -20.0, seed: int = 0
) -> Audio:
    """``seconds`` of speech-like sound at about ``level_db`` dBFS RMS while voiced.

    Starts with a syllable at sample 0 and ends at the last sample of the last syllable, so
    a segment's audio boundaries are its array boundaries.
    """
    rng = np.random.default_rng(seed)
    total = round(seconds * rate)
    out = np.zeros(total)
    pos = 0
    in_phrase = 0
    phrase_len = int(rng.integers(5, 11))
    while pos < total:
        n = min(int(rng.uniform(0.12, 0.26) * rate), total - pos)
        t = np.arange(n) / rate
        pitch = f0 * (
            1.0 + rng.uniform(-0.12, 0.12) + rng.uniform(-0.25, 0.25) * t / max(t[-1], 1e-3)
        )
        phase = 2 * np.pi * np.cumsum(pitch) / rate
        f1, f2 = rng.uniform(300, 800), rng.uniform(900, 2400)
        voiced = np.zeros(n)
        for k in range(1, int(5000 / f0)):
            fk = k * f0
            weight = (
                1.0 / (1.0 + ((fk - f1) / 120.0) ** 2) + 0.5 / (1.0 + ((fk - f2) / 180.0) ** 2)
            ) / k**0.5
            voiced += weight * np.sin(k * phase)
        edge = min(int(0.015 * rate), n // 2)
        env = np.ones(n)
        if edge > 0:
            ramp = 0.5 - 0.5 * np.cos(np.pi * np.arange(edge) / edge)
            env[:edge] = ramp
            env[-edge:] = ramp[::-1]
        # the first sample of a segment must be audible: start the very first syllable hot
        if pos == 0 and edge > 0:
            env[:edge] = np.maximum(env[:edge], 0.3)
        voiced *= env * 10 ** (rng.uniform(-4.0, 4.0) / 20)
        if rng.random() < 0.4:  # a fricative onset: noise in the 3-8 kHz band, fading out
            m = min(int(0.05 * rate), n)
            spectrum = np.fft.rfft(rng.standard_normal(m))
            freqs = np.fft.rfftfreq(m, 1 / rate)
            spectrum[(freqs < 3000) | (freqs > 8000)] = 0
            fade = np.minimum(np.linspace(0.0, 8.0, m), 1.0) * np.linspace(1.5, 0.0, m)
            voiced[:m] += np.fft.irfft(spectrum, m) * fade
        out[pos : pos + n] = voiced
        pos += n
        in_phrase += 1
        if in_phrase >= phrase_len:
            gap, in_phrase, phrase_len = rng.uniform(0.25, 0.4), 0, int(rng.integers(5, 11))
        else:
            gap = rng.uniform(0.03, 0.08)
        pos += int(gap * rate)
    # end on a syllable, not on a gap
    nonzero = np.flatnonzero(out)
    out = out[: nonzero[-1] + 1] if len(nonzero) else out
    voiced_rms = float(np.sqrt(np.mean(out[np.abs(out) > 1e-6] ** 2)))
    out *= 10 ** (level_db / 20) / voiced_rms
    return Audio.from_float(out, rate)
