"""The show's own sting and music bed, ducking, and a producer's replacements."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from pangocast.audio.jingles import (
    MUSIC_LOOP_SECONDS,
    duck,
    fit,
    load_or_make,
    make_music_bed,
    make_sting,
    mix,
    write_defaults,
)
from pangocast.audio.loudness import measure
from pangocast.audio.mp3 import Id3Tags, encode_mp3
from pangocast.audio.pcm import Audio
from pangocast.core.errors import AudioError
from tests.speechlike import speech_like

ROOT = Path(__file__).resolve().parent.parent


def _rms_db(x: np.ndarray) -> float:
    return float(20 * np.log10(np.sqrt(np.mean(x.astype(np.float64) ** 2)) / 32768 + 1e-12))


def test_sting_is_short_deterministic_and_not_too_hot() -> None:
    a, b = make_sting(44100), make_sting(44100)
    assert np.array_equal(a.samples, b.samples)
    assert 2.0 <= a.duration <= 3.0
    level = measure(a)
    assert level.true_peak_dbtp <= -2.5
    assert -24.0 <= level.integrated_lufs <= -12.0
    tail = a.samples[-round(0.02 * 44100) :]
    assert np.abs(tail).max() < 200  # fades out to (near) silence: no click at the end
    assert make_sting(22050).duration == pytest.approx(a.duration, abs=1e-3)


def test_music_bed_length_fades_and_looping() -> None:
    bed = make_music_bed(6.0, 22050)
    assert bed.duration == pytest.approx(6.0, abs=1e-3)
    assert np.abs(bed.samples[:50]).max() < 100 and np.abs(bed.samples[-50:]).max() < 100
    long = make_music_bed(40.0, 22050)
    assert long.duration == pytest.approx(40.0, abs=1e-3)
    # seamless: the second period repeats the first, and the seam has no step larger
    # than the music's own
    period = round(MUSIC_LOOP_SECONDS * 22050)
    first = long.samples[22050:period]
    assert np.array_equal(long.samples[period + 22050 : 2 * period], first)
    x = long.to_float()
    seam = np.abs(np.diff(x[period - 100 : period + 100])).max()
    assert seam <= np.abs(np.diff(x[22050:period])).max()


def test_duck_lowers_the_bed_under_speech_only() -> None:
    rate = 22050
    bed = make_music_bed(12.0, rate, fade=0.0)
    voice = Audio(
        np.concatenate(
            [
                np.zeros(4 * rate, dtype=np.int16),
                speech_like(4.0, rate, seed=2).samples,
                np.zeros(4 * rate, dtype=np.int16),
            ]
        ),
        rate,
    )
    ducked = duck(bed, voice, depth_db=-18.0)
    assert len(ducked.samples) == len(bed.samples)

    def drop(a: float, b: float) -> float:
        sl = slice(round(a * rate), round(b * rate))
        return _rms_db(bed.samples[sl]) - _rms_db(ducked.samples[sl])

    assert drop(5.0, 7.5) == pytest.approx(18.0, abs=1.0)  # under speech
    assert drop(0.0, 3.5) == pytest.approx(0.0, abs=0.5)  # before it
    assert drop(10.0, 12.0) == pytest.approx(0.0, abs=0.5)  # released after it
    # the look-ahead: already down when the first syllable starts
    assert drop(3.99, 4.01) > 6.0
    # smooth: frame to frame (10 ms) the gain moves by less than 3 dB (no clicks)
    hop = rate // 100
    frames = len(bed.samples) // hop
    ratio = [
        _rms_db(bed.samples[i * hop : (i + 1) * hop])
        - _rms_db(ducked.samples[i * hop : (i + 1) * hop])
        for i in range(frames)
    ]
    assert max(np.abs(np.diff(ratio))) < 3.0


def test_mix_and_fit() -> None:
    a = Audio.from_float(np.full(100, 0.25), 8000)
    b = Audio.from_float(np.full(50, 0.5), 8000)
    m = mix(a, b)
    assert len(m.samples) == 100
    assert m.to_float()[0] == pytest.approx(0.75, abs=1e-3) and m.to_float()[99] == pytest.approx(
        0.25, abs=1e-3
    )
    with pytest.raises(AudioError):
        mix(a, Audio.silence(1.0, 16000))
    looped = fit(make_music_bed(3.0, 8000, fade=0.0), 10.0, fade_out=1.0)
    assert looped.duration == pytest.approx(10.0, abs=1e-3)
    assert looped.samples[-1] == 0


def test_shipped_files_are_what_the_code_generates(tmp_path: Path) -> None:
    written = write_defaults(tmp_path)
    assert [p.name for p in written] == ["sting.wav", "music.wav"]
    for path in written:
        shipped = ROOT / "audio" / path.name
        assert shipped.stat().st_size < 1_000_000
        assert shipped.read_bytes() == path.read_bytes(), f"regenerate audio/{path.name}"
    music = Audio.from_wav_bytes((ROOT / "audio" / "music.wav").read_bytes())
    assert music.duration == pytest.approx(MUSIC_LOOP_SECONDS)
    licence = (ROOT / "audio" / "LICENSE.md").read_text(encoding="utf-8")
    assert "sting.wav" in licence and "music.wav" in licence


def test_a_producers_files_replace_the_generated_ones(tmp_path: Path) -> None:
    assert np.array_equal(load_or_make(tmp_path / "none", "sting").samples, make_sting().samples)
    # a WAV at another rate is decoded and resampled
    tone = Audio.from_float(0.3 * np.sin(np.arange(16000) * 2 * np.pi * 440 / 16000), 16000)
    (tmp_path / "sting.wav").write_bytes(tone.to_wav_bytes())
    got = load_or_make(tmp_path, "sting", rate=22050)
    assert got.rate == 22050 and got.duration == pytest.approx(1.0, abs=0.01)
    # an MP3 bed, fitted to the length asked for
    encode_mp3(make_music_bed(5.0, 22050), tmp_path / "music.mp3", Id3Tags("m", "a", "b"))
    bed = load_or_make(tmp_path, "music", rate=44100, seconds=12.0)
    assert bed.rate == 44100 and bed.duration == pytest.approx(12.0, abs=0.01)
    # a broken file is an error, not silence
    shutil.copy(tmp_path / "music.mp3", tmp_path / "x")
    (tmp_path / "sting.wav").write_bytes(b"RIFF not really")
    with pytest.raises(AudioError):
        load_or_make(tmp_path, "sting")
    with pytest.raises(AudioError, match="unknown jingle"):
        load_or_make(tmp_path, "fanfare")  # type: ignore[arg-type]
