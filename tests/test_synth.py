"""Synthesis plumbing, with the FakeToneEngine stand-in (not a real engine)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from pangocast.core.errors import SynthesisError
from pangocast.script.format import parse_script
from pangocast.voice.casting import load_casting
from pangocast.voice.engines import Engine
from pangocast.voice.lexicon import Lexicon
from pangocast.voice.plan import Planner
from pangocast.voice.segments import SegmentCache
from pangocast.voice.synth import SegmentJob, synthesize_missing
from tests.conftest import TINY_SCRIPT
from tests.fakes import FakeToneEngine

Register = Callable[[Engine], str]

ROOT = Path(__file__).resolve().parent.parent


def _plan(text: str, engine: FakeToneEngine) -> list[SegmentJob]:
    rules = load_casting(ROOT / "voices").for_engine("neural")
    planner = Planner(engine, rules, Lexicon())
    return planner.plan(parse_script(text), show_title="节目").jobs()


def test_edited_sentence_is_the_only_segment_resynthesized_fake_engine(
    tmp_path: Path, register: Register
) -> None:
    cache = SegmentCache(tmp_path)
    engine = FakeToneEngine()
    jobs = _plan(TINY_SCRIPT, engine)
    first = synthesize_missing(register(engine), jobs, cache, workers=1)
    assert len(first.done) == len({j.key for j in jobs}) and not first.failed
    engine.calls.clear()
    edited = TINY_SCRIPT.replace("我在 UCloud 做技术。", "我在 UCloud 做架构。")
    again = synthesize_missing(register(engine), _plan(edited, engine), cache, workers=1)
    assert [c[0] for c in engine.calls] == ["我在 UCloud 做架构。"]
    assert len(again.done) == 1


def test_no_change_synthesizes_nothing_fake_engine(tmp_path: Path, register: Register) -> None:
    cache = SegmentCache(tmp_path)
    engine = FakeToneEngine()
    jobs = _plan(TINY_SCRIPT, engine)
    synthesize_missing(register(engine), jobs, cache, workers=1)
    engine.calls.clear()
    assert not synthesize_missing(register(engine), jobs, cache, workers=1).done
    assert engine.calls == []


def test_interrupted_run_resumes_with_the_segments_already_written_fake_engine(
    tmp_path: Path, register: Register
) -> None:
    cache = SegmentCache(tmp_path)
    engine = FakeToneEngine()
    jobs = _plan(TINY_SCRIPT, engine)
    done_before_kill = 2

    class Killed(BaseException):
        pass

    def on_done(job: SegmentJob, result: object) -> None:
        if len(engine.calls) == done_before_kill:
            raise Killed

    with pytest.raises(Killed):
        synthesize_missing(register(engine), jobs, cache, workers=1, on_done=on_done)
    assert len(cache.keys()) == done_before_kill
    engine.calls.clear()
    rest = synthesize_missing(register(engine), jobs, cache, workers=1)
    assert len(engine.calls) == len({j.key for j in jobs}) - done_before_kill
    assert not rest.failed


def test_failures_and_empty_audio_are_reported_per_segment_fake_engine(
    tmp_path: Path, register: Register
) -> None:
    cache = SegmentCache(tmp_path)
    engine = FakeToneEngine(fail_on="请介绍", empty_on="我也是")
    jobs = _plan(TINY_SCRIPT, engine)
    report = synthesize_missing(register(engine), jobs, cache, workers=1)
    assert len(report.failed) == 2
    errors = sorted(str(e) for e in report.failed.values())
    assert any("fake failure" in e for e in errors)
    assert any("returned silence" in e for e in errors)
    assert all(isinstance(e, SynthesisError) for e in report.failed.values())
    assert len(cache.keys()) == len({j.key for j in jobs}) - 2


def test_duplicate_segments_are_synthesized_once_fake_engine(
    tmp_path: Path, register: Register
) -> None:
    engine = FakeToneEngine()
    jobs = _plan(TINY_SCRIPT, engine)
    twice = [*jobs, *[replace(j) for j in jobs]]
    synthesize_missing(register(engine), twice, SegmentCache(tmp_path), workers=1)
    assert len(engine.calls) == len({j.key for j in jobs})


def test_a_registered_offline_engine_runs_in_spawned_workers_fake_engine(tmp_path: Path) -> None:
    from pangocast.voice.engines import register_engine, unregister_engine

    # The workers are new processes whose registry lacks the name: they get the class.
    register_engine("fake-synth-pool", FakeToneEngine)
    try:
        jobs = _plan(TINY_SCRIPT, FakeToneEngine())
        report = synthesize_missing("fake-synth-pool", jobs, SegmentCache(tmp_path), workers=2)
    finally:
        unregister_engine("fake-synth-pool")
    assert len(report.done) == len({j.key for j in jobs}) and not report.failed
