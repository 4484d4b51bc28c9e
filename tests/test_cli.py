"""The command line: help for every command, one-line errors, parse --json on the corpus."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pangocast.voice.engines import Engine
from pangocast_cli.app import app

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "data" / "chuanshanjia.txt"
runner = CliRunner()


def _commands() -> list[list[str]]:
    import typer.main

    group = typer.main.get_command(app)
    out: list[list[str]] = []
    for name, cmd in group.commands.items():  # type: ignore[attr-defined]
        sub = getattr(cmd, "commands", None)
        if sub:
            out.extend([name, s] for s in sub)
        else:
            out.append([name])
    return out


def test_every_command_is_listed() -> None:
    names = {" ".join(c) for c in _commands()}
    assert names == {"init", "build", "import", "parse", "voices", "cast", "preview", "check",
                     "serve", "publish", "cache stats", "cache prune"}  # fmt: skip


@pytest.mark.parametrize("command", _commands(), ids=" ".join)
def test_every_command_has_help_and_is_in_the_readme(command: list[str]) -> None:
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output
    doc = result.output.split("Usage:")[1]
    assert len(doc.strip().splitlines()) >= 3
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"  {' '.join(command)}" in readme


def _run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pangocast_cli", *args],
        capture_output=True, text=True, cwd=cwd, timeout=120,
    )  # fmt: skip


def test_parse_json_on_the_corpus_has_the_documented_shape() -> None:
    result = _run("parse", str(CORPUS), "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert list(data) == ["episodes"] and len(data["episodes"]) == 6
    for ep in data["episodes"]:
        assert set(ep) == {"title", "turns"}
        for t in ep["turns"]:
            assert set(t) == {"kind", "role", "speaker", "text"}
            assert t["kind"] in ("speech", "chapter")
            assert t["role"] in ("host", "guest", "narrator")
    speakers = {(t["speaker"], t["role"]) for ep in data["episodes"] for t in ep["turns"]}
    assert {("老王", "host"), ("记者", "host"), ("杨镭", "guest"), ("叶理灯", "guest")} <= speakers


def test_parse_of_a_script_works_too() -> None:
    result = _run("parse", str(ROOT / "scripts" / "06-yang-lei.txt"), "--json")
    data = json.loads(result.stdout)
    assert len(data["episodes"]) == 1 and data["episodes"][0]["title"]


@pytest.mark.parametrize(
    "mutate, expect",
    [
        (lambda s: s.replace('slug = "tiny"', 'slug = "../evil"'), "slug '../evil' is not allowed"),
        (lambda s: s.replace("date = 2019-07-01", 'date = "July"'), "date 'July' is not a date"),
        (lambda s: s.replace("杨镭:我在", "王五:我在"), "unknown speaker '王五'"),
        (
            lambda s: s.replace('title = "测试节目:两位嘉宾"\n', ""),
            "metadata field 'title' is missing",
        ),
    ],
)
def test_bad_script_is_one_clear_line_with_file_and_line(
    show_dir: Path, mutate: object, expect: str
) -> None:
    script = show_dir / "scripts" / "01-tiny.txt"
    script.write_text(mutate(script.read_text()), encoding="utf-8")  # type: ignore[operator]
    result = _run("--project", str(show_dir), "build", "--engine", "espeak")
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ") and expect in lines[0]
    assert "01-tiny.txt:" in lines[0]
    assert "Traceback" not in result.stderr
    assert not (show_dir / "output" / "feed.xml").exists()


def test_unknown_engine_names_the_alternatives(show_dir: Path) -> None:
    result = _run("--project", str(show_dir), "build", "--engine", "nope")
    assert result.returncode == 1
    assert "unknown engine 'nope'" in result.stderr and "neural, espeak, edge" in result.stderr


def test_debug_shows_the_traceback(show_dir: Path) -> None:
    result = _run("--project", str(show_dir), "--debug", "build", "--engine", "nope")
    assert result.returncode != 0 and "Traceback" in result.stderr


def test_cast_table_shows_distinct_voices() -> None:
    result = runner.invoke(app, ["cast", "06-yang-lei", "--engine", "espeak"])
    assert result.exit_code == 0, result.output
    assert "杨镭" in result.output and "老王" in result.output and "cmn+m3" in result.output
    assert "share a voice" not in result.output


def test_voices_lists_offline_engines_locally() -> None:
    result = runner.invoke(app, ["voices", "--engine", "espeak"])
    assert result.exit_code == 0 and "cmn" in result.output
    result = runner.invoke(app, ["voices", "--engine", "neural"])
    assert result.exit_code == 0 and "baker" in result.output


def test_voices_edge_offline_says_so() -> None:
    result = _run("voices", "--engine", "edge")
    if result.returncode == 0:
        pytest.skip("online: the edge service answered")
    assert result.stderr.startswith("error: ") and "offline" in result.stderr


def test_import_then_build_a_section_of_the_corpus(tmp_path: Path, show_dir: Path) -> None:
    text = CORPUS.read_text(encoding="utf-8").splitlines()
    article = "\n".join(text[302:376])  # the 叶理灯 Q&A interview
    src = tmp_path / "article.txt"
    src.write_text(article, encoding="utf-8")
    out = tmp_path / "scripts"
    result = _run("import", str(src), "--out", str(out))
    assert result.returncode == 0, result.stderr
    (script,) = out.glob("*.txt")
    first, first_stat = script.read_bytes(), script.stat()
    again = _run("import", str(src), "--out", str(out))
    assert again.returncode == 0, again.stderr
    assert [p.name for p in out.glob("*.txt")] == [script.name]  # no second copy
    assert script.read_bytes() == first  # re-importing writes the same script...
    assert script.stat().st_mtime_ns == first_stat.st_mtime_ns  # ...by not writing it at all
    parsed = json.loads(_run("parse", str(script), "--json").stdout)
    roles = {t["speaker"]: t["role"] for t in parsed["episodes"][0]["turns"]}
    assert roles["叶理灯"] == "guest" and roles["记者"] == "host"


def test_ctrl_c_is_one_line_exit_130_and_the_next_build_resumes(show_dir: Path) -> None:
    import shutil
    import signal
    import time

    shutil.copy(ROOT / "scripts" / "01-yu-huai.txt", show_dir / "scripts")
    cmd = [sys.executable, "-m", "pangocast_cli", "--project", str(show_dir), "--quiet"]
    cmd += ["build", "--engine", "espeak", "--jobs", "1"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    segments = show_dir / ".cache" / "segments"
    deadline = time.monotonic() + 60
    while len(list(segments.glob("??/*.wav"))) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert err.strip().splitlines() == [
        "interrupted: finished segments are cached; run the same command again"
    ]
    assert not (show_dir / "output" / "feed.xml").exists()
    assert not [p for p in (show_dir / "output").rglob("*") if p.is_file()]
    cached = len(list(segments.glob("??/*.wav")))
    assert cached >= 3
    again = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    assert (show_dir / "output" / "feed.xml").is_file()
    from pangocast.voice.segments import SegmentCache

    assert len(SegmentCache(segments).keys()) > cached  # it went on from what was cached


def test_an_engine_is_selected_by_its_registered_name_fake_engine(
    register: Callable[[Engine], str],
) -> None:
    from tests.fakes import FakeToneEngine

    fake = FakeToneEngine()
    name = register(fake)
    result = runner.invoke(app, ["voices", "--engine", name])
    assert result.exit_code == 0, result.output
    assert result.output.split()[0] == "tone"  # the fake's only voice, not neural's
    result = runner.invoke(app, ["voices", "--engine", name + "-unknown"])
    assert result.exit_code == 1


@pytest.mark.parametrize(
    ("intro", "expect"),
    [
        ("{show}。{nosuchfield}", "placeholder {nosuchfield}"),
        ("{show}。{", "not a valid template"),
    ],
)
def test_an_intro_placeholder_the_show_cannot_fill_is_one_line(
    show_dir: Path, intro: str, expect: str
) -> None:
    toml = show_dir / "feeds" / "show.toml"
    toml.write_text(f"intro = {intro!r}\n" + toml.read_text(encoding="utf-8"), encoding="utf-8")
    result = _run("--project", str(show_dir), "build", "--engine", "espeak")
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert lines[0].startswith("error: ") and expect in lines[0]
    assert "show.toml:" in lines[0]  # the file and the line
    assert "{show}, {guests}, {title}" in lines[0]  # the placeholders that exist
