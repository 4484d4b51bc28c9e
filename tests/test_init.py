"""A show has a language: ``pangocast init``, the message catalogues, and an English show
built offline end to end."""

from __future__ import annotations

import datetime as dt
import itertools
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from pangocast import init_show
from pangocast.core.errors import InputError
from pangocast.core.messages import language_notice, messages_for
from pangocast.core.project import Project, load_show
from pangocast.pipeline.build import BuildOptions, build
from pangocast.publish.shownotes import show_notes
from pangocast.voice.casting import cast_sheet, load_casting
from pangocast.voice.engines import kokoro
from pangocast.voice.lexicon import load_lexicon
from tests.site_fixture import BuiltSite, build_site, make_episode

CJK = re.compile("[\u4e00-\u9fff]")

ENGLISH_SCRIPT = """+++
title = "Open source at scale"
slug = "open-source"
date = 2019-07-24
host = "Jane"
guests = ["John"]
narrator = "Narrator"
summary = "Jane talks with John about running a community."
+++

Narrator: Welcome to the show.

# Getting started

Jane: How did you start?

John: I fixed a typo in the docs.
"""


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pangocast_cli", *args], capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize(("language", "engine"), [("zh-cn", "neural"), ("en", "kokoro")])
def test_init_makes_a_show_that_loads(tmp_path: Path, language: str, engine: str) -> None:
    root = tmp_path / "show"
    made = init_show(root, title="My Show", language=language, author="Jane Doe")
    project = Project(root)
    show = load_show(project)
    assert (show.title, show.language, show.author, show.engine) == (
        "My Show",
        language,
        "Jane Doe",
        engine,
    )
    assert show.timezone == "UTC" and show.owner_name == "Jane Doe"
    assert made.engine == engine and engine in made.engines
    casting = load_casting(project.voices)
    assert set(casting.engines) == set(made.engines)
    for rules in casting.engines.values():  # narrator, host and each guest sound different
        voices = [rules.narrator, rules.host, *rules.guests]
        assert len(set(voices)) == len(voices)
    load_lexicon(project.voices)
    assert project.scripts.is_dir() and not any(project.scripts.iterdir())
    assert (project.audio / "sting.wav").stat().st_size > 1000
    assert (project.audio / "music.wav").stat().st_size > 1000
    assert "output/" in (root / ".gitignore").read_text(encoding="utf-8")
    assert project.script_files() == []


def test_each_init_gets_its_own_podcast_guid(tmp_path: Path) -> None:
    init_show(tmp_path / "a")
    init_show(tmp_path / "b")
    guids = {load_show(Project(tmp_path / n)).podcast_guid for n in "ab"}
    assert len(guids) == 2


def test_english_show_casts_no_mandarin_engine(tmp_path: Path) -> None:
    init_show(tmp_path / "en", language="en-GB")
    casting = load_casting(tmp_path / "en" / "voices")
    assert "neural" not in casting.engines  # the neural voice speaks only Mandarin
    assert casting.for_engine("espeak").host.id.startswith("en")
    assert casting.for_engine("kokoro").host.id in kokoro.VOICES


