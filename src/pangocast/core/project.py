"""A show folder: its layout, and the show metadata under ``feeds/show.toml``."""

from __future__ import annotations

import datetime as dt
import string
import tomllib
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar, overload
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pangocast.core.errors import ConfigError
from pangocast.core.files import read_text
from pangocast.core.messages import is_language_tag

INTRO_FIELDS = ("show", "guests", "title")
"""The placeholders an ``intro`` template may use: show title, guests, episode title."""
SHOW_FILE = "show.toml"
DEFAULT_LANGUAGE = "zh-cn"
"""The language of a show whose ``feeds/show.toml`` names none (the bundled show's)."""
T = TypeVar("T")
PODCAST_GUID_NAMESPACE = uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6")


class _Folder:
    """A folder of the show root: ``Project.scripts`` is ``root / "scripts"``."""

    def __init__(self, rel: str, doc: str) -> None:
        self.rel = rel
        self.__doc__ = doc

    @overload
    def __get__(self, project: None, owner: type[Project]) -> _Folder: ...
    @overload
    def __get__(self, project: Project, owner: type[Project]) -> Path: ...
    def __get__(self, project: Project | None, owner: type[Project]) -> Path | _Folder:
        return self if project is None else project.root / self.rel


@dataclass(frozen=True)
class Project:
    """The folders of a show root."""

    root: Path

    scripts = _Folder("scripts", "One script per episode (``*.txt``).")
    voices = _Folder("voices", "``casting.toml`` and ``lexicon.toml``.")
    feeds = _Folder("feeds", "``show.toml``, the show metadata.")
    audio = _Folder("audio", "The sting, the music bed and the cover.")
    output = _Folder("output", "Everything built (see :mod:`pangocast.publish.output`).")
    templates = _Folder("templates", "Optional page templates overriding the packaged ones.")
    cache = _Folder(".cache", "Synthesized segments and other build caches.")
    segments = _Folder(
        ".cache/segments", "The segment cache (see :class:`pangocast.voice.segments.SegmentCache`)."
    )

    def script_files(self) -> list[Path]:
        """Episode scripts, sorted by file name.

        Raises:
            ConfigError: there is no ``scripts/`` folder.
        """
        if not self.scripts.is_dir():
            raise ConfigError(
                "no scripts/ folder",
                path=self.root,
                hint="run inside a show folder, pass --project DIR, or 'pangocast import' first",
            )
        return sorted(p for p in self.scripts.glob("*.txt") if p.is_file())


@dataclass(frozen=True)
class Person:
    """A person credited in the feed (``podcast:person``)."""

    name: str
    role: str = "host"
    href: str | None = None
    img: str | None = None
    group: str = "cast"


@dataclass(frozen=True)
class ShowConfig:
    """Show-level metadata for the feed and the site (``feeds/show.toml``)."""

    title: str
    description: str
    base_url: str
    """Public URL where ``output/`` is served, e.g. https://example.org/pangocast/"""
    language: str
    author: str
    owner_name: str
    owner_email: str
    category: str
    subcategory: str | None
    explicit: bool
    show_type: str
    podcast_guid: str
    locked: bool
    copyright: str | None
    cover: str | None
    """Cover art path relative to the show root (e.g. audio/cover.png); None = generated."""
    hosts: tuple[Person, ...]
    outro: str | None
    intro: str | None
    music: bool = True
    """Play the music bed (``audio/music.*``), ducked, under the spoken intro and outro."""
    timezone: str = "UTC"
    """The IANA time zone episodes are published in (``pubDate``), e.g. ``Asia/Shanghai``."""
    publish_time: dt.time = dt.time(8, 0)
    """The local time of day an episode goes out on its date."""
    engine: str | None = None
    """The speech engine the show is built with unless a command names one (None: the
    default, ``neural``)."""
    audiograms: bool = False
    """Render a shareable video of every soundbite (``audiograms = true``; a build's
    ``--audiograms`` / ``--no-audiograms`` overrides it)."""
    audiogram_episodes: bool = False
    """With audiograms, also render one video of each whole episode."""

    def published_at(self, date: dt.date) -> dt.datetime:
        """The timezone-aware moment an episode dated ``date`` is published."""
        return dt.datetime.combine(date, self.publish_time, tzinfo=ZoneInfo(self.timezone))

    def with_base_url(self, base_url: str) -> ShowConfig:
        """The same show served from another base URL (e.g. a local preview)."""
        from dataclasses import replace

        return replace(self, base_url=normalise_base_url(base_url))

    def url(self, rel: str) -> str:
        """Absolute public URL of a file under ``output/``."""
        return self.base_url + rel.lstrip("/")

    @property
    def feed_url(self) -> str:
        return self.url("feed.xml")


def normalise_base_url(url: str) -> str:
    """``url`` with exactly one trailing slash."""
    return url.rstrip("/") + "/"


def podcast_guid_for(feed_url: str) -> str:
    """Podcasting 2.0 ``podcast:guid``: UUIDv5 of the feed URL without scheme and trailing /."""
    bare = feed_url.split("://", 1)[-1].rstrip("/")
    return str(uuid.uuid5(PODCAST_GUID_NAMESPACE, bare))


