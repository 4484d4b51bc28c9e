"""The site's search index (Pagefind, run for real) and the captions it points at."""

from __future__ import annotations

import gzip
import json
import re
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from pangocast.core.errors import BuildError
from pangocast.core.models import TimedTurn
from pangocast.publish import search
from pangocast.publish.bucket import IMMUTABLE, SHORT, _order, cache_control
from pangocast.publish.manifest import Manifest
from pangocast.publish.serve import content_type
from pangocast.publish.site import render_site
from pangocast.publish.transcripts import page_cues, vtt_cues
from tests.search_fixture import EPISODE_A, EPISODE_B, SearchSite, build_search_site
from tests.site_fixture import make_show

BASE = "https://pod.example.org/show/"


@pytest.fixture
def built(tmp_path: Path) -> SearchSite:
    output = tmp_path / "output"
    output.mkdir()
    return build_search_site(output, BASE)


def bundle(output: Path) -> dict[str, tuple[int, int]]:
    """The search bundle's files: path under output/ to (inode, mtime in ns)."""
    return {
        p.relative_to(output).as_posix(): (p.stat().st_ino, p.stat().st_mtime_ns)
        for p in sorted((output / search.SEARCH_DIR).rglob("*"))
        if p.is_file()
    }


def indexed(output: Path) -> dict[str, dict[str, object]]:
    """The pages in the index: URL to Pagefind's fragment (gzip JSON after a signature)."""
    out = {}
    for f in (output / search.SEARCH_DIR / "fragment").glob("*.pf_fragment"):
        data = json.loads(gzip.decompress(f.read_bytes())[len(b"pagefind_dcd") :])
        out[data["url"]] = data
    return out


def text_of(fragment: dict[str, object]) -> str:
    """A fragment's text without the zero-width spaces Pagefind puts between words."""
    return str(fragment["content"]).replace("\u200b", "")


def test_every_caption_on_the_page_is_an_anchor_at_its_webvtt_time(built: SearchSite) -> None:
    for ep in (EPISODE_A, EPISODE_B):
        vtt = (built.output / ep.transcripts["vtt"]).read_text(encoding="utf-8")
        starts = [
            int(h) * 3600 + int(m) * 60 + float(s)
            for h, m, s in re.findall(r"^(\d+):(\d\d):(\d\d\.\d{3}) -->", vtt, re.MULTILINE)
        ]
        page = (built.output / f"episodes/{ep.slug}/index.html").read_text(encoding="utf-8")
        ids = re.findall(r'<span class="cue" id="cue-(\d+)-at-(\d+)">', page)
        assert [int(n) for n, _ in ids] == list(range(1, len(starts) + 1))
        assert [int(ms) / 1000 for _, ms in ids] == pytest.approx(starts, abs=0.001)
        # ...and Pagefind kept every one of them as an anchor, in page order
        fragment = indexed(built.output)[f"/episodes/{ep.slug}/"]
        anchors = [a for a in fragment["anchors"] if a["id"].startswith("cue-")]  # type: ignore[attr-defined]
        assert [a["id"] for a in anchors] == [f"cue-{n}-at-{ms}" for n, ms in ids]
        locations = [a["location"] for a in anchors]
        assert locations == sorted(locations) and len(set(locations)) == len(locations)


def test_only_episode_pages_are_indexed_with_title_and_chinese_words(built: SearchSite) -> None:
    pages = indexed(built.output)
    assert set(pages) == {"/episodes/ep-a/", "/episodes/ep-b/"}
    a = pages["/episodes/ep-a/"]
    assert a["meta"] == {"title": EPISODE_A.title}
    # the extended indexer cut the hanzi into words (the standard one keeps whole runs)
    words = str(a["content"]).replace("\u200b", " ").split()
    assert "开源" in words and "社区" in words
    # the time buttons of the turns are not indexed; the notes are
    assert "0:28" not in text_of(a)
    assert "节目笔记" in text_of(a)


def test_rendering_again_rewrites_no_index_file(built: SearchSite) -> None:
    before = bundle(built.output)
    assert f"{search.SEARCH_DIR}/{search.ENTRY}" in before
    render_site(make_show(BASE), built.manifest, built.output)
    assert bundle(built.output) == before


