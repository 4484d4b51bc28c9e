"""The show's own music: a short sting, a soft music bed, and ducking the bed under speech.

Both sounds are synthesized here (FM bells and detuned sine pads, no samples, no randomness),
so the project owns them outright; ``audio/sting.wav`` and ``audio/music.wav`` are these
sounds written by :func:`write_defaults`. A producer replaces them by dropping their own
``audio/sting.wav|mp3`` or ``audio/music.wav|mp3``: :func:`load_or_make` prefers a file.
"""

from __future__ import annotations

import math
import sys
from functools import cache
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt

from pangocast.audio.ffmpeg import decode_file, resample
from pangocast.audio.pcm import Audio
from pangocast.core.errors import AudioError
from pangocast.core.files import replace_file

FloatArray = npt.NDArray[np.float64]
JingleName = Literal["sting", "music"]
JINGLES: tuple[JingleName, ...] = ("sting", "music")
EXTENSIONS = (".wav", ".mp3", ".flac", ".ogg")
"""File types looked for under ``audio/``, in this order."""

STING_SECONDS = 2.6
MUSIC_LOOP_SECONDS = 16.0
"""One pass of the bed's four-chord progression (and the length of ``audio/music.wav``)."""


def _hz(midi: float) -> float:
    return float(440.0 * 2.0 ** ((midi - 69) / 12))


def _peak_to(x: FloatArray, dbfs: float) -> FloatArray:
    peak = float(np.abs(x).max(initial=0.0))
    return x if peak == 0 else x * (10 ** (dbfs / 20) / peak)


def _fm_bell(t: FloatArray, freq: float, decay: float, index: float) -> FloatArray:
    """An electric-piano-like FM tone: modulator at the carrier's frequency, index fading."""
    envelope = np.exp(-t / decay) * np.minimum(t / 0.006, 1.0)
    brightness = index * np.exp(-t / (decay * 0.35))
    tone = np.sin(2 * np.pi * freq * t + brightness * np.sin(2 * np.pi * freq * t))
    # a quiet octave below gives the bell some body
    tone += 0.35 * np.sin(np.pi * freq * t)
    return np.asarray(envelope * tone, dtype=np.float64)


def make_sting(rate: int = 44100) -> Audio:
    """The show's sting: a rising pentatonic arpeggio that settles on a C major chord.

    About 2.6 s, peaking at -3 dBFS, identical on every call.

    Raises:
        AudioError: ``rate`` is below 8000 Hz.
    """
    if rate < 8000:
        raise AudioError(f"sample rate {rate} Hz is too low for the sting")
    n = round(STING_SECONDS * rate)
    t_all = np.arange(n) / rate
    out = np.zeros(n)
    # C5 D5 E5 G5, 130 ms apart, then C5-E5-G5-C6 together
    arpeggio = [(0.00, 72), (0.13, 74), (0.26, 76), (0.39, 79)]
    chord = [(0.55, 72), (0.55, 76), (0.56, 79), (0.57, 84)]
    for onset, note in arpeggio:
        start = round(onset * rate)
        out[start:] += 0.5 * _fm_bell(t_all[: n - start], _hz(note), 0.35, 1.6)
    for onset, note in chord:
        start = round(onset * rate)
        out[start:] += 0.45 * _fm_bell(t_all[: n - start], _hz(note), 0.9, 1.2)
    # a soft low fifth under it all (C3 + G3), swelling in
    pad = np.sin(2 * np.pi * _hz(48) * t_all) + 0.7 * np.sin(2 * np.pi * _hz(55) * t_all)
    out += 0.12 * pad * np.minimum(t_all / 0.4, 1.0) * np.exp(-t_all / 1.2)
    fade = round(0.4 * rate)
    out[-fade:] *= 0.5 + 0.5 * np.cos(np.pi * np.arange(fade) / fade)
    return Audio.from_float(_peak_to(out, -3.0), rate)


# Cmaj9, Am9, Fmaj9, G6sus: four bars of four seconds, voiced low and close
_PROGRESSION = (
    (48, 55, 59, 62, 64),
    (45, 52, 55, 59, 60),
    (41, 48, 52, 55, 57),
    (43, 50, 55, 57, 59),
)


