"""The episode script format: round trip, the continuation rule, and every bad input."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pangocast.core.errors import PangocastError, ScriptError
from pangocast.core.models import EpisodeMeta, Turn
from pangocast.script.format import is_script, load_script, parse_script, render_script

HEADER = """+++
title = "测试"
slug = "test-ep"
date = 2019-07-01
host = "老王"
guests = ["杨镭", "叶理灯"]
summary = "一期测试节目。"
+++
"""


def script(body: str, header: str = HEADER) -> str:
    return header + "\n" + body


def test_round_trip_keeps_every_turn() -> None:
    meta = EpisodeMeta(
        title="测试:两位嘉宾",
        slug="two-guests",
        date=dt.date(2019, 7, 4),
        host="记者",
        guests=("杨镭", "叶理灯"),
        summary='有"引号"和\\反斜杠',
        episode=3,
        speakers={"赵某": "guest"},
    )
    turns = [
        Turn("speech", "narrator", "旁白", "开场白。"),
        Turn("chapter", "narrator", "旁白", "第一章 “开始”"),
        Turn("speech", "host", "记者", "你好?"),
        Turn("speech", "guest", "杨镭", "受访者:不是标签,是正文。"),
        Turn("speech", "guest", "叶理灯", "# 不是标题"),
        Turn("highlight", "narrator", "旁白", "一句金句。"),
        Turn("skip", "narrator", "旁白", "【图:现场】"),
        Turn("speech", "guest", "赵某", "第三方。"),
        Turn("speech", "narrator", "旁白", "栏目介绍。", outro=True),
    ]
    text = render_script(meta, turns)
    ep = parse_script(text, "x.txt")
    assert ep.meta == meta
    assert [(t.kind, t.role, t.speaker, t.text, t.outro) for t in ep.turns] == [
        (t.kind, t.role, t.speaker, t.text, t.outro) for t in turns
    ]
    assert is_script(text)
    assert "\n[outro]\n" in text
    assert render_script(ep.meta, ep.turns) == text


def test_continuation_rule() -> None:
    ep = parse_script(
        script(
            "开场。\n\n老王:第一问?\n\n杨镭:第一答。\n\n还是杨镭。\n\n"
            "# 第一章\n\n仍是杨镭。\n\n[outro]\n\n栏目介绍。\n"
        ),
        "x.txt",
    )
    assert [(t.speaker, t.role, t.kind, t.outro) for t in ep.turns] == [
        ("旁白", "narrator", "speech", False),
        ("老王", "host", "speech", False),
        ("杨镭", "guest", "speech", False),
        ("杨镭", "guest", "speech", False),
        ("旁白", "narrator", "chapter", False),
        ("杨镭", "guest", "speech", False),
        ("旁白", "narrator", "speech", True),
    ]
    assert [t.line for t in ep.turns] == [10, 12, 14, 16, 18, 20, 24]


def test_wrapped_lines_are_joined() -> None:
    ep = parse_script(script("杨镭:第一行\n第二行 with\nLatin words\n"), "x.txt")
    assert ep.turns[0].text == "第一行第二行 with Latin words"


def test_without_outro_drops_the_outro() -> None:
    ep = parse_script(script("杨镭:正文。\n\n[outro]\n\n旁白:片尾。\n"), "x.txt")
    assert [t.text for t in ep.without_outro().turns] == ["正文。"]


def _error(text: str, tmp_path: Path) -> ScriptError:
    path = tmp_path / "01-bad.txt"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ScriptError) as exc:
        load_script(path)
    assert str(path) in str(exc.value)
    return exc.value


@pytest.mark.parametrize("key", ["title", "slug", "date", "host", "guests"])
def test_missing_metadata_field(tmp_path: Path, key: str) -> None:
    header = "\n".join(ln for ln in HEADER.split("\n") if not ln.startswith(f"{key} ="))
    err = _error(script("杨镭:你好。\n", header), tmp_path)
    assert f"'{key}' is missing" in err.what
    assert err.line == 2
    assert err.hint and key in err.hint


def test_malformed_metadata_names_the_line(tmp_path: Path) -> None:
    err = _error(script("杨镭:你好。\n", HEADER.replace('host = "老王"', "host = 老王")), tmp_path)
    assert "malformed metadata" in err.what
    assert err.line == 5
    assert err.where == f"{tmp_path / '01-bad.txt'}:5"


def test_unknown_speaker_label(tmp_path: Path) -> None:
    err = _error(script("杨镭:你好。\n\n王五:我是谁?\n"), tmp_path)
    assert "unknown speaker '王五'" in err.what
    assert err.line == 12
    assert err.hint and "guests" in err.hint


def test_prose_colon_is_not_a_label(tmp_path: Path) -> None:
    ep = parse_script(script("杨镭:你好。\n\n具体来说:这是正文。\n"), "x.txt")
    assert ep.turns[1].speaker == "杨镭"


def test_empty_episode(tmp_path: Path) -> None:
    err = _error(script("# 只有标题\n\n> 只有金句\n"), tmp_path)
    assert "nothing to say" in err.what
    assert err.line == 8


def test_no_header(tmp_path: Path) -> None:
    err = _error("杨镭:你好。\n", tmp_path)
    assert "no metadata header" in err.what
    assert err.line == 1


def test_unclosed_header(tmp_path: Path) -> None:
    err = _error(HEADER.rsplit("+++", 1)[0], tmp_path)
    assert "not closed" in err.what
    assert err.line == 1


@pytest.mark.parametrize("slug", ["../etc", "a/b", "Upper", "has space", "-lead"])
def test_bad_slug(tmp_path: Path, slug: str) -> None:
    err = _error(script("杨镭:你好。\n", HEADER.replace('"test-ep"', f'"{slug}"')), tmp_path)
    assert "slug" in err.what
    assert err.line == 3


@pytest.mark.parametrize("date", ['"2019-13-01"', '"yesterday"', "2019"])
def test_bad_date(tmp_path: Path, date: str) -> None:
    err = _error(script("杨镭:你好。\n", HEADER.replace("2019-07-01", date)), tmp_path)
    assert "not a date" in err.what
    assert err.line == 4
    assert err.hint == "write date = YYYY-MM-DD"


def test_bad_guests_and_unknown_field(tmp_path: Path) -> None:
    err = _error(script("杨镭:你好。\n", HEADER.replace('["杨镭", "叶理灯"]', '[""]')), tmp_path)
    assert "guests" in err.what
    assert err.line == 6
    err = _error(script("杨镭:你好。\n", HEADER.replace("+++\n", "+++\ncolour = 1\n", 1)), tmp_path)
    assert "unknown metadata field 'colour'" in err.what
    assert err.line == 2


def test_empty_turn_after_label(tmp_path: Path) -> None:
    err = _error(script("杨镭:\n"), tmp_path)
    assert "empty turn for '杨镭'" in err.what
    assert err.line == 10


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "gbk.txt"
    path.write_bytes(script("杨镭:你好。\n").encode("gbk"))
    with pytest.raises(ScriptError, match="not UTF-8") as exc:
        load_script(path)
    assert exc.value.line is not None


_BODY = st.text(
    alphabet='老王杨镭旁白王五:::#>%+[]outro“”"=\n\n \tabc123,。?', max_size=300
) | st.text(max_size=200)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_BODY, st.booleans())
def test_parse_script_raises_only_project_errors(body: str, with_header: bool) -> None:
    text = script(body) if with_header else body
    try:
        ep = parse_script(text, "random.txt")
    except PangocastError:
        return
    assert ep.meta is not None
    assert any(t.kind == "speech" for t in ep.turns)
