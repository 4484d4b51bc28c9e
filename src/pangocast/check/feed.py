"""Checks of the feed itself: XML, channel and item tags, and guid stability against the
feed as last published (what Podbase, Cast Feed Validator and podcast apps look at)."""

from __future__ import annotations

import datetime as dt
import email.utils
import re
import uuid
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urlsplit

from lxml import etree

from pangocast.check.findings import Finding
from pangocast.core.project import ShowConfig, podcast_guid_for
from pangocast.core.standards import AUDIO_TYPE
from pangocast.publish.feed import EPISODE_TYPES, FEED_NAME, MAX_DESCRIPTION_BYTES
from pangocast.publish.feed_ext import ITUNES_NS, PODCAST_NS, PSC_NS

ATOM_NS = "http://www.w3.org/2005/Atom"
CONTENT_NS = "http://purl.org/rss/1.0/modules/content/"
NS = {"itunes": ITUNES_NS, "podcast": PODCAST_NS, "psc": PSC_NS, "atom": ATOM_NS}

_NUMBERED_TITLE = re.compile(r"^\s*(第\s*\d+\s*[期集话]|ep(isode)?\.?\s*\d+|#\s*\d+)", re.I)
_HASHED_NAME = re.compile(r"^(?P<slug>.+)-[0-9a-f]{6,}$")


@dataclass(frozen=True)
class FeedItem:
    """What the checks need from one ``<item>`` of a feed."""

    index: int
    guid: str | None
    guid_is_permalink: str | None
    title: str | None
    link: str | None
    enclosure_url: str | None
    enclosure_length: str | None
    enclosure_type: str | None
    duration: str | None
    transcripts: tuple[tuple[str, str, str | None], ...] = ()
    """(url, type, rel) of every ``podcast:transcript``."""
    chapters_url: str | None = None
    psc_chapters: tuple[tuple[str, str], ...] = ()
    """(start, title) of every Podlove chapter."""
    image: str | None = None
    element: Any = field(default=None, compare=False, repr=False)

    @property
    def slug(self) -> str | None:
        """The episode slug, from the link (``episodes/<slug>/``) or the audio file name."""
        if self.link:
            parts = [p for p in urlsplit(self.link).path.split("/") if p]
            if len(parts) >= 2 and parts[-2] == "episodes":
                return parts[-1]
        if self.enclosure_url:
            stem = PurePosixPath(urlsplit(self.enclosure_url).path).stem
            match = _HASHED_NAME.match(stem)
            return match.group("slug") if match else stem
        return None

    @property
    def label(self) -> str:
        """How findings name the item."""
        return f"item {self.slug or self.guid or self.index}"


def _text(elem: Any, path: str) -> str | None:
    found = elem.find(path, NS)
    if found is None:
        return None
    text = found.text
    return text.strip() if isinstance(text, str) else ""


def items_of(channel: Any) -> list[FeedItem]:
    items: list[FeedItem] = []
    for index, item in enumerate(channel.findall("item"), start=1):
        guid = item.find("guid")
        enclosure = item.find("enclosure")
        chapters = item.find("podcast:chapters", NS)
        image = item.find("itunes:image", NS)
        items.append(
            FeedItem(
                index=index,
                guid=(guid.text or "").strip() if guid is not None else None,
                guid_is_permalink=guid.get("isPermaLink") if guid is not None else None,
                title=_text(item, "title"),
                link=_text(item, "link"),
                enclosure_url=enclosure.get("url") if enclosure is not None else None,
                enclosure_length=enclosure.get("length") if enclosure is not None else None,
                enclosure_type=enclosure.get("type") if enclosure is not None else None,
                duration=_text(item, "itunes:duration"),
                transcripts=tuple(
                    (t.get("url", ""), t.get("type", ""), t.get("rel"))
                    for t in item.findall("podcast:transcript", NS)
                ),
                chapters_url=chapters.get("url") if chapters is not None else None,
                psc_chapters=tuple(
                    (c.get("start", ""), c.get("title", ""))
                    for c in item.findall("psc:chapters/psc:chapter", NS)
                ),
                image=image.get("href") if image is not None else None,
                element=item,
            )
        )
    return items


