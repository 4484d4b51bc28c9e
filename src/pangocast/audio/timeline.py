"""Assembly: placing synthesized sentences, pauses and jingles on one timeline.

Everything is joined once (a single numpy concatenation), and the exact offset of every
piece is recorded while placing it, so chapters and transcripts carry real timings.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from pangocast.audio.pcm import Audio
from pangocast.core.errors import AudioError
from pangocast.core.models import Chapter, TimedTurn, Turn


class PlacedSentence(NamedTuple):
    """One sentence of a turn and its synthesized audio (a light record: a turn holds
    dozens, and nothing but the timeline reads them)."""

    text: str
    """The sentence as the script has it (what the transcripts show)."""
    audio: Audio
    """Its segment from the cache, at the episode's rate."""


@dataclass(frozen=True)
class SynthesizedTurn:
    """A spoken turn (or chapter heading) with the synthesized audio of each sentence, not
    joined yet. The turn types, in the order a turn goes through them:
    :class:`~pangocast.voice.plan.TurnPlan` (voice and segment jobs), this,
    :class:`VoicedTurn` (joined and levelled) and :class:`~pangocast.core.models.TimedTurn`
    (placed in the episode)."""

    turn: Turn
    sentences: tuple[PlacedSentence, ...]


@dataclass(frozen=True)
class VoicedTurn:
    """A turn's sentences joined (and levelled): what :func:`assemble` places as one piece.

    Made by :func:`voice_turn`, ahead of assembly when the caller has time to spare.
    """

    turn: Turn
    audio: Audio
    spans: tuple[tuple[str, int, int], ...]
    """(sentence text, start sample, end sample) inside ``audio``."""


@dataclass(frozen=True)
class Timeline:
    """The joined audio and where everything landed in it."""

    audio: Audio
    turns: tuple[TimedTurn, ...]
    """One entry per spoken turn (for the site's read-along)."""
    sentences: tuple[TimedTurn, ...]
    """One entry per sentence (for transcript cues)."""
    chapters: tuple[Chapter, ...]


GapFn = Callable[[Turn | None, Turn], float]


class Placement:
    """:func:`assemble`, one turn at a time: :meth:`add` the turns in order (each placed as
    soon as it is added), then :meth:`finish`. :attr:`parts` are the pieces placed so far,
    back to back (the joined audio is their concatenation)."""

    def __init__(
        self,
        rate: int,
        *,
        gap: GapFn,
        intro: Sequence[Audio] = (),
        intro_title: str | None = None,
    ) -> None:
        self.rate = rate
        self.parts: list[np.ndarray] = []
        self.pos = 0
        """Samples placed so far."""
        self.turns: list[TimedTurn] = []
        self._gap = gap
        self._intro = bool(intro)
        self._intro_title = intro_title
        self._sentences: list[TimedTurn] = []
        self._chapters: list[Chapter] = []
        self._prev: Turn | None = None
        for a in intro:
            self._place(a)

    def _place(self, a: Audio) -> tuple[float, float]:
        if a.rate != self.rate:
            raise AudioError(f"segment at {a.rate} Hz in a {self.rate} Hz episode")
        start = self.pos
        self.parts.append(a.samples)
        self.pos += len(a.samples)
        return start / self.rate, self.pos / self.rate

    def _pause(self, seconds: float) -> None:
        n = round(max(0.0, seconds) * self.rate)
        if n:
            self.parts.append(np.zeros(n, dtype=np.int16))
            self.pos += n

    def add(self, item: VoicedTurn) -> None:
        """Place the next turn (voiced by :func:`voice_turn` at the episode's rate).

        Raises:
            AudioError: it is at another sample rate.
        """
        t, prev, rate = item.turn, self._prev, self.rate
        self._pause(self._gap(prev, t) if (prev is not None or self._intro) else 0.0)
        turn_start = self.pos / rate
        offset = self.pos
        for text, s_start, s_end in item.spans:
            self._sentences.append(
                TimedTurn(
                    (offset + s_start) / rate,
                    (offset + s_end) / rate,
                    t.speaker,
                    t.role,
                    t.kind,
                    text,
                )
            )
        _, turn_end = self._place(item.audio)
        self.turns.append(TimedTurn(turn_start, turn_end, t.speaker, t.role, t.kind, t.text))
        if t.kind == "chapter":
            self._chapters.append(Chapter(round(turn_start, 3), t.text))
        self._prev = t

    def finish(self, outro: Sequence[Audio] = ()) -> Timeline:
        """The outro placed after the last turn, and everything joined.

        Raises:
            AudioError: no turn was added, or an outro piece has another sample rate.
        """
        if not self.turns:
            raise AudioError("nothing to assemble: the episode has no spoken turns")
        chapters = list(self._chapters)
        prev = self._prev
        for a in outro:
            self._pause(self._gap(prev, prev) if prev else 0.0)
            self._place(a)
            prev = None
        if self._intro_title and (not chapters or chapters[0].start > 0):
            chapters.insert(0, Chapter(0.0, self._intro_title))
        samples = np.concatenate(self.parts) if self.parts else np.zeros(0, dtype=np.int16)
        return Timeline(
            Audio(samples, self.rate),
            tuple(self.turns),
            tuple(self._sentences),
            tuple(chapters),
        )


def assemble(
    plan: Sequence[VoicedTurn],
    rate: int,
    *,
    gap: GapFn,
    intro: Sequence[Audio] = (),
    outro: Sequence[Audio] = (),
    intro_title: str | None = None,
) -> Timeline:
    """Join ``plan`` into one mono track at ``rate``.

    Args:
        plan: the turns in order, each voiced by :func:`voice_turn` at ``rate``.
        rate: sample rate of every piece and of the result.
        gap: seconds of silence before a turn, given the previous turn.
        intro: pieces played before the first turn (e.g. sting), back to back.
        outro: pieces played after the last turn.
        intro_title: when set and the first chapter does not start at 0, a chapter with
            this title is added at 0 so chapter lists cover the whole episode.

    Raises:
        AudioError: a piece has another sample rate, or the plan is empty.
    """
    if not plan:
        raise AudioError("nothing to assemble: the episode has no spoken turns")
    placement = Placement(rate, gap=gap, intro=intro, intro_title=intro_title)
    for item in plan:
        placement.add(item)
    return placement.finish(outro)


def voice_turn(
    item: SynthesizedTurn,
    rate: int,
    sentence_gap: float,
    level: Callable[[Audio], Audio] | None,
) -> VoicedTurn:
    """``item``'s sentences joined ``sentence_gap`` seconds apart, then levelled by ``level``.

    Raises:
        AudioError: a sentence is not at ``rate``, or ``level`` changed the length.
    """
    gap = np.zeros(round(sentence_gap * rate), dtype=np.int16)
    parts: list[np.ndarray] = []
    spans: list[tuple[str, int, int]] = []
    pos = 0
    for i, s in enumerate(item.sentences):
        if s.audio.rate != rate:
            raise AudioError(f"segment at {s.audio.rate} Hz in a {rate} Hz episode")
        if i:
            parts.append(gap)
            pos += len(gap)
        parts.append(s.audio.samples)
        spans.append((s.text, pos, pos + len(s.audio.samples)))
        pos += len(s.audio.samples)
    audio = Audio(np.concatenate(parts) if parts else np.zeros(0, dtype=np.int16), rate)
    if level is not None and len(audio.samples):
        levelled = level(audio)
        if len(levelled.samples) != len(audio.samples) or levelled.rate != rate:
            raise AudioError("levelling changed the length of a turn")
        audio = levelled
    return VoicedTurn(item.turn, audio, tuple(spans))
