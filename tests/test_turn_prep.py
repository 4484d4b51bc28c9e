"""Turns voiced ahead of assembly (turn_prep) while a build synthesizes, with a fake engine
for the plumbing: the same episode, byte for byte, as voicing them during assembly."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path
from typing import Any

import pytest

from pangocast.core.project import Project
from pangocast.pipeline import episode, turn_prep
from pangocast.pipeline.build import BuildOptions, build
from pangocast.publish.manifest import read_manifest
from pangocast.voice.engines import ENGINES
from tests.conftest import TINY_SCRIPT

CASTING = (
    '\n[engines.fake-slow]\nnarrator = {voice="t"}\nhost = {voice="t", pitch = -5}\n'
    'guests = [{voice="t", pitch = 3}, {voice="t", pitch = 6}]\n'
)


def _edit(project: Project) -> None:
    script = project.scripts / "01-tiny.txt"
    text = script.read_text(encoding="utf-8")
    assert "我也是。" in text
    script.write_text(text.replace("我也是。", "我也慢慢说。"), encoding="utf-8")


def test_an_edit_build_voices_the_other_turns_ahead_and_gives_the_same_mp3_fake_engine(
    show_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert "我也是。" in TINY_SCRIPT
    monkeypatch.setitem(ENGINES, "fake-slow", ("tests.fakes", "FakeSlowToneEngine"))
    casting = show_dir / "voices" / "casting.toml"
    casting.write_text(casting.read_text(encoding="utf-8") + CASTING, encoding="utf-8")
    copy = tmp_path / "copy"
    shutil.copytree(show_dir, copy)
    serial, ahead = Project(show_dir), Project(copy)
    for project in (serial, ahead):
        build(project, BuildOptions(engine="fake-slow", jobs=1))
        _edit(project)

    # which thread voiced each turn: the build's own, or TurnPrep's (ahead of assembly)
    voiced_in: list[str] = []
    original = turn_prep.voice_cached_turn

    def spy(*args: Any, **kwargs: Any) -> turn_prep.VoicedTurn:
        voiced_in.append(threading.current_thread().name)
        return original(*args, **kwargs)

    monkeypatch.setattr(turn_prep, "voice_cached_turn", spy)
    monkeypatch.setattr(episode, "voice_cached_turn", spy)
    a = build(serial, BuildOptions(engine="fake-slow", jobs=1))
    assert voiced_in and not any(n.startswith("pangocast-turns") for n in voiced_in), (
        "one worker: nothing is voiced ahead"
    )
    voiced_in.clear()
    b = build(ahead, BuildOptions(engine="fake-slow", jobs=2))
    assert a.synthesized == b.synthesized == 1
    # the edited episode's other turns were voiced (and placed on its stream) while its new
    # segment took 0.5 s; each turn is voiced once, all but at most one ahead
    ahead_turns = sum(n.startswith("pangocast-turns") for n in voiced_in)
    assert ahead_turns >= 4 and ahead_turns >= len(voiced_in) - 1

    ma, mb = read_manifest(serial.output), read_manifest(ahead.output)
    assert ma is not None and mb is not None
    (ea,) = [e for e in ma.episodes if e.slug == "tiny"]
    (eb,) = [e for e in mb.episodes if e.slug == "tiny"]
    assert ea.audio == eb.audio
    assert (serial.output / ea.audio).read_bytes() == (ahead.output / eb.audio).read_bytes()
    assert ea.turns == eb.turns
    for rel in ea.transcripts.values():
        assert (serial.output / rel).read_bytes() == (ahead.output / rel).read_bytes()