def parse_feed(data: bytes) -> tuple[Any, list[Finding]]:
    """Parse feed bytes; the root element, or None with an error finding.

    Returns:
        ``(root, findings)``: root is None when the XML is not well-formed or not RSS.
    """
    try:
        root = etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as exc:
        return None, [Finding("error", FEED_NAME, f"XML is not well-formed: {exc}")]
    if root.tag != "rss" or root.find("channel") is None:
        return None, [Finding("error", FEED_NAME, "not an RSS feed (no <rss><channel>)")]
    findings = []
    if root.get("version") != "2.0":
        findings.append(Finding("error", FEED_NAME, '<rss> must have version="2.0"'))
    return root, findings


def parse_duration(text: str) -> float | None:
    """``itunes:duration`` in seconds (``SS``, ``MM:SS`` or ``HH:MM:SS``), None if malformed.

    >>> parse_duration("1:02:03")
    3723.0
    """
    parts = text.strip().split(":")
    if not 1 <= len(parts) <= 3 or not all(re.fullmatch(r"\d+(\.\d+)?", p) for p in parts):
        return None
    seconds = 0.0
    for part in parts:
        seconds = seconds * 60 + float(part)
    return seconds


def _rfc2822(text: str) -> dt.datetime | None:
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    return when if when.tzinfo is not None else None


def check_channel(root: Any, show: ShowConfig) -> list[Finding]:
    """Required and recommended channel tags (Apple, PSP-1, Podcasting 2.0)."""
    out: list[Finding] = []
    channel = root.find("channel")

    def err(message: str) -> None:
        out.append(Finding("error", FEED_NAME, message))

    def warn(message: str) -> None:
        out.append(Finding("warning", FEED_NAME, message))

    for tag in ("title", "link", "description", "language"):
        if not _text(channel, tag):
            err(f"channel <{tag}> is missing or empty")
    description = _text(channel, "description") or ""
    if len(description.encode("utf-8")) > MAX_DESCRIPTION_BYTES:
        err(f"channel <description> is over {MAX_DESCRIPTION_BYTES} bytes")
    language = _text(channel, "language")
    if language and language.lower() != show.language.lower():
        warn(f"channel <language> is '{language}', the show's is '{show.language}'")

    image = channel.find("itunes:image", NS)
    if image is None or not image.get("href"):
        err("<itunes:image href> is missing (Apple requires show artwork)")
    category = channel.find("itunes:category", NS)
    if category is None or not category.get("text"):
        err("<itunes:category text> is missing")
    explicit = _text(channel, "itunes:explicit")
    if explicit is None:
        err("<itunes:explicit> is missing")
    elif explicit in ("yes", "no", "clean"):
        warn(f"<itunes:explicit> is '{explicit}': Apple documents 'true' or 'false'")
    elif explicit not in ("true", "false"):
        err(f"<itunes:explicit> is '{explicit}', not 'true' or 'false'")
    if not _text(channel, "itunes:author"):
        warn("<itunes:author> is missing")
    if not _text(channel, "itunes:owner/itunes:name") or not _text(
        channel, "itunes:owner/itunes:email"
    ):
        warn("<itunes:owner> needs <itunes:name> and <itunes:email>")
    show_type = _text(channel, "itunes:type")
    if show_type is None:
        warn("<itunes:type> is missing (episodic or serial)")
    elif show_type not in ("episodic", "serial"):
        err(f"<itunes:type> is '{show_type}', not episodic or serial")

    self_links = [link for link in channel.findall("atom:link", NS) if link.get("rel") == "self"]
    if not self_links:
        err('<atom:link rel="self"> is missing (PSP-1 requires it)')
    else:
        link = self_links[0]
        if link.get("type") != "application/rss+xml":
            warn('<atom:link rel="self"> should have type="application/rss+xml"')
        if link.get("href") != show.feed_url:
            err(
                f"the feed was built for {link.get('href')}, the show's feed URL is "
                f"{show.feed_url}: rebuild, or check with the same --base-url"
            )

    pguid = _text(channel, "podcast:guid")
    if pguid is None:
        warn("<podcast:guid> is missing (Podcasting 2.0)")
    else:
        try:
            uuid.UUID(pguid)
        except ValueError:
            err(f"<podcast:guid> '{pguid}' is not a UUID")
        else:
            if pguid != show.podcast_guid:
                err(f"<podcast:guid> '{pguid}' differs from feeds/show.toml's {show.podcast_guid}")
            elif pguid != podcast_guid_for(show.feed_url):
                out.append(
                    Finding(
                        "info",
                        FEED_NAME,
                        "<podcast:guid> is not the UUIDv5 of this feed URL"
                        " (expected if the feed moved; it must never change)",
                    )
                )
    locked = _text(channel, "podcast:locked")
    if locked is None:
        warn("<podcast:locked> is missing (Podcasting 2.0)")
    elif locked not in ("yes", "no"):
        err(f"<podcast:locked> is '{locked}', not yes or no")
    if channel.find("podcast:person", NS) is None:
        warn("no channel <podcast:person> for the host")

    build = _text(channel, "lastBuildDate")
    if build is None:
        warn("<lastBuildDate> is missing")
    elif _rfc2822(build) is None:
        err(f"<lastBuildDate> '{build}' is not an RFC 2822 date with a time zone")
    if not _text(channel, "generator"):
        warn("<generator> is missing")
    if not channel.findall("item"):
        err("the feed has no items")
    return out


