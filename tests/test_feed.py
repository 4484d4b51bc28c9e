"""The RSS feed: read back by real podcast clients' parsers, XPath over every tag we write,
a golden file, escaping, and refusal of impossible feeds."""

from __future__ import annotations

import calendar
import datetime as dt
import io
import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

import feedparser
import podcastparser
import pytest
from lxml import etree

from pangocast import __version__
from pangocast.core.errors import BuildError, ConfigError, PangocastError
from pangocast.publish.feed import render_feed
from pangocast.publish.feed_ext import ITUNES_NS, PODCAST_NS, PSC_NS
from pangocast.publish.manifest import Manifest
from tests.feed_fixture import (
    BASE_URL,
    NASTY,
    BuiltOutput,
    build_output,
    load_test_show,
    synthetic_manifest,
)

NS = {
    "itunes": ITUNES_NS,
    "podcast": PODCAST_NS,
    "psc": PSC_NS,
    "atom": "http://www.w3.org/2005/Atom",
    "content": "http://purl.org/rss/1.0/modules/content/",
}
GOLDEN = Path(__file__).parent / "golden" / "feed.xml"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> BuiltOutput:
    return build_output(tmp_path_factory.mktemp("feed"))


@pytest.fixture(scope="module")
def channel(built: BuiltOutput) -> Any:
    return etree.fromstring(built.feed).find("channel")


def newest_first(built: BuiltOutput) -> list[Any]:
    return sorted(built.manifest.episodes, key=lambda e: e.date, reverse=True)


def one(node: Any, path: str) -> Any:
    found = node.xpath(path, namespaces=NS)
    assert len(found) == 1, f"{path}: {len(found)} matches"
    return found[0]


def pub_epoch(date: dt.date) -> int:
    """08:00 China Standard Time (+0800) on ``date``, i.e. 00:00 UTC, as a Unix time."""
    return calendar.timegm((date.year, date.month, date.day, 0, 0, 0))


# ------------------------------------------------------------ real client parsers


def test_podcastparser_reads_every_episode(built: BuiltOutput) -> None:
    parsed = podcastparser.parse(BASE_URL + "feed.xml", io.BytesIO(built.feed))
    assert parsed["title"] == built.show.title
    assert parsed["cover_url"] == BASE_URL + built.manifest.cover  # type: ignore[operator]
    assert parsed["explicit"] is False
    assert parsed["type"] == "episodic"
    assert parsed["itunes_owner"] == {"name": "Linux 中国", "email": "podcast@example.org"}
    assert parsed["itunes_categories"] == [["Technology", "Software How-To"]]
    episodes = parsed["episodes"]
    expected = newest_first(built)
    assert [e["guid"] for e in episodes] == [e.guid for e in expected]
    for got, ep in zip(episodes, expected, strict=True):
        assert got["title"] == ep.title
        assert got["link"] == BASE_URL + f"episodes/{ep.slug}/"
        assert got["enclosures"] == [
            {"url": BASE_URL + ep.audio, "file_size": ep.audio_bytes, "mime_type": "audio/mpeg"}
        ]
        # the enclosure length is the real file's size
        assert (built.output / ep.audio).stat().st_size == ep.audio_bytes
        assert got["total_time"] == round(ep.duration)
        assert got["published"] == pub_epoch(ep.date)
        assert got["number"] == ep.episode
        assert got["season"] == 1
        assert got["type"] == "full"
        assert got["chapters"] == [{"start": int(c.start), "title": c.title} for c in ep.chapters]
        assert got["description"] == ep.notes_text


def test_feedparser_reads_it_without_complaint(built: BuiltOutput) -> None:
    parsed = feedparser.parse(built.feed)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.feed.title == built.show.title
    assert parsed.feed.language == "zh-cn"
    assert parsed.feed.generator == f"Pangocast {__version__}"
    expected = newest_first(built)
    assert len(parsed.entries) == len(expected)
    for entry, ep in zip(parsed.entries, expected, strict=True):
        assert entry.id == ep.guid
        assert entry.guidislink is False
        assert entry.title == ep.title
        enclosures = [link for link in entry.links if link.rel == "enclosure"]
        assert enclosures == [
            {
                "href": BASE_URL + ep.audio,
                "length": str(ep.audio_bytes),
                "type": "audio/mpeg",
                "rel": "enclosure",
            }
        ]
        assert entry.itunes_duration == str(round(ep.duration))
        assert calendar.timegm(entry.published_parsed) == pub_epoch(ep.date)
        assert entry.published.endswith("08:00:00 +0800")
        titles = [c["title"] for c in entry.psc_chapters["chapters"]]
        assert titles == [c.title for c in ep.chapters]


