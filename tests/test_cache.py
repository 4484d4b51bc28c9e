from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pangocast.audio.pcm import Audio
from pangocast.voice.engines.base import Voice
from pangocast.voice.segments import SegmentCache, segment_key

V = Voice.make("neural", "baker", {"pitch": -5.0, "speed": 1.0})
BASE = segment_key("neural", "m1", V, "你好。")


@pytest.mark.parametrize(
    "changed, same",
    [
        (segment_key("neural", "m1", V, "你好。"), True),
        (
            segment_key(
                "neural",
                "m1",
                Voice.make("neural", "baker", {"speed": 1.0, "pitch": -5.0}),
                "你好。",
            ),
            True,
        ),
        (segment_key("neural", "m1", V, "你好!"), False),
        (segment_key("neural", "m2", V, "你好。"), False),
        (segment_key("espeak", "m1", V, "你好。"), False),
        (
            segment_key(
                "neural",
                "m1",
                Voice.make("neural", "baker", {"pitch": -4.0, "speed": 1.0}),
                "你好。",
            ),
            False,
        ),
        (
            segment_key(
                "neural",
                "m1",
                Voice.make("neural", "other", {"pitch": -5.0, "speed": 1.0}),
                "你好。",
            ),
            False,
        ),
        (
            segment_key("neural", "m1", Voice.make("neural", "baker", {"pitch": -5.0}), "你好。"),
            False,
        ),
        (
            segment_key(
                "neural",
                "m1",
                Voice.make("neural", "baker", {"pitch": -5.0, "speed": 1.0, "volume": 0}),
                "你好。",
            ),
            False,
        ),
    ],
)
def test_key_changes_exactly_when_the_sound_would(changed: str, same: bool) -> None:
    assert (changed == BASE) is same


def _tone(n: int = 2400) -> Audio:
    return Audio((np.sin(np.arange(n) / 5) * 8000).astype(np.int16), 24000)


def test_put_get_round_trip(tmp_path: Path) -> None:
    cache = SegmentCache(tmp_path)
    cache.put(BASE, _tone())
    got = cache.get(BASE)
    assert got is not None and got.rate == 24000
    assert np.array_equal(got.samples, _tone().samples)
    assert cache.has(BASE)
    assert cache.stats().entries == 1
    assert not list(tmp_path.rglob(".tmp-*"))


def test_truncated_entry_is_detected_removed_and_reported_missing(tmp_path: Path) -> None:
    cache = SegmentCache(tmp_path)
    cache.put(BASE, _tone())
    p = cache.path(BASE)
    p.write_bytes(p.read_bytes()[:-1000])
    assert not cache.has(BASE)
    assert cache.get(BASE) is None
    assert not p.exists()


def test_garbage_entry_is_rebuilt(tmp_path: Path) -> None:
    cache = SegmentCache(tmp_path)
    p = cache.path(BASE)
    p.parent.mkdir(parents=True)
    p.write_bytes(b"not a wav at all")
    assert cache.get(BASE) is None
    cache.put(BASE, _tone())
    assert cache.get(BASE) is not None


def test_prune_keeps_only_referenced(tmp_path: Path) -> None:
    cache = SegmentCache(tmp_path)
    other = segment_key("neural", "m1", V, "再见。")
    cache.put(BASE, _tone())
    cache.put(other, _tone())
    gone = cache.prune({BASE})
    assert gone.entries == 1 and gone.bytes > 0
    assert cache.keys() == [BASE]


def _flip_a_sample_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[44 + 101] ^= 0x10  # inside the samples: the header still reads as a whole WAV
    path.write_bytes(bytes(data))


def test_a_flipped_sample_byte_fails_the_checksum_and_the_entry_goes(tmp_path: Path) -> None:
    cache = SegmentCache(tmp_path)
    cache.put(BASE, _tone())
    assert (tmp_path / BASE[:2] / f"{BASE}.sha256").is_file()
    _flip_a_sample_byte(cache.path(BASE))
    assert cache.has(BASE)  # the cheap check cannot tell ...
    assert cache.verify([BASE]) == [BASE]  # ... reading it does
    assert not cache.has(BASE) and cache.get(BASE) is None
    assert not list(tmp_path.rglob(f"{BASE}*"))


def test_an_entry_from_before_checksums_is_adopted_on_read(tmp_path: Path) -> None:
    cache = SegmentCache(tmp_path)
    cache.put(BASE, _tone())
    digest = tmp_path / BASE[:2] / f"{BASE}.sha256"
    expected = digest.read_text()
    digest.unlink()
    assert cache.verify([BASE]) == []
    assert digest.read_text() == expected
    _flip_a_sample_byte(cache.path(BASE))
    assert cache.get(BASE) is None  # from then on, a change is caught


def test_prune_removes_checksums_with_their_entries(tmp_path: Path) -> None:
    cache = SegmentCache(tmp_path)
    other = segment_key("neural", "m1", V, "再见。")
    cache.put(BASE, _tone())
    cache.put(other, _tone())
    cache.prune({BASE})
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == [
        f"{BASE}.sha256",
        f"{BASE}.wav",
    ]
