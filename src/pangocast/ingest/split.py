"""Splitting a column dump into articles.

Articles the dump repeats are dropped first, each kept once with a warning
(:mod:`pangocast.ingest.repeats`), so that the footer is the repetition that remains across
*different* articles. Then three kinds of boundary, strongest first:

1. a producer's marker: a paragraph ``===`` or a line ``<!-- episode -->``
   (``<!-- episode: 标题 -->`` also names the next episode);
2. the column footer: a block of paragraphs that repeats, word for word, across the dump
   (found by repetition, never by its wording) closes each article;
3. guesses, each reported as a warning: a new article's introduction after a closing
   section ("尾声", "结语" …) that no longer talks about the current guest, or a change of
   interviewee (labels or "受访者:" introductions of someone new, the old guest never
   speaking again).
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import pairwise

from pangocast.ingest.people import analyse_people, label_of, role_intro
from pangocast.ingest.repeats import copy_warnings, drop_copies
from pangocast.ingest.text import (
    Para,
    closing_heading,
    is_credit_line,
    is_date_line,
    is_furniture,
    is_heading_form,
    is_listing_header,
    letters,
    squash,
    strip_heading_marks,
)

MIN_FOOTER_CHARS = 30
"""Repeated paragraphs shorter than this (headings like "尾声") are not boilerplate."""
MIN_FOOTER_GAP = 5
"""Repeats closer than this many paragraphs are pull quotes or slips, not a footer."""
MIN_ARTICLE_PARAS = 5
LOOKBACK = 4
_COLUMN_RE = re.compile(r"[“「《\"]([^”」》\"]{2,20})[”」》\"]\s*(?:栏目|专栏|系列|节目|频道)")
_LISTING_NAME_RE = re.compile(r"^(?:分类|标签|专栏|栏目|专题)\s*[::]?\s*(.+?)\s*(?:下的文章)?$")


@dataclass
class Chunk:
    """The paragraphs of one article.

    Attributes:
        paras: the body, in order (no markers, no footer, no header lines).
        header: lines before the body that are not spoken (dump header, title line).
        footer: the footer paragraphs that closed this article in the source.
        title: the article's title when the text gives one.
        guessed: its start was guessed (no marker, no footer before it).
    """

    paras: list[Para]
    header: list[Para] = field(default_factory=list)
    footer: list[Para] = field(default_factory=list)
    title: str | None = None
    guessed: bool = False


@dataclass
class DumpSplit:
    """A dump cut into articles, with the column's footer and what was guessed."""

    chunks: list[Chunk]
    footer: tuple[str, ...]
    column: str | None
    warnings: list[str]


def find_footer(paras: Sequence[Para]) -> list[list[int]]:
    """Blocks of consecutive paragraphs (indices into ``paras``) that repeat in the dump."""
    where: dict[str, list[int]] = defaultdict(list)
    for i, p in enumerate(paras):
        key = squash(p.text)
        if len(letters(key)) >= MIN_FOOTER_CHARS:
            where[key].append(i)
    repeated: set[int] = set()
    for idx in where.values():
        if len(idx) >= 2 and min(b - a for a, b in pairwise(idx)) >= MIN_FOOTER_GAP:
            repeated.update(idx)
    blocks: list[list[int]] = []
    for i in sorted(repeated):
        if blocks and blocks[-1][-1] == i - 1:
            blocks[-1].append(i)
        else:
            blocks.append([i])
    return blocks


def canonical_footer(paras: Sequence[Para], blocks: list[list[int]]) -> tuple[str, ...]:
    """The most common footer block's text (the longest on a tie)."""
    if not blocks:
        return ()
    versions = Counter(tuple(paras[i].text for i in b) for b in blocks)
    return max(versions, key=lambda v: (versions[v], len(v)))


def column_name(footer: Sequence[str], paras: Sequence[Para]) -> str | None:
    """The column's name from its footer ("“X”栏目是…") or a listing header."""
    for text in footer:
        m = _COLUMN_RE.search(text)
        if m:
            return m.group(1).strip()
    if paras and is_listing_header(paras[0].text):
        m = _LISTING_NAME_RE.match(paras[0].text.strip())
        if m:
            return m.group(1).strip()
    return None


def split_dump(dump: Sequence[Para]) -> DumpSplit:
    """Cut ``dump`` into articles (see the module docstring for the rules)."""
    repeats = drop_copies(dump)
    paras = repeats.kept
    blocks = find_footer(paras)
    footer = canonical_footer(paras, blocks)
    header_mode = bool(blocks) and blocks[0][0] <= 1
    in_footer = {i: n for n, b in enumerate(blocks) for i in b}
    warnings: list[str] = []
    hard: list[Chunk] = []
    current = Chunk([])
    for i, p in enumerate(paras):
        mark = p.split_mark
        if mark is not None:
            hard.append(current)
            current = Chunk([], title=(mark.group("title") or "").strip() or None)
            continue
        if i in in_footer:
            block = blocks[in_footer[i]]
            if header_mode and i == block[0]:
                hard.append(current)
                current = Chunk([])
            if header_mode:
                current.header.append(p)
            else:
                current.footer.append(p)
                if i == block[-1]:
                    hard.append(current)
                    current = Chunk([])
            continue
        current.paras.append(p)
    hard.append(current)
    chunks: list[Chunk] = []
    for chunk in hard:
        chunks.extend(_guess_splits(chunk, warnings))
    chunks = _merge_empty(chunks)
    _take_headers(chunks)
    if repeats.origin:
        names = [c.title or _first_words(c.paras[0].text) for c in chunks]
        warnings[:0] = copy_warnings(dump, repeats, [c.paras for c in chunks], names)
    return DumpSplit(chunks, footer, column_name(footer, paras), warnings)