def test_an_edited_episode_replaces_its_index_files_and_a_removed_one_leaves(
    built: SearchSite,
) -> None:
    before = bundle(built.output)
    a = built.manifest.episodes[0]
    last = a.sentences[-1]
    edited = replace(last, text=last.text.replace("开源", "自由软件"))
    a = replace(a, sentences=(*a.sentences[:-1], edited), turns=(*a.turns[:-1], edited))
    render_site(make_show(BASE), Manifest(episodes=(a,)), built.output)
    after = bundle(built.output)
    assert set(indexed(built.output)) == {"/episodes/ep-a/"}, "ep-b's page is still on disk"
    assert "自由软件" in text_of(indexed(built.output)["/episodes/ep-a/"])
    old_fragments = {p for p in before if p.endswith(".pf_fragment")}
    assert not old_fragments & set(after), "an older index's files are removed"
    assert not list(built.output.rglob(".tmp-*"))


def test_a_show_without_episodes_has_no_index_and_no_search_box(built: SearchSite) -> None:
    render_site(make_show(BASE), Manifest(episodes=()), built.output)
    assert not (built.output / search.SEARCH_DIR).exists()
    assert "data-search" not in (built.output / "index.html").read_text(encoding="utf-8")


def test_a_missing_or_failing_indexer_is_a_build_error(
    built: SearchSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    pages = {"episodes/x/index.html": "<html lang='en'><body><p>hello</p></body></html>"}
    monkeypatch.setitem(sys.modules, "pagefind_bin_extended", None)
    with pytest.raises(BuildError, match="not installed") as missing:
        search.build_search_index(pages, built.output)
    assert "pagefind[extended]" in (missing.value.hint or "")
    monkeypatch.setattr(search, "pagefind_binary", lambda: Path("/bin/false"))
    with pytest.raises(BuildError, match="exit code 1"):
        search.build_search_index(pages, built.output)
    # the index of the last good build is left as it was
    assert (built.output / search.SEARCH_DIR / search.ENTRY).is_file()


def test_index_files_are_served_and_uploaded_as_pagefind_needs() -> None:
    fragment = "pagefind/fragment/zh-cn_30e3471.pf_fragment"
    entry = "pagefind/pagefind-entry.json"
    for rel in (
        fragment,
        "pagefind/index/zh-cn_be33c84.pf_index",
        "pagefind/wasm.unknown.pagefind",
    ):
        assert content_type(rel) == "application/octet-stream", rel
    assert content_type("pagefind/pagefind.js") == "text/javascript"
    assert content_type(entry) == "application/json"
    assert cache_control(fragment) == IMMUTABLE
    assert cache_control(entry) == cache_control("pagefind/pagefind.js") == SHORT
    order = _order(["feed.xml", entry, "index.html", fragment, "pagefind/pagefind.js"])
    assert order.index(fragment) < order.index(entry) < order.index("feed.xml")
    assert order.index("pagefind/pagefind.js") < order.index(entry)


@pytest.mark.parametrize(
    "text",
    [
        "This is a long English sentence that goes on and on, for more than sixty five"
        " characters. And here is another one about Kubernetes clusters.",
        "我们今天聊一聊云计算的发展\u3002其实分布式数据库是很难的事情\uff0c我觉得开源社区非常重要"
        "\uff0c尤其是对于工程师来说\uff0c这一点我们在过去十年里反复地验证过了\u3002",
    ],
)
def test_page_cues_read_as_the_turn_and_time_as_the_webvtt(text: str) -> None:
    turn = TimedTurn(10.0, 40.0, "杨镭", "guest", "speech", text)
    cues = page_cues(turn)
    assert len(cues) > 1
    assert "".join(c.gap + c.text for c in cues) == text
    assert [c.start for c in cues] == [c.start for c in vtt_cues(turn)]
    # with the placed sentences, their real times
    cut = text.index(cues[1].text)
    sentences = [
        replace(turn, end=12.0, text=text[:cut]),
        replace(turn, start=30.0, text=text[cut:]),
    ]
    assert [c.start for c in page_cues(turn, sentences)][:2] == [10.0, 30.0]