def test_a_folder_with_files_is_refused_and_left_alone(tmp_path: Path) -> None:
    root = tmp_path / "busy"
    root.mkdir()
    (root / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(InputError, match="not empty") as info:
        init_show(root)
    assert "--force" in (info.value.hint or "")
    assert [p.name for p in root.iterdir()] == ["notes.txt"]
    init_show(root, force=True)
    assert (root / "feeds" / "show.toml").is_file()
    assert (root / "notes.txt").read_text(encoding="utf-8") == "mine"


def test_cli_init_refuses_a_busy_folder_and_an_unknown_language(tmp_path: Path) -> None:
    ok = _cli("init", str(tmp_path / "new"), "--title", "T", "--language", "en")
    assert ok.returncode == 0, ok.stderr
    assert "kokoro" in ok.stdout
    busy = _cli("init", str(tmp_path / "new"))
    assert busy.returncode == 1
    assert busy.stderr.splitlines() == [busy.stderr.strip()]
    assert busy.stderr.startswith("error: ") and "--force" in busy.stderr
    for bad, expect in (("xx", "no voices or interface text"), ("not a tag", "not a language")):
        result = _cli("init", str(tmp_path / "other"), "--language", bad)
        assert result.returncode != 0
        lines = result.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
        assert expect in lines[0] and "en, zh" in lines[0]
    assert not (tmp_path / "other").exists()


def test_catalogue_lookup_and_fallback() -> None:
    zh, en = messages_for("zh-CN"), messages_for("en")
    assert messages_for("zh_TW").language == "zh" and messages_for("cmn").language == "zh"
    assert messages_for("fr-CA").language == "en"  # no catalogue: English
    assert language_notice("fr-CA") is not None and language_notice("en-GB") is None
    assert zh.names(["杨镭", "叶理灯", "余淮"]) == "杨镭、叶理灯、余淮"
    assert en.names(["Jane", "John", "Joan"]) == "Jane, John and Joan"
    assert en.names(["Jane"]) == "Jane" and en.names([]) == ""
    assert zh.date(dt.date(2019, 7, 24)) == "2019年7月24日"
    assert en.date(dt.date(2019, 7, 24)) == "24 July 2019"
    assert zh("intro") == "{show}。本期嘉宾：{guests}。{title}。"
    assert en("play_from", time="1:02", speaker="Jane") == "Play from 1:02 (Jane)"


def test_show_notes_follow_the_language() -> None:
    ep = make_episode()
    zh = show_notes(ep).text
    en = show_notes(ep, language="en").text
    assert "主持：老王" in zh and "章节" in zh
    assert "Host: 老王" in en and "\nChapters\n" in en and "Guests: " in en
    html = show_notes(ep, link="https://example.org/", language="en").html
    assert "<strong>Host</strong>: 老王" in html and "<h3>Chapters</h3>" in html
    assert ">Listen to this episode and read the transcript</a>" in html


@pytest.fixture
def zh_site(tmp_path: Path) -> BuiltSite:
    return build_site(tmp_path / "output", "https://example.org/show/")


def test_chinese_show_keeps_chinese_interface_text(zh_site: BuiltSite) -> None:
    page = (zh_site.output / "episodes" / "ep-1" / "index.html").read_text(encoding="utf-8")
    index = (zh_site.output / "index.html").read_text(encoding="utf-8")
    for html in (page, index):
        assert '<html lang="zh-CN">' in html and "跳到正文" in html
    assert "文字稿" in page and ">章节</h2>" in page and "<dt>嘉宾</dt>" in page
    assert "2026年11月1日" in page and 'datetime="2026-11-01"' in page
    assert "全部节目" in index and 'data-copied="已复制"' in index


def test_an_english_show_builds_offline_in_english(tmp_path: Path) -> None:
    root = tmp_path / "talk"
    init_show(root, title="Open Talk", language="en", author="Jane Doe")
    (root / "scripts" / "01-open-source.txt").write_text(ENGLISH_SCRIPT, encoding="utf-8")
    project = Project(root)
    # espeak, for speed: the show's own engine (kokoro) builds the roundtable below.
    report = build(project, BuildOptions(jobs=1, engine="espeak"))
    assert [e.status for e in report.episodes] == ["built"]
    out = project.output

    (vtt,) = out.rglob("*.vtt")
    text = vtt.read_text(encoding="utf-8")
    assert "<v Jane>" in text and "<v John>" in text
    assert "Open Talk. With John. Open source at scale." in text  # the English intro

    pages = [out / "index.html", *out.glob("episodes/*/index.html"), *out.glob("embed/*.html")]
    assert len(pages) == 3
    for page in pages:
        html = page.read_text(encoding="utf-8")
        assert '<html lang="en"' in html, page
        assert not CJK.search(html), (page, CJK.findall(html)[:10])
    episode = next(out.glob("episodes/*/index.html")).read_text(encoding="utf-8")
    assert ">Transcript</h2>" in episode and "24 July 2019" in episode
    feed = (out / "feed.xml").read_text(encoding="utf-8")
    assert "<language>en</language>" in feed
    assert not CJK.search(feed)


def test_a_language_that_is_no_tag_is_one_error_naming_its_line(tmp_path: Path) -> None:
    from pangocast.core.errors import ConfigError

    init_show(tmp_path / "s")
    toml = tmp_path / "s" / "feeds" / "show.toml"
    toml.write_text(
        toml.read_text(encoding="utf-8").replace('language = "en"', 'language = "English"'),
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match="not a language tag") as info:
        load_show(Project(tmp_path / "s"))
    assert info.value.line is not None and "en-GB" in (info.value.hint or "")


SHORT_INTERVIEW = """A Small Library

Interview by Ana Ruiz

Ana Ruiz talked to Ben Okoro, who maintains a small date library, about saying no.

Ana Ruiz: Why do you say no so often?

Ben Okoro: Because every feature is a promise. (laughs)

Ruiz: And what do you say yes to?

Okoro: Fixes with a test.
"""


def test_init_import_build_an_english_interview_with_the_cli(tmp_path: Path) -> None:
    """The issue's acceptance path: init --language en, import an English article, build."""
    root = tmp_path / "show"
    made = _cli("init", str(root), "--language", "en", "--title", "Small Talk")
    assert made.returncode == 0, made.stderr
    article = tmp_path / "small-library.txt"
    article.write_text(SHORT_INTERVIEW, encoding="utf-8")
    imported = _cli("--project", str(root), "import", str(article))
    assert imported.returncode == 0, imported.stderr
    built = _cli("--project", str(root), "--quiet", "build", "--jobs", "1", "--engine", "espeak")
    assert built.returncode == 0, built.stderr
    out = root / "output"
    (vtt,) = out.rglob("*.vtt")
    text = vtt.read_text(encoding="utf-8")
    assert "<v Ana Ruiz>" in text and "<v Ben Okoro>" in text
    assert "laughs" not in text  # a stage direction is never spoken nor transcribed
    for page in [out / "index.html", *out.glob("episodes/*/index.html")]:
        html = page.read_text(encoding="utf-8")
        assert '<html lang="en"' in html, page
        assert not CJK.search(html), (page, CJK.findall(html)[:10])
    feed = (out / "feed.xml").read_text(encoding="utf-8")
    assert "<language>en</language>" in feed and "<title>A Small Library</title>" in feed


ROUNDTABLE = """+++
title = "Shipping on a schedule"
slug = "schedule"
date = 2024-03-05
host = "Jane Doe"
guests = ["John Roe", "Mary Major"]
narrator = "Narrator"
+++

Narrator: This week, three people who ship software on time.

Jane Doe: What changed when you moved to Kubernetes?

John Roe: Our API releases went from monthly to weekly.

Mary Major: And we publish every build of v2.1 on GitHub.
"""


def test_an_english_roundtable_has_distinct_kokoro_voices(tmp_path: Path) -> None:
    from pangocast.script.catalogue import load_episodes
    from pangocast.voice.engines import get_engine
    from pangocast.voice.plan import Planner
    from pangocast.voice.segments import SegmentCache
    from tests.audio_measure import f0_track

    root = tmp_path / "round"
    init_show(root, title="Roundtable", language="en")
    (root / "scripts" / "01-schedule.txt").write_text(ROUNDTABLE, encoding="utf-8")
    project = Project(root)
    report = build(project, BuildOptions(jobs=1))  # offline, with the show's engine: kokoro
    assert [e.status for e in report.episodes] == ["built"]

    sheet = cast_sheet(project, "schedule", "kokoro")
    voices = {e.speaker: e.voice.id for e in sheet.entries}
    assert set(voices) == {"Narrator", "Jane Doe", "John Roe", "Mary Major"}
    assert len(set(voices.values())) == 4 and not sheet.warnings

    # The cached segments of each speaker: measurably different voices.
    show = load_show(project)
    planner = Planner(
        get_engine("kokoro"),
        load_casting(project.voices).for_engine("kokoro"),
        load_lexicon(project.voices),
        language="en",
    )
    (episode,) = load_episodes(project)
    plan = planner.plan_in_show(episode, show)
    cache = SegmentCache(project.segments)
    median_f0: dict[str, float] = {}
    for tp in plan.turns:
        clips = [cache.get(s.job.key) for s in tp.sentences if s.job is not None]
        f0 = np.concatenate([f0_track(c) for c in clips if c is not None])
        median_f0[tp.turn.speaker] = float(np.median(f0))
    ordered = sorted(median_f0.values())
    assert len(ordered) == 4
    # A man (under 150 Hz) and women at distinct pitches: at least three distinct voices.
    assert ordered[0] < 150 < ordered[1]
    distinct = [b / a for a, b in itertools.pairwise(ordered)]
    assert sum(r > 1.05 for r in distinct) >= 2, median_f0