def check_items(root: Any) -> list[Finding]:
    """Per-item tags, and guid and enclosure URL uniqueness."""
    out: list[Finding] = []
    items = items_of(root.find("channel"))
    seen_guid: dict[str, str] = {}
    seen_url: dict[str, str] = {}
    for item in items:
        where = item.label
        elem = item.element

        def err(message: str, where: str = where) -> None:
            out.append(Finding("error", where, message))

        def warn(message: str, where: str = where) -> None:
            out.append(Finding("warning", where, message))

        if not item.title:
            err("<title> is missing or empty")
        elif _NUMBERED_TITLE.search(item.title):
            warn("the title starts with an episode number: use <itunes:episode> instead")
        if not item.guid:
            err("<guid> is missing or empty (apps then key episodes on the enclosure URL)")
        else:
            if item.guid in seen_guid:
                err(f"<guid> {item.guid} is also used by {seen_guid[item.guid]}")
            seen_guid.setdefault(item.guid, where)
            if item.guid_is_permalink is None and not item.guid.startswith(("http:", "https:")):
                warn('<guid> is not a URL: it needs isPermaLink="false"')
        if item.enclosure_url is None:
            err("<enclosure> is missing")
        else:
            if not item.enclosure_url:
                err("<enclosure> has no url")
            elif item.enclosure_url in seen_url:
                other = seen_url[item.enclosure_url]
                err(f"enclosure URL {item.enclosure_url} is also used by {other}")
            seen_url.setdefault(item.enclosure_url, where)
            length = item.enclosure_length or ""
            if not length.isdigit() or int(length) <= 0:
                err(f"<enclosure length> '{length}' is not a positive byte count")
            if not item.enclosure_type:
                err("<enclosure> has no type")
            elif item.enclosure_url.lower().endswith(".mp3") and item.enclosure_type != AUDIO_TYPE:
                err(f"<enclosure type> is '{item.enclosure_type}', MP3 needs {AUDIO_TYPE}")
        pub = _text(elem, "pubDate")
        if pub is None:
            warn("<pubDate> is missing")
        elif _rfc2822(pub) is None:
            err(f"<pubDate> '{pub}' is not an RFC 2822 date with a time zone")
        if item.duration is None:
            warn("<itunes:duration> is missing")
        elif parse_duration(item.duration) is None:
            err(f"<itunes:duration> '{item.duration}' is not seconds or HH:MM:SS")
        if not item.link:
            warn("<link> to the episode page is missing")
        if not _text(elem, "description") and elem.find(f"{{{CONTENT_NS}}}encoded") is None:
            warn("no show notes (<description> or <content:encoded>)")
        episode_type = _text(elem, "itunes:episodeType")
        if episode_type is None:
            warn("<itunes:episodeType> is missing")
        elif episode_type not in EPISODE_TYPES:
            err(f"<itunes:episodeType> is '{episode_type}', not full, trailer or bonus")
        for tag in ("itunes:episode", "itunes:season"):
            value = _text(elem, tag)
            if value is not None and (not value.isdigit() or int(value) < 1):
                err(f"<{tag}> '{value}' is not a positive whole number")
        for url, mime, _rel in item.transcripts:
            if not url or not mime:
                err("<podcast:transcript> needs url and type")
        if item.transcripts and not any(rel == "captions" for _, _, rel in item.transcripts):
            out.append(Finding("info", where, 'no <podcast:transcript rel="captions">'))
        persons = elem.findall("podcast:person", NS)
        if persons and not any((p.get("role") or "host").lower() == "host" for p in persons):
            warn("item <podcast:person> list has no host (item persons replace the channel's)")
    return out


