"""Saved web pages to paragraphs: the article body only, its markup turned into structure.

trafilatura finds the article in the page (navigation, share buttons, related links,
comments, ads and footers are dropped by its boilerplate detection) and writes it as
Markdown with the formatting kept, so bold speaker labels, headings, lists and quotes
survive; :mod:`pangocast.ingest.markdown` then reads that Markdown. Each paragraph's line
is found again in the page, so notes and errors point into the file the producer saved.
"""

from __future__ import annotations

import re
from dataclasses import replace
from html import unescape

from pangocast.core.errors import InputError
from pangocast.ingest.markdown import markdown_paragraphs
from pangocast.ingest.text import Para, fold_width, letters, squash

__all__ = ["HTML_SUFFIXES", "page_paragraphs"]

HTML_SUFFIXES = frozenset({".html", ".htm", ".xhtml"})
_TAG_RE = re.compile(r"<[^>]+>")
_PROBES = (40, 16)
MIN_BODY_LETTERS = 60
"""Fewer letters than this in the extracted body: the page has no article (trafilatura
falls back to the page's menus and footer)."""


def page_paragraphs(html: str, source: str = "<page>") -> list[Para]:
    """The article's paragraphs in a saved web page.

    Raises:
        InputError: the page has no article body.
    """
    import trafilatura  # a heavy import, needed only for web pages

    body = trafilatura.extract(
        html,
        output_format="markdown",
        include_formatting=True,
        include_comments=False,
        include_images=True,
        include_links=True,
        include_tables=False,
        deduplicate=False,
    )
    paras = markdown_paragraphs(body or "")
    said = sum(len(letters(p.text)) for p in paras if p.form in ("text", "quote", "item"))
    if said < MIN_BODY_LETTERS:
        raise InputError(
            "no article body found in the web page",
            path=source,
            line=1,
            hint="save the article's own page (not a listing or the home page), "
            "or paste its text into a .txt or .md file",
        )
    meta = trafilatura.extract_metadata(html)
    front: list[Para] = []
    if meta is not None and meta.title and not any(p.form == "title" for p in paras):
        front.append(Para(0, 1, meta.title, "title", marked=True))
    if meta is not None and meta.date:
        # kept as an unspoken note: the script shows it, the importer dates the episode by it
        front.append(Para(0, 1, f"{meta.date}", "caption", marked=True))
    if front:
        at = 1 if paras and paras[0].form == "title" else 0
        paras = [*paras[:at], *front, *paras[at:]]
        paras = [replace(p, index=n) for n, p in enumerate(paras)]
    return _source_lines(paras, html)


def _source_lines(paras: list[Para], html: str) -> list[Para]:
    """Each paragraph with the page line where its text appears (searching forward)."""
    lines = html.replace("\r\n", "\n").split("\n")
    plain = [squash(fold_width(unescape(_TAG_RE.sub("", line)))) for line in lines]
    out: list[Para] = []
    at = 0
    for p in paras:
        found = _find(plain, p.text, at)
        if found is not None:
            at = found
        out.append(replace(p, line=(found if found is not None else at) + 1))
    return out


def _find(plain: list[str], text: str, at: int) -> int | None:
    """The first line from ``at`` (else from the top) holding the start of ``text``."""
    flat = squash(text)
    for size in _PROBES:
        probe = flat[:size]
        if not probe:
            return None
        for start in (at, 0):
            for n in range(start, len(plain)):
                if probe in plain[n]:
                    return n
    return None
