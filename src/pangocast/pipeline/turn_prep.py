"""Turns voiced ahead of assembly, in a background thread, while segments are synthesized.

An episode is assembled once its last segment is made, and most of its turns do not wait
for that segment. Joining a turn's sentences and levelling it (a loudness measurement and a
true-peak limiter per turn, about a seventh of an episode's assembly) only needs the turn's
own segments: :class:`TurnPrep` does that work for every turn as soon as its segments are
in the cache, on a core the engine leaves free, so that a one-sentence edit waits only for
the edited turn, the join and the encode.

Levelling is numpy and scipy work that releases the GIL for most of its time, and a build
that runs this thread has more than one worker: offline engines then run in worker
processes, online ones wait on the network, so the thread takes little from them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING

from pangocast.audio.ffmpeg import resample
from pangocast.audio.timeline import PlacedSentence, SynthesizedTurn, VoicedTurn, voice_turn
from pangocast.core.errors import BuildError, PangocastError
from pangocast.voice.plan import EpisodePlan, TurnPlan
from pangocast.voice.segments import SegmentStore

if TYPE_CHECKING:
    from pangocast.pipeline.episode_stream import EpisodeStream


def load_turn(tp: TurnPlan, cache: SegmentStore, rate: int) -> SynthesizedTurn:
    """``tp``'s sentences with their audio from ``cache``, at ``rate``.

    Raises:
        BuildError: a segment is missing from the cache (or was corrupt and removed).
    """
    sentences: list[PlacedSentence] = []
    for s in tp.sentences:
        if s.job is None:
            continue
        audio = cache.get(s.job.key)
        if audio is None:
            raise BuildError(
                f"segment missing from the cache: {s.text[:30]}",
                hint="run the build again (the cache was changed during the build)",
            )
        sentences.append(PlacedSentence(s.text, resample(audio, rate)))
    return SynthesizedTurn(tp.turn, tuple(sentences))


def voice_cached_turn(
    tp: TurnPlan, cache: SegmentStore, rate: int, sentence_gap: float
) -> VoicedTurn:
    """``tp``'s sentences from ``cache``, joined and levelled as an episode places them
    (the one place that says how, ahead of assembly or during it).

    Raises:
        BuildError: a segment is missing from the cache (see :func:`load_turn`).
    """
    from pangocast.audio.delivery import level_segment

    return voice_turn(load_turn(tp, cache, rate), rate, sentence_gap, level_segment)


class TurnPrep:
    """Voices turns in one background thread as their segments arrive.

    :meth:`watch` an episode that waits for segments, report each segment made with
    :meth:`segment_done`, and :meth:`take` each turn when assembling: a turn already voiced
    (or being voiced) comes from the thread, one not started yet is left to the caller.
    Call it from one thread (the build's); always :meth:`close` it.
    """

    def __init__(
        self,
        cache: SegmentStore,
        sentence_gap: float,
        rate_of: Callable[[EpisodePlan], int],
        stream_of: Callable[[EpisodePlan, int], EpisodeStream] | None = None,
    ) -> None:
        """``stream_of``: a new stream for an episode at a rate, which the thread places
        the episode's turns on as it voices them (None: turns are only voiced)."""
        self._cache = cache
        self._gap = sentence_gap
        self._rate_of = rate_of
        self._stream_of = stream_of
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pangocast-turns")
        self._voiced: dict[int, tuple[TurnPlan, Future[VoicedTurn | None]]] = {}
        """By ``id`` of the turn plan, which is kept alive beside its future."""
        self._waiting: dict[str, list[tuple[EpisodePlan, int, TurnPlan, set[str]]]] = {}
        self._rates: dict[int, tuple[EpisodePlan, int]] = {}
        self._streams: dict[int, tuple[EpisodePlan, EpisodeStream | None]] = {}
        """By ``id`` of the episode plan (kept alive beside it); None: it failed."""

    def watch(self, plan: EpisodePlan, missing: set[str]) -> None:
        """Voice ``plan``'s turns, each once none of its segments is in ``missing``."""
        for index, tp in enumerate(plan.all_turns()):
            keys = {s.job.key for s in tp.sentences if s.job is not None} & missing
            if not keys:
                self._submit(plan, index, tp)
                continue
            entry = (plan, index, tp, keys)
            for key in keys:
                self._waiting.setdefault(key, []).append(entry)

    def segment_done(self, key: str) -> None:
        """Segment ``key`` is in the cache: voice the turns it completes."""
        for plan, index, tp, keys in self._waiting.pop(key, ()):
            keys.discard(key)
            if not keys:
                self._submit(plan, index, tp)

    def _submit(self, plan: EpisodePlan, index: int, tp: TurnPlan) -> None:
        self._voiced[id(tp)] = (tp, self._pool.submit(self._voice, plan, index, tp))

    def _voice(self, plan: EpisodePlan, index: int, tp: TurnPlan) -> VoicedTurn | None:
        """(In the thread) ``tp`` voiced; None when it went onto its episode's stream, which
        then holds its only copy (an episode's audio is not kept twice while it grows)."""
        # an episode's rate is read from a segment once, not per turn
        known = self._rates.get(id(plan))
        rate = known[1] if known is not None and known[0] is plan else self._rate_of(plan)
        self._rates[id(plan)] = (plan, rate)
        voiced = voice_cached_turn(tp, self._cache, rate, self._gap)
        if self._stream_of is not None and self._place(plan, rate, index, voiced):
            return None
        return voiced

    def _place(self, plan: EpisodePlan, rate: int, index: int, voiced: VoicedTurn) -> bool:
        """(In the thread) ``voiced`` on its episode's stream: whether it is there. A stream
        that fails is dropped: the assembly then places the turns itself, and meets the
        error there."""
        assert self._stream_of is not None
        entry = self._streams.get(id(plan))
        try:
            if entry is None or entry[0] is not plan:
                entry = (plan, self._stream_of(plan, rate))
                self._streams[id(plan)] = entry
            if entry[1] is not None:
                entry[1].add(index, voiced)
                return True
        except PangocastError:
            self._streams[id(plan)] = (plan, None)
        return False

    def stream(self, plan: EpisodePlan) -> EpisodeStream | None:
        """``plan``'s stream, once every one of its turns was taken (:meth:`take`): the
        thread no longer touches it. None when it has none."""
        entry = self._streams.pop(id(plan), None)
        return entry[1] if entry is not None and entry[0] is plan else None

    def take(self, tp: TurnPlan, rate: int) -> VoicedTurn | None:
        """``tp`` voiced at ``rate`` by the thread (waiting while it is at it), or None when
        the thread has not started it (then it never will) or placed it on the episode's
        stream: the caller voices every turn its stream does not hold.

        Raises:
            PangocastError: voicing failed (as it would have in the caller).
        """
        entry = self._voiced.pop(id(tp), None)
        if entry is None or entry[1].cancel():
            return None
        voiced = entry[1].result()
        return voiced if voiced is not None and voiced.audio.rate == rate else None

    def forget(self, turns: Iterable[TurnPlan]) -> None:
        """Drop what is voiced or queued for ``turns`` (an episode not assembled after all)."""
        for tp in turns:
            entry = self._voiced.pop(id(tp), None)
            if entry is not None:
                entry[1].cancel()

    def forget_stream(self, plan: EpisodePlan) -> None:
        """Drop ``plan``'s stream (call once its turns are forgotten or taken)."""
        self._streams.pop(id(plan), None)

    def close(self) -> None:
        """Stop the thread: queued turns are dropped, one being voiced is finished."""
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._voiced.clear()
        self._waiting.clear()
        self._streams.clear()
