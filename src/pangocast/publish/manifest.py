"""What a build produced for each episode: the contract between assembly and the
feed, the site and ``pangocast check``.

``output/manifest.json`` holds one :class:`BuiltEpisode` per episode. A build writes it just
before the feed, with the feed's hash (:attr:`Manifest.feed_sha256`), so a reader can tell a
manifest whose feed never went live (the build was killed between the two renames).
All paths are relative to ``output/`` and use forward slashes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote

from pangocast.core.errors import BuildError
from pangocast.core.models import Chapter, TimedTurn
from pangocast.core.project import ShowConfig

MANIFEST_NAME = "manifest.json"


@dataclass(frozen=True)
class Audiogram:
    """A shareable video of an episode (``pangocast build --audiograms``)."""

    clip: Literal["soundbite", "episode"]
    start: float
    """Where the video starts in the episode (seconds): a soundbite's start, or 0."""
    duration: float
    size: str
    """``square`` (1080x1080) or ``vertical`` (1080x1920)."""
    file: str
    """MP4 path under output/, content hash in the name (``audiograms/<slug>-...mp4``)."""


@dataclass(frozen=True)
class BuiltEpisode:
    """One built episode, as the feed and the site see it."""

    slug: str
    guid: str
    title: str
    date: dt.date
    summary: str
    host: str
    guests: tuple[str, ...]
    episode: int | None
    season: int | None
    episode_type: Literal["full", "trailer", "bonus"]
    audio: str
    """MP3 path under output/, content hash in the name (``audio/<slug>-<hash>.mp3``)."""
    audio_bytes: int
    duration: float
    chapters: tuple[Chapter, ...] = ()
    turns: tuple[TimedTurn, ...] = ()
    sentences: tuple[TimedTurn, ...] = ()
    """The turns' sentences as placed in the audio (the WebVTT transcript's timings); empty
    in manifests written before they were recorded."""
    highlights: tuple[str, ...] = ()
    transcripts: dict[str, str] = field(default_factory=dict)
    """Transcript kind ("vtt", "srt", "json") to its path under output/."""
    chapters_file: str | None = None
    """Podcasting 2.0 JSON chapters path under output/."""
    engine: str = ""
    notes_html: str = ""
    """Show notes (summary, guests, chapter list with times) as an HTML fragment."""
    notes_text: str = ""
    """The same show notes as plain text."""
    notes_link: str = ""
    """The episode page's URL the show notes link to (they are rendered again when the
    show's base URL moves it)."""
    audiograms: tuple[Audiogram, ...] = ()
    """The episode's videos; none unless audiograms are made (the feed lists none)."""

    @property
    def page(self) -> str:
        """The episode's web page under output/."""
        return f"episodes/{self.slug}/"

    def page_url(self, show: ShowConfig) -> str:
        """The public URL of the episode's page on the show's site."""
        return show.url(quote(self.page, safe="/"))

    @property
    def embed(self) -> str:
        """The embeddable player page under output/."""
        return f"embed/{self.slug}.html"

    @property
    def oembed(self) -> str:
        """The oEmbed JSON under output/."""
        return f"oembed/{self.slug}.json"

    def to_json(self) -> dict[str, Any]:
        """Plain JSON-able data."""
        data = asdict(self)
        data["date"] = self.date.isoformat()
        data["guests"] = list(self.guests)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> BuiltEpisode:
        """Inverse of :meth:`to_json`."""
        d = dict(data)
        d["date"] = dt.date.fromisoformat(d["date"])
        d["guests"] = tuple(d["guests"])
        d["chapters"] = tuple(Chapter(**c) for c in d.get("chapters", ()))
        d["turns"] = tuple(TimedTurn(**t) for t in d.get("turns", ()))
        d["sentences"] = tuple(TimedTurn(**t) for t in d.get("sentences", ()))
        d["highlights"] = tuple(d.get("highlights", ()))
        d["audiograms"] = tuple(Audiogram(**a) for a in d.get("audiograms", ()))
        return cls(**d)


@dataclass(frozen=True)
class Manifest:
    """A whole build: its episodes, the show cover and the build date."""

    episodes: tuple[BuiltEpisode, ...]
    cover: str | None = None
    """Show cover art path under output/ (``images/cover-<hash>.png`` or ``.jpg``)."""
    build_date: dt.datetime | None = None
    """When the feed's content last changed (``lastBuildDate``); None = newest episode."""
    feed_sha256: str | None = None
    """SHA-256 (hex) of the ``feed.xml`` published with this manifest. The manifest is
    written just before its feed: when ``feed.xml`` on disk has another hash, the build
    that wrote this manifest stopped before its feed went live, and the feed still
    describes the previous build (see :func:`is_pending`)."""


def manifest_to_text(manifest: Manifest) -> str:
    """The manifest file's content."""
    data = {
        "cover": manifest.cover,
        "build_date": manifest.build_date.isoformat() if manifest.build_date else None,
        "feed_sha256": manifest.feed_sha256,
        "episodes": [e.to_json() for e in manifest.episodes],
    }
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def manifest_from_text(text: str) -> Manifest:
    """Inverse of :func:`manifest_to_text` (ValueError/KeyError/TypeError when malformed)."""
    data = json.loads(text)
    bd = data.get("build_date")
    return Manifest(
        episodes=tuple(BuiltEpisode.from_json(e) for e in data["episodes"]),
        cover=data.get("cover"),
        build_date=dt.datetime.fromisoformat(bd) if bd else None,
        feed_sha256=data.get("feed_sha256"),
    )


def is_pending(manifest: Manifest, feed: bytes | None) -> bool:
    """True when ``manifest`` was written for a feed other than ``feed`` (the bytes of
    ``feed.xml``, None when absent): its build stopped between the two writes."""
    if manifest.feed_sha256 is None:
        return False  # written before manifests recorded their feed
    return feed is None or hashlib.sha256(feed).hexdigest() != manifest.feed_sha256


def read_manifest(output: Path) -> Manifest | None:
    """The manifest under ``output/`` (None when nothing was built yet).

    Raises:
        BuildError: the manifest exists but is unreadable.
    """
    path = output / MANIFEST_NAME
    if not path.exists():
        return None
    try:
        return manifest_from_text(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise BuildError(
            f"build manifest is unreadable: {exc}", path=path, hint="run 'pangocast build' again"
        ) from exc