# ------------------------------------------------------------------ XPath checks


def test_channel_tags(built: BuiltOutput, channel: Any) -> None:
    show = built.show
    assert one(channel, "title").text == show.title
    assert one(channel, "link").text == BASE_URL
    assert one(channel, "description").text == show.description
    assert one(channel, "language").text == "zh-cn"
    assert one(channel, "copyright").text == "© Linux 中国"
    assert one(channel, "generator").text == f"Pangocast {__version__}"
    assert one(channel, "lastBuildDate").text == "Fri, 20 Nov 2026 12:00:00 +0000"
    self_link = one(channel, "atom:link[@rel='self']")
    assert self_link.get("href") == BASE_URL + "feed.xml"
    assert self_link.get("type") == "application/rss+xml"
    cover = BASE_URL + str(built.manifest.cover)
    assert one(channel, "image/url").text == cover
    assert one(channel, "itunes:image").get("href") == cover
    assert one(channel, "itunes:category").get("text") == "Technology"
    assert one(channel, "itunes:category/itunes:category").get("text") == "Software How-To"
    assert one(channel, "itunes:explicit").text == "false"
    assert one(channel, "itunes:author").text == "Linux 中国"
    assert one(channel, "itunes:owner/itunes:name").text == "Linux 中国"
    assert one(channel, "itunes:owner/itunes:email").text == "podcast@example.org"
    assert one(channel, "itunes:type").text == "episodic"
    assert one(channel, "podcast:guid").text == show.podcast_guid
    locked = one(channel, "podcast:locked")
    assert (locked.text, locked.get("owner")) == ("yes", "podcast@example.org")
    host = one(channel, "podcast:person")
    assert (host.text, host.get("role"), host.get("href")) == (
        "老王",
        "host",
        "https://example.org/laowang",
    )


def test_item_tags(built: BuiltOutput, channel: Any) -> None:
    items = channel.findall("item")
    for item, ep in zip(items, newest_first(built), strict=True):
        guid = one(item, "guid")
        assert (guid.text, guid.get("isPermaLink")) == (ep.guid, "false")
        assert one(item, "link").text == BASE_URL + f"episodes/{ep.slug}/"
        assert one(item, "description").text == ep.notes_text
        assert one(item, "content:encoded").text == ep.notes_html
        enclosure = one(item, "enclosure")
        assert dict(enclosure.attrib) == {
            "url": BASE_URL + ep.audio,
            "length": str(ep.audio_bytes),
            "type": "audio/mpeg",
        }
        assert one(item, "itunes:duration").text == str(round(ep.duration))
        assert one(item, "itunes:episode").text == str(ep.episode)
        assert one(item, "itunes:season").text == "1"
        assert one(item, "itunes:episodeType").text == "full"
        transcripts = item.xpath("podcast:transcript", namespaces=NS)
        assert [
            (t.get("url"), t.get("type"), t.get("language"), t.get("rel")) for t in transcripts
        ] == [
            (BASE_URL + ep.transcripts["vtt"], "text/vtt", "zh-cn", "captions"),
            (BASE_URL + ep.transcripts["srt"], "application/x-subrip", "zh-cn", None),
            (BASE_URL + ep.transcripts["json"], "application/json", "zh-cn", None),
        ]
        chapters = one(item, "podcast:chapters")
        assert chapters.get("url") == BASE_URL + str(ep.chapters_file)
        assert chapters.get("type") == "application/json+chapters"
        persons = [(p.text, p.get("role")) for p in item.xpath("podcast:person", namespaces=NS)]
        assert persons == [("老王", "host"), *((g, "guest") for g in ep.guests)]
        psc = one(item, "psc:chapters")
        assert psc.get("version") == "1.2"
        assert [(c.get("start"), c.get("title")) for c in psc] == [
            (f"00:00:{int(c.start):02d}.{round(c.start % 1 * 1000):03d}", c.title)
            for c in ep.chapters
        ]


