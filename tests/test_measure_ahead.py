"""Measuring an episode for mastering as it arrives gives the whole-episode pass's figures."""

from __future__ import annotations

import numpy as np

from pangocast.audio import delivery
from pangocast.audio.measure_ahead import EpisodeMeter
from pangocast.audio.pcm import Audio

RATE = 24000


def _speech_like(seconds: int, level: float, seed: int = 1) -> Audio:
    rng = np.random.default_rng(seed)
    envelope = np.repeat(rng.random(seconds * 10) ** 3, RATE // 10)
    x = rng.standard_normal(seconds * RATE) * level * envelope
    return Audio(np.clip(x, -32768, 32767).astype(np.int16), RATE)


def _fed(audio: Audio, sizes: list[int]) -> EpisodeMeter:
    meter = EpisodeMeter(RATE)
    at = 0
    for n in sizes:
        meter.feed(audio.samples[at : at + n])
        at += n
    return meter


def test_fed_in_pieces_it_masters_exactly_as_the_whole_pass() -> None:
    audio = _speech_like(40, 5800)
    sizes = [1, 7, 36000, 36016, 90000, 12345, 250000, 3]
    measured = _fed(audio, sizes).measured(audio)  # the rest is fed from the whole episode
    whole = delivery.prepare(audio)
    assert measured is not None and whole is not None
    assert np.array_equal(measured.prepared.hops, whole.hops)
    assert measured.prepared.rest == whole.rest
    assert measured.prepared.loudness == whole.loudness
    aim, ceiling = delivery.first_aim("64k")
    gain = delivery.from_db(aim - whole.loudness)
    assert measured.peaks.covers(gain, ceiling)
    expected = delivery.Peaks.of(whole, gain, ceiling).over(gain, ceiling)
    assert np.array_equal(measured.peaks.over(gain, ceiling), expected)
    ahead = delivery.master_stream(measured.prepared, aim, ceiling, 0.2, measured.peaks)
    plain = delivery.master_stream(whole, aim, ceiling, 0.2)
    pieces = zip(ahead.pieces(), plain.pieces(), strict=True)
    assert all(np.array_equal(a, b) for a, b in pieces)


def test_a_quieter_episode_is_scanned_again_by_mastering() -> None:
    audio = _speech_like(20, 2000)  # far below the turns' level: the scan does not cover it
    measured = _fed(audio, [len(audio.samples)]).measured(audio)
    assert measured is not None
    aim, ceiling = delivery.first_aim("64k")
    gain = delivery.from_db(aim - measured.prepared.loudness)
    assert not measured.peaks.covers(gain, ceiling)
    ahead = delivery.master_stream(measured.prepared, aim, ceiling, 0.2, measured.peaks)
    plain = delivery.master_stream(measured.prepared, aim, ceiling, 0.2)
    assert all(np.array_equal(a, b) for a, b in zip(ahead.pieces(), plain.pieces(), strict=True))


def test_silence_and_short_clips_are_left_to_mastering() -> None:
    silent = Audio(np.zeros(RATE * 3, dtype=np.int16), RATE)
    assert _fed(silent, [RATE]).measured(silent) is None
    short = _speech_like(1, 5000)
    clip = Audio(short.samples[: RATE // 4], RATE)
    assert EpisodeMeter(RATE).measured(clip) is None
    other_rate = Audio(short.samples, 22050)
    assert EpisodeMeter(RATE).measured(other_rate) is None
