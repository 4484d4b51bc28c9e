"""feedgen extensions for what feedgen 1.0.0 cannot write itself.

* the Podcasting 2.0 namespace (``podcast:guid``, ``locked``, ``person``, ``transcript``,
  ``chapters``, ``soundbite``);
* Podlove Simple Chapters (``psc:chapters``), which gPodder's ``podcastparser`` reads;
* ``itunes:explicit`` as ``true``/``false`` (feedgen only accepts yes/no/clean) and
  ``itunes:image`` for any image URL (feedgen silently drops URLs not ending in .jpg/.png).

The extensions build lxml elements through feedgen's ``extend_rss`` hook; nothing edits the
serialised XML. Register them with :func:`register`, then reach them as ``fg.podcastindex``
and ``entry.podcastindex``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from feedgen.ext.base import BaseEntryExtension, BaseExtension
from lxml import etree

from pangocast.core.models import Chapter
from pangocast.core.project import Person

PODCAST_NS = "https://podcastindex.org/namespace/1.0"
"""The Podcasting 2.0 namespace URI (podcastindex.org/namespace/1.0)."""
PSC_NS = "http://podlove.org/simple-chapters"
"""Podlove Simple Chapters namespace URI."""
ITUNES_NS = "http://www.itunes.com/dtds/podcast-1.0.dtd"
"""Apple's iTunes podcast namespace URI."""

EXTENSION_NAME = "podcastindex"
"""Attribute name under which feedgen exposes the extensions (``fg.podcastindex``)."""


@dataclass(frozen=True)
class TranscriptTag:
    """One ``podcast:transcript`` element."""

    url: str
    type: str
    language: str | None = None
    rel: str | None = None


def npt(seconds: float) -> str:
    """``seconds`` as RFC 2326 normal play time ``HH:MM:SS.mmm`` (Podlove chapter starts).

    >>> npt(3723.5)
    '01:02:03.500'
    """
    millis = round(max(seconds, 0.0) * 1000)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}.{millis:03d}"


def _q(ns: str, tag: str) -> str:
    return f"{{{ns}}}{tag}"


def _person(parent: Any, person: Person) -> None:
    elem = etree.SubElement(parent, _q(PODCAST_NS, "person"), role=person.role)
    elem.set("group", person.group)
    if person.href:
        elem.set("href", person.href)
    if person.img:
        elem.set("img", person.img)
    elem.text = person.name


def _explicit(parent: Any, explicit: bool | None) -> None:
    if explicit is not None:
        etree.SubElement(parent, _q(ITUNES_NS, "explicit")).text = "true" if explicit else "false"


def _image(parent: Any, href: str | None) -> None:
    if href:
        etree.SubElement(parent, _q(ITUNES_NS, "image"), href=href)


class PodcastIndexExtension(BaseExtension):  # type: ignore[misc]
    """Channel tags: ``podcast:guid``/``locked``/``person``, ``itunes:explicit``/``image``."""

    def __init__(self) -> None:
        self._guid: str | None = None
        self._locked: bool | None = None
        self._locked_owner: str | None = None
        self._persons: list[Person] = []
        self._explicit: bool | None = None
        self._image: str | None = None

    def extend_ns(self) -> dict[str, str]:
        """Namespaces the feed root declares (items reuse them)."""
        return {"podcast": PODCAST_NS, "psc": PSC_NS, "itunes": ITUNES_NS}

    def guid(self, guid: str) -> None:
        """Set ``podcast:guid`` (the show's permanent UUIDv5)."""
        self._guid = guid

    def locked(self, locked: bool, owner: str | None = None) -> None:
        """Set ``podcast:locked`` (yes/no) with the owner's e-mail."""
        self._locked = locked
        self._locked_owner = owner

    def person(self, person: Person) -> None:
        """Add a channel ``podcast:person``."""
        self._persons.append(person)

    def explicit(self, explicit: bool) -> None:
        """Set ``itunes:explicit`` to ``true``/``false``."""
        self._explicit = explicit

    def image(self, href: str) -> None:
        """Set ``itunes:image`` (any URL; the caller checks the file type)."""
        self._image = href

    def extend_rss(self, rss_feed: Any) -> Any:
        """Append the channel tags to the RSS root's channel."""
        channel = rss_feed[0]
        _image(channel, self._image)
        _explicit(channel, self._explicit)
        if self._guid:
            etree.SubElement(channel, _q(PODCAST_NS, "guid")).text = self._guid
        if self._locked is not None:
            locked = etree.SubElement(channel, _q(PODCAST_NS, "locked"))
            if self._locked_owner:
                locked.set("owner", self._locked_owner)
            locked.text = "yes" if self._locked else "no"
        for person in self._persons:
            _person(channel, person)
        return rss_feed

    def extend_atom(self, atom_feed: Any) -> Any:
        """Atom output is not used: unchanged."""
        return atom_feed