def test_items_are_newest_first_with_fixed_publication_time(channel: Any) -> None:
    dates = [one(item, "pubDate").text for item in channel.findall("item")]
    assert dates == ["Thu, 01 Aug 2019 08:00:00 +0800", "Mon, 01 Jul 2019 08:00:00 +0800"]


# ----------------------------------------------------------------- golden feed


def canonical(xml: bytes) -> bytes:
    parser = etree.XMLParser(remove_blank_text=True)
    return etree.tostring(etree.fromstring(xml, parser), method="c14n")  # type: ignore[no-any-return]


def test_golden_feed(tmp_path: Path, update_golden: bool) -> None:
    feed = render_feed(load_test_show(tmp_path), synthetic_manifest())
    if update_golden:
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_bytes(feed)
    assert GOLDEN.is_file(), "no golden feed: run pytest --update-golden once and review it"
    assert canonical(feed) == canonical(GOLDEN.read_bytes()), (
        "the feed differs from tests/golden/feed.xml; if intended, rerun with --update-golden"
    )


def test_render_is_reproducible_and_never_uses_now(tmp_path: Path) -> None:
    show = load_test_show(tmp_path)
    manifest = replace(synthetic_manifest(), build_date=None)
    first = render_feed(show, manifest)
    assert first == render_feed(show, manifest)
    # without a build date, lastBuildDate is the newest episode's publication time
    assert b"<lastBuildDate>Thu, 01 Aug 2019 08:00:00 +0800</lastBuildDate>" in first
    when = dt.datetime(2025, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    dated = replace(manifest, build_date=when)
    assert b"Thu, 02 Jan 2025 03:04:05 +0000" in render_feed(show, dated)


def test_publication_time_and_zone_come_from_show_toml(tmp_path: Path) -> None:
    from pangocast.core.project import Project, load_show
    from tests.feed_fixture import SHOW_TOML

    (tmp_path / "feeds").mkdir()
    (tmp_path / "feeds" / "show.toml").write_text(
        SHOW_TOML.replace('timezone = "Asia/Shanghai"', 'timezone = "America/New_York"').replace(
            'publish_time = "08:00"', 'publish_time = "17:30"'
        ),
        encoding="utf-8",
    )
    show = load_show(Project(tmp_path))
    manifest = replace(synthetic_manifest(), build_date=None)
    parsed = feedparser.parse(render_feed(show, manifest))
    # 2019-08-01 17:30 in New York (EDT, UTC-4) is 21:30 UTC
    newest = max(e.published_parsed for e in parsed.entries)
    assert newest[:5] == (2019, 8, 1, 21, 30)
    assert b"-0400</pubDate>" in render_feed(show, manifest)


def test_base_url_override_moves_every_url_but_not_the_guids(tmp_path: Path) -> None:
    show = load_test_show(tmp_path).with_base_url("http://localhost:8000/preview")
    root = etree.fromstring(render_feed(show, synthetic_manifest()))
    urls = root.xpath(
        "//enclosure/@url | //podcast:transcript/@url | //podcast:chapters/@url"
        " | //itunes:image/@href | //atom:link/@href | //item/link/text()",
        namespaces=NS,
    )
    assert urls and all(u.startswith("http://localhost:8000/preview/") for u in urls)
    assert root.findtext("channel/podcast:guid", namespaces=NS) == show.podcast_guid
    assert root.xpath("//item/guid/text()") == [
        "pangocast:test:ye-li-deng",
        "pangocast:test:yang-lei",
    ]


# ------------------------------------------------------------------- escaping


def test_hostile_text_is_escaped_and_round_trips(built: BuiltOutput, channel: Any) -> None:
    assert b"<script>" not in built.feed
    item = channel.findall("item")[1]
    ep = built.episode("yang-lei")
    assert NASTY in ep.title
    assert one(item, "title").text == ep.title
    assert one(item, "description").text == ep.summary
    assert one(item, "content:encoded").text == ep.notes_html
    assert one(item, "psc:chapters/psc:chapter[2]").get("title") == ep.chapters[1].title
    assert not feedparser.parse(built.feed).bozo


def test_hostile_show_metadata_keeps_the_xml_well_formed(tmp_path: Path) -> None:
    show = replace(load_test_show(tmp_path), title=NASTY, description=NASTY, author=NASTY)
    feed = render_feed(show, synthetic_manifest())
    root = etree.fromstring(feed)
    assert root.findtext("channel/title") == NASTY
    assert root.findtext("channel/itunes:author", namespaces=NS) == NASTY


# ------------------------------------------------------------- impossible feeds


def refused(show: Any, manifest: Manifest, error: type[PangocastError]) -> str:
    with pytest.raises(error) as info:
        render_feed(show, manifest)
    message = info.value.one_line()
    assert "\n" not in message
    return message


def test_refuses_duplicate_guid(tmp_path: Path) -> None:
    m = synthetic_manifest()
    a, b = m.episodes
    message = refused(
        load_test_show(tmp_path), replace(m, episodes=(a, replace(b, guid=a.guid))), BuildError
    )
    assert "guid" in message and a.guid in message


def test_refuses_duplicate_enclosure_url(tmp_path: Path) -> None:
    m = synthetic_manifest()
    a, b = m.episodes
    message = refused(
        load_test_show(tmp_path), replace(m, episodes=(a, replace(b, audio=a.audio))), BuildError
    )
    assert "enclosure URL" in message


def test_refuses_missing_or_mistyped_cover(tmp_path: Path) -> None:
    show = load_test_show(tmp_path)
    assert "cover" in refused(show, replace(synthetic_manifest(), cover=None), BuildError)
    assert "cover" in refused(show, replace(synthetic_manifest(), cover="images/c.gif"), BuildError)


def test_refuses_empty_feed_and_bad_episode_fields(tmp_path: Path) -> None:
    show = load_test_show(tmp_path)
    m = synthetic_manifest()
    a, b = m.episodes
    refused(show, replace(m, episodes=()), BuildError)
    assert "size" in refused(show, replace(m, episodes=(a, replace(b, audio_bytes=0))), BuildError)
    assert "U+0007" in refused(
        show, replace(m, episodes=(a, replace(b, title="x\x07"))), BuildError
    )
    assert "episode number" in refused(
        show, replace(m, episodes=(a, replace(b, episode=0))), BuildError
    )


def test_refuses_bad_show_metadata(tmp_path: Path) -> None:
    show = load_test_show(tmp_path)
    m = synthetic_manifest()
    assert "podcast_guid" in refused(replace(show, podcast_guid="nope"), m, ConfigError)
    assert "4000" in refused(replace(show, description="长" * 1400), m, ConfigError)
    assert "base_url" in refused(replace(show, base_url="podcast/"), m, ConfigError)


def test_feed_from_the_written_manifest_is_identical(built: BuiltOutput, tmp_path: Path) -> None:
    """Rendering again from the written manifest gives the same feed bytes."""
    from pangocast.publish.manifest import read_manifest

    copy = tmp_path / "output"
    shutil.copytree(built.output, copy)
    manifest = read_manifest(copy)
    assert manifest is not None
    assert render_feed(built.show, manifest) == built.feed


@pytest.mark.parametrize(
    ("old", "new", "expect"),
    [
        ('timezone = "Asia/Shanghai"', 'timezone = "Mars/Olympus"', "unknown time zone"),
        ('publish_time = "08:00"', 'publish_time = "eight"', "not a time of day"),
    ],
)
def test_a_bad_time_zone_or_publish_time_is_one_line_naming_the_line(
    tmp_path: Path, old: str, new: str, expect: str
) -> None:
    from pangocast.core.project import Project, load_show
    from tests.feed_fixture import SHOW_TOML

    (tmp_path / "feeds").mkdir()
    (tmp_path / "feeds" / "show.toml").write_text(SHOW_TOML.replace(old, new), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_show(Project(tmp_path))
    line = caught.value.one_line()
    assert expect in line and "show.toml:" in line and caught.value.hint
    number = SHOW_TOML.replace(old, new).splitlines().index(new) + 1
    assert f"show.toml:{number})" in line
