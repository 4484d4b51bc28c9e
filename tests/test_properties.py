"""Property-based tests (hypothesis): random and malicious scripts into the parser, random
metadata and turn text through the feed and site renderers.

Properties: nothing raises but the project's own errors (``PangocastError``); what parses is
valid (known speakers, allowed slugs, no control characters); every feed is well-formed XML
whose text reads back exactly; every page parses and carries no markup made of user text
(``tests.publish_oracle.html_injections``) while showing that text.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import tempfile
from dataclasses import replace
from pathlib import Path

import lxml.html
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from lxml import etree

from pangocast.core.errors import PangocastError
from pangocast.core.models import Chapter, Episode, TimedTurn
from pangocast.publish.feed import render_feed
from pangocast.publish.manifest import BuiltEpisode, Manifest
from pangocast.publish.shownotes import render_notes
from pangocast.publish.site import render_site
from pangocast.script.format import SLUG_RE, parse_script
from tests.feed_fixture import SHOW_TOML
from tests.publish_oracle import html_injections
from tests.site_fixture import make_show


def examples(n: int) -> settings:
    """``n`` examples (at most 200, to keep the suite fast), no per-example deadline."""
    return settings(max_examples=n, deadline=None, suppress_health_check=[HealthCheck.too_slow])


MARKUP = [
    "<script>alert(1)</script>",
    "</textarea><script>x()</script>",
    '"><img src=x onerror=alert(2)>',
    "' onmouseover='alert(3)",
    "<b>粗</b><i>斜</i>",
    '<a href="javascript:alert(4)">链接</a>',
    "]]>",
    "<![CDATA[x]]>",
    "<!-- c -->",
    "&amp;&lt;&#x3c;&#60;&",
    "{{ 7*7 }}{% raw %}",
    "\\u003c",
    "\u202e\u200b\ufeff",
    "&nbsp;\u00a0",
    "../../etc/passwd",
    "旁白:",
    "杨镭：",
    "+++",
    "[outro]",
    "# ",
    "> ",
    "% ",
    "𠮷👍",
    "UCloud 2019 年",
    "说:“你好”",
]
"""Fragments that break parsers, XML and HTML wherever they are mishandled."""
CONTROL = ["\r\n", "\r", "\n\n", "\t", "\x00", "\x07", "\x1b[31m", "\x0c", "\ufffe", "\x85"]
"""Line ends and control characters (XML cannot carry most of them)."""

# Any Unicode scalar value (a decoded file cannot hold lone surrogates).
any_char = st.characters(blacklist_categories=("Cs",))
# Printable text: no control characters, no noncharacters.
clean_char = st.characters(blacklist_categories=("Cs", "Cc", "Cn"))
markup_text = st.lists(
    st.one_of(st.sampled_from(MARKUP), st.text(clean_char, max_size=12)), max_size=6
).map("".join)
dirty_text = st.lists(
    st.one_of(st.sampled_from(MARKUP + CONTROL), st.text(any_char, max_size=12)), max_size=6
).map("".join)


def some_text(draw: st.DrawFn) -> st.SearchStrategy[str]:
    """The text strategy for one example: one in four may hold control characters (which
    must be refused), the others only markup (which must render, escaped)."""
    return dirty_text if draw(st.integers(0, 3)) == 0 else markup_text


NAMES = ["张三", "A&B<i>", "具体来说"]
"""Labels that are no speaker of the episode (an error) or read as prose."""
BAD_SLUGS = ["../x", "a/b", "A", "-x", "", "ok 1", "ok/../1"]
BAD_DATES = ["2019-13-45", '"x"', "1", "2019-02-30"]
DEFECTS = ["slug", "date", "header", "speaker", "control"]


def _toml(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


@st.composite
def scripts(draw: st.DrawFn) -> str:
    """Scripts with hostile text in every slot; half of them also carry one defect
    (a bad slug, a bad date, a bad header field, an unknown speaker, control characters)."""
    defect = draw(st.sampled_from([None, None, None, None, None, *DEFECTS]))
    text_of = dirty_text if defect == "control" else markup_text
    body_of = text_of
    title = draw(text_of) or "标题"
    if defect == "control" and draw(st.booleans()):
        # only in the header: there it arrives as a TOML escape ("\u0007")
        body_of = markup_text
        title += draw(st.sampled_from(["\x00", "\x07", "\x1b", "\x0c", "\ufffe"]))
    guests = draw(st.lists(st.sampled_from(["杨镭", "叶理灯", "A&B<i>"]), max_size=3, unique=True))
    slug = "ok-1"
    if defect == "slug":
        slug = draw(st.sampled_from(BAD_SLUGS) | st.text(any_char, max_size=8))
    date = draw(st.sampled_from(["2019-07-01", "2019-07-01T08:00:00"]))
    if defect == "date":
        date = draw(st.sampled_from(BAD_DATES))
    header = [
        f"title = {_toml(title)}",
        f"slug = {_toml(slug)}",
        f"date = {date}",
        'host = "老王"',
        "guests = [" + ", ".join(_toml(g) for g in guests) + "]",
    ]
    if draw(st.booleans()):
        header.append(f"summary = {_toml(draw(text_of))}")
    if defect == "header":
        header.append(draw(st.sampled_from(["episode = -1", 'guid = ""', "x = 1", 'host = "a"'])))
    speakers = ["旁白", "老王", *guests]
    labels = ["", "# ", "> ", "% ", *(n + ":" for n in speakers), *(n + ":" for n in speakers)]
    if defect == "speaker":
        labels = [n + ":" for n in NAMES]
    body = [f"{speakers[0]}:{draw(body_of)}。"]
    for _ in range(draw(st.integers(0, 5))):
        body.append(draw(st.sampled_from(labels)) + draw(body_of))
    text = "+++\n" + "\n".join(header) + "\n+++\n\n" + "\n\n".join(body) + "\n"
    if draw(st.booleans()):
        text = text.replace("\n", draw(st.sampled_from(["\r\n", "\r"])))
    if draw(st.booleans()):
        text = "\ufeff" + text
    return text


_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _check_parsed(episode: Episode) -> None:
    meta = episode.meta
    assert meta is not None and SLUG_RE.match(meta.slug)
    for value in (meta.title, meta.summary, meta.host, *meta.guests, meta.narrator):
        assert not _FORBIDDEN.search(value), "control characters reach the metadata"
    roles = meta.roles()
    assert any(t.kind == "speech" for t in episode.turns)
    for turn in episode.turns:
        assert not _FORBIDDEN.search(turn.text) and "\r" not in turn.text
        if turn.kind == "speech":
            assert roles[turn.speaker] == turn.role
            assert turn.text.strip()


@examples(200)
@given(scripts())
def test_parser_on_hostile_scripts_raises_only_its_own_errors(text: str) -> None:
    try:
        episode = parse_script(text, "prop.txt")
    except PangocastError as exc:
        event(f"refused: {exc.what.split(' ')[0]}")
        assert exc.path == Path("prop.txt") and exc.line is not None and exc.line >= 1
        assert "\n" not in exc.one_line()
        return
    event("parsed")
    _check_parsed(episode)


@examples(150)
@given(st.text(any_char, max_size=300))
def test_parser_on_random_text_raises_only_its_own_errors(text: str) -> None:
    for candidate in (text, "+++\n" + text, f"+++\ntitle = {_toml(text)}\n+++\n\n旁白:{text}"):
        try:
            episode = parse_script(candidate, "prop.txt")
        except PangocastError:
            continue
        assert episode.meta is not None


# ------------------------------------------------------------------ renderers


@st.composite
def manifests(draw: st.DrawFn) -> Manifest:
    """One or two episodes whose every text field is hostile."""
    hostile_text = some_text(draw)
    episodes = []
    for i in range(draw(st.integers(1, 2))):
        slug = f"ep-{i}"
        title = draw(hostile_text)
        speakers = [draw(hostile_text) or "x" for _ in range(2)]
        turns = tuple(
            TimedTurn(
                float(k),
                float(k + 1),
                speakers[k % 2],
                draw(st.sampled_from(["host", "guest", "narrator"])),
                draw(st.sampled_from(["speech", "chapter"])),
                draw(hostile_text),
            )
            for k in range(draw(st.integers(0, 3)))
        )
        ep = BuiltEpisode(
            slug=slug,
            guid=draw(st.just(f"pangocast:{slug}") | hostile_text.map(lambda t, i=i: f"{t}{i}")),
            title=title,
            date=dt.date(2019, 7, 1) + dt.timedelta(days=i),
            summary=draw(hostile_text),
            host=speakers[0],
            guests=(speakers[1],),
            episode=i + 1,
            season=None,
            episode_type="full",
            audio=f"audio/{slug}-0123456789.mp3",
            audio_bytes=1000,
            duration=10.0,
            chapters=(Chapter(0.0, draw(hostile_text)), Chapter(5.0, draw(hostile_text))),
            turns=turns,
            highlights=tuple(draw(st.lists(hostile_text, max_size=2))),
            transcripts={"vtt": f"transcripts/{slug}.vtt"},
            chapters_file=f"chapters/{slug}.json",
        )
        html, text = render_notes(ep)
        episodes.append(replace(ep, notes_html=html, notes_text=text))
    return Manifest(
        tuple(episodes),
        cover="images/cover-0123456789.png",
        build_date=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    )


def _load_show(tmp: Path, title: str, description: str) -> object:
    from pangocast.core.project import Project, load_show

    (tmp / "feeds").mkdir(exist_ok=True)
    toml = SHOW_TOML.replace('title = "穿山甲专访 测试"', f"title = {_toml(title)}").replace(
        'description = "测试用的节目 & <描述>"', f"description = {_toml(description)}"
    )
    (tmp / "feeds" / "show.toml").write_text(toml, encoding="utf-8")
    return load_show(Project(tmp))


def _lines(text: str) -> str:
    """XML parsers turn CR and CRLF into LF: compare text that way."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


