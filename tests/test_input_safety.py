"""Hostile and malformed input: odd encodings and line ends, long and empty turns, unknown
speakers, bad dates and slugs, duplicate slugs, control characters, markup in every field.

Each input either builds with correctly escaped output, or stops the command with one line,
``error: <what> (<file>:<line>): <what to do>``, exit code 1, no traceback and nothing written
under ``output/``. GBK scripts are refused, not guessed (see README, "The episode script").
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import feedparser
import mutagen.id3
import pytest
from lxml import etree, html

from pangocast.core.errors import InputError
from pangocast.core.models import TimedTurn
from pangocast.core.project import Project, load_show
from pangocast.ingest.article import read_article
from pangocast.pipeline.build import BuildOptions, build
from pangocast.publish.feed import render_feed
from pangocast.publish.manifest import BuiltEpisode, Manifest
from pangocast.publish.site import render_site
from pangocast.script.format import parse_script
from pangocast.voice.casting import load_casting
from pangocast.voice.engines import get_engine
from pangocast.voice.lexicon import load_lexicon
from pangocast.voice.plan import MAX_SENTENCE_CHARS, Planner
from tests.conftest import ROOT, TINY_SCRIPT
from tests.publish_oracle import SECOND, html_injections, new_show, problems

ESPEAK = BuildOptions(engine="espeak", jobs=1)

TITLE = "<script>alert('t')</script> & \"引号\" ]]> &amp; 标题"
SUMMARY = "<img src=x onerror=alert(1)> & 摘要 </description> ]]>"
HOSTILE = f"""+++
title = {json.dumps(TITLE, ensure_ascii=False)}
slug = "hostile"
date = 2019-07-01
host = "老王"
guests = ["A&B<i>", "杨镭<b>"]
summary = {json.dumps(SUMMARY, ensure_ascii=False)}
+++

旁白:欢迎收听 <b>粗体</b> & 更多。

# 第一章 <script>alert(2)</script>

老王:你好 </textarea><script>alert(3)</script>,请介绍一下自己。

A&B<i>:我在 UCloud 做技术 "quoted" & 'single'。

杨镭<b>:我也是 ]]> --> <!-- 。

