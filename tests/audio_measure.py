"""Measurements the engine and build tests share: loudness (RMS) and pitch (F0)."""

from __future__ import annotations

import numpy as np

from pangocast.audio.pcm import Audio


def rms(audio: Audio) -> float:
    """Root-mean-square level of ``audio`` (full scale = 1)."""
    return float(np.sqrt(np.mean(audio.to_float() ** 2)))


def f0_track(audio: Audio, voicing: float = 0.5) -> np.ndarray:
    """F0 (Hz) of voiced 40 ms frames, by autocorrelation (70-500 Hz).

    A frame counts as voiced when its autocorrelation peak is above ``voicing`` times its
    energy (espeak's buzzier voice needs a lower threshold than the neural one).
    """
    x = audio.to_float()
    sr = audio.rate
    frame, hop = int(0.04 * sr), int(0.01 * sr)
    lo, hi = int(sr / 500), int(sr / 70)
    found = []
    for start in range(0, len(x) - frame, hop):
        w = x[start : start + frame]
        if np.sqrt(np.mean(w**2)) < 0.02:
            continue
        w = w - w.mean()
        ac = np.correlate(w, w, "full")[frame - 1 :]
        lag = lo + int(np.argmax(ac[lo:hi]))
        if ac[lag] > voicing * ac[0]:
            found.append(sr / lag)
    return np.array(found)
