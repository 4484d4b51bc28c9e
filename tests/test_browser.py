"""The pages in a real headless Chromium, served by the preview server over HTTP.

Debian's Chromium (``apt-get install chromium``) driven by Playwright's Python package,
used only as a driver: ``executable_path=/usr/bin/chromium``, no browser download.
Set ``PANGOCAST_SCREENSHOTS=DIR`` to keep the episode page screenshots in DIR.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip(
        "needs Debian's Chromium at /usr/bin/chromium (apt-get install chromium)",
        allow_module_level=True,
    )

from playwright.sync_api import Browser, Frame, Page, sync_playwright  # noqa: E402

from pangocast.publish.serve import make_server  # noqa: E402
from tests.search_fixture import (  # noqa: E402
    EPISODE_A,
    EPISODE_B,
    IN_BOTH,
    ONLY_IN_A,
    ONLY_IN_B,
    SearchSite,
    build_search_site,
)
from tests.site_fixture import (  # noqa: E402
    CHAPTERS,
    DURATION,
    SLUG,
    TURNS,
    BuiltSite,
    build_site,
    running,
)

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
]
TOLERANCE = 0.5
T = TypeVar("T")
AUDIO = "document.querySelector('audio[data-player]')"


def served(
    factory: pytest.TempPathFactory, name: str, make: Callable[[Path, str], T]
) -> Iterator[tuple[str, T]]:
    """A site ``make`` renders for, and a preview server serves, on a free port."""
    output = factory.mktemp(name) / "output"
    output.mkdir()
    server = make_server(output, "127.0.0.1", 0)
    built = make(output, server.base_url)
    with running(server) as base:
        yield base, built


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, BuiltSite]]:
    """The fixture show rendered for, and served by, a preview server on a free port."""
    yield from served(tmp_path_factory, "browser", build_site)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        yield b
        b.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1024, "height": 800})
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    pg.set_default_timeout(10_000)
    yield pg
    context.close()
    assert errors == [], "the page logged errors"


def open_episode(page: Page, base: str) -> None:
    page.goto(f"{base}episodes/{SLUG}/")
    record_seeks(page)


def record_seeks(page: Page | Frame) -> None:
    """Once the audio has metadata, note every seek and the position it landed on."""
    page.wait_for_function(f"{AUDIO}.readyState >= 1")
    page.evaluate(
        f"window.seeks = []; {AUDIO}.addEventListener('seeked', "
        f"e => window.seeks.push(e.target.currentTime))"
    )


def last_seek(page: Page | Frame) -> float:
    page.wait_for_function("window.seeks.length > 0")
    seeks: list[float] = page.evaluate("window.seeks")
    page.evaluate("window.seeks = []")
    return seeks[-1]


def current_turn(page: Page) -> list[str]:
    ids: list[str] = page.evaluate(
        "Array.from(document.querySelectorAll('[data-turn].current'), e => e.id)"
    )
    return ids


def test_duration_and_play(page: Page, site: tuple[str, BuiltSite]) -> None:
    base, _ = site
    open_episode(page, base)
    duration = page.evaluate(f"{AUDIO}.duration")
    assert abs(duration - DURATION) <= TOLERANCE
    assert page.evaluate(f"{AUDIO}.currentTime") == 0
    # Press the player's own play button (left end of the native controls).
    box = page.locator("audio[data-player]").bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + 20, box["y"] + box["height"] / 2)
    page.wait_for_function(f"!{AUDIO}.paused && {AUDIO}.currentTime > 0.5")
    page.evaluate(f"{AUDIO}.pause()")


def test_click_turn_and_chapter_seek(page: Page, site: tuple[str, BuiltSite]) -> None:
    base, _ = site
    open_episode(page, base)

    page.locator("#turn-4 .text").click()
    assert abs(last_seek(page) - TURNS[3].start) <= TOLERANCE
    assert current_turn(page) == ["turn-4"]
    assert page.get_attribute("#turn-4", "aria-current") == "true"

    chapter = page.locator("[data-chapter]").nth(1)
    chapter.locator("button").click()
    assert abs(last_seek(page) - CHAPTERS[1].start) <= TOLERANCE
    page.wait_for_function("document.querySelectorAll('[data-chapter]')[1].matches('.current')")

    # Keyboard: Tab reaches a turn's time button, Enter plays from there.
    page.evaluate(f"{AUDIO}.pause()")
    page.locator("#turn-1 button.at").focus()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('[data-turn]').id") == "turn-2"
    page.keyboard.press("Enter")
    assert abs(last_seek(page) - TURNS[1].start) <= TOLERANCE
    assert current_turn(page) == ["turn-2"]


def test_highlight_follows_playback(page: Page, site: tuple[str, BuiltSite]) -> None:
    base, _ = site
    open_episode(page, base)
    for i, turn in enumerate(TURNS, start=1):
        middle = (turn.start + turn.end) / 2
        page.evaluate(f"{AUDIO}.currentTime = {middle}")
        page.wait_for_function(f"document.querySelector('#turn-{i}.current') !== null")
        assert current_turn(page) == [f"turn-{i}"]
    # And while it plays: start just before turn 3 and let it cross the boundary.
    page.evaluate(f"{AUDIO}.currentTime = {TURNS[2].start - 0.4}")
    page.wait_for_function("document.querySelector('#turn-2.current') !== null")
    page.evaluate(f"{AUDIO}.play()")
    page.wait_for_function(f"{AUDIO}.currentTime > {TURNS[2].start + 0.3}")
    page.wait_for_function("document.querySelector('#turn-3.current') !== null")
    assert current_turn(page) == ["turn-3"]
    page.evaluate(f"{AUDIO}.pause()")


def test_embed_renders_inside_an_iframe(
    page: Page, site: tuple[str, BuiltSite], browser: Browser, tmp_path: Path
) -> None:
    base, built = site
    oembed = json.loads((built.output / f"oembed/{SLUG}.json").read_text(encoding="utf-8"))
    host_dir = tmp_path / "host"
    host_dir.mkdir()
    (host_dir / "index.html").write_text(
        f'<!DOCTYPE html><html lang="en"><meta charset="utf-8"><title>host</title>'
        f'<link rel="icon" href="data:,">'
        f"<body><h1>A blog post</h1>{oembed['html']}</body></html>",
        encoding="utf-8",
    )
    # Another origin, as on a real third-party site.
    with running(make_server(host_dir, "127.0.0.1", 0)) as host:
        page.goto(host)
        frame_el = page.locator("iframe")
        box = frame_el.bounding_box()
        assert box is not None and (box["width"], box["height"]) == (640, 360)
        frame = page.frame_locator("iframe")
        assert frame.locator("h1").inner_text() == built.episode.title
        frame.locator("audio[data-player]").wait_for()
        inner = frame_el.element_handle().content_frame()
        assert inner is not None and inner.url == f"{base}embed/{SLUG}.html"
        record_seeks(inner)
        assert abs(inner.evaluate(f"{AUDIO}.duration") - DURATION) <= TOLERANCE
        frame.locator("[data-chapter] button").nth(1).click()
        assert abs(last_seek(inner) - CHAPTERS[1].start) <= TOLERANCE
        inner.evaluate(f"{AUDIO}.pause()")
        # Compact: the player fits the iframe without scrolling the page inside it.
        assert inner.evaluate("document.documentElement.scrollHeight") <= 360
        assert inner.evaluate("document.documentElement.scrollWidth") <= 640


@pytest.mark.parametrize(("name", "width", "height"), [("episode", 1024, 800), ("phone", 390, 844)])
def test_screenshot_and_fits_the_screen(
    browser: Browser, site: tuple[str, BuiltSite], name: str, width: int, height: int
) -> None:
    base, built = site
    context = browser.new_context(viewport={"width": width, "height": height})
    try:
        pg = context.new_page()
        pg.goto(f"{base}episodes/{SLUG}/")
        pg.wait_for_function(f"{AUDIO}.readyState >= 1")
        pg.evaluate(f"{AUDIO}.currentTime = {TURNS[3].start + 0.5}")
        pg.wait_for_function("document.querySelector('#turn-4.current') !== null")
        assert pg.evaluate("document.documentElement.scrollWidth") <= width, "horizontal scroll"
        shot = built.output / "screenshots" / f"{name}.png"
        shot.parent.mkdir(exist_ok=True)
        pg.screenshot(path=str(shot), full_page=True)
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        keep = os.environ.get("PANGOCAST_SCREENSHOTS")
        if keep:
            Path(keep).mkdir(parents=True, exist_ok=True)
            shutil.copy(shot, Path(keep) / shot.name)
    finally:
        context.close()


@pytest.mark.parametrize(
    ("fragment", "start", "end"),
    [("t=3", 3.0, None), ("t=2.5,4", 2.5, 4.0), ("t=npt:0:03,0:05", 3.0, 5.0)],
)
def test_media_fragment_starts_and_stops_playback(
    page: Page, site: tuple[str, BuiltSite], fragment: str, start: float, end: float | None
) -> None:
    """A shared link (#t=SECONDS, Media Fragments #t=start,end) plays just that span."""
    base, _ = site
    page.goto(f"{base}episodes/{SLUG}/#{fragment}")
    page.wait_for_function(f"{AUDIO}.readyState >= 1")
    assert abs(page.evaluate(f"{AUDIO}.currentTime") - start) <= 0.05
    page.evaluate(f"{AUDIO}.play()")
    if end is None:
        page.wait_for_function(f"{AUDIO}.currentTime > {start + 0.5}")
        page.evaluate(f"{AUDIO}.pause()")
        return
    page.wait_for_function(f"{AUDIO}.paused && {AUDIO}.currentTime >= {end}", timeout=15000)
    assert page.evaluate(f"{AUDIO}.currentTime") <= end + 0.5


# --- search (Pagefind) over a two-episode show -----------------------------------------


@pytest.fixture(scope="module")
def search_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, SearchSite]]:
    """The two-episode show with its search index, served."""
    yield from served(tmp_path_factory, "search", build_search_site)