def _first_words(text: str, n: int = 16) -> str:
    return text if len(text) <= n else text[:n].rstrip() + "…"


def _merge_empty(chunks: list[Chunk]) -> list[Chunk]:
    out: list[Chunk] = []
    for c in chunks:
        if not any(letters(p.text) for p in c.paras):
            if out:
                out[-1].footer.extend(c.footer)
            continue
        out.append(c)
    return out


def _take_headers(chunks: list[Chunk]) -> None:
    """Move a dump's listing header and each article's title line out of the body."""
    for n, c in enumerate(chunks):
        if n == 0 and c.paras and is_listing_header(c.paras[0].text):
            c.header.append(c.paras.pop(0))
        if _leading_title(c.paras):
            title = c.paras.pop(0)
            c.header.append(title)
            c.title = c.title or strip_heading_marks(title.text)


def _is_turn(text: str, paras: Sequence[Para]) -> bool:
    """``text`` opens with a label used by another paragraph too (a turn, not a title
    like "对话林晓峰:做开发者工具…")."""
    lab = label_of(text)
    if lab is None:
        return False
    return any((other := label_of(p.text)) is not None and other[0] == lab[0] for p in paras[1:])


def _leading_title(paras: Sequence[Para]) -> bool:
    """The first paragraph is a title line: marked up as the title, or heading-shaped and
    followed by prose."""
    if paras and paras[0].form == "title":
        return True
    if len(paras) < 2 or paras[0].marked:
        return False
    first = paras[0].text
    if not is_heading_form(first) or closing_heading(first) or _is_turn(first, paras):
        return False
    if is_credit_line(first) or is_date_line(first):
        return False
    # a byline, a dateline, a role introduction or a note may stand between the title and
    # the prose
    rest = [p for p in paras[1:6] if not _front_matter(p.text)]
    return bool(rest) and not is_heading_form(rest[0].text)


def _front_matter(text: str) -> bool:
    return (
        is_credit_line(text)
        or is_date_line(text)
        or is_furniture(text)
        or role_intro(text) is not None
    )


# --- guessed boundaries -------------------------------------------------------------------


def _guess_splits(chunk: Chunk, warnings: list[str]) -> list[Chunk]:
    out: list[Chunk] = []
    rest = chunk
    while True:
        at = _closing_boundary(rest.paras)
        why = "a new introduction after the closing section"
        if at is None:
            at = _guest_change_boundary(rest.paras)
            why = "a new interviewee"
        if at is None:
            out.append(rest)
            return out
        first = rest.paras[at]
        words = first.text[:16]
        warnings.append(
            f"line {first.line}: guessed that a new episode starts here ({why}: "
            f"'{words}…'); put a '===' line before it to confirm, or fix the split by hand"
        )
        out.append(Chunk(rest.paras[:at], header=rest.header, title=rest.title))
        rest = Chunk(rest.paras[at:], footer=rest.footer, guessed=True)


def _mentions_any(text: str, names: set[str]) -> bool:
    return any(n and n in text for n in names)


def _closing_boundary(paras: Sequence[Para]) -> int | None:
    """After a closing heading and at least one closing paragraph, a paragraph that starts
    talking about someone new (and enough text follows) starts the next article."""
    for k, p in enumerate(paras):
        if not (is_heading_form(p.text) and closing_heading(p.text)):
            continue
        before = analyse_people(paras[:k])
        current = set(before.guests) | {a for a, c in before.aliases.items() if c in before.guests}
        if not current:
            continue
        end = next(
            (j for j in range(k + 1, len(paras)) if is_heading_form(paras[j].text)), len(paras)
        )
        for m in range(k + 2, min(end + 1, len(paras))):
            if len(paras) - m < MIN_ARTICLE_PARAS:
                break
            window = " ".join(q.text for q in paras[m : m + 3])
            if _mentions_any(window, current):
                continue
            after = analyse_people(paras[m:])
            new = [g for g in after.guests if g not in current]
            if new and _mentions_any(window, {new[0], *after.aliases}):
                return m
    return None


def _guest_events(paras: Sequence[Para]) -> list[tuple[int, str]]:
    people = analyse_people(paras)
    events: list[tuple[int, str]] = []
    for k, p in enumerate(paras):
        intro = role_intro(p.text)
        if intro is not None and intro.role == "guest":
            events.extend((k, people.canonical(n)) for n in intro.names)
            continue
        lab = label_of(p.text)
        if lab is None:
            continue
        speaker = people.speakers.get(lab[0])
        if speaker is not None and speaker[1] == "guest":
            events.append((k, speaker[0]))
    return events


def _guest_change_boundary(paras: Sequence[Para]) -> int | None:
    """The first labelled guest who takes over for good, when the old one never returns."""
    events = _guest_events(paras)
    seen: set[str] = set()
    for n, (k, name) in enumerate(events):
        if name in seen:
            continue
        later = {g for _, g in events[n:]}
        if seen and not (seen & later) and k >= MIN_ARTICLE_PARAS // 2:
            return _walk_back(paras, k, seen, name)
        seen.add(name)
    return None


def _walk_back(paras: Sequence[Para], k: int, old: set[str], new: str) -> int:
    """Move a boundary back over the new article's introduction: the earliest of the few
    paragraphs before ``k`` that names the new guest (no label or old guest in between),
    and the headings right before it."""
    at = k
    for j in range(k - 1, max(0, k - LOOKBACK) - 1, -1):
        text = paras[j].text
        if (label_of(text) is not None and role_intro(text) is None) or _mentions_any(text, old):
            break
        if new in text:
            at = j
    while (
        at > 1
        and is_heading_form(paras[at - 1].text)
        and not _mentions_any(paras[at - 1].text, old)
    ):
        at -= 1
    return at
