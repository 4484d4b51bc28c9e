"""Whole articles that a column dump repeats, found and dropped before the footer is sought.

Real archives repeat articles (a page saved twice, a listing scraped page after page). A
repeated article must become one episode, and its repetition must not pass for the
column's footer, which :mod:`pangocast.ingest.split` finds as the text that repeats.

A *copy* is a run of paragraphs that repeats an earlier run word for word (layout ignored),
taken greedily from the dump's start, the longest earlier match first, and that

- holds at least :data:`MIN_COPY_PARAS` paragraphs with letters (a footer, a header or a
  pull quote is shorter), and
- is not boilerplate. Boilerplate (a long footer, an article header) closes or opens
  *different* articles: wherever it stands, it is at the dump's start or right after a
  paragraph the dump says only once (an article's own last words). A copy stands at least
  once after a marker, a footer or another copy, text that repeats too. A repeated run
  that opens with boilerplate said more often than the rest (a footer, then the copy of
  the article after it) is a copy from the first paragraph said as rarely as the rest.

A copy is dropped with its footer, so what is kept reads like the dump without the copy.
When a copy begins and ends with the same few paragraphs (a header that opens every
article: header, article, header), the last ones are kept: they open the next article.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from pangocast.ingest.text import Para, letters, squash

MIN_COPY_PARAS = 5
"""Paragraphs with letters a repeated run needs to be taken for a copied article."""
MAX_SOURCES = 32
"""Earlier places of a paragraph tried as the start of a copy's source (the latest first)."""


@dataclass(frozen=True)
class Repeats:
    """A dump without its copies.

    Attributes:
        kept: the paragraphs left, in order.
        origin: for each dropped paragraph (its position in the dump), the position of the
            kept paragraph it repeats.
    """

    kept: list[Para]
    origin: dict[int, int]


def drop_copies(paras: Sequence[Para]) -> Repeats:
    """``paras`` without the copied articles (see the module docstring for the rules)."""
    keys = [squash(p.text) for p in paras]
    count = Counter(keys)
    wordy = [p.split_mark is None and bool(letters(p.text)) for p in paras]

    def fresh_before(at: int) -> bool:
        """``at`` opens the dump or follows a paragraph said once (no marker between)."""
        for b in range(at - 1, -1, -1):
            if paras[b].split_mark is not None:
                return False
            if wordy[b]:
                return count[keys[b]] == 1
        return True

    seen: dict[str, list[int]] = defaultdict(list)
    origin: dict[int, int] = {}
    j = 0
    while j < len(keys):
        step = 1
        source, length = _longest_match(keys, seen[keys[j]], j) if wordy[j] else (j, 0)
        end = j + length
        if sum(wordy[j:end]) >= MIN_COPY_PARAS:
            step = length
            start = j
            if fresh_before(source) and fresh_before(j):
                # boilerplate, or boilerplate (said more often) followed by a copy
                said = [count[keys[at]] if wordy[at] else 0 for at in range(j, end)]
                start = j + said.index(min(n for n in said if n))
                if start == j or sum(wordy[start:end]) < MIN_COPY_PARAS:
                    start = end
            end -= _opening_kept(keys[start:end], wordy[start:end])
            for at in range(start, end):
                was = source + at - j
                origin[at] = origin.get(was, was)
        for at in range(j, j + step):
            seen[keys[at]].append(at)
        j += step
    kept = [p for at, p in enumerate(paras) if at not in origin]
    return Repeats(kept, origin)


def _longest_match(keys: Sequence[str], sources: Sequence[int], at: int) -> tuple[int, int]:
    """The earlier start among ``sources`` whose paragraphs match the most from ``at`` on."""
    best, best_len = at, 0
    for start in reversed(sources[-MAX_SOURCES:]):
        n = 0
        while at + n < len(keys) and keys[start + n] == keys[at + n]:
            n += 1
        if n > best_len:
            best, best_len = start, n
        if at + n == len(keys):
            break
    return best, best_len


def _opening_kept(keys: Sequence[str], wordy: Sequence[bool]) -> int:
    """How many of a copy's last paragraphs to keep: its shortest border (the same
    paragraphs begin and end it) when that is short, as a header is; else 0."""
    fail = [0] * (len(keys) + 1)
    k = 0
    for n in range(1, len(keys)):
        while k and keys[n] != keys[k]:
            k = fail[k]
        if keys[n] == keys[k]:
            k += 1
        fail[n + 1] = k
    border = fail[len(keys)]
    while border and fail[border]:
        border = fail[border]
    if border and 2 * border <= len(keys) and sum(wordy[:border]) < MIN_COPY_PARAS:
        return border
    return 0


def copy_warnings(
    paras: Sequence[Para],
    repeats: Repeats,
    bodies: Sequence[Sequence[Para]],
    names: Sequence[str],
) -> list[str]:
    """One line per dropped copy of an article: where it is and which kept article it repeats.

    Args:
        paras: the whole dump, as given to :func:`drop_copies`.
        repeats: what it dropped.
        bodies: each kept article's body (a dropped header or footer names no article).
        names: each article's title or first words.
    """
    body_of = {p.line: n for n, body in enumerate(bodies) for p in body}
    out: list[str] = []
    last_at = -2
    group: tuple[int, int] | None = None
    for at in sorted(repeats.origin):
        if at != last_at + 1:
            group = None
        last_at = at
        was = repeats.origin[at]
        n = body_of.get(paras[was].line)
        if n is None:
            continue
        if group is None or group[0] != n or was <= group[1]:
            out.append(
                f"line {paras[at].line}: article '{names[n]}' repeats the one at line "
                f"{paras[was].line}; kept once"
            )
        group = (n, was)
    return out