@cache
def _music_loop(rate: int) -> FloatArray:
    """One seamless 16 s period of the bed, peaking at -6 dBFS.

    Every frequency is rounded to a whole number of cycles per period (1/16 Hz steps, far
    below hearing) and the chord windows repeat with the period, so copies of the loop
    join without a seam, a click or a cross-fade.
    """
    n = round(MUSIC_LOOP_SECONDS * rate)
    t = np.arange(n) / rate
    out = np.zeros(n)
    bar = MUSIC_LOOP_SECONDS / len(_PROGRESSION)

    def whole(freq: float) -> float:
        return round(freq * MUSIC_LOOP_SECONDS) / MUSIC_LOOP_SECONDS

    for k, chord in enumerate(_PROGRESSION):
        # periodic raised-cosine window around bar k, 1 s of overlap either side
        pos = (t - k * bar) % MUSIC_LOOP_SECONDS
        pos = np.where(pos > MUSIC_LOOP_SECONDS - 0.5, pos - MUSIC_LOOP_SECONDS, pos)
        window = np.clip(np.minimum(pos + 0.5, bar + 0.5 - pos), 0.0, 1.0)
        window = 0.5 - 0.5 * np.cos(np.pi * window)
        on = np.flatnonzero(window)  # a chord sounds for ~5 s of each 16: skip the rest
        tt = t[on]
        voice = np.zeros(len(on))
        for note in chord:
            f = _hz(note)
            for detune in (-0.0025, 0.0, 0.0025):
                voice += np.sin(2 * np.pi * whole(f * (1 + detune)) * tt + note)
            voice += 0.3 * np.sin(2 * np.pi * whole(2 * f) * tt)
        out[on] += window[on] * voice
    out *= 1.0 + 0.12 * np.sin(2 * np.pi * 0.25 * t)  # four tremolo cycles per period
    return _peak_to(out, -6.0)