def check_feed_against_previous(current: bytes, previous: bytes) -> list[Finding]:
    """Guid stability and enclosure reuse against the previously published feed.

    * an episode still present (same slug or title) under a new guid: error (apps show it
      twice and lose play state);
    * an episode gone from the feed: warning;
    * an enclosure URL kept while the file's size changed, or moved to another episode:
      error (Apple ignores enclosure URLs it has seen);
    * a changed ``podcast:guid``: error.
    """
    out: list[Finding] = []
    prev_root, problems = parse_feed(previous)
    if prev_root is None:
        detail = problems[0].message if problems else "unreadable"
        return [Finding("warning", "previous feed", f"cannot compare: {detail}")]
    cur_root, _ = parse_feed(current)
    if cur_root is None:
        return out
    prev_channel, cur_channel = prev_root.find("channel"), cur_root.find("channel")
    prev_pguid = _text(prev_channel, "podcast:guid")
    cur_pguid = _text(cur_channel, "podcast:guid")
    if prev_pguid and cur_pguid and prev_pguid != cur_pguid:
        out.append(
            Finding(
                "error",
                FEED_NAME,
                f"<podcast:guid> changed from {prev_pguid} to {cur_pguid}: it must never change",
            )
        )
    prev_items = items_of(prev_channel)
    cur_items = items_of(cur_channel)
    cur_by_guid = {i.guid: i for i in cur_items if i.guid}
    cur_by_slug = {i.slug: i for i in cur_items if i.slug}
    cur_by_title = {i.title: i for i in cur_items if i.title}
    prev_url_owner = {i.enclosure_url: i for i in prev_items if i.enclosure_url}

    for old in prev_items:
        if not old.guid:
            continue
        new = cur_by_guid.get(old.guid)
        if new is not None:
            if (
                old.enclosure_url
                and old.enclosure_url == new.enclosure_url
                and old.enclosure_length != new.enclosure_length
            ):
                out.append(
                    Finding(
                        "error",
                        new.label,
                        f"enclosure URL {new.enclosure_url} kept while its size changed "
                        f"({old.enclosure_length} -> {new.enclosure_length} bytes): apps will"
                        " not fetch the new audio; the file name must change with the content",
                    )
                )
            continue
        match = (cur_by_slug.get(old.slug) if old.slug else None) or (
            cur_by_title.get(old.title) if old.title else None
        )
        if match is not None and match.guid != old.guid:
            out.append(
                Finding(
                    "error",
                    match.label,
                    f"guid changed from {old.guid} to {match.guid}: apps will list the episode"
                    " twice; restore the old guid",
                )
            )
        else:
            out.append(
                Finding(
                    "warning",
                    old.label,
                    f"episode '{old.title}' ({old.guid}) was in the previous feed and is gone",
                )
            )
    for new in cur_items:
        if not new.enclosure_url:
            continue
        owner = prev_url_owner.get(new.enclosure_url)
        if owner is not None and owner.guid and new.guid and owner.guid != new.guid:
            if cur_by_guid.get(owner.guid) is None and new.slug == owner.slug:
                continue  # the guid change itself is reported above
            out.append(
                Finding(
                    "error",
                    new.label,
                    f"enclosure URL {new.enclosure_url} belonged to episode {owner.guid}"
                    " in the previous feed",
                )
            )
    return out
