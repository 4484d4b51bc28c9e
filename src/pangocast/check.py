"""``pangocast check``: validate a built ``output/`` the way feed validators and apps do.

Podbase and Cast Feed Validator check the feed's XML and tags, that every enclosure is
reachable with the declared size, guid stability, artwork and the referenced files. This
module does the same against the local ``output/`` folder and goes further where a local
check can: it decodes every MP3 (a truncated file is caught by its incomplete last frame and
its short decoded duration), measures loudness, and compares ID3 chapters with the chapters
JSON.

Findings are data (:class:`Finding`); the command line prints them.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import math
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Literal
from urllib.parse import urlsplit

import mutagen.id3
import mutagen.mp3
import numpy as np
import numpy.typing as npt
from lxml import etree
from mutagen import MutagenError

from pangocast.errors import PangocastError
from pangocast.feed import AUDIO_TYPE, EPISODE_TYPES, FEED_NAME, MAX_DESCRIPTION_BYTES
from pangocast.feed_ext import ITUNES_NS, PODCAST_NS, PSC_NS
from pangocast.images import image_info
from pangocast.manifest import MANIFEST_NAME, BuiltEpisode, is_pending, read_manifest
from pangocast.show import ShowConfig, podcast_guid_for

Severity = Literal["error", "warning", "info"]

# mutagen's classes are unannotated, which strict mypy rejects call by call.
_id3: Any = mutagen.id3
_mp3: Any = mutagen.mp3

ATOM_NS = "http://www.w3.org/2005/Atom"
CONTENT_NS = "http://purl.org/rss/1.0/modules/content/"
NS = {"itunes": ITUNES_NS, "podcast": PODCAST_NS, "psc": PSC_NS, "atom": ATOM_NS}

TARGET_LUFS = -16.0
LUFS_TOLERANCE = 1.0
MAX_TRUE_PEAK_DBTP = -1.0
DURATION_TOLERANCE = 1.0
"""Seconds the measured audio may differ from the declared duration."""
CHAPTER_TOLERANCE = 0.5
"""Seconds an ID3 chapter start may differ from the chapters JSON."""
ART_MIN_PX = 1400
ART_MAX_PX = 3000
MAX_CUE_LINE = 65

TRANSCRIPT_MIME = {
    ".vtt": "text/vtt",
    ".srt": "application/x-subrip",
    ".json": "application/json",
}

_NUMBERED_TITLE = re.compile(r"^\s*(第\s*\d+\s*[期集话]|ep(isode)?\.?\s*\d+|#\s*\d+)", re.I)
_HASHED_NAME = re.compile(r"^(?P<slug>.+)-[0-9a-f]{6,}$")


@dataclass(frozen=True)
class Finding:
    """One result of a check.

    Attributes:
        severity: ``error`` (apps will reject or mishandle it), ``warning`` (against a
            recommendation) or ``info``.
        where: What the finding is about: ``feed.xml``, a file under ``output/``, an item.
        message: One line saying what is wrong and, when useful, what to do.
    """

    severity: Severity
    where: str
    message: str


def has_errors(findings: Iterable[Finding]) -> bool:
    """Whether any finding is an error (``pangocast check`` then exits non-zero)."""
    return any(f.severity == "error" for f in findings)


# --------------------------------------------------------------------------- the feed


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


def _items(channel: Any) -> list[FeedItem]:
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
    items = _items(root.find("channel"))
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


# ------------------------------------------------------------------------- files


def _local_path(url: str, base: str, output: Path) -> Path | None:
    """The file under ``output/`` a public URL points to, or None if outside the base."""
    if not url.startswith(base):
        return None
    rel = url[len(base) :].split("?", 1)[0].split("#", 1)[0]
    if not rel or ".." in PurePosixPath(rel).parts or rel.startswith("/"):
        return None
    return output / rel


@dataclass(frozen=True)
class Mp3Scan:
    """What walking an MP3's frame headers found."""

    frames: int
    samples: int
    sample_rate: int
    problem: str | None
    """Why the frame stream is damaged (truncated last frame, lost sync), or None."""

    @property
    def duration(self) -> float:
        """Seconds of audio the frames hold (including encoder delay and padding)."""
        return self.samples / self.sample_rate if self.sample_rate else 0.0


