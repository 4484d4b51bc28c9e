"""The podcast RSS feed (``output/feed.xml``), built with feedgen.

What the feed carries follows Apple's requirements, PSP-1 and the Podcasting 2.0 namespace
(see ``podcast-standards.md``). feedgen writes RSS 2.0 and the iTunes tags; the tags it cannot
write come from :mod:`pangocast.publish.feed_ext`. The output depends only on its inputs: the build
date is explicit, never "now", so the same build always gives the same bytes.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import replace

from feedgen.feed import FeedGenerator

from pangocast import __version__
from pangocast.core.errors import BuildError, ConfigError
from pangocast.core.project import Person, ShowConfig
from pangocast.core.standards import AUDIO_TYPE, CHAPTERS_TYPE, TRANSCRIPT_TYPES
from pangocast.publish.feed_ext import (
    TranscriptTag,
    entry_extension,
    register,
)
from pangocast.publish.manifest import BuiltEpisode, Manifest
from pangocast.publish.soundbites import soundbites
from pangocast.script.catalogue import newest_first

FEED_NAME = "feed.xml"
GENERATOR = f"Pangocast {__version__}"
MAX_DESCRIPTION_BYTES = 4000
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
EPISODE_TYPES = ("full", "trailer", "bonus")

# Characters XML 1.0 cannot carry at all (lxml refuses them).
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def feed_build_date(show: ShowConfig, manifest: Manifest) -> dt.datetime:
    """The feed's ``lastBuildDate``: the manifest's build date, else the newest episode's
    publication time. Naive datetimes are taken as UTC.

    Raises:
        BuildError: there is no date to use (no build date and no episodes).
    """
    when = manifest.build_date
    if when is None:
        if not manifest.episodes:
            raise BuildError("the feed has no build date and no episodes to take one from")
        when = max(show.published_at(e.date) for e in manifest.episodes)
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when


def validate_feed_inputs(show: ShowConfig, manifest: Manifest) -> None:
    """Refuse inputs that would make a feed podcast apps reject or mishandle.

    Raises:
        ConfigError: the show metadata cannot make a valid feed (base URL, description,
            podcast GUID).
        BuildError: the build cannot make a valid feed (no cover, no episodes, duplicate
            guid/slug/enclosure URL, bad audio path, size or duration, bad episode fields).
    """
    if not re.match(r"^https?://[^/\s]+/", show.base_url):
        raise ConfigError(
            f"base_url '{show.base_url}' is not an absolute http(s) URL",
            path="feeds/show.toml",
            hint='set base_url = "https://host/path/"',
        )
    if len(show.description.encode("utf-8")) > MAX_DESCRIPTION_BYTES:
        raise ConfigError(
            f"show description is longer than {MAX_DESCRIPTION_BYTES} bytes",
            path="feeds/show.toml",
            hint="shorten description (Apple truncates or rejects it)",
        )
    try:
        uuid.UUID(show.podcast_guid)
    except ValueError as exc:
        raise ConfigError(
            f"podcast_guid '{show.podcast_guid}' is not a UUID",
            path="feeds/show.toml",
            hint="restore the show's original podcast_guid; it must never change",
        ) from exc
    for field, value in (("title", show.title), ("description", show.description)):
        _check_text(f"show {field}", value)

    if not manifest.cover:
        raise BuildError(
            "the feed needs show cover art and the build has none",
            hint="set cover in feeds/show.toml or let the build generate one",
        )
    if not manifest.cover.lower().endswith(IMAGE_SUFFIXES):
        raise BuildError(
            f"cover art '{manifest.cover}' is not a .png or .jpg file",
            hint="use a square PNG or JPEG, 1400-3000 px",
        )
    if not manifest.episodes:
        raise BuildError("no episodes to put in the feed", hint="build at least one episode")

    seen_guid: dict[str, str] = {}
    seen_slug: set[str] = set()
    seen_audio: dict[str, str] = {}
    for ep in manifest.episodes:
        where = f"episode '{ep.slug}'"
        if not ep.guid.strip():
            raise BuildError(f"{where} has an empty guid")
        if ep.guid in seen_guid:
            raise BuildError(
                f"{where} has the same guid as '{seen_guid[ep.guid]}' ({ep.guid})",
                hint="every episode needs its own guid, fixed for its life",
            )
        seen_guid[ep.guid] = ep.slug
        if ep.slug in seen_slug:
            raise BuildError(f"two episodes share the slug '{ep.slug}'")
        seen_slug.add(ep.slug)
        if ep.audio in seen_audio:
            raise BuildError(
                f"{where} has the same enclosure URL as '{seen_audio[ep.audio]}' ({ep.audio})",
                hint="audio file names must be unique (slug and content hash)",
            )
        seen_audio[ep.audio] = ep.slug
        if not ep.audio.lower().endswith(".mp3"):
            raise BuildError(f"{where}: audio '{ep.audio}' is not an MP3 file")
        if ep.audio_bytes <= 0:
            raise BuildError(f"{where}: audio size {ep.audio_bytes} bytes is not positive")
        if ep.duration <= 0:
            raise BuildError(f"{where}: duration {ep.duration} s is not positive")
        if ep.episode_type not in EPISODE_TYPES:
            raise BuildError(
                f"{where}: episode type '{ep.episode_type}' is not full, trailer or bonus"
            )
        for label, number in (("episode", ep.episode), ("season", ep.season)):
            if number is not None and number < 1:
                raise BuildError(f"{where}: {label} number {number} must be 1 or more")
        for kind in ep.transcripts:
            if kind not in TRANSCRIPT_TYPES:
                raise BuildError(
                    f"{where}: unknown transcript kind '{kind}'",
                    hint="use vtt, srt or json",
                )
        if not ep.title.strip():
            raise BuildError(f"{where} has an empty title")
        for label, text in (
            ("title", ep.title),
            ("summary", ep.summary),
            ("show notes", ep.notes_text),
            ("HTML show notes", ep.notes_html),
            ("host", ep.host),
            *(("guest", g) for g in ep.guests),
            *(("chapter title", c.title) for c in ep.chapters),
        ):
            _check_text(f"{where} {label}", text)


def _check_text(where: str, text: str) -> None:
    found = _XML_ILLEGAL.search(text)
    if found:
        raise BuildError(
            f"{where} contains the control character U+{ord(found.group()):04X},"
            " which XML cannot carry",
            hint="remove it from the script or show metadata",
        )


def _person_tag(person: Person) -> Person:
    return person if person.role else replace(person, role="host")


def _persons_for(show: ShowConfig, episode: BuiltEpisode) -> list[Person]:
    known = {h.name: h for h in show.hosts}
    hosts: list[Person] = (
        [known.get(episode.host, Person(episode.host))] if episode.host else list(show.hosts)
    )
    tags = [_person_tag(h) for h in hosts]
    tags += [
        Person(g, role="guest", href=known[g].href if g in known else None)
        for g in episode.guests
        if g != episode.host
    ]
    return tags


def _channel_hosts(show: ShowConfig, episodes: list[BuiltEpisode]) -> list[Person]:
    if show.hosts:
        return [_person_tag(h) for h in show.hosts]
    names = dict.fromkeys(e.host for e in episodes if e.host)
    return [Person(name) for name in names]


def build_feed(show: ShowConfig, manifest: Manifest) -> FeedGenerator:
    """The populated feedgen ``FeedGenerator`` (see :func:`render_feed`).

    Raises:
        ConfigError: see :func:`validate_feed_inputs`.
        BuildError: see :func:`validate_feed_inputs`.
    """
    validate_feed_inputs(show, manifest)
    assert manifest.cover is not None  # checked above
    episodes = newest_first(manifest.episodes)
    cover_url = show.url(manifest.cover)

    fg = FeedGenerator()
    fg.load_extension("podcast", atom=False, rss=True)
    ext = register(fg)

    fg.title(show.title)
    # feedgen takes the RSS <link> from the last link given: the site goes last.
    fg.link(href=show.feed_url, rel="self", type="application/rss+xml")
    fg.link(href=show.base_url, rel="alternate")
    fg.description(show.description)
    fg.language(show.language)
    if show.copyright:
        fg.copyright(show.copyright)
    fg.generator(GENERATOR)
    fg.lastBuildDate(feed_build_date(show, manifest))
    fg.image(url=cover_url, title=show.title, link=show.base_url)

    fg.podcast.itunes_author(show.author)
    fg.podcast.itunes_owner(name=show.owner_name, email=show.owner_email)
    category: dict[str, str] = {"cat": show.category}
    if show.subcategory:
        category["sub"] = show.subcategory
    fg.podcast.itunes_category(category)
    fg.podcast.itunes_type(show.show_type)
    ext.image(cover_url)
    ext.explicit(show.explicit)
    ext.guid(show.podcast_guid)
    ext.locked(show.locked, owner=show.owner_email)
    for person in _channel_hosts(show, episodes):
        ext.person(person)

    for ep in episodes:
        fe = fg.add_entry(order="append")
        fe.guid(ep.guid, permalink=False)
        fe.title(ep.title)
        fe.link(href=ep.page_url(show))
        fe.description(ep.notes_text.strip() or ep.summary.strip() or ep.title)
        if ep.notes_html.strip():
            fe.content(ep.notes_html)
        fe.enclosure(show.url(ep.audio), str(ep.audio_bytes), AUDIO_TYPE)
        fe.pubDate(show.published_at(ep.date))
        fe.podcast.itunes_author(show.author)
        fe.podcast.itunes_duration(max(1, round(ep.duration)))
        if ep.season is not None:
            fe.podcast.itunes_season(ep.season)
        if ep.episode is not None:
            fe.podcast.itunes_episode(ep.episode)
        fe.podcast.itunes_episode_type(ep.episode_type)

        item = entry_extension(fe)
        for kind, mime in TRANSCRIPT_TYPES.items():
            if kind in ep.transcripts:
                item.transcript(
                    TranscriptTag(
                        show.url(ep.transcripts[kind]),
                        mime,
                        language=show.language,
                        rel="captions" if kind == "vtt" else None,
                    )
                )
        if ep.chapters_file:
            item.chapters(show.url(ep.chapters_file), CHAPTERS_TYPE)
        for person in _persons_for(show, ep):
            item.person(person)
        if ep.chapters:
            item.simple_chapters(list(ep.chapters))
        for bite in soundbites(ep.turns, ep.highlights, ep.duration):
            item.soundbite(bite.start, bite.duration, bite.title)
    return fg


def render_feed(show: ShowConfig, manifest: Manifest) -> bytes:
    """The RSS 2.0 podcast feed for a build, as UTF-8 XML bytes.

    Channel: title, link, description, language, copyright, ``atom:link rel=self``, RSS and
    iTunes image, iTunes author/owner/category/type/explicit (true/false), ``podcast:guid``,
    ``podcast:locked``, ``podcast:person`` for the host(s), explicit ``lastBuildDate`` and
    ``generator``. Items, newest first: guid (isPermaLink=false), title, link to the episode
    page, show notes in ``description`` and ``content:encoded``, MP3 enclosure with its exact
    byte size, ``pubDate`` (the show's ``publish_time`` in its ``timezone`` on the episode's
    date), iTunes duration (seconds), episode, season and episode type,
    ``podcast:transcript`` (VTT with rel="captions", SRT, JSON), ``podcast:chapters``,
    ``podcast:person`` for host and guests, and Podlove Simple Chapters.

    Args:
        show: Show metadata; every URL is ``show.url(path under output/)``.
        manifest: What the build produced. Its ``build_date`` is the ``lastBuildDate``; without
            one, the newest episode's publication time (never the current time, so output is
            reproducible).

    Raises:
        ConfigError: the show metadata cannot make a valid feed.
        BuildError: the build cannot make a valid feed (no cover, duplicate guid...).
    """
    fg = build_feed(show, manifest)
    try:
        data: bytes = fg.rss_str(pretty=True, encoding="UTF-8", xml_declaration=True)
    except ValueError as exc:  # feedgen's own checks, should validation above miss one
        raise BuildError(f"feed could not be written: {exc}") from exc
    return data
