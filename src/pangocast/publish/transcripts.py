"""Transcripts and chapters as podcast clients read them: WebVTT, SRT, JSON.

Timings come from the assembled audio (:class:`~pangocast.core.models.TimedTurn`). A turn too
long for one caption line is split at sentence, then clause punctuation; each piece gets a
share of the turn's real span in proportion to its characters (weighted by how long each
kind takes to say), so the first cue starts and the last cue ends exactly where the turn's
audio does.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from pangocast.core.models import Chapter, TimedTurn
from pangocast.core.pieces import pack
from pangocast.core.standards import MAX_CUE_LINE

MAX_LINE = MAX_CUE_LINE
"""Longest caption line (Apple's limit for WebVTT cue lines)."""

Measure = Callable[[str], int]

# Sentence ends first, then clause breaks: a piece is cut after the strongest break that
# keeps it short enough. Closing quotes and brackets stay with the punctuation before them.
_CLOSERS = "”’」』)）》〉】\"'"
_SENTENCE = re.compile(rf"[。！？!?…]+[{re.escape(_CLOSERS)}]*|\.(?=\s)[{re.escape(_CLOSERS)}]*")
_CLAUSE = re.compile(rf"[，、；：,;:—]+[{re.escape(_CLOSERS)}]*")


@dataclass(frozen=True)
class Cue:
    """One caption: a piece of one turn, on one line."""

    start: float
    end: float
    speaker: str
    text: str


def _split_at(pattern: re.Pattern[str], text: str) -> list[str]:
    pieces, last = [], 0
    for m in pattern.finditer(text):
        pieces.append(text[last : m.end()])
        last = m.end()
    pieces.append(text[last:])
    return [p for p in pieces if p.strip()]


def _hard_split(text: str, limit: int, length: Measure) -> Iterator[str]:
    """Pieces no longer than ``limit``, cut at the last space that fits when there is one."""
    piece = ""
    for ch in text:
        if piece and length(piece + ch) > limit:
            cut = piece.rfind(" ")
            if cut > len(piece) // 2:
                yield piece[:cut]
                piece = piece[cut + 1 :]
            else:
                yield piece
                piece = ""
        piece += ch
    if piece.strip():
        yield piece


def split_text(text: str, limit: int = MAX_LINE, length: Measure = len) -> list[str]:
    """``text`` cut into caption pieces no longer than ``limit`` as measured by ``length``.

    Cuts after sentence punctuation first, clause punctuation (，、；：) next, and only then
    inside a clause (at a space when there is one). Short neighbours are packed back
    together so captions are not needlessly fragmented.

    Args:
        text: a turn's words.
        limit: the longest piece.
        length: how a piece is measured (e.g. its escaped length for WebVTT).

    Raises:
        ValueError: ``limit`` cannot hold a single character.
    """
    text = " ".join(text.split())
    if limit < max((length(ch) for ch in text), default=1):
        raise ValueError(f"caption limit {limit} is too small for one character")
    parts: list[str] = []
    for sentence in _split_at(_SENTENCE, text):
        if length(sentence.strip()) <= limit:
            parts.append(sentence)
            continue
        for clause in _split_at(_CLAUSE, sentence):
            if length(clause.strip()) <= limit:
                parts.append(clause)
            else:
                parts.extend(_hard_split(clause.strip(), limit, length))
    return [p.strip() for p in pack(parts, lambda s: length(s.strip()) <= limit) if p.strip()]


def spoken_weight(text: str) -> float:
    """How long ``text`` takes to say, in Chinese-syllable units, roughly.

    A character share weighted by what a voice does with each character: a hanzi or a digit
    is one syllable, a Latin letter about 0.4 (words are read whole or spelled quickly),
    sentence punctuation a syllable's worth of pause, clause punctuation half of one.
    """
    weight = 0.0
    for ch in text:
        if ch.isdigit() or "\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff":
            weight += 1.0
        elif ch.isascii() and ch.isalpha():
            weight += 0.4
        elif ch in "。！？!?…":
            weight += 1.0
        elif ch in "，、；：,;:—":
            weight += 0.5
        elif not ch.isspace():
            weight += 0.2
    return weight


def cues(turns: Sequence[TimedTurn], limit: int = MAX_LINE, length: Measure = len) -> list[Cue]:
    """Caption cues for ``turns``, each turn's span shared out by :func:`spoken_weight`.

    Turns with no text or no duration produce no cue.

    Raises:
        ValueError: ``limit`` cannot hold a single character.
    """
    out: list[Cue] = []
    for turn in turns:
        if turn.end <= turn.start:
            continue
        pieces = split_text(turn.text, limit, length)
        weights = [spoken_weight(p) for p in pieces]
        total = sum(weights)
        if total <= 0:
            weights, total = [float(len(p)) for p in pieces], float(sum(len(p) for p in pieces))
        done = 0.0
        span = turn.end - turn.start
        for i, (piece, weight) in enumerate(zip(pieces, weights, strict=True)):
            start = turn.start + span * done / total
            done += weight
            end = turn.end if i == len(pieces) - 1 else turn.start + span * done / total
            out.append(Cue(start, end, turn.speaker, piece))
    return out


def timestamp(seconds: float, sep: str) -> str:
    """``HH:MM:SS.mmm`` (``sep`` before the milliseconds: ``.`` in WebVTT, ``,`` in SRT)."""
    ms = max(0, round(seconds * 1000))
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def _vtt_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _escaped_len(text: str) -> int:
    return len(_vtt_escape(text))


MIN_CUE_TEXT = 16
"""The least text a WebVTT cue carries after a long voice tag (``<v Name>``)."""


def _voice_tag(speaker: str) -> str:
    # a voice annotation ends at '>', so the name is escaped like the text
    return f"<v {_vtt_escape(speaker)}>"


def vtt_cues(turn: TimedTurn, limit: int = MAX_LINE) -> list[Cue]:
    """The cues of ``turn`` exactly as :func:`to_vtt` writes them (the episode page marks
    its transcript up with the same cues, so a search hit plays from the caption's time).

    A speaker whose name fills the line still gets :data:`MIN_CUE_TEXT` characters of
    text per cue (the line is then longer than ``limit``).

    Raises:
        ValueError: ``limit`` cannot hold one character.
    """
    room = max(limit - len(_voice_tag(turn.speaker)), min(limit, MIN_CUE_TEXT))
    return cues([turn], room, _escaped_len)


def to_vtt(turns: Sequence[TimedTurn], limit: int = MAX_LINE) -> str:
    """A WebVTT transcript with ``<v Speaker>`` voice spans, one line per cue.

    Every cue line, as written (voice tag and ``&amp;``-style escapes included), is at most
    ``limit`` characters, so it holds however a client counts.

    Raises:
        ValueError: ``limit`` leaves no room for text after the longest voice tag.
    """
    blocks = ["WEBVTT"]
    number = 0
    for turn in turns:
        tag = _voice_tag(turn.speaker)
        for cue in vtt_cues(turn, limit):
            number += 1
            blocks.append(
                f"{number}\n{timestamp(cue.start, '.')} --> {timestamp(cue.end, '.')}\n"
                f"{tag}{_vtt_escape(cue.text)}"
            )
    return "\n\n".join(blocks) + "\n"


def to_srt(turns: Sequence[TimedTurn], limit: int = MAX_LINE) -> str:
    """An SRT transcript; SRT has no voice spans, so each turn's first cue names the speaker.

    Lines are ``limit`` characters at most including the ``Speaker：`` prefix.

    Raises:
        ValueError: ``limit`` leaves no room for text after the longest speaker name.
    """
    out: list[str] = []
    number = 0
    for turn in turns:
        prefix = f"{turn.speaker}："
        first_cues = cues([turn], limit - len(prefix))
        for j, cue in enumerate(first_cues):
            number += 1
            text = prefix + cue.text if j == 0 else cue.text
            span = f"{timestamp(cue.start, ',')} --> {timestamp(cue.end, ',')}"
            out.append(f"{number}\n{span}\n{text}\n")
    return "\n".join(out)


def to_json(turns: Sequence[TimedTurn], limit: int = MAX_LINE) -> str:
    """A Podcasting 2.0 JSON transcript (``version`` 1.0.0, one segment per cue).

    Raises:
        ValueError: ``limit`` cannot hold a single character.
    """
    segments = [
        {
            "speaker": c.speaker,
            "startTime": round(c.start, 3),
            "endTime": round(c.end, 3),
            "body": c.text,
        }
        for c in cues(turns, limit)
    ]
    return json.dumps({"version": "1.0.0", "segments": segments}, ensure_ascii=False, indent=1)


def chapters_json(chapters: Sequence[Chapter]) -> str:
    """Podcasting 2.0 JSON chapters (``version`` 1.2.0, start times in seconds).

    Raises:
        ValueError: chapter starts are negative or not increasing.
    """
    starts = [c.start for c in chapters]
    if any(s < 0 for s in starts) or any(b <= a for a, b in itertools.pairwise(starts)):
        raise ValueError("chapter starts must be non-negative and increasing")
    data = {
        "version": "1.2.0",
        "chapters": [{"startTime": round(c.start, 3), "title": c.title} for c in chapters],
    }
    return json.dumps(data, ensure_ascii=False, indent=1)


@dataclass(frozen=True)
class PageCue:
    """One caption of a turn as the episode page shows it: ``gap`` is what stands between it
    and the caption before (a space, or nothing between two hanzi)."""

    start: float
    text: str
    gap: str


def page_cues(turn: TimedTurn, sentences: Sequence[TimedTurn] = ()) -> list[PageCue]:
    """The WebVTT cues of ``turn``, in order, for the episode page's transcript.

    ``sentences`` are the episode's placed sentences (:attr:`BuiltEpisode.sentences`); those
    inside the turn's span give the real timings the WebVTT file has. Without any (an older
    manifest), the turn's span is shared out as :func:`cues` does. A gap is a space where the
    turn's text has one, so the cues joined read as the turn does.
    """
    eps = 1e-3
    inside = [
        s for s in sentences if s.start >= turn.start - eps and s.end <= turn.end + eps and s.text
    ]
    texts = [c for s in (inside or [turn]) for c in vtt_cues(s)]
    whole = " ".join(turn.text.split())
    out: list[PageCue] = []
    pos = 0
    for cue in texts:
        found = whole.find(cue.text, pos)
        if found < 0:  # the sentence was written otherwise: a space between words
            gap = " " if out and (out[-1].text[-1:].isascii() or cue.text[:1].isascii()) else ""
        else:
            gap = " " if out and whole[pos:found].isspace() else ""
            pos = found + len(cue.text)
        out.append(PageCue(cue.start, cue.text, gap))
    return out