def make_music_bed(seconds: float, rate: int = 44100, *, fade: float = 1.0) -> Audio:
    """A soft pad of ``seconds``: slow Cmaj9-Am9-Fmaj9-G6sus chords, four seconds each.

    Each note is three slightly detuned sines with a gentle second harmonic; chords
    cross-fade over a second; a slow tremolo keeps it alive. It repeats seamlessly every
    16 s. Peaks at -6 dBFS before the caller sets its level (under speech it is ducked,
    see :func:`duck`).

    Args:
        seconds: length.
        rate: sample rate.
        fade: fade-in and fade-out (s); 0 for none.

    Raises:
        AudioError: ``seconds`` is negative or ``rate`` below 8000 Hz.
    """
    if seconds < 0 or rate < 8000:
        raise AudioError(f"cannot make {seconds:.2f}s of music at {rate} Hz")
    n = round(seconds * rate)
    loop = _music_loop(rate)
    out = np.tile(loop, n // len(loop) + 1)[:n]
    if fade > 0 and n:
        m = min(round(fade * rate), n // 2)
        ramp = 0.5 - 0.5 * np.cos(np.pi * np.arange(m) / max(m, 1))
        out[:m] *= ramp
        out[n - m :] *= ramp[::-1]
    return Audio.from_float(out, rate)


def fit(music: Audio, seconds: float, *, fade_out: float = 2.0, fade_in: float = 0.0) -> Audio:
    """``music`` repeated or cut to ``seconds``, with fades.

    Repeats are butted together as they are: a bed is meant to be a seamless loop (the
    generated one is); a cross-fade would smear a good loop and cannot fix a bad one.

    Raises:
        AudioError: ``music`` is empty.
    """
    if len(music.samples) == 0:
        raise AudioError("cannot fit empty music")
    rate = music.rate
    n = round(seconds * rate)
    x = music.to_float()
    out = np.tile(x, n // len(x) + 1)[:n]
    m = min(round(fade_out * rate), n)
    if m:
        out[n - m :] *= np.linspace(1.0, 0.0, m)
    m = min(round(fade_in * rate), n)
    if m:
        out[:m] *= np.linspace(0.0, 1.0, m)
    return Audio.from_float(out, rate)


def duck(
    bed: Audio,
    voice: Audio,
    *,
    depth_db: float = -18.0,
    threshold_db: float = -45.0,
    attack: float = 0.08,
    release: float = 0.6,
    hold: float = 0.35,
    lookahead: float = 0.1,
) -> Audio:
    """``bed`` turned down by ``depth_db`` wherever ``voice`` speaks (not mixed).

    The voice is followed in 10 ms frames; a frame louder than ``threshold_db`` (RMS,
    dBFS) is speech. The bed starts going down ``lookahead`` before speech so the first
    syllable is clear, stays down through pauses shorter than ``hold`` (no pumping
    between words), and glides between levels with ``attack``/``release`` time constants.

    Args:
        bed: the music, same rate as the voice (a voice at another rate is resampled).
        voice: the speech, aligned with the bed's start; may be shorter or longer.
        depth_db: gain under speech (negative).
        threshold_db: voice frame level counted as speech.
        attack: seconds to go down (time constant).
        release: seconds to come back up (time constant).
        hold: seconds the bed stays down after speech stops.
        lookahead: seconds the bed goes down before speech starts.

    Returns:
        The ducked bed, as long as ``bed``; mix it with :func:`mix`.

    Raises:
        AudioError: resampling the voice failed.
    """
    if voice.rate != bed.rate:
        voice = resample(voice, bed.rate)
    rate = bed.rate
    n = len(bed.samples)
    hop = max(1, rate // 100)
    frames = max(1, math.ceil(n / hop))
    v = np.zeros(frames * hop)
    src = voice.to_float()[: frames * hop]
    v[: len(src)] = src
    rms = np.sqrt(np.mean(v.reshape(frames, hop) ** 2, axis=1))
    active = 20 * np.log10(np.maximum(rms, 1e-9)) > threshold_db
    # widen speech: back by the lookahead, forward by the hold
    back, fwd = round(lookahead * rate / hop), round(hold * rate / hop)
    idx = np.flatnonzero(active)
    widened = np.zeros(frames + 1, dtype=np.int64)
    np.add.at(widened, np.maximum(idx - back, 0), 1)
    np.add.at(widened, np.minimum(idx + fwd + 1, frames), -1)
    target = np.where(np.cumsum(widened)[:frames] > 0, depth_db, 0.0)
    down = math.exp(-hop / (max(attack, 1e-3) * rate))
    up = math.exp(-hop / (max(release, 1e-3) * rate))
    gain_db = np.empty(frames)
    g = 0.0
    for i, aim in enumerate(target.tolist()):  # one-pole smoothing: ~100 steps per second
        coeff = down if aim < g else up
        g = aim + (g - aim) * coeff
        gain_db[i] = g
    centres = (np.arange(frames) + 0.5) * hop
    gain = 10 ** (np.interp(np.arange(n), centres, gain_db) / 20)
    return Audio.from_float(bed.to_float() * gain, rate)


def mix(*tracks: Audio) -> Audio:
    """The sum of ``tracks`` (all at one rate), as long as the longest; clipped to full scale.

    Raises:
        AudioError: no track, or tracks at different sample rates.
    """
    if not tracks:
        raise AudioError("nothing to mix")
    rate = tracks[0].rate
    if any(t.rate != rate for t in tracks):
        raise AudioError("cannot mix tracks at different sample rates")
    out = np.zeros(max(len(t.samples) for t in tracks))
    for track in tracks:
        out[: len(track.samples)] += track.to_float()
    return Audio.from_float(out, rate)


def find_file(audio_dir: Path, name: JingleName) -> Path | None:
    """The producer's file for ``name`` under ``audio_dir`` (wav, mp3, flac, ogg), if any."""
    for ext in EXTENSIONS:
        path = audio_dir / f"{name}{ext}"
        if path.is_file():
            return path
    return None


def load_or_make(
    audio_dir: Path, name: JingleName, *, rate: int = 44100, seconds: float | None = None
) -> Audio:
    """The show's ``sting`` or ``music``: a file under ``audio_dir`` if any, else generated.

    Files are decoded with ffmpeg (any rate, WAV/MP3/FLAC/Ogg) to mono at ``rate``.

    Args:
        audio_dir: the show's ``audio/`` folder (may not exist).
        name: ``"sting"`` or ``"music"``.
        rate: sample rate wanted.
        seconds: music only: loop or cut the bed to this length (with a fade-out).

    Raises:
        AudioError: unknown name, or the file is undecodable or empty.
    """
    if name not in JINGLES:
        raise AudioError(f"unknown jingle '{name}'", hint="use 'sting' or 'music'")
    path = find_file(audio_dir, name)
    if path is not None:
        audio = decode_file(path, rate)
        if len(audio.samples) == 0:
            raise AudioError(f"the {name} file holds no audio", path=path)
    elif name == "sting":
        audio = make_sting(rate)
    else:
        audio = make_music_bed(seconds if seconds is not None else MUSIC_LOOP_SECONDS, rate)
    if name == "music" and seconds is not None:
        audio = fit(audio, seconds)
    return audio


def write_defaults(audio_dir: Path) -> list[Path]:
    """Write the generated ``sting.wav`` (44.1 kHz) and ``music.wav`` (one 16 s loop,
    22.05 kHz, no fades) into ``audio_dir``: the files the project ships.

    Raises:
        AudioError: the files cannot be written.
    """
    files = {
        audio_dir / "sting.wav": make_sting(44100),
        audio_dir / "music.wav": make_music_bed(MUSIC_LOOP_SECONDS, 22050, fade=0.0),
    }
    try:
        audio_dir.mkdir(parents=True, exist_ok=True)
        for path, audio in files.items():
            replace_file(path, audio.to_wav_bytes())
    except OSError as exc:
        raise AudioError(f"cannot write the default jingles: {exc}", path=audio_dir) from exc
    return list(files)


if __name__ == "__main__":  # python -m pangocast.audio.jingles [AUDIO_DIR]
    write_defaults(Path(sys.argv[1] if len(sys.argv) > 1 else "audio"))
