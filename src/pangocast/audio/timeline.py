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
    parts: list[np.ndarray] = []
    pos = 0  # samples placed so far
    turns: list[TimedTurn] = []
    sentences: list[TimedTurn] = []
    chapters: list[Chapter] = []

    def place(a: Audio) -> tuple[float, float]:
        nonlocal pos
        if a.rate != rate:
            raise AudioError(f"segment at {a.rate} Hz in a {rate} Hz episode")
        start = pos
        parts.append(a.samples)
        pos += len(a.samples)
        return start / rate, pos / rate

    def pause(seconds: float) -> None:
        nonlocal pos
        n = round(max(0.0, seconds) * rate)
        if n:
            parts.append(np.zeros(n, dtype=np.int16))
            pos += n

    for a in intro:
        place(a)
    prev: Turn | None = None
    for item in plan:
        t = item.turn
        pause(gap(prev, t) if (prev is not None or intro) else 0.0)
        voiced = item
        turn_start = pos / rate
        offset = pos
        for text, s_start, s_end in voiced.spans:
            sentences.append(
                TimedTurn(
                    (offset + s_start) / rate,
                    (offset + s_end) / rate,
                    t.speaker,
                    t.role,
                    t.kind,
                    text,
                )
            )
        _, turn_end = place(voiced.audio)
        turns.append(TimedTurn(turn_start, turn_end, t.speaker, t.role, t.kind, t.text))
        if t.kind == "chapter":
            chapters.append(Chapter(round(turn_start, 3), t.text))
        prev = t
    for a in outro:
        pause(gap(prev, prev) if prev else 0.0)
        place(a)
        prev = None
    if intro_title and (not chapters or chapters[0].start > 0):
        chapters.insert(0, Chapter(0.0, intro_title))
    samples = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int16)
    return Timeline(Audio(samples, rate), tuple(turns), tuple(sentences), tuple(chapters))


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