> 金句 <a href="javascript:alert(4)">链接</a> onmouseover="alert(5)"
"""


def test_markup_in_every_field_is_escaped_in_feed_pages_transcripts_and_tags(
    tmp_path: Path,
) -> None:
    project = new_show(tmp_path / "show", {"01-hostile.txt": HOSTILE})
    build(project, ESPEAK)
    assert problems(project) == []
    out = project.output
    feed = (out / "feed.xml").read_bytes()
    item = etree.fromstring(feed).find("channel/item")
    assert item is not None and item.findtext("title") == TITLE
    parsed = feedparser.parse(feed)
    assert not parsed.bozo and parsed.entries[0].title == TITLE
    notes = item.findtext("{http://purl.org/rss/1.0/modules/content/}encoded") or ""
    assert SUMMARY in html.fragment_fromstring(notes, create_parent="div").text_content()
    assert html_injections(notes) == []
    pages = sorted(out.rglob("*.html"))
    assert len(pages) == 3
    for page in pages:
        data = page.read_bytes()
        assert html_injections(data) == [], page
    episode_page = (out / "episodes/hostile/index.html").read_text(encoding="utf-8")
    text = html.document_fromstring(episode_page).text_content()
    assert TITLE in text and "A&B<i>" in text and "</textarea><script>alert(3)</script>" in text
    vtt = next(out.glob("transcripts/*.vtt")).read_text(encoding="utf-8")
    assert "<script" not in vtt and "<b>" not in vtt and "<i>" not in vtt
    assert "&lt;script&gt;" in vtt
    spoken = json.loads(next(out.glob("transcripts/*.json")).read_text(encoding="utf-8"))
    assert any("</textarea><script>" in s["body"] for s in spoken["segments"])
    oembed = (out / "oembed/hostile.json").read_text(encoding="utf-8")
    assert "<" not in oembed and json.loads(oembed)["title"] == TITLE
    tags = mutagen.id3.ID3(next(out.glob("audio/*.mp3")))
    assert str(tags["TIT2"]) == TITLE


def _cli(
    project: Project, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> tuple[int, list[str]]:
    from pangocast_cli.app import main

    argv = ["pangocast", "--project", str(project.root), "--quiet", "build", "-e", "espeak"]
    monkeypatch.setattr(sys, "argv", [*argv, "--jobs", "1"])
    with pytest.raises(SystemExit) as exit_:
        main()
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    return int(exit_.value.code or 0), err


def _header(text: str, key: str, value: str) -> str:
    lines = text.splitlines(keepends=True)
    for i, line in enumerate(lines):
        if line.startswith(f"{key} ="):
            lines[i] = f"{key} = {value}\n"
            return "".join(lines)
    raise AssertionError(key)


def _gbk() -> bytes:
    return TINY_SCRIPT.encode("gbk")


# name -> (script bytes or text, expected text in the message, line the message names)
BAD_INPUTS: dict[str, tuple[str | bytes, str, int | None]] = {
    "gbk": (_gbk(), "it looks like GBK/GB18030", 2),
    "utf-16": (TINY_SCRIPT.encode("utf-16"), "file is UTF-16", 1),
    "empty turn": (TINY_SCRIPT + "\n老王:\n", "empty turn for '老王'", 20),
    "blank turn": (TINY_SCRIPT + "\n老王: \u3000 \n", "empty turn for '老王'", 20),
    "unknown speaker": (TINY_SCRIPT + "\n张三:你好。\n", "unknown speaker '张三'", 20),
    "impossible date": (_header(TINY_SCRIPT, "date", "2019-13-45"), "not a date", 4),
    "date as text": (_header(TINY_SCRIPT, "date", '"下周一"'), "not a date", 4),
    "date and bad time": (_header(TINY_SCRIPT, "date", "2019-07-01T25:00"), "not a date", 4),
    "slug with ../": (_header(TINY_SCRIPT, "slug", '"../../etc"'), "slug '../../etc'", 3),
    "slug with /": (_header(TINY_SCRIPT, "slug", '"a/b"'), "slug 'a/b'", 3),
    "slug with space": (_header(TINY_SCRIPT, "slug", '"my show"'), "slug 'my show'", 3),
    "slug empty": (_header(TINY_SCRIPT, "slug", '""'), "'slug' must be non-empty", 3),
    "control character": (TINY_SCRIPT + "\n老王:你\x07好。\n", "U+0007", 20),
    "NUL": (TINY_SCRIPT.replace("欢迎收听。", "欢迎\x00收听。"), "U+0000", 10),
    "control in title": (TINY_SCRIPT.replace("两位嘉宾", "两位\x1b嘉宾"), "U+001B", 2),
    "escaped control": (TINY_SCRIPT.replace("两位嘉宾", "两位\\u0007嘉宾"), "U+0007", 2),
    "no header": (TINY_SCRIPT.split("+++")[2], "no metadata header", 1),
    "header not closed": (TINY_SCRIPT.replace("+++\n\n", "\n"), "not closed", 1),
    "unknown field": (TINY_SCRIPT.replace("+++\n\n", 'titel = "x"\n+++\n\n'), "'titel'", 8),
    "nothing to say": (TINY_SCRIPT.split("旁白:")[0] + "> 只有金句\n", "nothing to say", 8),
    "empty heading": (TINY_SCRIPT + "\n#\n", "empty heading", 20),
    "guests not names": (_header(TINY_SCRIPT, "guests", "[1, 2]"), "guests must be", 6),
}


@pytest.mark.parametrize("name", sorted(BAD_INPUTS))
def test_bad_script_is_one_clear_error_line_naming_file_line_and_fix(
    name: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    content, expected, line = BAD_INPUTS[name]
    project = new_show(tmp_path / "show", {"02-second.txt": SECOND})
    script = project.scripts / "01-bad.txt"
    if isinstance(content, bytes):
        script.write_bytes(content)
    else:
        script.write_text(content, encoding="utf-8")
    code, err = _cli(project, monkeypatch, capsys)
    assert code == 1
    assert len(err) == 1 and err[0].startswith("error: "), err
    where = f"({script}:{line})" if line is not None else f"({script})"
    assert expected in err[0] and where in err[0], err[0]
    assert err[0].split(where, 1)[1].startswith(": "), "ends with what to do"
    assert not project.output.exists(), "nothing published"


def test_duplicate_slug_and_guid_name_the_second_script(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    twin = TINY_SCRIPT.replace("测试节目:两位嘉宾", "另一个标题")
    project = new_show(tmp_path / "show", {"01-tiny.txt": TINY_SCRIPT, "02-twin.txt": twin})
    code, err = _cli(project, monkeypatch, capsys)
    assert code == 1 and len(err) == 1
    assert "slug or guid 'tiny' is used by two scripts" in err[0]
    assert f"({project.scripts / '02-twin.txt'}:3): give every episode its own slug" in err[0]
    same_guid = SECOND.replace("+++\n\n", 'guid = "pangocast:tiny"\n+++\n\n')
    (project.scripts / "02-twin.txt").write_text(same_guid, encoding="utf-8")
    code, err = _cli(project, monkeypatch, capsys)
    assert code == 1 and "'pangocast:tiny' is used by two scripts" in err[0]
    assert f"({project.scripts / '02-twin.txt'}:8)" in err[0]


@pytest.mark.parametrize("name", ["gbk", "slug with ../"])
def test_bad_script_through_the_installed_command(name: str, tmp_path: Path) -> None:
    """A real ``python -m pangocast_cli`` process: exit 1, one stderr line, no traceback."""
    content, expected, _ = BAD_INPUTS[name]
    project = new_show(tmp_path / "show")
    script = project.scripts / "01-tiny.txt"
    if isinstance(content, bytes):
        script.write_bytes(content)
    else:
        script.write_text(content, encoding="utf-8")
    cmd = [sys.executable, "-m", "pangocast_cli", "--project", str(project.root), "build"]
    proc = subprocess.run([*cmd, "-e", "espeak"], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and expected in lines[0]
    assert "Traceback" not in proc.stderr
    debug = subprocess.run(
        [*cmd[:3], "--debug", *cmd[3:], "-e", "espeak"], capture_output=True, text=True, cwd=ROOT
    )
    assert debug.returncode == 1 and "Traceback" in debug.stderr, "--debug shows it"


@pytest.mark.parametrize("variant", ["bom", "crlf", "bom+crlf", "cr"])
def test_bom_and_windows_line_ends_build_like_plain_utf8(variant: str, tmp_path: Path) -> None:
    text = TINY_SCRIPT
    if "crlf" in variant:
        text = text.replace("\n", "\r\n")
    if variant == "cr":
        text = text.replace("\n", "\r")
    data = ("\ufeff" if "bom" in variant else "").encode() + text.encode("utf-8")
    path = tmp_path / "x.txt"
    plain = parse_script(TINY_SCRIPT, path)
    path.write_bytes(data)
    from pangocast.script.format import load_script

    assert load_script(path) == plain
    assert parse_script(data.decode("utf-8"), path) == plain


def test_bom_and_crlf_script_builds_clean_output(tmp_path: Path) -> None:
    project = new_show(tmp_path / "show", {})
    data = "\ufeff" + TINY_SCRIPT.replace("\n", "\r\n")
    (project.scripts / "01-tiny.txt").write_bytes(data.encode("utf-8"))
    build(project, ESPEAK)
    assert problems(project) == []
    out = project.output
    for f in [out / "feed.xml", *out.glob("transcripts/*"), out / "episodes/tiny/index.html"]:
        raw = f.read_bytes()
        assert b"\r" not in raw and "\ufeff".encode() not in raw, f


LONG_TURN = 20_000


def _long_text(n: int) -> str:
    """``n`` characters: half ordinary sentences, half one run with no punctuation at all."""
    prose = "我们相信云计算是长远的,技术人员要有工程能力,也要有价值观。"
    run = "开源社区的贡献者来自世界各地他们用代码交流"
    half = n // 2
    return ((prose * (half // len(prose) + 1))[:half] + (run * n)[: n - half]).rstrip("。")


def test_a_20000_character_turn_parses_plans_and_renders_quickly(tmp_path: Path) -> None:
    """One paragraph of 20,000 characters: parsed whole, split into bounded segments that
    give the text back, and rendered in feed, pages and notes (an hour of audio is too long
    for the suite; test_long_turn_builds builds a shorter one end to end)."""
    text = _long_text(LONG_TURN)
    started = time.monotonic()
    episode = parse_script(TINY_SCRIPT + f"\n杨镭:{text}\n", "long.txt")
    assert episode.turns[-1].text == text and len(text) == LONG_TURN
    project = new_show(tmp_path / "show", {})
    engine = get_engine("espeak")
    planner = Planner(
        engine, load_casting(project.voices).for_engine("espeak"), load_lexicon(project.voices)
    )
    plan = planner.plan(episode, show_title="节目")
    pieces = [s.text for s in plan.turns[-1].sentences]
    assert "".join(pieces) == text
    assert max(len(p) for p in pieces) <= MAX_SENTENCE_CHARS
    assert all(s.job is not None for s in plan.turns[-1].sentences)
    show = load_show(project)
    ep = BuiltEpisode(
        slug="long",
        guid="pangocast:long",
        title="长",
        date=episode.meta.date if episode.meta else None,  # type: ignore[arg-type]
        summary=text,
        host="老王",
        guests=("杨镭",),
        episode=1,
        season=None,
        episode_type="full",
        audio="audio/long-0123456789.mp3",
        audio_bytes=1,
        duration=3600.0,
        turns=(TimedTurn(0.0, 3600.0, "杨镭", "guest", "speech", text),),
    )
    manifest = Manifest((ep,), cover="images/cover-0123456789.png")
    etree.fromstring(render_feed(show, manifest))
    render_site(show, manifest, project.output)
    page = (project.output / "episodes/long/index.html").read_text(encoding="utf-8")
    assert text in page
    assert time.monotonic() - started < 10, "no quadratic blow-up on long text"


def test_long_turn_without_punctuation_builds(tmp_path: Path) -> None:
    """A real build of one 240-character paragraph with no punctuation at all (split hard
    into segments of at most 120 characters)."""
    text = _long_text(480)[240:]
    assert len(text) == 240 and not any(ch in text for ch in ",。,.")
    project = new_show(tmp_path / "show", {})
    (project.scripts / "01-long.txt").write_text(TINY_SCRIPT + f"\n杨镭:{text}\n", encoding="utf-8")
    report = build(project, ESPEAK)
    assert report.episodes[0].status == "built"
    assert problems(project) == []
    spoken = json.loads(next(project.output.glob("transcripts/*.json")).read_text("utf-8"))
    assert text in "".join(seg["body"] for seg in spoken["segments"])


@pytest.mark.parametrize(
    ("rel", "load"),
    [
        ("feeds/show.toml", lambda root: load_show(Project(root))),
        ("voices/casting.toml", lambda root: load_casting(root / "voices")),
        ("voices/lexicon.toml", lambda root: load_lexicon(root / "voices")),
        ("article.txt", lambda root: read_article(root / "article.txt")),
    ],
)
@pytest.mark.parametrize("codec", ["gb18030", "utf-16"])
def test_every_file_a_user_writes_is_refused_the_same_way_in_another_encoding(
    show_dir: Path, rel: str, load: Callable[[Path], object], codec: str
) -> None:
    path = show_dir / rel
    text = path.read_text(encoding="utf-8") if path.exists() else "老王:你好。\n"
    path.write_bytes(("# 中文注释\n" + text).encode(codec))
    with pytest.raises(InputError) as caught:  # ConfigError and ScriptError are InputErrors
        load(show_dir)
    line = caught.value.one_line()
    assert "not UTF-8" in line and "iconv -f" in line and path.name in line
    assert "GB18030" in line if codec == "gb18030" else "UTF-16" in line
