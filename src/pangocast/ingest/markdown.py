"""Markdown articles to paragraphs, with markup turned into structure.

markdown-it-py (a CommonMark parser) reads the document; this module only walks its tokens:

- headings become ``heading`` paragraphs; the first H1 before any text is the ``title``;
- blockquotes become ``quote`` paragraphs (pull quotes or a standfirst: the reader decides);
- list items become ``item`` paragraphs, each ending as a sentence;
- images become ``image`` paragraphs (their alt text is kept for the script's note, never
  spoken), and an all-emphasis line right under an image is its ``caption``;
- link text stays, URLs go; emphasis, code and strike marks go; rules, HTML and front
  matter go (an ``<!-- episode -->`` marker stays, it splits a dump);
- fenced and indented code become ``code`` paragraphs (not spoken).

Every paragraph keeps the source line it starts on, so errors and the script point at it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from itertools import pairwise

from markdown_it import MarkdownIt
from markdown_it.token import Token

from pangocast.ingest.text import SPLIT_MARK_RE, Para, ParaForm, is_cjk
from pangocast.script.format import join_lines

__all__ = ["MARKDOWN_SUFFIXES", "markdown_paragraphs", "strip_front_matter"]

MARKDOWN_SUFFIXES = frozenset({".md", ".markdown", ".mdown", ".mkd"})
_FRONT_MATTER_RE = re.compile(r"\A(?:\ufeff)?(---|\+\+\+)[ \t]*\n(.*?)\n\1[ \t]*(?:\n|\Z)", re.S)
_FM_TITLE_RE = re.compile(r"^title\s*[:=]\s*[\"']?(?P<title>.+?)[\"']?\s*$", re.M)
_END_MARKS = "。!?!?.…:;:;"


_EMPHASIS_RE = re.compile(
    r"(?P<mark>\*\*|__)(?=[^\s*_])(?P<inner>[^\n]*?[^\s*_])(?P=mark)"
    r"|(?<![*\w])\*(?=[^\s*])(?P<em>[^*\n]*?[^\s*])\*(?!\*)"
)


def _spaced(m: re.Match[str]) -> str:
    """An emphasis run with a space on a side where CommonMark's flanking rules would
    refuse it: ``**老王：**你好`` ends on punctuation right before a letter, which is how
    Chinese is written; the space (dropped again between CJK characters) lets it parse."""
    run = m.group(0)
    before = m.string[m.start() - 1 : m.start()]
    after = m.string[m.end() : m.end() + 1]
    lead = " " if before and not before.isspace() and not before.isascii() else ""
    tail = " " if after and not after.isspace() and not after.isascii() else ""
    return lead + run + tail


def _parser() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])


def strip_front_matter(text: str) -> tuple[str, str | None, int]:
    """``text`` without a YAML/TOML front matter block, the title it gives, and how many
    lines were removed (so line numbers still point into the file)."""
    m = _FRONT_MATTER_RE.match(text)
    if m is None:
        return text, None, 0
    title = _FM_TITLE_RE.search(m.group(2))
    removed = text[: m.end()].count("\n")
    return text[m.end() :], (title.group("title").strip() if title else None), removed


def markdown_paragraphs(text: str) -> list[Para]:
    """The paragraphs of a Markdown document, markup removed and turned into ``form``."""
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    body, fm_title, offset = strip_front_matter(text)
    body = _EMPHASIS_RE.sub(_spaced, body)
    out: list[_Block] = []
    if fm_title:
        out.append(_Block(offset, fm_title, "title"))
    _walk(_parser().parse(body), offset, out)
    _mark_title(out)
    _mark_captions(out)
    return [
        Para(n, b.line, b.text, b.form, strong=b.strong, marked=True, em=b.em)
        for n, b in enumerate(out)
    ]


class _Block:
    __slots__ = ("em", "form", "level", "line", "strong", "text")

    def __init__(
        self, line: int, text: str, form: ParaForm, strong: bool = False, em: bool = False
    ) -> None:
        self.level = 0
        self.line = line
        self.text = text
        self.form: ParaForm = form
        self.strong = strong
        self.em = em


def _walk(tokens: Sequence[Token], offset: int, out: list[_Block]) -> None:
    quote = 0
    item = 0
    heading = False
    level = 0
    for tok in tokens:
        kind = tok.type
        if kind == "blockquote_open":
            quote += 1
        elif kind == "blockquote_close":
            quote -= 1
        elif kind == "list_item_open":
            item += 1
        elif kind == "list_item_close":
            item -= 1
        elif kind == "heading_open":
            heading = True
            level = int(tok.tag[1:]) if tok.tag[1:].isdigit() else 2
        elif kind == "heading_close":
            heading = False
        elif kind in ("fence", "code_block"):
            code = tok.content.strip()
            if code:
                out.append(_Block(_line(tok, offset), code, "code"))
        elif kind == "html_block":
            _html_block(tok, offset, out)
        elif kind == "inline":
            form: ParaForm = (
                "heading" if heading else "quote" if quote else "item" if item else "text"
            )
            before = len(out)
            _inline(tok, form, offset, out)
            for b in out[before:] if heading else ():
                b.level = level


def _line(tok: Token, offset: int) -> int:
    return (tok.map[0] if tok.map else 0) + 1 + offset


def _html_block(tok: Token, offset: int, out: list[_Block]) -> None:
    """An HTML block is markup, never speech; an episode marker in it still splits."""
    for n, raw in enumerate(tok.content.splitlines()):
        line = raw.strip()
        if SPLIT_MARK_RE.match(line):
            out.append(_Block(_line(tok, offset) + n, line, "text"))


def _inline(tok: Token, form: ParaForm, offset: int, out: list[_Block]) -> None:
    """One paragraph's inline tokens: images split off, then the text with marks removed."""
    first = _line(tok, offset)
    lines: list[list[_Run]] = [[]]
    strong = em = 0
    href: str | None = None
    for child in tok.children or ():
        kind = child.type
        if kind in ("softbreak", "hardbreak"):
            lines.append([])
        elif kind in ("strong_open", "strong_close"):
            strong += 1 if kind == "strong_open" else -1
        elif kind in ("em_open", "em_close"):
            em += 1 if kind == "em_open" else -1
        elif kind == "link_open":
            href = str(child.attrs.get("href", ""))
        elif kind == "link_close":
            href = None
        elif kind == "image":
            lines[-1].append(_Run(alt=child.content or "", image=True))
        elif kind in ("text", "code_inline"):
            text = child.content
            if href is not None and text.strip() in (href, href.removeprefix("mailto:")):
                continue  # an autolink: its text is the URL
            lines[-1].append(_Run(text, strong=strong > 0, em=em > 0))
    pending: list[_Run] = []
    pending_line = first
    after_image = False
    for n, runs in enumerate(lines):
        if any(r.image for r in runs) and all(r.image or r.blank for r in runs):
            _flush(pending, form, pending_line, out, after_image)
            pending = []
            alt = " ".join(r.alt for r in runs if r.image).strip()
            out.append(_Block(first + n, alt or "image", "image"))
            after_image = True
            continue
        if not pending:
            pending_line = first + n
        pending.extend(r for r in runs if not r.image)
        pending.append(_Run(brk=True))
    _flush(pending, form, pending_line, out, after_image)


