"""Show notes per episode (summary, guests, host, chapters with times, highlights).

Rendered with jinja2 from ``templates/shownotes.html.j2`` (autoescaped: script text is
never markup) and ``templates/shownotes.txt.j2`` (plain text), in the show's language (its
headings and labels come from :mod:`pangocast.core.messages`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import jinja2

from pangocast.core.messages import messages_for
from pangocast.core.project import DEFAULT_LANGUAGE
from pangocast.core.timefmt import clock, iso_duration
from pangocast.publish.manifest import BuiltEpisode

HTML_TEMPLATE = "shownotes.html.j2"
TEXT_TEMPLATE = "shownotes.txt.j2"


@dataclass(frozen=True)
class ShowNotes:
    """One episode's notes in both forms."""

    html: str
    text: str


@cache
def _environment(autoescape: bool) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("pangocast", "templates"),
        autoescape=autoescape,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=False,
    )


def show_notes(
    episode: BuiltEpisode, link: str | None = None, *, language: str = DEFAULT_LANGUAGE
) -> ShowNotes:
    """Render an episode's show notes as an HTML fragment and as plain text: its title
    (plain-text notes start with it), summary (blank lines separate paragraphs), host,
    guests, chapters with their start times and highlights (pull quotes worth listing).

    Args:
        episode: the built episode.
        link: the episode page, if any.
        language: the show's language (BCP 47), for headings and labels.

    Raises:
        jinja2.TemplateError: a template is missing or broken (a packaging bug).
    """
    paragraphs = [" ".join(p.split()) for p in episode.summary.split("\n\n") if p.strip()]
    context = {
        "title": episode.title,
        "summary": paragraphs,
        "host": episode.host,
        "guests": list(episode.guests),
        "chapters": [
            {
                "clock": clock(c.start, pad_minutes=True),
                "iso": iso_duration(c.start),
                "title": c.title,
            }
            for c in episode.chapters
        ],
        "highlights": [h for h in episode.highlights if h.strip()],
        "link": link,
        "t": messages_for(language),
    }
    html = _environment(True).get_template(HTML_TEMPLATE).render(context)
    text = _environment(False).get_template(TEXT_TEMPLATE).render(context)
    return ShowNotes(html.strip() + "\n", text.strip() + "\n")


def render_notes(
    episode: BuiltEpisode, link: str | None = None, *, language: str = DEFAULT_LANGUAGE
) -> tuple[str, str]:
    """``(html, text)`` show notes of a built episode (see :func:`show_notes`).

    Raises:
        jinja2.TemplateError: a template is missing or broken (a packaging bug).
    """
    notes = show_notes(episode, link, language=language)
    return notes.html, notes.text
