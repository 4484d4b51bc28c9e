"""Soundbites from the pull quotes: where each highlight is spoken, as a shareable clip.

An article's pull quotes (``>`` highlights in the script) repeat a sentence of the
interview. Each one that is found in a spoken turn becomes a soundbite (Podcasting 2.0
``podcast:soundbite``: a start and a duration, titled with the quote) spanning the turn that
says it, widened with the turns around it to at least :data:`MIN_SECONDS` and cut to at
most :data:`MAX_SECONDS` around the quote. Where in a long turn the quote is spoken is
estimated the way the transcripts time their cues (by spoken weight). A quote that is not
spoken, or cannot fit, gives no soundbite.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from pangocast.core.models import TimedTurn
from pangocast.publish.transcripts import spoken_weight

__all__ = ["MAX_SECONDS", "MIN_SECONDS", "Soundbite", "soundbites"]

MIN_SECONDS = 15.0
MAX_SECONDS = 60.0
_NOT_WORD = re.compile(r"[\W_]+", re.UNICODE)


@dataclass(frozen=True)
class Soundbite:
    """A clip of the episode: ``start`` and ``duration`` in seconds, titled by the quote."""

    start: float
    duration: float
    title: str

    @property
    def end(self) -> float:
        """Where the clip ends (seconds)."""
        return self.start + self.duration


def _flat(text: str) -> str:
    return _NOT_WORD.sub("", text).lower()


def _where(turn: TimedTurn, quote: str) -> tuple[float, float] | None:
    """When ``turn`` speaks ``quote`` (estimated by spoken weight), or None."""
    flat = _flat(turn.text)
    at = flat.find(_flat(quote))
    if at < 0 or not flat:
        return None
    # the weight of the turn's text up to the quote, and up to its end
    total = spoken_weight(turn.text) or 1.0
    head = _prefix(turn.text, at)
    tail = _prefix(turn.text, at + len(_flat(quote)))
    span = turn.end - turn.start
    return (
        turn.start + span * spoken_weight(head) / total,
        turn.start + span * spoken_weight(tail) / total,
    )


def _prefix(text: str, letters: int) -> str:
    """The shortest start of ``text`` holding ``letters`` word characters."""
    seen = 0
    for i, ch in enumerate(text):
        if seen >= letters:
            return text[:i]
        if _flat(ch):
            seen += 1
    return text


def soundbites(
    turns: Sequence[TimedTurn],
    highlights: Sequence[str],
    duration: float,
    *,
    min_seconds: float = MIN_SECONDS,
    max_seconds: float = MAX_SECONDS,
) -> tuple[Soundbite, ...]:
    """The soundbites of an episode: one per highlight spoken in a turn, in time order."""
    spoken = [t for t in turns if t.kind == "speech"]
    out: dict[float, Soundbite] = {}
    for quote in highlights:
        if len(_flat(quote)) < 4:
            continue
        for n, turn in enumerate(spoken):
            said = _where(turn, quote)
            if said is None:
                continue
            clip = _span(spoken, n, said, duration, min_seconds, max_seconds)
            if clip is not None:
                a, b = clip
                out.setdefault(round(a, 3), Soundbite(round(a, 3), round(b - a, 3), quote))
            break
    return tuple(out[k] for k in sorted(out))


def _span(
    spoken: Sequence[TimedTurn],
    n: int,
    said: tuple[float, float],
    duration: float,
    lo: float,
    hi: float,
) -> tuple[float, float] | None:
    """The clip around the quote ``said`` in ``spoken[n]``: turn boundaries, widened to
    ``lo`` seconds with neighbouring turns, cut to ``hi`` around the quote."""
    s, e = said
    if e - s > hi:
        return None
    a, b = spoken[n].start, spoken[n].end
    before, after = n - 1, n + 1
    while b - a < lo and (after < len(spoken) or before >= 0):
        if after < len(spoken):
            b = spoken[after].end
            after += 1
        elif before >= 0:
            a = spoken[before].start
            before -= 1
    if b - a < lo:
        a, b = max(0.0, min(a, b - lo)), min(duration, max(b, a + lo))
    if b - a > hi:
        # a long turn: keep the quote, centred in a window of ``hi`` seconds
        middle = (s + e) / 2
        a = max(a, min(middle - hi / 2, b - hi))
        b = a + hi
    if b - a < lo - 0.001 or not (a <= s and e <= b + 0.001):
        return None
    return a, b