def _flush(
    runs: list[_Run], form: ParaForm, line: int, out: list[_Block], after_image: bool
) -> None:
    words = [r for r in runs if not r.blank and not r.is_break]
    if not words:
        return
    text = _join(runs)
    if not text:
        return
    strong = all(r.strong for r in words)
    if after_image and all(r.em or r.strong for r in words) and form == "text":
        out.append(_Block(line, text, "caption"))
        return
    if form == "item" and text[-1] not in _END_MARKS:
        text += "。" if is_cjk(text[-1]) else "."
    out.append(_Block(line, text, form, strong, all(r.em for r in words)))


def _join(runs: Sequence[_Run]) -> str:
    parts: list[str] = []
    buf = ""
    for r in runs:
        if r.is_break:
            if buf.strip():
                parts.append(buf.strip())
            buf = ""
        else:
            buf += r.text
    if buf.strip():
        parts.append(buf.strip())
    if not parts:
        return ""
    text = re.sub(r"[ \t]{2,}", " ", join_lines(parts))
    return _CJK_GAP_RE.sub("", text)


_CJK_GAP_RE = re.compile(r"(?<=[^\x00-\x7f]) (?=[^\x00-\x7f])")
"""A space between two non-ASCII characters: Chinese has none (see :func:`_spaced`)."""


class _Run:
    """One inline piece of text with the emphasis around it (or an image, or a break)."""

    __slots__ = ("alt", "blank", "em", "image", "is_break", "strong", "text")

    def __init__(
        self,
        text: str = "",
        *,
        strong: bool = False,
        em: bool = False,
        alt: str = "",
        image: bool = False,
        brk: bool = False,
    ) -> None:
        self.text = text
        self.strong = strong
        self.em = em
        self.alt = alt
        self.image = image
        self.is_break = brk
        self.blank = not text.strip() and not image


CAPTION_MAX = 80


def _mark_captions(blocks: list[_Block]) -> None:
    """A short line right under an image, not ending as a sentence, is its caption."""
    for prev, b in pairwise(blocks):
        if prev.form != "image" or b.form != "text":
            continue
        if len(b.text) <= CAPTION_MAX and b.text.rstrip()[-1:] not in "\u3002!?\uff01\uff1f":
            b.form = "caption"


def _mark_title(blocks: list[_Block]) -> None:
    """The document's title: its first H1 when only short lines (a kicker, a section name)
    or images come before it (they become unspoken notes), else its first heading when it
    comes before any text."""
    for n, b in enumerate(blocks):
        if b.form == "title":
            return
        if b.form == "heading" and b.level == 1:
            if all(_kicker(p) for p in blocks[:n]):
                b.form = "title"
                for p in blocks[:n]:
                    if p.form == "text":
                        p.form = "caption"
                blocks.insert(0, blocks.pop(n))  # the title leads, its kicker after it
                return
            break
    for b in blocks:
        if b.form == "heading":
            b.form = "title"
            return
        if b.form in ("text", "quote", "item"):
            return


def _kicker(b: _Block) -> bool:
    """A short line with no sentence in it, as stands above a headline ("Science · Interview")."""
    if b.form in ("image", "caption"):
        return True
    return b.form == "text" and len(b.text) <= 40 and not any(c in b.text for c in ".。!?!?")
