"""Show notes from episode metadata: escaped HTML and plain text."""

from __future__ import annotations

import datetime as dt
from html.parser import HTMLParser

from pangocast.core.models import Chapter
from pangocast.core.timefmt import clock
from pangocast.publish.manifest import BuiltEpisode
from pangocast.publish.shownotes import render_notes, show_notes


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _episode(**over: object) -> BuiltEpisode:
    fields: dict[str, object] = {
        "slug": "ep1",
        "guid": "g",
        "title": "开源十年 <script>alert('t')</script>",
        "date": dt.date(2024, 5, 1),
        "summary": "第一段：<script>alert(1)</script> & 更多。\n\n第二段。",
        "host": "老王",
        "guests": ("杨镭", "A&B"),
        "episode": 1,
        "season": None,
        "episode_type": "full",
        "audio": "audio/ep1-x.mp3",
        "audio_bytes": 1,
        "duration": 4000.0,
        "chapters": (Chapter(0.0, "片头"), Chapter(75.4, "开源 <i>"), Chapter(3725.0, "尾声")),
        "highlights": ("“开源是一种选择”",),
    }
    fields.update(over)
    return BuiltEpisode(**fields)  # type: ignore[arg-type]


def test_html_notes_escape_script_text() -> None:
    html, _ = render_notes(_episode())
    assert "<script>" not in html and "<i>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; 更多" in html
    parser = _Tags()
    parser.feed(html)
    assert "script" not in parser.tags and "i" not in parser.tags
    assert parser.tags.count("li") == 4  # three chapters, one highlight
    assert "A&B" in "".join(parser.text)


def test_notes_list_people_and_chapters_with_times() -> None:
    html, text = render_notes(_episode())
    assert '<time datetime="PT1M15S">01:15</time> 开源 &lt;i&gt;' in html
    assert '<time datetime="PT1H2M5S">1:02:05</time>' in html
    assert html.count("<p>") >= 2  # the summary's two paragraphs
    assert "嘉宾：杨镭、A&B" in text and "主持：老王" in text
    assert "00:00 片头\n01:15 开源 <i>\n1:02:05 尾声" in text
    assert text.startswith("开源十年 <script>")  # plain text stays text


def test_sparse_metadata_renders_without_empty_sections() -> None:
    sparse = _episode(title="t", summary="", host="", guests=(), chapters=(), highlights=())
    notes = show_notes(sparse)
    assert "章节" not in notes.html and "嘉宾" not in notes.html
    assert notes.text == "t\n"
    linked = show_notes(
        _episode(title="t", summary="s", host="h", guests=(), chapters=(), highlights=()),
        link="https://x.org/?a=1&b=2",
    )
    assert 'href="https://x.org/?a=1&amp;b=2"' in linked.html


def test_clock() -> None:
    assert [clock(s, pad_minutes=True) for s in (0, 59.9, 61, 3599, 3600, 36000)] == [
        "00:00",
        "00:59",
        "01:01",
        "59:59",
        "1:00:00",
        "10:00:00",
    ]
