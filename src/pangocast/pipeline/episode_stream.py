"""An episode's turns placed in script order as they are voiced, its music bed, and the
final stretches of its audio measured for mastering meanwhile.

A build voices the turns as their segments arrive (:class:`~pangocast.pipeline.turn_prep.
TurnPrep`); each turn that follows the ones placed is placed at once, and whatever of the
joined audio can no longer change (music is ducked under the spoken intro and the outro)
goes to an :class:`~pangocast.audio.measure_ahead.EpisodeMeter`. The assembly then has
only the rest to measure. Every episode is assembled this way, so its MP3 does not depend
on whether its turns came early, late, or all at once.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pangocast.audio.delivery import Measured, working_rate
from pangocast.audio.measure_ahead import EpisodeMeter
from pangocast.audio.pacing import Pacing, pause_between
from pangocast.audio.pcm import PCM, Audio
from pangocast.audio.timeline import Placement, Timeline, VoicedTurn
from pangocast.core.models import TimedTurn
from pangocast.voice.plan import EpisodePlan

MUSIC_TAIL = 1.5  # seconds the bed plays on after the intro's last word


def first_outro(plan: EpisodePlan) -> int | None:
    """Index (among :meth:`EpisodePlan.all_turns`) of the first turn of the outro."""
    plans = plan.all_turns()
    return next((i for i, tp in enumerate(plans) if tp.turn.outro or tp is plan.outro), None)


def music_regions(
    plan: EpisodePlan, turns: tuple[TimedTurn, ...], duration: float
) -> list[tuple[float, float]]:
    """Where the bed plays (seconds): under the spoken intro and under the outro."""
    regions: list[tuple[float, float]] = []
    if plan.intro is not None and turns:
        regions.append((0.0, min(duration, turns[0].end + MUSIC_TAIL)))
    outro = first_outro(plan)
    if outro is not None and outro < len(turns):
        regions.append((max(0.0, turns[outro].start - 1.0), duration))
    return regions


def mixed_region(samples: PCM, rate: int, start: float, end: float, audio_dir: Path) -> PCM:
    """``samples[a:b]`` (``start``..``end`` seconds) with the bed ducked under them; the
    same samples when the region is shorter than a second."""
    from pangocast.audio.jingles import duck, load_or_make, mix

    a, b = int(start * rate), int(end * rate)
    if b - a < rate:
        return samples[a:b]
    voice = Audio(samples[a:b], rate)
    bed = load_or_make(audio_dir, "music", rate=rate, seconds=(b - a) / rate)
    return mix(voice, duck(bed, voice)).samples[: b - a]


def mix_music_into(timeline: Timeline, audio_dir: Path, plan: EpisodePlan) -> None:
    """Duck the music bed under the spoken intro and the outro, in ``timeline``'s own
    samples (a stream's fresh join: an episode is not held twice to add its music)."""
    audio = timeline.audio
    rate = audio.rate
    samples = audio.samples
    for start, end in music_regions(plan, timeline.turns, audio.duration):
        a, b = int(start * rate), int(end * rate)
        samples[a:b] = mixed_region(samples, rate, start, end, audio_dir)


class EpisodeStream:
    """Places one episode's voiced turns in order and measures its final audio as it grows.

    :meth:`add` the turns (by index, in any order, each once; a turn already added is
    ignored), then :meth:`finish`.
    """

    def __init__(
        self,
        plan: EpisodePlan,
        sting: Audio,
        pacing: Pacing,
        audio_dir: Path | None,
    ) -> None:
        """``audio_dir``: where the music bed is (None: the show has no music)."""
        rate = sting.rate
        self.plan = plan
        self.rate = rate
        self._sting = sting
        self._audio_dir = audio_dir
        self._placement = Placement(
            rate,
            gap=lambda prev, nxt: pause_between(prev, nxt, pacing),
            intro=[sting],
            intro_title=plan.meta.title,
        )
        self._meter = EpisodeMeter(rate) if working_rate(rate) == rate else None
        self._ready: dict[int, VoicedTurn] = {}
        self._next = 0
        self._taken = 0  # placement parts moved to _pending
        self._pending: list[PCM] = []  # placed, not fed yet, in order
        self._fed = 0
        self._first_outro = first_outro(plan)
        self._intro_mixed = audio_dir is None or plan.intro is None

    def add(self, index: int, voiced: VoicedTurn) -> None:
        """Turn ``index`` voiced: place it, and every turn after it that is in.

        Raises:
            AudioError: a turn is at another rate than the episode.
        """
        if index < self._next or index in self._ready:
            return
        self._ready[index] = voiced
        while self._next in self._ready:
            self._placement.add(self._ready.pop(self._next))
            self._next += 1
        if self._meter is not None:
            self._measure()

    def _final_until(self) -> int:
        """Samples at the start of the placed audio that no later turn or bed changes."""
        placed = self._placement
        if self._audio_dir is None:
            return placed.pos
        outro = self._first_outro
        if outro is not None and outro < len(placed.turns):
            return int(max(0.0, placed.turns[outro].start - 1.0) * self.rate)
        # a bed under an outro not placed yet starts a second before it at the earliest
        return max(0, placed.pos - self.rate - 1)

    def _measure(self) -> None:
        assert self._meter is not None
        parts = self._placement.parts
        self._pending.extend(parts[self._taken :])
        self._taken = len(parts)
        until = self._final_until()
        if not self._intro_mixed:
            turns = self._placement.turns
            end = turns[0].end + MUSIC_TAIL if turns else None
            if end is None or int(end * self.rate) > until:
                return  # the bed's end under the intro is not known yet
            assert self._audio_dir is not None
            joined = self._joined(int(end * self.rate))
            self._feed(mixed_region(joined, self.rate, 0.0, end, self._audio_dir))
            self._intro_mixed = True
        while self._pending and self._fed < until:
            piece = self._pending[0]
            if self._fed + len(piece) <= until:
                self._pending.pop(0)
            else:
                self._pending[0] = piece[until - self._fed :]
                piece = piece[: until - self._fed]
            self._feed(piece)

    def _joined(self, n: int) -> PCM:
        """The first ``n`` pending samples, joined (they are not pending any more)."""
        pieces: list[PCM] = []
        got = 0
        while got < n:
            piece = self._pending.pop(0)
            if got + len(piece) > n:
                self._pending.insert(0, piece[n - got :])
                piece = piece[: n - got]
            pieces.append(piece)
            got += len(piece)
        return np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.int16)

    def _feed(self, pcm: PCM) -> None:
        assert self._meter is not None
        self._meter.feed(pcm)
        self._fed += len(pcm)

    def holds(self, index: int) -> bool:
        """Whether turn ``index`` was added (placed, or waiting for the turns before it)."""
        return index < self._next or index in self._ready

    @property
    def placed(self) -> int:
        """Turns placed so far."""
        return self._next

    def finish(self) -> tuple[Timeline, Measured | None]:
        """The joined episode (outro sting and music included) and, when it could be
        measured here, its measurement for mastering.

        Raises:
            AudioError: no turn was added, or a piece is at another rate.
        """
        timeline = self._placement.finish(outro=[self._sting])
        self._pending.clear()
        self._placement.parts.clear()  # the joined audio holds every sample now
        if self._audio_dir is not None:
            mix_music_into(timeline, self._audio_dir, self.plan)
        meter, self._meter = self._meter, None
        measured = meter.measured(timeline.audio) if meter is not None else None
        return timeline, measured
