"""The show's website: index, episode pages with a read-along player, embeds and oEmbed.

Pages are rendered with jinja2 (autoescape on for every template) from the ``site_*``
templates shipped in ``pangocast/templates``; a file of the same name in the show's
``templates/`` folder (``template_dir``) replaces the shipped one. The player is a small
vanilla script and style sheet written to ``output/assets/``; pages carry no inline script,
so they also work under a strict Content-Security-Policy, and play (without the read-along)
with JavaScript off. Every fixed text comes from the show language's message catalogue
(:mod:`pangocast.core.messages`), which templates call as ``t("key")``, ``t.names(list)``
and ``t.date(date)``.

Links between pages are relative so that a copy of ``output/`` works wherever it is served;
what leaves the site (canonical links, the iframe snippet, oEmbed, Open Graph) is absolute,
from :meth:`ShowConfig.url`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
import nh3
from markupsafe import Markup

from pangocast.core.errors import BuildError, InputError
from pangocast.core.files import write_atomic
from pangocast.core.messages import messages_for
from pangocast.core.project import ShowConfig
from pangocast.core.standards import TRANSCRIPT_TYPES
from pangocast.core.timefmt import clock, iso_duration
from pangocast.publish.images import image_size
from pangocast.publish.manifest import BuiltEpisode, Manifest
from pangocast.publish.search import SEARCH_DIR, build_search_index, cue_anchor
from pangocast.publish.soundbites import soundbites
from pangocast.publish.transcripts import page_cues
from pangocast.script.catalogue import newest_first

PACKAGE_TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
INDEX_TEMPLATE = "site_index.html.j2"
EPISODE_TEMPLATE = "site_episode.html.j2"
EMBED_TEMPLATE = "site_embed.html.j2"
ASSETS = {
    "assets/player.js": "site_player.js",
    "assets/search.js": "site_search.js",
    "assets/site.css": "site_style.css",
}
"""Asset path under output/ to the template file it is copied from (verbatim)."""

EMBED_WIDTH = 640
EMBED_HEIGHT = 360
"""Size of the iframe in the snippet and in oEmbed (CSS pixels); the page adapts to it."""

_TRANSCRIPT_LABEL = {"vtt": "WebVTT", "srt": "SRT", "json": "JSON"}


@dataclass(frozen=True)
class _Link:
    """A file under output/: its link relative to the page, and its absolute URL."""

    href: str
    url: str


def render_site(
    show: ShowConfig,
    manifest: Manifest,
    output: Path,
    *,
    template_dir: Path | None = None,
    search: bool = True,
    search_pages: dict[str, str] | None = None,
) -> list[Path]:
    """Write the show index, episode pages, embed pages, oEmbed files, assets and the
    search index (:mod:`pangocast.publish.search`).

    Args:
        show: show metadata; ``show.base_url`` makes the absolute URLs.
        manifest: the build's episodes and cover.
        output: the ``output/`` folder (audio and transcripts already in it).
        template_dir: the show's ``templates/`` folder; its ``site_*`` files replace the
            shipped ones of the same name. A missing folder is the same as none.
        search: build the search index too (False: pages only, for tests of the pages).
        search_pages: instead of indexing, put the pages to index here (path under
            output/ to HTML), for the caller to index and install after the feed.

    Returns:
        Every file written, in the order written.

    Raises:
        InputError: a template in ``template_dir`` is malformed or fails to render.
        BuildError: an episode slug cannot be a file name, a shipped template fails, a
            file cannot be written, or the search indexer fails.
    """
    env = _environment(template_dir)
    env.globals["t"] = messages_for(show.language)  # macros see globals, not the context
    episodes = newest_first(manifest.episodes)
    for ep in episodes:
        _check_slug(ep.slug)
    cover = manifest.cover
    thumb = image_size(output / cover) if cover else None

    # Everything is rendered before anything is written, and the index is written last:
    # a kill between two writes never leaves a page linking to one not yet in place.
    rendered: dict[str, str] = {}
    indexed: dict[str, str] = {}

    def put(rel: str, text: str) -> None:
        rendered[rel] = text

    assets: dict[str, str] = {}
    for rel, name in ASSETS.items():
        source = _template_source(env, name, template_dir)
        put(rel, source)
        digest = hashlib.sha256(source.encode("utf-8")).hexdigest()[:10]
        assets[rel] = f"{_href(rel)}?v={digest}"

    common: dict[str, Any] = {
        "show": show,
        "lang": _bcp47(show.language),
        "feed_url": show.feed_url,
        "updated": _updated(manifest),
        "embed_width": EMBED_WIDTH,
        "embed_height": EMBED_HEIGHT,
    }

    def page(rel: str, template: str, **context: Any) -> None:
        root = "../" * rel.count("/")
        ctx = {
            **common,
            "root": root,
            "css": root + assets["assets/site.css"],
            "js": root + assets["assets/player.js"],
            "search_js": root + assets["assets/search.js"],
            "search_bundle": f"{root}{SEARCH_DIR}/" if search and episodes else None,
            "cover": _link(show, root, cover) if cover else None,
            **context,
        }
        html = _render(env, template, ctx, template_dir)
        put(rel, html)
        if template == EPISODE_TEMPLATE:
            indexed[rel] = html

    page(
        "index.html",
        INDEX_TEMPLATE,
        page_url=show.url(""),
        episodes=[(ep, _href(ep.page)) for ep in episodes],
        subscribe=_subscribe_links(show.feed_url),
    )
    for ep in episodes:
        snippet = embed_snippet(show, ep)
        view = _episode_view(show, ep)
        page(
            f"{ep.page}index.html",
            EPISODE_TEMPLATE,
            ep=ep,
            page_url=ep.page_url(show),
            oembed_url=show.url(_href(ep.oembed)),
            embed_url=show.url(_href(ep.embed)),
            snippet=snippet,
            **view,
        )
        page(
            ep.embed,
            EMBED_TEMPLATE,
            ep=ep,
            page_url=ep.page_url(show),
            **view,
        )
        data = oembed_data(show, ep, cover=cover, thumbnail_size=thumb)
        put(ep.oembed, _json_text(data))
    index_html = rendered.pop("index.html")
    written = [write_atomic(output / rel, text) for rel, text in rendered.items()]
    written.append(write_atomic(output / "index.html", index_html))
    if search_pages is not None:
        search_pages.update(indexed)
    elif search:
        written.extend(build_search_index(indexed, output))
    return written


def embed_snippet(show: ShowConfig, episode: BuiltEpisode) -> str:
    """The copy-paste ``<iframe>`` that embeds ``episode``'s player (plain text of HTML).

    Every value is attribute-escaped, so the snippet is safe whatever the title holds.
    """
    return str(
        Markup(
            '<iframe src="{}" title="{}" width="{}" height="{}" loading="lazy"'
            ' style="border:0;max-width:100%" allow="autoplay"></iframe>'
        ).format(
            show.url(_href(episode.embed)),
            f"{episode.title} — {show.title}",
            EMBED_WIDTH,
            EMBED_HEIGHT,
        )
    )


def oembed_data(
    show: ShowConfig,
    episode: BuiltEpisode,
    *,
    cover: str | None = None,
    thumbnail_size: tuple[int, int] | None = None,
) -> dict[str, Any]:
    """oEmbed 1.0 ``rich`` response for ``episode`` (see https://oembed.com/).

    Args:
        show: show metadata.
        episode: the episode.
        cover: cover image under output/; it becomes the thumbnail when its size is known.
        thumbnail_size: the cover's (width, height) in pixels.
    """
    data: dict[str, Any] = {
        "version": "1.0",
        "type": "rich",
        "title": episode.title,
        "author_name": show.author,
        "author_url": show.url(""),
        "provider_name": show.title,
        "provider_url": show.url(""),
        "html": embed_snippet(show, episode),
        "width": EMBED_WIDTH,
        "height": EMBED_HEIGHT,
    }
    if cover and thumbnail_size:
        data["thumbnail_url"] = show.url(_href(cover))
        data["thumbnail_width"], data["thumbnail_height"] = thumbnail_size
    return data


# --- page data -------------------------------------------------------------------------


def _episode_view(show: ShowConfig, ep: BuiltEpisode) -> dict[str, Any]:
    """What the episode page and the embed page show; links are relative to output/."""
    chapters = [
        {
            "start": c.start,
            "end": ep.chapters[i + 1].start if i + 1 < len(ep.chapters) else ep.duration,
            "title": c.title,
        }
        for i, c in enumerate(ep.chapters)
    ]
    turns = sorted(ep.turns, key=lambda t: t.start)
    numbered = 0
    turn_cues: list[list[dict[str, Any]]] = []
    for turn in turns:
        shown = []
        for cue in page_cues(turn, ep.sentences):
            numbered += 1
            shown.append({"id": cue_anchor(numbered, cue.start), "text": cue.text, "gap": cue.gap})
        turn_cues.append(shown)
    transcripts = [
        (
            kind,
            _href(path),
            _TRANSCRIPT_LABEL.get(kind, kind.upper()),
            TRANSCRIPT_TYPES.get(kind, ""),
        )
        for kind, path in sorted(ep.transcripts.items())
    ]
    notes = Markup(nh3.clean(ep.notes_html)) if ep.notes_html.strip() else None
    return {
        "audio": _href(ep.audio),
        "audio_url": show.url(_href(ep.audio)),
        "chapters": chapters,
        "bites": soundbites(ep.turns, ep.highlights, ep.duration),
        "bite_videos": _videos(ep, "soundbite"),
        "episode_videos": _videos(ep, "episode").get(0.0, []),
        "turns": turns,
        "turn_cues": turn_cues,
        "transcripts": transcripts,
        "notes": notes,
    }


def _videos(ep: BuiltEpisode, clip: str) -> dict[float, list[tuple[str, str]]]:
    """The episode's audiograms of one kind by start (a soundbite's): (href, size) each,
    links relative to output/."""
    out: dict[float, list[tuple[str, str]]] = {}
    for video in ep.audiograms:
        if video.clip == clip:
            out.setdefault(video.start, []).append((_href(video.file), video.size))
    return out


def _updated(manifest: Manifest) -> dt.date | None:
    """The date the site shows as its last update: the build date, else the newest episode."""
    if manifest.build_date is not None:
        return manifest.build_date.date()
    return max((e.date for e in manifest.episodes), default=None)


def _subscribe_links(feed_url: str) -> dict[str, str]:
    """The feed in the URL schemes podcast apps register (``podcast://``, ``pcast://``)."""
    bare = feed_url.split("://", 1)[-1]
    return {"rss": feed_url, "podcast": f"podcast://{bare}", "pcast": f"pcast://{bare}"}


def _link(show: ShowConfig, root: str, rel: str) -> _Link:
    return _Link(href=root + _href(rel), url=show.url(_href(rel)))


def _href(rel: str) -> str:
    """A path under output/ as a URL path (percent-encoded, slashes kept)."""
    return quote(rel.replace("\\", "/"), safe="/")


def _bcp47(language: str) -> str:
    """``zh-cn`` (RSS style) as an HTML ``lang`` tag (``zh-CN``)."""
    parts = language.replace("_", "-").split("-")
    return "-".join([parts[0].lower(), *(p.upper() if len(p) == 2 else p for p in parts[1:])])


def _check_slug(slug: str) -> None:
    if not slug or slug.startswith(".") or any(c in slug for c in "/\\\0") or slug != slug.strip():
        raise BuildError(
            f"episode slug {slug!r} cannot be used as a file name",
            hint="use letters, digits and '-' in the script's slug",
        )


def _json_text(data: dict[str, Any]) -> str:
    """JSON whose text holds no ``<``, ``>``, ``&`` or ``'`` (escaped as ``\\uXXXX``), so it
    stays inert even if a host serves or inlines it as HTML."""
    text = json.dumps(data, ensure_ascii=False, indent=2)
    for ch in "<>&'":
        text = text.replace(ch, f"\\u{ord(ch):04x}")
    return text + "\n"


# --- templates ---------------------------------------------------------------------------


def _environment(template_dir: Path | None) -> jinja2.Environment:
    loaders: list[jinja2.BaseLoader] = []
    if template_dir is not None:
        loaders.append(jinja2.FileSystemLoader(template_dir))
    loaders.append(jinja2.FileSystemLoader(PACKAGE_TEMPLATES))
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["clock"] = clock
    env.filters["iso_duration"] = iso_duration
    env.filters["seconds"] = _seconds
    return env


def _seconds(value: float) -> str:
    """Seconds for a ``data-`` attribute: millisecond precision, no trailing zeros."""
    return f"{float(value):.3f}".rstrip("0").rstrip(".")


def _overridden(name: str, template_dir: Path | None) -> Path | None:
    if template_dir is None:
        return None
    path = template_dir / name
    return path if path.is_file() else None


def _template_error(name: str, template_dir: Path | None, exc: Exception) -> Exception:
    line = getattr(exc, "lineno", None)
    user = _overridden(name, template_dir)
    if user is not None:
        return InputError(
            f"template {name} fails: {exc}",
            path=user,
            line=line,
            hint="fix it, or delete it to use the shipped one",
        )
    return BuildError(f"shipped template {name} fails: {exc}", path=PACKAGE_TEMPLATES / name)


def _render(
    env: jinja2.Environment, name: str, context: dict[str, Any], template_dir: Path | None
) -> str:
    try:
        return env.get_template(name).render(context)
    except jinja2.TemplateError as exc:
        raise _template_error(name, template_dir, exc) from exc


def _template_source(env: jinja2.Environment, name: str, template_dir: Path | None) -> str:
    """A template file's text, unrendered (for the JS and CSS assets)."""
    assert env.loader is not None
    try:
        source, _, _ = env.loader.get_source(env, name)
    except jinja2.TemplateError as exc:
        raise _template_error(name, template_dir, exc) from exc
    return source