@examples(120)
@given(manifests(), markup_text, st.one_of(markup_text, markup_text, markup_text, dirty_text))
def test_feed_is_well_formed_and_reads_back_whatever_the_text(
    manifest: Manifest, show_title: str, description: str
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        try:
            show = _load_show(Path(tmp), show_title or "节目", description or "描述")
            feed = render_feed(show, manifest)  # type: ignore[arg-type]
        except PangocastError:
            event("refused")
            return
    event("rendered")
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    root = etree.fromstring(feed, parser)
    items = root.findall("channel/item")
    # a CR may come back as CR (written as &#13;) or as LF: both show one line break
    read = {_lines(i.findtext("guid") or ""): _lines(i.findtext("title") or "") for i in items}
    assert read == {_lines(e.guid): _lines(e.title) for e in manifest.episodes}
    for item in items:
        notes = item.findtext("{http://purl.org/rss/1.0/modules/content/}encoded") or ""
        assert html_injections(notes) == []


_NOT_SHOWN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffd]")


def _visible(text: str) -> str:
    """Text as an HTML parser shows it: whitespace collapsed, control characters (which
    scripts refuse, and parsers drop or replace) left out."""
    return " ".join(_NOT_SHOWN.sub("", text).split())


@examples(40)
@given(manifests(), markup_text)
def test_pages_carry_no_markup_made_of_user_text(manifest: Manifest, show_title: str) -> None:
    show = make_show("https://example.org/show/", title=show_title or "节目")
    with tempfile.TemporaryDirectory() as tmp:
        output = Path(tmp)
        try:
            written = render_site(show, manifest, output)
        except PangocastError:
            event("refused")
            return
        event("rendered")
        for path in written:
            data = path.read_bytes()
            if path.suffix == ".html":
                assert html_injections(data) == [], path.name
                doc = lxml.html.document_fromstring(data)
                if path.parent.parent.name == "episodes":
                    ep = next(e for e in manifest.episodes if e.slug == path.parent.name)
                    heading = doc.get_element_by_id("episode-title").text_content()
                    assert _visible(heading) == _visible(ep.title)
            elif path.suffix == ".json":
                assert "<" not in data.decode("utf-8")
                json.loads(data)
