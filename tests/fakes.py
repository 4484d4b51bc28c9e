"""A fake speech engine for unit tests of the plumbing (cache, synthesis, assembly).

It produces a tone whose length follows the text and whose pitch follows the voice, and
records every call; it is NOT a real engine, and the tests that use it say so by name.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from pangocast.audio.pcm import Audio
from pangocast.voice.engines.base import Engine, Voice, VoiceInfo

RATE = 24000


class FakeToneEngine(Engine):
    """Plumbing stand-in: 0.1 s of tone per character."""

    name = "fake"
    description = "test stand-in"

    def __init__(self, *, fail_on: str | None = None, empty_on: str | None = None) -> None:
        self.calls: list[tuple[str, Voice]] = []
        self.fail_on = fail_on
        self.empty_on = empty_on

    def synthesize(self, text: str, voice: Voice) -> Audio:
        from pangocast.core.errors import SynthesisError

        self.calls.append((text, voice))
        if self.fail_on and self.fail_on in text:
            raise SynthesisError(f"fake failure for {text!r}")
        if self.empty_on and self.empty_on in text:
            return Audio(np.zeros(0, dtype=np.int16), RATE)
        freq = 200.0 * 2 ** (float(voice.get("pitch", 0)) / 12)
        t = np.arange(int(0.1 * len(text) * RATE)) / RATE
        return Audio.from_float(0.3 * np.sin(2 * np.pi * freq * t), RATE)

    def list_voices(self) -> list[VoiceInfo]:
        return [VoiceInfo("tone", "zh")]

    def version(self) -> str:
        return "fake-1"


class FailingToneEngine(FakeToneEngine):
    """Plumbing stand-in that fails on any sentence containing 失败."""

    name = "fake-fail"

    def __init__(self) -> None:
        super().__init__(fail_on="失败")


class BlockedVoiceToneEngine(FakeToneEngine):
    """Plumbing stand-in that refuses the voice id "blocked", like a blocked edge voice."""

    name = "fake-blocked"

    def synthesize(self, text: str, voice: Voice) -> Audio:
        from pangocast.core.errors import SynthesisError

        if voice.id == "blocked":
            raise SynthesisError("voice 'blocked' is not available")
        return super().synthesize(text, voice)


class FakeEmptyToneEngine(FakeToneEngine):
    """Plumbing stand-in that returns no samples for any sentence containing 空白."""

    name = "fake-empty"

    def __init__(self) -> None:
        super().__init__(empty_on="空白")


class FakeTruncatingToneEngine(FakeToneEngine):
    """Plumbing stand-in that returns 0.01 s of tone per character (far too short for the
    words: a cut-off stream) for any sentence containing 截断."""

    name = "fake-truncating"

    def synthesize(self, text: str, voice: Voice) -> Audio:
        audio = super().synthesize(text, voice)
        if "截断" in text:
            return Audio(audio.samples[: int(0.01 * len(text) * RATE)], RATE)
        return audio


class FakeRaisingToneEngine(FakeToneEngine):
    """Plumbing stand-in whose engine raises (an EngineError, as engines must) for any
    sentence containing 崩溃."""

    name = "fake-raising"

    def synthesize(self, text: str, voice: Voice) -> Audio:
        from pangocast.core.errors import EngineError

        if "崩溃" in text:
            raise EngineError(f"fake engine crashed on {text!r}", hint="stand-in failure")
        return super().synthesize(text, voice)


class FakeOnlineToneEngine(FakeToneEngine):
    """Plumbing stand-in that calls itself online, so builds run it in a thread pool (in
    this process, unlike the spawned workers of offline engines)."""

    name = "fake-online"
    offline = False

    def synthesize(self, text: str, voice: Voice) -> Audio:
        # a round trip's worth of waiting, as a service takes: without it every request
        # is done before the build looks, and concurrent.futures.as_completed hands the
        # finished ones back in no particular order
        time.sleep(0.02)
        return super().synthesize(text, voice)


class FailingOnlineToneEngine(FakeOnlineToneEngine):
    """Plumbing stand-in, online (thread pool), that fails on any sentence containing 失败."""

    name = "fake-online-fail"

    def __init__(self) -> None:
        super().__init__(fail_on="失败")


class FakeSlowToneEngine(FakeToneEngine):
    """Plumbing stand-in that takes half a second over any sentence containing 慢 (the rest
    are instant), like a real engine making the one segment an edit needs. Online, so that
    builds run it in a thread pool in this process (spawned workers would not find it)."""

    name = "fake-slow"
    offline = False

    def synthesize(self, text: str, voice: Voice) -> Audio:
        import time

        if "慢" in text:
            time.sleep(0.5)
        return super().synthesize(text, voice)


class FakeCrawlingToneEngine(FakeToneEngine):
    """Plumbing stand-in, offline, that takes 0.25 s over every sentence and first leaves a
    file named after its process id in ``$PANGOCAST_TEST_MARKERS`` (when set): a test sees
    which worker process is mid-task, and kills it."""

    name = "fake-crawling"

    def synthesize(self, text: str, voice: Voice) -> Audio:
        import os
        from pathlib import Path

        markers = os.environ.get("PANGOCAST_TEST_MARKERS")
        if markers:
            (Path(markers) / str(os.getpid())).touch()
        time.sleep(0.25)
        return super().synthesize(text, voice)


def instance_class(engine: Engine) -> type[Engine]:
    """A class to register by name (:func:`pangocast.voice.engines.register_engine`) whose
    construction hands back ``engine`` itself, so a test selects its stand-in by name, as a
    user selects an engine, and still reads the calls it recorded."""

    def new(cls: type[Engine], *args: Any, **kwargs: Any) -> Engine:
        return engine

    return type(f"Registered{type(engine).__name__}", (type(engine),), {"__new__": new})


FAKE_CASTING = """
[engines.{name}]
narrator = {{voice="t"}}
host = {{voice="t", pitch = -5}}
guests = [{{voice="t", pitch = 3}}, {{voice="t", pitch = 6}}]
"""


def cast_fake(show: Path, name: str, cls: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Register the stand-in class ``cls`` of this module as engine ``name`` (for this
    test) and cast every role of the show folder ``show`` with it; returns ``name``."""
    from pangocast.voice.engines import ENGINES

    monkeypatch.setitem(ENGINES, name, ("tests.fakes", cls))
    casting = show / "voices" / "casting.toml"
    casting.write_text(casting.read_text() + FAKE_CASTING.format(name=name), encoding="utf-8")
    return name