def load_show(project: Project) -> ShowConfig:
    """Read ``feeds/show.toml``.

    Raises:
        ConfigError: the file is missing or a field is missing or malformed.
    """
    path = project.feeds / SHOW_FILE
    if not path.is_file():
        raise ConfigError(
            "show metadata not found", path=path, hint="create feeds/show.toml (see README)"
        )
    text = read_text(path, error=ConfigError)
    try:
        data: dict[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"malformed show metadata: {exc}", path=path) from exc

    def line_of(key: str) -> int | None:
        for i, line in enumerate(text.splitlines(), 1):
            if line.split("=", 1)[0].strip() == key:
                return i
        return None

    def req(key: str) -> str:
        value = data.get(key)
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(
                f"field '{key}' is missing or empty", path=path, hint=f'add {key} = "..."'
            )
        return value.strip()

    def opt(key: str) -> str | None:
        value = data.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            raise ConfigError(f"field '{key}' must be text", path=path)
        return value.strip() or None

    def flag(key: str, default: bool) -> bool:
        value = data.get(key, default)
        if not isinstance(value, bool):
            raise ConfigError(f"field '{key}' must be true or false", path=path)
        return value

    owner = data.get("owner", {})
    if not isinstance(owner, dict) or not owner.get("name") or not owner.get("email"):
        raise ConfigError(
            "owner needs a name and an email",
            path=path,
            hint='add [owner] with name = "..." and email = "..."',
        )
    base_url = normalise_base_url(req("base_url"))
    hosts = tuple(
        Person(
            name=str(h["name"]),
            role=str(h.get("role", "host")),
            href=h.get("href"),
            img=h.get("img"),
        )
        for h in data.get("hosts", [])
        if isinstance(h, dict) and h.get("name")
    )
    intro = opt("intro")
    if intro is not None:
        _check_template(intro, INTRO_FIELDS, path, line_of("intro"))

    def parsed(key: str, default: str, parse: Callable[[str], T], what: str, hint: str) -> T:
        value = opt(key) or default
        try:
            return parse(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ConfigError(what.format(value), path=path, line=line_of(key), hint=hint) from exc

    timezone = opt("timezone") or "UTC"
    parsed(
        "timezone",
        "UTC",
        ZoneInfo,
        "unknown time zone '{}'",
        'use an IANA name such as "Asia/Shanghai", "Europe/Berlin" or "UTC"',
    )
    at = parsed(
        "publish_time",
        "08:00",
        dt.time.fromisoformat,
        "publish_time '{}' is not a time of day",
        'write it as "HH:MM", e.g. publish_time = "08:00"',
    )
    language = opt("language") or DEFAULT_LANGUAGE
    if not is_language_tag(language):
        raise ConfigError(
            f"language '{language}' is not a language tag",
            path=path,
            line=line_of("language"),
            hint='write a BCP 47 tag such as "zh-cn", "en" or "en-GB"',
        )
    show_type = data.get("type", "episodic")
    if show_type not in ("episodic", "serial"):
        raise ConfigError("type must be episodic or serial", path=path)
    return ShowConfig(
        title=req("title"),
        description=req("description"),
        base_url=base_url,
        language=language,
        author=req("author"),
        owner_name=str(owner["name"]),
        owner_email=str(owner["email"]),
        category=opt("category") or "Technology",
        subcategory=opt("subcategory"),
        explicit=flag("explicit", False),
        show_type=show_type,
        podcast_guid=req("podcast_guid"),
        locked=flag("locked", True),
        copyright=opt("copyright"),
        cover=opt("cover"),
        hosts=hosts,
        outro=opt("outro"),
        intro=intro,
        music=flag("music", True),
        timezone=timezone,
        publish_time=at,
        engine=opt("engine"),
        audiograms=flag("audiograms", False),
        audiogram_episodes=flag("audiogram_episodes", False),
    )


def show_if_any(project: Project) -> ShowConfig | None:
    """The show's metadata, or None when the folder has no ``feeds/show.toml``.

    Raises:
        ConfigError: the file is there but malformed.
    """
    return load_show(project) if (project.feeds / SHOW_FILE).is_file() else None


def _check_template(template: str, fields: Sequence[str], path: Path, line: int | None) -> None:
    """Refuse a ``str.format`` template with a placeholder ``fields`` cannot fill.

    Raises:
        ConfigError: naming the file, the line and the placeholders that exist.
    """
    known = ", ".join("{" + f + "}" for f in fields)
    try:
        names = [name for _, name, _, _ in string.Formatter().parse(template) if name is not None]
    except ValueError as exc:  # a lone brace
        raise ConfigError(
            f"intro is not a valid template ({exc})",
            path=path,
            line=line,
            hint=f"write braces only around a placeholder ({known}); double them for a brace",
        ) from exc
    unknown = [n for n in names if n not in fields]
    if unknown:
        raise ConfigError(
            f"intro uses the placeholder {{{unknown[0]}}}, which the show cannot fill",
            path=path,
            line=line,
            hint=f"use only {known}",
        )
