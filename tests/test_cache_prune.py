"""`pangocast cache prune`: only what no script needs goes, with real espeak-ng segments."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from pangocast.core.errors import PangocastError
from pangocast.core.project import Project
from pangocast.pipeline.build import BuildOptions, build
from pangocast.publish.output import build_lock
from pangocast.voice.prune import prune_cache
from pangocast.voice.segments import SegmentCache


def _cli(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pangocast_cli", "--project", str(project), "cache", *args],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def _edit(project: Project, old: str, new: str) -> None:
    script = project.scripts / "01-tiny.txt"
    text = script.read_text(encoding="utf-8")
    assert old in text
    script.write_text(text.replace(old, new), encoding="utf-8")


@pytest.fixture
def built(show_dir: Path) -> Project:
    project = Project(show_dir)
    build(project, BuildOptions(engine="espeak", jobs=1))
    return project


def test_prune_removes_exactly_the_superseded_segment_and_the_rebuild_reuses_the_rest(
    built: Project,
) -> None:
    cache = SegmentCache(built.segments)
    before = set(cache.keys())
    _edit(built, "我也是。", "我也在做技术。")
    assert build(built, BuildOptions(engine="espeak", jobs=1)).synthesized == 1
    (new,) = set(cache.keys()) - before

    result = _cli(built.root, "prune", "--engine", "espeak")

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("removed 1 segments"), result.stdout
    assert "for espeak" in result.stdout
    left = set(cache.keys())
    assert new in left and len(before - left) == 1 and left <= before | {new}
    # nothing the scripts need was removed...
    again = build(built, BuildOptions(engine="espeak", jobs=1))
    assert again.synthesized == 0
    assert [e.status for e in again.episodes] == ["unchanged"]
    # ...and what was removed is the sentence the edit replaced
    _edit(built, "我也在做技术。", "我也是。")
    assert build(built, BuildOptions(engine="espeak", jobs=1)).synthesized == 1
    assert set(cache.keys()) == before | {new}


def test_default_prune_keeps_the_segments_of_every_cast_engine(built: Project) -> None:
    cache = SegmentCache(built.segments)
    espeak_keys = set(cache.keys())
    report = prune_cache(built)
    assert set(report.engines) == {"neural", "espeak", "edge"}
    assert report.removed.entries == 0
    assert set(cache.keys()) == espeak_keys
    # keeping only the neural engine's segments drops the espeak drafts
    only_neural = prune_cache(built, ["neural"])
    assert only_neural.removed.entries == len(espeak_keys)
    assert cache.keys() == []


def test_prune_removes_temporary_files_a_killed_build_left(built: Project) -> None:
    cache = SegmentCache(built.segments)
    key = cache.keys()[0]
    leftover = cache.path(key).parent / ".tmp-killed.part"
    leftover.write_bytes(b"RIFF half a segment")
    prune_cache(built, ["espeak"])
    assert not leftover.exists()
    assert key in set(cache.keys())


def test_prune_waits_for_no_build_and_touches_nothing_while_one_runs(built: Project) -> None:
    cache = SegmentCache(built.segments)
    _edit(built, "我也是。", "我也在做技术。")  # every old segment of that line is unneeded
    keys = set(cache.keys())
    with build_lock(built.root):
        result = _cli(built.root, "prune")
    assert result.returncode == 1
    assert result.stderr.startswith("error: another build of this show is running")
    assert len(result.stderr.strip().splitlines()) == 1
    assert set(cache.keys()) == keys


def test_bad_script_stops_the_prune_before_anything_is_removed(built: Project) -> None:
    cache = SegmentCache(built.segments)
    keys = set(cache.keys())
    _edit(built, "叶理灯:我也是。", "无名氏:我也是。")
    result = _cli(built.root, "prune", "--engine", "espeak")
    assert result.returncode == 1
    assert result.stderr.startswith("error: ") and "01-tiny.txt" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert set(cache.keys()) == keys


def test_unknown_engine_is_one_line_naming_the_choices(built: Project) -> None:
    with pytest.raises(PangocastError, match=r"unknown engine 'nope'.*neural"):
        prune_cache(built, ["nope"])