_L3_BITRATES = {
    1: (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    2: (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
_SAMPLE_RATES = {1: (44100, 48000, 32000), 2: (22050, 24000, 16000), 25: (11025, 12000, 8000)}


def _frame_header(data: bytes, pos: int) -> tuple[int, int, int] | None:
    """(frame length, samples, sample rate) of an MPEG layer III frame at ``pos``, or None."""
    if pos + 4 > len(data):
        return None
    b1, b2, b3 = data[pos + 1], data[pos + 2], data[pos + 3]
    if data[pos] != 0xFF or (b1 & 0xE0) != 0xE0:
        return None
    version = {0b00: 25, 0b10: 2, 0b11: 1}.get((b1 >> 3) & 0b11)
    layer = (b1 >> 1) & 0b11
    bitrate_index = b2 >> 4
    rate_index = (b2 >> 2) & 0b11
    if version is None or layer != 0b01 or bitrate_index in (0, 15) or rate_index == 3:
        return None
    bitrate = _L3_BITRATES[1 if version == 1 else 2][bitrate_index] * 1000
    rate = _SAMPLE_RATES[version][rate_index]
    padding = (b2 >> 1) & 1
    del b3
    if version == 1:
        return 144 * bitrate // rate + padding, 1152, rate
    return 72 * bitrate // rate + padding, 576, rate


def scan_mp3(data: bytes) -> Mp3Scan:
    """Walk the MPEG layer III frames of an MP3 file from its ID3v2 tag to its end.

    A file cut short ends inside a frame: :attr:`Mp3Scan.problem` says so.
    """
    pos = 0
    if data[:3] == b"ID3" and len(data) >= 10:
        size = 0
        for byte in data[6:10]:
            size = (size << 7) | (byte & 0x7F)
        pos = 10 + size + (10 if data[5] & 0x10 else 0)
    end = len(data)
    if end - pos >= 128 and data[end - 128 : end - 125] == b"TAG":
        end -= 128
    frames = samples = rate = 0
    while pos < end:
        header = _frame_header(data, pos)
        if header is None:
            if end - pos < 4 and frames:
                return Mp3Scan(frames, samples, rate, "the file ends inside a frame header")
            what = "no MPEG audio frame" if frames == 0 else "lost frame sync"
            return Mp3Scan(frames, samples, rate, f"{what} at byte {pos}")
        length, frame_samples, rate = header
        if pos + length > end:
            return Mp3Scan(
                frames,
                samples,
                rate,
                f"the last frame is incomplete ({end - pos} of {length} bytes): truncated file",
            )
        pos += length
        frames += 1
        samples += frame_samples
    if frames == 0:
        return Mp3Scan(0, 0, 0, "no MPEG audio frames")
    return Mp3Scan(frames, samples, rate, None)


def true_peak_dbfs(samples: npt.NDArray[np.floating[Any]], oversample: int = 4) -> float:
    """Approximate true peak (dBTP): the peak of the signal oversampled ``oversample`` times.

    Oversampling is band-limited (FFT zero padding) in overlapping blocks.
    """
    n = len(samples)
    if n == 0:
        return -math.inf
    peak = float(np.max(np.abs(samples)))
    block, pad = 1 << 15, 256
    for start in range(0, n, block):
        lo, hi = max(0, start - pad), min(n, start + block + pad)
        segment = samples[lo:hi]
        upsampled = np.fft.irfft(np.fft.rfft(segment), len(segment) * oversample) * oversample
        core = upsampled[(start - lo) * oversample : (min(start + block, n) - lo) * oversample]
        if len(core):
            peak = max(peak, float(np.max(np.abs(core))))
    return 20 * math.log10(peak) if peak > 0 else -math.inf


def measure_loudness(path: Path, rate: int = 44100) -> tuple[float, float, float]:
    """Integrated loudness (LUFS), approximate true peak (dBTP) and decoded duration (s).

    Raises:
        AudioError: the file cannot be decoded.
    """
    import pyloudnorm

    from pangocast.audio import decode_file

    audio = decode_file(path, rate)
    # float32 halves the memory of a long episode; BS.1770 needs no more precision
    samples = audio.samples.astype(np.float32) / np.float32(32768.0)
    if audio.duration < 0.4:  # shorter than one BS.1770 gating block
        return -math.inf, true_peak_dbfs(samples), audio.duration
    lufs = float(pyloudnorm.Meter(rate).integrated_loudness(samples))
    return lufs, true_peak_dbfs(samples), audio.duration


def check_mp3(
    path: Path,
    *,
    where: str,
    declared_length: int | None,
    declared_duration: float | None,
    expected_duration: float | None,
    loudness: bool = True,
) -> list[Finding]:
    """An enclosure: exists, size as declared, complete frames, duration, loudness.

    Args:
        path: The MP3 file.
        where: How findings name it.
        declared_length: The feed's ``enclosure length``.
        declared_duration: The feed's ``itunes:duration`` in seconds.
        expected_duration: The build manifest's exact duration in seconds.
        loudness: Also decode and measure loudness and true peak.
    """
    out: list[Finding] = []
    if not path.is_file():
        return [Finding("error", where, "enclosure file does not exist")]
    try:
        data = path.read_bytes()
    except OSError as exc:
        return [Finding("error", where, f"cannot read the enclosure: {exc.strerror}")]
    if declared_length is not None and declared_length != len(data):
        out.append(
            Finding(
                "error",
                where,
                f"enclosure length is {declared_length} bytes, the file has {len(data)}",
            )
        )
    scan = scan_mp3(data)
    if scan.problem:
        out.append(Finding("error", where, f"damaged MP3: {scan.problem}"))
    try:
        header_length = float(_mp3.MP3(path).info.length)
    except (MutagenError, OSError) as exc:
        out.append(Finding("error", where, f"not a readable MP3: {exc}"))
        return out
    if declared_duration is not None and abs(header_length - declared_duration) > (
        DURATION_TOLERANCE
    ):
        out.append(
            Finding(
                "error",
                where,
                f"the MP3 lasts {header_length:.1f} s, itunes:duration says "
                f"{declared_duration:.0f} s",
            )
        )
    reference = expected_duration if expected_duration is not None else header_length
    if not scan.problem and abs(scan.duration - reference) > DURATION_TOLERANCE + 0.1:
        out.append(
            Finding(
                "error",
                where,
                f"the MP3 frames hold {scan.duration:.1f} s, expected {reference:.1f} s",
            )
        )
    if not loudness:
        return out
    try:
        lufs, peak, decoded = measure_loudness(path)
    except PangocastError as exc:
        out.append(Finding("error", where, f"cannot decode: {exc.what}"))
        return out
    if abs(decoded - reference) > DURATION_TOLERANCE:
        out.append(
            Finding(
                "error",
                where,
                f"the audio decodes to {decoded:.1f} s, expected {reference:.1f} s"
                " (truncated or damaged file)",
            )
        )
    if not math.isfinite(lufs) or abs(lufs - TARGET_LUFS) > LUFS_TOLERANCE:
        shown = f"{lufs:.1f}" if math.isfinite(lufs) else "silent"
        out.append(
            Finding(
                "warning",
                where,
                f"loudness {shown} LUFS, target {TARGET_LUFS:.0f} ±{LUFS_TOLERANCE:.0f} LUFS",
            )
        )
    if peak > MAX_TRUE_PEAK_DBTP:
        out.append(
            Finding(
                "warning",
                where,
                f"true peak {peak:.1f} dBTP is above {MAX_TRUE_PEAK_DBTP:.0f} dBTP",
            )
        )
    return out


def check_artwork(path: Path, *, where: str) -> list[Finding]:
    """Show or episode art: exists, PNG/JPEG matching its extension, square, 1400-3000 px,
    RGB."""
    if not path.is_file():
        return [Finding("error", where, "artwork file does not exist")]
    try:
        info = image_info(path.read_bytes())
    except OSError as exc:
        return [Finding("error", where, f"cannot read the artwork: {exc.strerror}")]
    if info is None:
        return [Finding("error", where, "artwork is not a PNG or JPEG file")]
    out: list[Finding] = []
    suffix = path.suffix.lower()
    expected = (".png",) if info.format == "png" else (".jpg", ".jpeg")
    if suffix not in expected:
        out.append(
            Finding("error", where, f"the file is a {info.format.upper()} but named '{suffix}'")
        )
    if info.width != info.height:
        out.append(Finding("error", where, f"artwork is {info.width}x{info.height}, not square"))
    if (
        not ART_MIN_PX
        <= min(info.width, info.height)
        <= max(info.width, info.height)
        <= (ART_MAX_PX)
    ):
        out.append(
            Finding(
                "error",
                where,
                f"artwork is {info.width}x{info.height} px, Apple needs "
                f"{ART_MIN_PX}-{ART_MAX_PX} px",
            )
        )
    if info.colour in ("grey", "grey+alpha", "cmyk", "unknown"):
        out.append(Finding("error", where, f"artwork colour model is {info.colour}, not RGB"))
    elif info.colour == "rgba":
        out.append(Finding("warning", where, "artwork has an alpha channel: use plain RGB"))
    return out


_VTT_TIME = r"(?:\d+:)?\d{2}:\d{2}\.\d{3}"
_VTT_CUE = re.compile(rf"^({_VTT_TIME})\s+-->\s+({_VTT_TIME})")
_SRT_CUE = re.compile(r"^(\d+:\d{2}:\d{2},\d{3})\s+-->\s+(\d+:\d{2}:\d{2},\d{3})\s*$")
_TAG = re.compile(r"<[^>]*>")


def _seconds(stamp: str) -> float:
    parts = stamp.replace(",", ".").split(":")
    total = 0.0
    for part in parts:
        total = total * 60 + float(part)
    return total


def check_transcript(
    path: Path, *, where: str, duration: float | None, mime: str | None = None
) -> list[Finding]:
    """A transcript file exists and parses as WebVTT, SRT or Podcasting 2.0 JSON."""
    if not path.is_file():
        return [Finding("error", where, "transcript file does not exist")]
    suffix = path.suffix.lower()
    out: list[Finding] = []
    if mime and suffix in TRANSCRIPT_MIME and mime != TRANSCRIPT_MIME[suffix]:
        out.append(
            Finding("warning", where, f"declared type {mime}, expected {TRANSCRIPT_MIME[suffix]}")
        )
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        return [*out, Finding("error", where, "transcript is not UTF-8 text")]
    except OSError as exc:
        return [*out, Finding("error", where, f"cannot read the transcript: {exc.strerror}")]
    ends: list[float] = []
    if suffix == ".vtt":
        lines = text.splitlines()
        if not lines or not re.match(r"^WEBVTT([ \t].*)?$", lines[0]):
            return [*out, Finding("error", where, "WebVTT must start with 'WEBVTT'")]
        long_lines = 0
        in_cue = False
        voices = False
        for line in lines[1:]:
            match = _VTT_CUE.match(line.strip())
            if match:
                start, end = _seconds(match.group(1)), _seconds(match.group(2))
                if end < start:
                    out.append(Finding("error", where, f"cue ends before it starts: {line}"))
                ends.append(end)
                in_cue = True
            elif not line.strip():
                in_cue = False
            elif in_cue:
                voices = voices or line.lstrip().startswith("<v")
                if len(_TAG.sub("", line)) > MAX_CUE_LINE:
                    long_lines += 1
        if not ends:
            return [*out, Finding("error", where, "WebVTT file has no cues")]
        if long_lines:
            out.append(
                Finding("warning", where, f"{long_lines} cue lines exceed {MAX_CUE_LINE} chars")
            )
        if not voices:
            out.append(Finding("info", where, "no <v Speaker> voice spans"))
    elif suffix == ".srt":
        blocks = [b for b in re.split(r"\n\s*\n", text.strip()) if b.strip()]
        for number, block in enumerate(blocks, start=1):
            lines = block.strip().splitlines()
            match = _SRT_CUE.match(lines[1].strip()) if len(lines) >= 3 else None
            if not lines[0].strip().isdigit() or match is None:
                return [*out, Finding("error", where, f"SRT cue {number} is malformed")]
            ends.append(_seconds(match.group(2)))
        if not ends:
            return [*out, Finding("error", where, "SRT file has no cues")]
    elif suffix == ".json":
        try:
            data = json.loads(text)
            segments = data["segments"]
            if not isinstance(segments, list) or not segments:
                raise ValueError("no segments")
            for seg in segments:
                if not isinstance(seg["body"], str):
                    raise ValueError("a segment body is not text")
                ends.append(float(seg["endTime"]))
                float(seg["startTime"])
        except (ValueError, KeyError, TypeError) as exc:
            return [*out, Finding("error", where, f"not a Podcasting 2.0 JSON transcript: {exc}")]
    else:
        return [*out, Finding("warning", where, f"unknown transcript format '{suffix}'")]
    if duration is not None and ends and max(ends) > duration + DURATION_TOLERANCE:
        out.append(
            Finding(
                "error",
                where,
                f"transcript runs to {max(ends):.1f} s, the audio lasts {duration:.1f} s",
            )
        )
    return out


def read_chapters_json(path: Path) -> list[tuple[float, str]]:
    """(start seconds, title) of a Podcasting 2.0 JSON chapters file.

    Raises:
        ValueError: the file does not parse or is not a chapters file.
        OSError: the file cannot be read.
    """
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not isinstance(data.get("chapters"), list):
        raise ValueError("no 'chapters' list")
    chapters = []
    for chapter in data["chapters"]:
        if not isinstance(chapter, dict) or not isinstance(chapter.get("title"), str):
            raise ValueError("a chapter has no title")
        start = chapter.get("startTime")
        if not isinstance(start, int | float) or isinstance(start, bool) or start < 0:
            raise ValueError(f"chapter '{chapter['title']}' has no valid startTime")
        chapters.append((float(start), chapter["title"]))
    return chapters


def check_chapters_file(path: Path, *, where: str, duration: float | None) -> list[Finding]:
    """A Podcasting 2.0 JSON chapters file exists, parses, and fits the audio."""
    if not path.is_file():
        return [Finding("error", where, "chapters file does not exist")]
    try:
        chapters = read_chapters_json(path)
    except (OSError, ValueError, TypeError) as exc:
        return [Finding("error", where, f"not a JSON chapters file: {exc}")]
    out: list[Finding] = []
    if not chapters:
        out.append(Finding("warning", where, "the chapters list is empty"))
    starts = [s for s, _ in chapters]
    if starts != sorted(starts):
        out.append(Finding("error", where, "chapter start times are not in order"))
    if duration is not None and starts and max(starts) > duration:
        out.append(
            Finding("error", where, f"a chapter starts after the audio ends ({duration:.1f} s)")
        )
    return out


def id3_chapters(path: Path) -> list[tuple[float, str]]:
    """(start seconds, title) of the ID3 CHAP frames of an MP3 (empty when none)."""
    try:
        tags = _id3.ID3(path)
    except (MutagenError, OSError):
        return []
    chapters = []
    for chap in tags.getall("CHAP"):
        title_frame = chap.sub_frames.get("TIT2")
        title = str(title_frame.text[0]) if title_frame and title_frame.text else ""
        chapters.append((chap.start_time / 1000.0, title))
    return sorted(chapters)


def compare_chapters(
    a: list[tuple[float, str]], b: list[tuple[float, str]], *, tolerance: float = CHAPTER_TOLERANCE
) -> str | None:
    """How two chapter lists disagree (count, title or start time), or None if they agree."""
    if len(a) != len(b):
        return f"{len(a)} chapters vs {len(b)}"
    for (sa, ta), (sb, tb) in zip(a, b, strict=True):
        if ta.strip() != tb.strip():
            return f"title '{ta}' vs '{tb}'"
        if abs(sa - sb) > tolerance:
            return f"'{ta}' starts at {sa:.1f} s vs {sb:.1f} s"
    return None


# ------------------------------------------------------------- previous feed


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
    prev_items = _items(prev_channel)
    cur_items = _items(cur_channel)
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


# -------------------------------------------------------------------- output/


def check_output(
    output: Path,
    show: ShowConfig,
    *,
    previous_feed: bytes | None = None,
    loudness: bool = True,
) -> list[Finding]:
    """Validate a built ``output/`` folder: feed, audio, artwork, transcripts, chapters.

    Args:
        output: The ``output/`` folder (``feed.xml``, ``manifest.json`` and the files).
        show: Show metadata; its base URL maps feed URLs to files under ``output/``.
        previous_feed: The feed as last published, to check guid stability against.
        loudness: Decode every MP3 to measure loudness, true peak and decoded duration
            (the slow part).

    Returns:
        Every finding, in the order checked; empty means all is well.
    """
    out: list[Finding] = []
    feed_path = output / FEED_NAME
    if not feed_path.is_file():
        return [Finding("error", FEED_NAME, "no feed: run 'pangocast build' first")]
    data = feed_path.read_bytes()
    root, problems = parse_feed(data)
    out += problems
    if root is None:
        return out
    out += check_channel(root, show)
    out += check_items(root)
    channel = root.find("channel")

    # Resolve URLs against the base the feed was built for, so that one wrong base URL
    # is one finding (reported by check_channel), not one per file.
    base = show.base_url
    for link in channel.findall("atom:link", NS):
        href = link.get("href") or ""
        if link.get("rel") == "self" and href.endswith("/" + FEED_NAME):
            base = href[: -len(FEED_NAME)]

    def local(url: str | None, where: str) -> Path | None:
        if not url:
            return None
        path = _local_path(url, base, output)
        if path is None:
            out.append(Finding("error", where, f"URL {url} is not under the base URL {base}"))
        return path

    manifest: list[BuiltEpisode] = []
    try:
        built = read_manifest(output)
    except PangocastError as exc:
        out.append(Finding("error", MANIFEST_NAME, exc.what))
    else:
        if built is None:
            out.append(Finding("warning", MANIFEST_NAME, "no build manifest: durations unchecked"))
        elif is_pending(built, data):
            # Killed between the manifest and the feed: the feed (what listeners get) is
            # the previous build's, complete on its own; the manifest describes the next.
            out.append(
                Finding(
                    "warning",
                    MANIFEST_NAME,
                    "the last build stopped before publishing its feed: the feed is the"
                    " previous build's; run 'pangocast build' to finish",
                )
            )
        else:
            manifest = list(built.episodes)
    by_guid = {e.guid: e for e in manifest}

    image = channel.find("itunes:image", NS)
    cover = local(image.get("href") if image is not None else None, "itunes:image")
    if cover is not None:
        out += check_artwork(cover, where=cover.relative_to(output).as_posix())

    items = _items(channel)
    for item in items:
        episode = by_guid.get(item.guid or "")
        expected = episode.duration if episode else None
        declared = parse_duration(item.duration) if item.duration else None
        duration = expected if expected is not None else declared
        if item.image:
            art = local(item.image, item.label)
            if art is not None:
                out += check_artwork(art, where=art.relative_to(output).as_posix())
        audio = local(item.enclosure_url, item.label)
        if audio is not None:
            length = item.enclosure_length or ""
            out += check_mp3(
                audio,
                where=audio.relative_to(output).as_posix(),
                declared_length=int(length) if length.isdigit() else None,
                declared_duration=declared,
                expected_duration=expected,
                loudness=loudness,
            )
        for url, mime, _ in item.transcripts:
            path = local(url, item.label)
            if path is not None:
                out += check_transcript(
                    path, where=path.relative_to(output).as_posix(), duration=duration, mime=mime
                )
        json_chapters: list[tuple[float, str]] | None = None
        chapters_path = local(item.chapters_url, item.label)
        if chapters_path is not None:
            rel = chapters_path.relative_to(output).as_posix()
            found = check_chapters_file(chapters_path, where=rel, duration=duration)
            out += found
            if not has_errors(found):
                json_chapters = read_chapters_json(chapters_path)
        if json_chapters is not None and item.psc_chapters:
            try:
                psc = [(_seconds(start), title) for start, title in item.psc_chapters]
            except ValueError:
                psc = []
                out.append(Finding("error", item.label, "a psc:chapter start is not a time"))
            diff = compare_chapters(json_chapters, psc, tolerance=1.0)
            if diff:
                out.append(
                    Finding("warning", item.label, f"psc:chapters disagree with JSON: {diff}")
                )
        if json_chapters is not None and audio is not None and audio.is_file():
            id3 = id3_chapters(audio)
            if id3:
                diff = compare_chapters(json_chapters, id3)
                if diff:
                    out.append(
                        Finding(
                            "error",
                            audio.relative_to(output).as_posix(),
                            f"ID3 chapters disagree with the chapters JSON: {diff}",
                        )
                    )

    feed_guids = {i.guid for i in items if i.guid}
    for ep in manifest:
        where = f"episode {ep.slug}"
        if ep.guid not in feed_guids:
            out.append(Finding("error", where, f"built but missing from the feed ({ep.guid})"))
            continue
        item = next(i for i in items if i.guid == ep.guid)
        if item.enclosure_url and item.enclosure_url != base + ep.audio:
            out.append(Finding("error", where, f"the feed's enclosure is not the built {ep.audio}"))
        for kind, rel in sorted(ep.transcripts.items()):
            if not (output / rel).is_file():
                urls = {u for u, _, _ in item.transcripts}
                if not any(u.endswith(rel) for u in urls):  # else reported above
                    out.append(Finding("error", rel, f"{kind} transcript does not exist"))
        if (
            ep.chapters_file
            and not (output / ep.chapters_file).is_file()
            and not (item.chapters_url or "").endswith(ep.chapters_file)
        ):
            out.append(Finding("error", ep.chapters_file, "chapters file does not exist"))
    if manifest:
        built_guids = {e.guid for e in manifest}
        for item in items:
            if item.guid and item.guid not in built_guids:
                out.append(Finding("warning", item.label, "in the feed but not in manifest.json"))

    if previous_feed is not None:
        out += check_feed_against_previous(data, previous_feed)
    return out
