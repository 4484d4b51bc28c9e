"""The static site: escaping everywhere, oEmbed, relative links, template overrides."""

from __future__ import annotations

import json
import posixpath
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from pangocast.core.errors import BuildError, InputError
from pangocast.core.timefmt import clock, iso_duration
from pangocast.publish.manifest import Manifest
from pangocast.publish.site import render_site
from tests.site_fixture import (
    CHAPTERS,
    COVER,
    COVER_SIZE,
    GUEST,
    NASTY,
    SLUG,
    TURNS,
    BuiltSite,
    build_site,
    make_episode,
    make_show,
)

BASE = 'https://example.org/q&a"x/'
"""A base URL with characters that must be attribute-escaped."""


class Page(HTMLParser):
    """A parsed page: its elements (tag, attributes) in order, and its text."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.text_parts: list[str] = []
        self.raw_tags: list[str] = []
        self._textarea: list[str] | None = None
        self.textareas: dict[str, str] = {}
        self._textarea_id = ""
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        self.elements.append((tag, a))
        if tag == "textarea":
            self._textarea, self._textarea_id = [], a.get("id", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea" and self._textarea is not None:
            self.textareas[self._textarea_id] = "".join(self._textarea)
            self._textarea = None

    def handle_data(self, data: str) -> None:
        self.text_parts.append(data)
        if self._textarea is not None:
            self._textarea.append(data)

    @property
    def text(self) -> str:
        return "".join(self.text_parts)

    def find(self, tag: str, **attrs: str) -> list[dict[str, str]]:
        return [
            a
            for t, a in self.elements
            if t == tag and all(a.get(k.rstrip("_")) == v for k, v in attrs.items())
        ]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> BuiltSite:
    return build_site(tmp_path_factory.mktemp("site") / "output", BASE)


def pages(output: Path) -> dict[str, Path]:
    found = {p.relative_to(output).as_posix(): p for p in output.rglob("*.html")}
    assert set(found) == {"index.html", f"episodes/{SLUG}/index.html", f"embed/{SLUG}.html"}
    return found


def test_writes_every_page_asset_and_oembed(site: BuiltSite) -> None:
    output = site.output
    rel = sorted(p.relative_to(output).as_posix() for p in site.written)
    search = [r for r in rel if r.startswith("pagefind/")]
    assert "pagefind/pagefind-entry.json" in search and "pagefind/pagefind.js" in search
    assert not [r for r in search if "-ui." in r], "Pagefind's own widgets are not published"
    assert sorted(r for r in rel if r not in search) == sorted(
        [
            "assets/player.js",
            "assets/search.js",
            "assets/site.css",
            "index.html",
            f"episodes/{SLUG}/index.html",
            f"embed/{SLUG}.html",
            f"oembed/{SLUG}.json",
        ]
    )
    assert not list(output.rglob(".tmp-*")), "temporary files left behind"


def test_hostile_text_is_escaped_in_every_page(site: BuiltSite) -> None:
    for rel, path in pages(site.output).items():
        raw = path.read_text(encoding="utf-8")
        page = Page(raw)
        # No markup from the scripts made it through: the only scripts are ours.
        scripts = page.find("script")
        ours = ["player.js"] if rel.startswith("embed/") else ["player.js", "search.js"]
        assert [s["src"].split("?")[0].rsplit("/", 1)[-1] for s in scripts] == ours, rel
        assert "<script>alert" not in raw and "<img src=x" not in raw, rel
        assert not page.find("b") and not page.find("i"), rel
        for tag, attrs in page.elements:
            assert not any(k.startswith("on") for k in attrs), (rel, tag, attrs)
            for key in ("href", "src"):
                assert not attrs.get(key, "").lower().startswith("javascript:"), (rel, tag)
        # ...and the text itself is shown, decoded back to exactly what the script said.
        assert NASTY in page.text, rel
        assert page.find("html", lang="zh-CN"), rel
        assert page.find("meta", name="viewport"), rel


def test_episode_page_content(site: BuiltSite) -> None:
    output = site.output
    raw = (output / f"episodes/{SLUG}/index.html").read_text(encoding="utf-8")
    page = Page(raw)
    text = page.text
    assert GUEST in text  # guest names, speaker names
    for turn in TURNS:
        assert turn.text in text
    turns = page.find("li", **{"data-turn": ""})
    assert [float(t["data-start"]) for t in turns] == [t.start for t in TURNS]
    assert [float(c["data-seek"]) for c in page.find("button") if "data-seek" in c][:2] == [
        c.start for c in CHAPTERS
    ]
    for chapter in CHAPTERS:
        assert chapter.title in text
    # Show notes are sanitised: the escaped text stays, the script and handler go.
    assert "摘要 <script>已转义</script>" in text
    for gone in ('alert("notes")', "alert(4)", "alert(5)", "onclick", "javascript:"):
        assert gone not in raw
    audio = page.find("audio")
    assert len(audio) == 1 and "controls" in audio[0]
    assert audio[0]["aria-label"]
    # Every button and field has a name a screen reader can say.
    assert page.find("label", for_="embed-snippet")


def test_oembed_json_and_snippet(site: BuiltSite) -> None:
    output = site.output
    show = site.show
    raw = (output / f"oembed/{SLUG}.json").read_text(encoding="utf-8")
    assert not any(c in raw for c in "<>&'"), "oEmbed text must stay inert as HTML"
    data = json.loads(raw)
    assert data["version"] == "1.0" and data["type"] == "rich"
    assert data["title"] == f"第一期 {NASTY}"
    assert data["provider_name"] == show.title
    assert data["provider_url"] == BASE
    assert (data["width"], data["height"]) == (640, 360)
    assert data["thumbnail_url"] == BASE + COVER
    assert (data["thumbnail_width"], data["thumbnail_height"]) == COVER_SIZE

    frame = Page(data["html"])
    assert [t for t, _ in frame.elements] == ["iframe"]
    attrs = frame.elements[0][1]
    assert attrs["src"] == f"{BASE}embed/{SLUG}.html"
    assert attrs["title"] == f"第一期 {NASTY} — {show.title}"
    assert (attrs["width"], attrs["height"]) == ("640", "360")
    assert "&amp;a&#34;x/" in data["html"], "the URL is attribute-escaped"

    episode = Page((output / f"episodes/{SLUG}/index.html").read_text(encoding="utf-8"))
    # The copy-paste snippet is exactly the oEmbed html, shown as text.
    assert episode.textareas["embed-snippet"] == data["html"]
    (link,) = episode.find("link", rel="alternate", type="application/json+oembed")
    assert link["href"] == f"{BASE}oembed/{SLUG}.json"


def test_index_subscribe_links(site: BuiltSite) -> None:
    page = Page((site.output / "index.html").read_text(encoding="utf-8"))
    feed = BASE + "feed.xml"
    bare = feed.split("://", 1)[1]
    hrefs = [a["href"] for a in page.find("a")]
    assert f"podcast://{bare}" in hrefs and f"pcast://{bare}" in hrefs and feed in hrefs
    assert page.find("input", id="feed-url")[0]["value"] == feed
    assert page.find("button", **{"data-copy": "feed-url"})
    assert page.find("img", src=COVER)
    assert f"episodes/{SLUG}/" in hrefs


def test_relative_links_resolve_to_files(site: BuiltSite) -> None:
    output = site.output
    checked = 0
    for rel, path in pages(output).items():
        for _, attrs in Page(path.read_text(encoding="utf-8")).elements:
            for key in ("href", "src"):
                url = attrs.get(key)
                if not url or urlsplit(url).scheme or url.startswith("#"):
                    continue
                target = posixpath.normpath(
                    posixpath.join(posixpath.dirname(rel), unquote(urlsplit(url).path))
                )
                file = output / target
                if url.split("?")[0].endswith("/") or file.is_dir():
                    file = file / "index.html"
                assert file.is_file(), f"{rel}: {key}={url} -> {file}"
                checked += 1
    assert checked >= 15


def test_template_override_and_errors(tmp_path: Path) -> None:
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "site_embed.html.j2").write_text(
        "<!DOCTYPE html><p>custom {{ ep.title }}</p>\n", encoding="utf-8"
    )
    built = build_site(tmp_path / "output", BASE, template_dir=templates)
    embed = (built.output / f"embed/{SLUG}.html").read_text(encoding="utf-8")
    assert embed.startswith("<!DOCTYPE html><p>custom 第一期 &lt;script&gt;")

    (templates / "site_index.html.j2").write_text("ok\n{% if %}\n", encoding="utf-8")
    manifest = Manifest(episodes=(built.episode,), cover=COVER)
    with pytest.raises(InputError) as err:
        render_site(built.show, manifest, built.output, template_dir=templates)
    assert err.value.path == templates / "site_index.html.j2"
    assert err.value.line == 2


def test_bad_slug_is_refused(tmp_path: Path) -> None:
    for slug in ("../evil", "a/b", ".hidden", ""):
        episode = replace(make_episode(), slug=slug)
        with pytest.raises(BuildError):
            render_site(make_show(BASE), Manifest(episodes=(episode,)), tmp_path)
    assert not list(tmp_path.iterdir()), "nothing written for a refused build"


def test_time_formats() -> None:
    assert [clock(s) for s in (0, 9.9, 75.4, 3725)] == ["0:00", "0:09", "1:15", "1:02:05"]
    assert [iso_duration(s) for s in (0, 75.4, 3725)] == ["PT0S", "PT1M15S", "PT1H2M5S"]
