"""Publishing what a build made: the cover, the feed and the pages, in the order that keeps
``output/`` consistent (every file before the feed that points at it; the feed, the commit
point, last; files the previous feed used removed only after it), and the files a build
added taken away again when it fails before publishing."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import asdict, replace
from pathlib import Path

from pangocast import __version__
from pangocast.core.errors import BuildError
from pangocast.core.files import write_atomic
from pangocast.core.project import Project, ShowConfig
from pangocast.publish.manifest import (
    MANIFEST_NAME,
    BuiltEpisode,
    Manifest,
    manifest_to_text,
)
from pangocast.publish.output import VERSIONED_DIRS, prune_unreferenced
from pangocast.script.catalogue import newest_first


class AddedFiles:
    """Files a build adds to the versioned folders of ``output/`` (audio, transcripts...).

    Episodes are assembled while others are still being synthesized, so a build that
    fails or is interrupted may already have written some: until the build starts to
    publish, no feed refers to them, and :meth:`remove` takes them away again.
    """

    def __init__(self, output: Path) -> None:
        self.output = output
        self.before = self._files()
        self.publishing = False

    def _files(self) -> set[Path]:
        folders = (self.output / d for d in VERSIONED_DIRS)
        return {f for d in folders if d.is_dir() for f in d.iterdir() if f.is_file()}

    def remove(self) -> None:
        """Remove what was added, unless publishing began (the feed may refer to it)."""
        if not self.publishing:
            for f in self._files() - self.before:
                f.unlink(missing_ok=True)


def publish_cover(project: Project, show: ShowConfig, output: Path) -> str | None:
    """Publish the show cover under a content-hashed name; returns its path under output/."""
    if show.cover:
        src = project.root / show.cover
        if not src.is_file():
            raise BuildError("cover art not found", path=src, hint="fix 'cover' in feeds/show.toml")
        data = src.read_bytes()
        suffix = src.suffix.lower()
    else:
        generated = project.cache / "cover.png"
        key = hashlib.sha256(f"{show.title}|{show.author}".encode()).hexdigest()[:10]
        marker = project.cache / "cover.key"
        if not generated.is_file() or not marker.is_file() or marker.read_text() != key:
            generated.parent.mkdir(parents=True, exist_ok=True)
            # no marker while the image is rewritten: a build killed meanwhile redraws it
            marker.unlink(missing_ok=True)
            from pangocast.publish.artwork import render_cover  # Pillow: only when drawing

            render_cover(show.title, show.author, generated)
            write_atomic(marker, key)
        data = generated.read_bytes()
        suffix = ".png"
    rel = f"images/cover-{hashlib.sha256(data).hexdigest()[:10]}{suffix}"
    if not (output / rel).is_file():
        write_atomic(output / rel, data)
    return rel


PUBLISHED_STAMP = "published.json"
"""Under ``.cache/``: what the last published feed and pages were rendered from (a hash of
the show metadata, templates, Pangocast's and the search indexer's versions), the feed's
hash and the files written (the search index's included); a build whose episodes and these
inputs are unchanged re-renders nothing."""


def _render_inputs(show: ShowConfig, templates: Path) -> str:
    """Hash of what the feed and pages are made of besides the episodes and the cover."""
    from pangocast.publish.search import indexer_version

    h = hashlib.sha256()
    versions = [__version__, indexer_version()]
    h.update(json.dumps([*versions, asdict(show)], default=str, sort_keys=True).encode())
    shipped = Path(__file__).resolve().parent.parent / "templates"
    for folder in (shipped, templates):
        files = sorted(f for f in folder.rglob("*") if f.is_file()) if folder.is_dir() else []
        for f in files:
            h.update(f"{f.relative_to(folder)}\0".encode())
            h.update(hashlib.sha256(f.read_bytes()).digest())
    return h.hexdigest()


def _still_published(stamp: Path, inputs: str, previous: Manifest, output: Path) -> bool:
    """True when the feed and pages on disk are the ones rendered from ``inputs`` and the
    ``previous`` manifest: the same feed, complete (not pending), every page in place."""
    try:
        data = json.loads(stamp.read_text(encoding="utf-8"))
        feed = (output / "feed.xml").read_bytes()
    except (OSError, ValueError):
        return False
    if not isinstance(data, dict) or data.get("inputs") != inputs:
        return False
    sha = hashlib.sha256(feed).hexdigest()
    if sha != data.get("feed_sha256") or sha != previous.feed_sha256:
        return False
    pages = data.get("files")
    return isinstance(pages, list) and all((output / str(f)).is_file() for f in pages)


def publish(
    project: Project,
    show: ShowConfig,
    built: list[BuiltEpisode],
    cover: str | None,
    previous: Manifest | None,
) -> Path:
    """Write the manifest, the pages and the feed for ``built`` (in the show's one order),
    then remove the files no episode uses any more; returns the feed's path. When neither
    the episodes nor what the feed and pages are rendered from changed, and they are in
    place, nothing is rendered again.

    Raises:
        BuildError: a file could not be written, or the show's metadata cannot make a feed.
        PangocastError: a template of the show's ``templates/`` folder is broken.
    """
    templates, output = project.templates, project.output
    stamp = project.cache / PUBLISHED_STAMP
    episodes = newest_first(with_notes(show, e) for e in built)
    same = previous is not None and previous.cover == cover and list(previous.episodes) == episodes
    referenced = [p for e in episodes for p in _files_of(e)] + ([cover] if cover else [])
    inputs = _render_inputs(show, templates)
    if same and previous is not None and _still_published(stamp, inputs, previous, output):
        # Nothing the feed and the pages are made of changed, and they are in place.
        prune_unreferenced(output, referenced, slugs=[e.slug for e in episodes])
        return output / "feed.xml"

    from pangocast.publish.feed import render_feed
    from pangocast.publish.search import index_pages, install_index
    from pangocast.publish.site import render_site

    build_date = (
        previous.build_date
        if same and previous is not None and previous.build_date
        else dt.datetime.now(dt.UTC).replace(microsecond=0)
    )
    manifest = Manifest(tuple(episodes), cover=cover, build_date=build_date)
    # Render everything first: a malformed text fails here, before anything is replaced.
    feed_bytes = render_feed(show, manifest)
    manifest = replace(manifest, feed_sha256=hashlib.sha256(feed_bytes).hexdigest())
    # Pages and manifest may run ahead of the feed (a kill between the renames): they only
    # reference files already complete, and nothing the old feed uses is removed yet.
    to_index: dict[str, str] = {}
    pages = render_site(show, manifest, output, template_dir=templates, search_pages=to_index)
    index = index_pages(to_index)  # a failing indexer fails the build here, before the feed
    write_atomic(output / MANIFEST_NAME, manifest_to_text(manifest))
    feed = write_atomic(output / "feed.xml", feed_bytes)  # the commit point
    # The search index follows the feed: the old site keeps its own until the new feed is
    # live (a failure here leaves the new feed with the old index; the next build redoes it).
    pages += install_index(index, output)
    written = [p.relative_to(output).as_posix() for p in pages]
    record = {"inputs": inputs, "feed_sha256": manifest.feed_sha256, "files": written}
    write_atomic(stamp, json.dumps(record, indent=1) + "\n")
    prune_unreferenced(output, referenced, slugs=[e.slug for e in episodes])
    return feed


def _files_of(e: BuiltEpisode) -> list[str]:
    chapters = [e.chapters_file] if e.chapters_file else []
    return [e.audio, *e.transcripts.values(), *chapters, *(a.file for a in e.audiograms)]


def with_notes(show: ShowConfig, episode: BuiltEpisode) -> BuiltEpisode:
    """``episode`` with its show notes, which link to its page on the show's site. They are
    rendered at publishing, so they follow the show's base URL without re-encoding the
    audio, and only when missing or linking elsewhere (an unchanged build renders none)."""
    link = episode.page_url(show)
    if episode.notes_html and episode.notes_link == link:
        return episode
    from pangocast.publish.shownotes import render_notes  # jinja2: only when rendering

    html, text = render_notes(episode, link=link, language=show.language)
    return replace(episode, notes_html=html, notes_text=text, notes_link=link)
