"""Synthesizing segments that are not cached yet, in parallel.

Where the work runs (a process pool, threads, or a Dask cluster) is chosen by
:mod:`pangocast.voice.executors`; this module makes each segment and collects the results
as they complete. Workers write their segments into the cache themselves when they can
reach it, so a killed build keeps every segment finished before the kill.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from concurrent.futures import Future, as_completed
from dataclasses import dataclass, field, replace
from functools import partial
from typing import TYPE_CHECKING, Any

from pangocast.audio.pcm import Audio
from pangocast.core.errors import EngineUnavailableError, PangocastError, SynthesisError
from pangocast.voice.engines import Engine, engine_class, get_engine
from pangocast.voice.engines.base import Voice
from pangocast.voice.segments import SegmentStore

if TYPE_CHECKING:
    from pangocast.voice.executors import SegmentWorkers


@dataclass(frozen=True)
class SegmentJob:
    """One sentence to synthesize: the exact text the engine receives, and the voice."""

    key: str
    text: str
    voice: Voice


@dataclass(frozen=True)
class SegmentResult:
    """A finished segment."""

    key: str
    seconds: float
    unvoiced: tuple[str, ...] = ()
    audio: Audio | None = None
    """The audio, while it travels from a worker that could not store it (a cluster
    worker without access to a local cache) to the build, which stores it."""


@dataclass
class SynthReport:
    """What a synthesis run did."""

    done: list[SegmentResult] = field(default_factory=list)
    failed: dict[str, PangocastError] = field(default_factory=dict)


OnDone = Callable[[SegmentJob, SegmentResult | None], None]

MIN_SECONDS_PER_UNIT = 0.06
"""Shortest plausible audio per hanzi (one syllable) or per Latin word or number.

Measured speech runs at 0.17-0.27 s per hanzi (the neural voice at its fastest casting, 0.19;
espeak at 175 wpm, 0.27) and 0.3-0.4 s per English word; even espeak's fastest rate (450 wpm)
stays above 0.10 s. A segment under 0.06 s per unit, a third of the fastest real speech, can
only be audio the engine cut short (a dropped stream, a crashed vocoder), so it is refused
instead of being published as an episode with missing words."""

_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
_HAN_RE = re.compile(f"[{_HAN}]")
_WORD_RE = re.compile(r"[^\W_]+")


def speech_units(text: str) -> int:
    """Syllables a reader must say at least: one per hanzi, one per other word or number."""
    return len(_HAN_RE.findall(text)) + len(_WORD_RE.findall(_HAN_RE.sub(" ", text)))


def run_one(engine: Engine, job: SegmentJob, cache: SegmentStore) -> SegmentResult:
    """Synthesize one job with ``engine`` and store it in ``cache``.

    Raises:
        SynthesisError: the engine returned no audio, or audio far too short for the text
            (see :data:`MIN_SECONDS_PER_UNIT`); nothing is cached then.
        EngineError: the engine failed.
        BuildError: the cache cannot be written.
    """
    engine.use_store(cache)  # what the engine makes on the way is shared through it too
    result, audio = synthesize_one(engine, job)
    cache.put(job.key, audio)
    return result


def synthesize_one(engine: Engine, job: SegmentJob) -> tuple[SegmentResult, Audio]:
    """Synthesize one job with ``engine``, checked as :func:`run_one` says, not stored.

    Raises:
        SynthesisError: no audio, or audio far too short for the text.
        EngineError: the engine failed.
    """
    audio = engine.synthesize(job.text, job.voice)
    if len(audio.samples) == 0 or not audio.samples.any():
        raise SynthesisError(
            f"engine '{engine.name}' returned silence for: {job.text[:40]}",
            hint="try another voice or engine (--engine)",
        )
    unvoiced = tuple(engine.unvoiced(job.text))
    units = speech_units(job.text) - sum(speech_units(u) for u in unvoiced)
    needed = units * MIN_SECONDS_PER_UNIT
    if audio.duration < needed:
        raise SynthesisError(
            f"engine '{engine.name}' returned truncated audio ({audio.duration:.2f} s for"
            f" {units} syllables, at least {needed:.2f} s expected) for: {job.text[:40]}",
            hint="build again (the segment is not cached), or try another voice or engine",
        )
    return SegmentResult(job.key, audio.duration, unvoiced), audio


def default_workers() -> int:
    """One worker per core."""
    return max(1, os.cpu_count() or 1)


def synthesize_missing(
    engine_name: str,
    jobs: Sequence[SegmentJob],
    cache: SegmentStore,
    *,
    workers: int | None = None,
    on_done: OnDone | None = None,
    cluster: str | None = None,
) -> SynthReport:
    """Synthesize every job whose key is not in ``cache`` yet.

    Failures are collected per key (the caller decides which episodes they stop); an
    interruption (Ctrl-C) stops the workers and propagates.

    Args:
        engine_name: registry name of the engine.
        jobs: segments to make (duplicates by key are made once).
        cache: where finished segments go.
        workers: parallel workers on this machine (default: one per core).
        on_done: called after each job, with None as result when it failed.
        cluster: a Dask scheduler's address: offline engines run there instead.

    Raises:
        EngineUnavailableError: the engine cannot run at all.
        BuildError: the cluster cannot be reached.
    """
    from pangocast.voice.executors import open_workers

    unique: dict[str, SegmentJob] = {}
    for j in jobs:
        if j.key not in unique:
            unique[j.key] = j
    present = cache.present(unique)
    todo = [j for k, j in unique.items() if k not in present]
    report = SynthReport()
    if not todo:
        return report
    n = workers or default_workers()
    cls = engine_class(engine_name)
    # With more than one worker even a single job goes to the pool: the caller has work
    # of its own meanwhile (a build voices the waiting episodes' turns), which would share
    # this process's GIL with the engine.
    if n == 1 and not (cluster and cls.offline):
        eng = get_engine(engine_name)
        for j in todo:
            _record(report, j, partial(run_one, eng, j, cache), on_done)
        return report
    # Constructing the engine here checks its prerequisites once, in this process, so a
    # missing model is one clear error instead of a broken pool.
    shared = get_engine(engine_name)
    with open_workers(cls, shared, cache, workers=min(n, len(todo)), cluster=cluster) as pool:
        futures: dict[Future[Any], SegmentJob] = {}
        try:
            for j in todo:
                futures[pool.submit(j)] = j
            for fut in as_completed(futures):
                _record(report, futures[fut], partial(_collect, pool, fut, cache), on_done)
        except BaseException:
            for fut in futures:
                fut.cancel()
            raise
    return report


def _collect(pool: SegmentWorkers, fut: Future[Any], cache: SegmentStore) -> SegmentResult:
    """A worker's outcome: its error raised, its audio stored when it could not store it."""
    out = pool.outcome(fut)
    if isinstance(out, PangocastError):
        raise out
    assert isinstance(out, SegmentResult)
    if out.audio is not None:
        cache.put(out.key, out.audio)
        out = replace(out, audio=None)
    return out


def _record(
    report: SynthReport,
    job: SegmentJob,
    get: Callable[[], SegmentResult],
    on_done: OnDone | None,
) -> None:
    try:
        result = get()
    except EngineUnavailableError:
        raise  # the engine cannot run at all: no point trying the other segments
    except PangocastError as exc:
        report.failed[job.key] = exc
        if on_done:
            on_done(job, None)
        return
    report.done.append(result)
    if on_done:
        on_done(job, result)
