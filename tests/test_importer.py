"""``import_source``: one script per episode, idempotent, never clobbers a producer's edits."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path

import pytest

from pangocast.core.errors import InputError
from pangocast.core.models import Episode, Turn
from pangocast.ingest.importer import guess_date, import_source, make_slug
from pangocast.script.format import load_script

CORPUS = Path(__file__).parent / "data" / "chuanshanjia.txt"
NAMES = [
    "01-yu-huai.txt",
    "02-zhou-xiao-si.txt",
    "03-wang-xu.txt",
    "04-ye-li-deng.txt",
    "05-lu-zhi.txt",
    "06-yang-lei.txt",
]


@pytest.fixture
def imported(tmp_path: Path) -> Path:
    out = tmp_path / "scripts"
    report = import_source(CORPUS, out)
    assert sorted(p.name for p in report.written) == NAMES
    return out


def test_writes_six_loadable_scripts(imported: Path) -> None:
    metas = [load_script(imported / n).meta for n in NAMES]
    assert all(m is not None for m in metas)
    guests = [m.guests for m in metas if m is not None]
    assert guests == [("余淮",), ("周小四",), ("王旭",), ("叶理灯",), ("鲁直",), ("杨镭",)]
    hosts = [m.host for m in metas if m is not None]
    assert hosts == ["老王", "老王", "老王", "记者", "老王", "老王"]
    first = metas[0]
    assert first is not None
    assert first.title.startswith("穿山甲专访:余淮")
    assert first.episode == 1
    assert first.summary and len(first.summary) <= 101
    text = (imported / "06-yang-lei.txt").read_text(encoding="utf-8")
    assert "\n老王:是否可以请先介绍一下" in text
    assert "\n[outro]\n" in text


def test_rerun_is_byte_identical(imported: Path, tmp_path: Path) -> None:
    before = {n: (imported / n).read_bytes() for n in NAMES}
    report = import_source(CORPUS, imported)
    assert report.written == [] and report.kept == []
    assert sorted(p.name for p in report.unchanged) == NAMES
    assert {n: (imported / n).read_bytes() for n in NAMES} == before
    other = import_source(CORPUS, tmp_path / "again")
    assert {p.name: p.read_bytes() for p in other.written} == before


def test_edited_script_is_kept_unless_forced(imported: Path) -> None:
    path = imported / "03-wang-xu.txt"
    edited = path.read_text(encoding="utf-8").replace(
        'title = "穿山甲专访:王旭谈 runV"', 'title = "王旭:开源是一件向死而生的事情"'
    )
    assert edited != path.read_text(encoding="utf-8")
    path.write_text(edited, encoding="utf-8")
    report = import_source(CORPUS, imported)
    assert report.kept == [path]
    kept = [w for w in report.warnings if w.what.startswith("kept")]
    assert [Path(str(w.path)).name for w in kept] == ["03-wang-xu.txt"]
    assert kept[0].hint is not None and "--force" in kept[0].hint
    assert path.read_text(encoding="utf-8") == edited
    assert any(line.startswith("kept") for line in report.lines())
    forced = import_source(CORPUS, imported, force=True)
    assert forced.written == [path]
    assert 'title = "王旭:开源是一件向死而生的事情"' not in path.read_text(encoding="utf-8")


def test_write_is_atomic(imported: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = imported / "01-yu-huai.txt"
    path.write_text("编辑过的内容\n", encoding="utf-8")

    def broken_replace(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(InputError, match="cannot write the script"):
        import_source(CORPUS, imported, force=True)
    assert path.read_text(encoding="utf-8") == "编辑过的内容\n"
    assert sorted(p.name for p in imported.iterdir()) == NAMES


def test_warns_about_guesses(tmp_path: Path) -> None:
    report = import_source(CORPUS, tmp_path)
    text = "\n".join(w.one_line() for w in report.warnings)
    assert "line 377: guessed that a new episode starts here" in text
    assert any(
        Path(str(w.path)).name == "01-yu-huai.txt"
        and w.what.startswith("date")
        and "guessed" in w.what
        for w in report.warnings
    )
    assert "host '老王' guessed" in text


def test_import_a_script_source(imported: Path, tmp_path: Path) -> None:
    out = tmp_path / "copy"
    report = import_source(imported / "04-ye-li-deng.txt", out)
    assert [p.name for p in report.written] == ["04-ye-li-deng.txt"]
    assert (out / "04-ye-li-deng.txt").read_bytes() == (imported / "04-ye-li-deng.txt").read_bytes()


def test_missing_source_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read") as exc:
        import_source(tmp_path / "nope.txt", tmp_path / "out")
    assert exc.value.path == tmp_path / "nope.txt"


def test_slug_is_ascii_pinyin() -> None:
    assert make_slug(("叶理灯",), 4) == "ye-li-deng"
    assert make_slug(("张三", "Alice Smith"), 2) == "zhang-san-alice-smith"
    assert make_slug((), 7) == "episode-7"
    assert make_slug(("../..",), 1) == "episode-1"


def test_date_guess_uses_the_latest_date_mentioned() -> None:
    def ep(*texts: str) -> Episode:
        return Episode(None, tuple(Turn("speech", "narrator", "旁白", t) for t in texts))

    assert guess_date(ep("6 月 25 日,我参加了 KubeCon 2019。", "2017 年 9 月"))[0] == dt.date(
        2019, 6, 25
    )
    assert guess_date(ep("二月初春,我拜访了他。", "2019 年 1 月发布。"))[0] == dt.date(2019, 2, 1)
    date, note = guess_date(ep("没有日期。"))
    assert date == dt.date(2000, 1, 1) and "fix it" in note


def test_dump_copy_imports_the_same(tmp_path: Path) -> None:
    """The source path does not leak into the scripts (moving the dump changes nothing)."""
    moved = tmp_path / "elsewhere" / "dump.txt"
    moved.parent.mkdir()
    shutil.copy(CORPUS, moved)
    a = import_source(CORPUS, tmp_path / "a")
    b = import_source(moved, tmp_path / "b")
    assert [p.read_bytes() for p in a.written] == [p.read_bytes() for p in b.written]
