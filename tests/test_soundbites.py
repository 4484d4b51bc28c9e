"""Soundbites from the pull quotes: where each is spoken, 15-60 s, in the feed and the page.

Unit tests on placed turns, and one real build (offline English voice) of a script with a
pull quote: the soundbite's span holds the sentence's WebVTT cue.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from lxml import etree

from pangocast import init_show
from pangocast.core.models import TimedTurn
from pangocast.core.project import Project
from pangocast.pipeline.build import BuildOptions, build
from pangocast.publish.feed_ext import PODCAST_NS
from pangocast.publish.soundbites import MAX_SECONDS, MIN_SECONDS, soundbites
from tests.english_script import HEADER


def turn(start: float, end: float, text: str, kind: str = "speech") -> TimedTurn:
    return TimedTurn(start, end, "Ben", "guest", kind, text)


def test_a_short_turn_is_widened_to_fifteen_seconds_with_the_next() -> None:
    turns = [
        turn(0, 5, "Hello there."),
        turn(5, 11, "A feature is a promise you make for ten years."),
        turn(11, 30, "So we say no a lot, and we write it down."),
    ]
    (bite,) = soundbites(turns, ["A feature is a promise you make for ten years."], 30)
    assert bite.start == 5 and MIN_SECONDS <= bite.duration <= MAX_SECONDS
    assert bite.title == "A feature is a promise you make for ten years."


def test_a_long_turn_is_cut_to_a_minute_around_the_quote() -> None:
    words = " ".join(f"word{i}." for i in range(200))
    text = f"{words} The quote sits here in the middle. {words}"
    (bite,) = soundbites([turn(0, 300, text)], ["The quote sits here in the middle."], 300)
    assert bite.duration == MAX_SECONDS
    assert bite.start < 150 < bite.end  # the quote is spoken halfway through


def test_quotes_not_spoken_or_too_long_give_none() -> None:
    turns = [turn(0, 100, "Something else entirely.")]
    assert soundbites(turns, ["Never said."], 100) == ()
    chapter = [turn(0, 100, "A title line", "chapter")]
    assert soundbites(chapter, ["A title line"], 100) == ()
    long_quote = "x " * 10
    assert soundbites([turn(0, 200, long_quote)], [long_quote], 200) == ()  # 200 s of it


SCRIPT = (
    HEADER
    + """
Ana Ruiz: Why do you say no so often to the people who use your library every
day?

Ben Okoro: Because every feature is a promise. A feature is a promise you make for
ten years, and I would rather keep a few promises than break many of them.

> A feature is a promise you make for ten years.

Ana Ruiz: And what do you say yes to, when a stranger opens a pull request on a
quiet Sunday?

Ben Okoro: Fixes with a test, clear documentation, and anything that makes the library smaller.
"""
)


def _seconds(stamp: str) -> float:
    h, m, s = ([0.0] + [float(x) for x in stamp.split(":")])[-3:]
    return h * 3600 + m * 60 + s


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """output/ of a real build (offline English voice) of the script with a pull quote."""
    root = tmp_path_factory.mktemp("bites") / "show"
    init_show(root, title="Bite Talk", language="en")
    (root / "scripts" / "01-small-library.txt").write_text(SCRIPT, encoding="utf-8")
    project = Project(root)
    build(project, BuildOptions(jobs=1, engine="espeak"))
    return project.output


def _feed_bite(out: Path) -> tuple[float, float, str]:
    feed = etree.fromstring((out / "feed.xml").read_bytes())
    (bite,) = feed.findall(f"channel/item/{{{PODCAST_NS}}}soundbite")
    return float(bite.get("startTime")), float(bite.get("duration")), bite.text


def test_a_built_episode_has_its_pull_quote_as_a_soundbite(built: Path) -> None:
    out = built
    start, duration, title = _feed_bite(out)
    assert title == "A feature is a promise you make for ten years."
    assert MIN_SECONDS <= duration <= MAX_SECONDS

    vtt = next(out.rglob("*.vtt")).read_text(encoding="utf-8")
    cues = re.findall(r"([\d:.]+) --> ([\d:.]+)\n(.*?)(?:\n\n|\Z)", vtt, re.S)
    spoken = [(_seconds(a), _seconds(b)) for a, b, text in cues if "ten years" in text]
    assert spoken, vtt
    a, b = spoken[0]
    assert start <= a + 0.5 and b <= start + duration + 0.5  # the clip holds the sentence

    page = next(out.glob("episodes/*/index.html")).read_text(encoding="utf-8")
    assert 'class="soundbites"' in page and f'data-seek="{start:g}"' in page.replace(".000", "")
    assert "A feature is a promise you make for ten years." in page


PARTYTIME = Path(__file__).resolve().parent / "js"
"""tests/js: podcast-partytime pinned by its package-lock.json (``make install`` runs
``npm ci`` there) and the script that runs it on a feed."""


def test_podcast_index_parser_reads_the_soundbite(built: Path) -> None:
    """Podcast Index's own parser (podcast-partytime, under Node) reads the soundbite."""
    node = shutil.which("node")
    assert node, "needs Node.js (the Makefile's install runs npm ci in tests/js)"
    assert (PARTYTIME / "node_modules" / "podcast-partytime").is_dir(), (
        "run 'make install' (npm ci --prefix tests/js)"
    )
    done = subprocess.run(
        [node, str(PARTYTIME / "partytime_check.mjs"), str(built / "feed.xml")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    (item,) = json.loads(done.stdout)
    start, duration, title = _feed_bite(built)
    assert item["soundbites"] == [
        {"startTime": pytest.approx(start), "duration": pytest.approx(duration), "title": title}
    ]