def search(page: Page, query: str) -> list[str]:
    """Type ``query`` in the search box; the titles of the episodes found."""
    page.fill("#search-input", query)
    page.wait_for_function(
        "q => { const box = document.querySelector('[data-search-results]');"
        " return !box.hidden && box.querySelector('.search-status') &&"
        " document.querySelector('#search-input').value === q; }",
        arg=query,
    )
    page.wait_for_timeout(400)  # a result for a shorter prefix may still be replaced
    titles: list[str] = page.eval_on_selector_all(".search-title", "els => els.map(e => e.text)")
    return titles


def play_first_hit(page: Page, word: str) -> float:
    """Click the first hit; once the audio plays, the position it started from (s)."""
    hits = page.locator("a.search-hit[data-play]")
    texts = hits.all_inner_texts()
    assert texts and all(word in t for t in texts), texts
    hits.first.click()
    page.wait_for_function(f"{AUDIO} && !{AUDIO}.paused && {AUDIO}.currentTime > 0")
    position: float = page.evaluate(f"{AUDIO}.currentTime")
    page.evaluate(f"{AUDIO}.pause()")
    return position


def test_search_a_chinese_word_plays_the_one_episode_where_it_is_spoken(
    page: Page, search_site: tuple[str, SearchSite]
) -> None:
    base, built = search_site
    spoken = built.cue_start(EPISODE_A.slug, ONLY_IN_A)
    turn = next(t for t in EPISODE_A.turns if ONLY_IN_A in t.text)
    assert spoken - turn.start > 10, "the fixture must tell a caption from its turn"
    page.goto(base)
    assert sorted(search(page, IN_BOTH)) == sorted([EPISODE_A.title, EPISODE_B.title])
    assert search(page, ONLY_IN_A) == [EPISODE_A.title]
    position = play_first_hit(page, ONLY_IN_A)
    assert page.url.startswith(f"{base}episodes/{EPISODE_A.slug}/#t=")
    assert abs(position - spoken) <= 2.0, (position, spoken)


def test_search_an_english_word_on_an_episode_page_plays_there(
    page: Page, search_site: tuple[str, SearchSite]
) -> None:
    base, built = search_site
    spoken = built.cue_start(EPISODE_B.slug, ONLY_IN_B)
    page.goto(f"{base}episodes/{EPISODE_B.slug}/")
    page.wait_for_function(f"{AUDIO}.readyState >= 1")
    assert search(page, ONLY_IN_B.lower()) == [EPISODE_B.title]
    position = play_first_hit(page, ONLY_IN_B)
    assert page.url == f"{base}episodes/{EPISODE_B.slug}/#t={spoken:g}"
    assert abs(position - spoken) <= 2.0, (position, spoken)