class PodcastIndexEntryExtension(BaseEntryExtension):  # type: ignore[misc]
    """Item tags: ``podcast:transcript``/``chapters``/``person``, ``psc:chapters``, image."""

    def __init__(self) -> None:
        self._transcripts: list[TranscriptTag] = []
        self._chapters: tuple[str, str] | None = None
        self._persons: list[Person] = []
        self._psc: list[Chapter] = []
        self._explicit: bool | None = None
        self._image: str | None = None
        self._soundbites: list[tuple[float, float, str]] = []

    def soundbite(self, start: float, duration: float, title: str) -> None:
        """Add a ``podcast:soundbite`` (seconds from the start, seconds long)."""
        self._soundbites.append((start, duration, title))

    def transcript(self, transcript: TranscriptTag) -> None:
        """Add a ``podcast:transcript``."""
        self._transcripts.append(transcript)

    def chapters(self, url: str, type: str = "application/json+chapters") -> None:
        """Set ``podcast:chapters`` (the JSON chapters file)."""
        self._chapters = (url, type)

    def person(self, person: Person) -> None:
        """Add an item ``podcast:person`` (item persons replace the channel's list)."""
        self._persons.append(person)

    def simple_chapters(self, marks: list[Chapter]) -> None:
        """Set the Podlove Simple Chapters of the item."""
        self._psc = list(marks)

    def explicit(self, explicit: bool) -> None:
        """Set the item's ``itunes:explicit`` to ``true``/``false``."""
        self._explicit = explicit

    def image(self, href: str) -> None:
        """Set the item's ``itunes:image``."""
        self._image = href

    def extend_rss(self, entry: Any) -> Any:
        """Append the item tags to the RSS ``item`` element."""
        _image(entry, self._image)
        _explicit(entry, self._explicit)
        for t in self._transcripts:
            elem = etree.SubElement(entry, _q(PODCAST_NS, "transcript"), url=t.url, type=t.type)
            if t.language:
                elem.set("language", t.language)
            if t.rel:
                elem.set("rel", t.rel)
        if self._chapters is not None:
            url, type_ = self._chapters
            etree.SubElement(entry, _q(PODCAST_NS, "chapters"), url=url, type=type_)
        for person in self._persons:
            _person(entry, person)
        for start, duration, title in self._soundbites:
            bite = etree.SubElement(entry, _q(PODCAST_NS, "soundbite"))
            bite.set("startTime", f"{start:.3f}")
            bite.set("duration", f"{duration:.3f}")
            bite.text = title
        if self._psc:
            psc = etree.SubElement(entry, _q(PSC_NS, "chapters"), version="1.2")
            for mark in self._psc:
                chapter = etree.SubElement(psc, _q(PSC_NS, "chapter"), start=npt(mark.start))
                chapter.set("title", mark.title)
        return entry

    def extend_atom(self, entry: Any) -> Any:
        """Atom output is not used: unchanged."""
        return entry


def register(fg: Any) -> PodcastIndexExtension:
    """Register both extensions on a ``FeedGenerator`` (before adding entries).

    Returns:
        The channel extension instance (also reachable as ``fg.podcastindex``).
    """
    fg.register_extension(EXTENSION_NAME, PodcastIndexExtension, PodcastIndexEntryExtension)
    ext: PodcastIndexExtension = getattr(fg, EXTENSION_NAME)
    return ext


def entry_extension(entry: Any) -> PodcastIndexEntryExtension:
    """The :class:`PodcastIndexEntryExtension` of a feedgen ``FeedEntry``."""
    ext: PodcastIndexEntryExtension = getattr(entry, EXTENSION_NAME)
    return ext
