"""Fault injection: builds killed at random points, writes and encodes failing at every step,
engines returning empty or truncated audio or raising, and ffmpeg failing for real.

Each test asserts the same thing: ``output/`` is the old published state or the new one,
consistent (``tests.publish_oracle.problems``: ``pangocast check`` without errors, every file
complete, every page link resolving), no cache entry is corrupt, and building again finishes
from what was done. Builds use the real espeak-ng engine (fast, offline) unless a test needs
an engine stand-in (``tests.fakes.Fake*``).
"""

from __future__ import annotations

import errno
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from pangocast.audio import delivery, ffmpeg
from pangocast.core.errors import AudioError, PangocastError
from pangocast.core.project import Project
from pangocast.pipeline.build import BuildOptions, build
from pangocast.publish.manifest import is_pending, read_manifest
from pangocast.publish.output import LOCK_NAME
from pangocast.voice.engines import ENGINES
from pangocast.voice.segments import SegmentCache
from tests.conftest import ROOT
from tests.publish_oracle import (
    THIRD,
    cache_problems,
    edit,
    feed_items,
    new_show,
    output_files,
    problems,
)

ESPEAK = BuildOptions(engine="espeak", jobs=1)
KILL_SEEDS = (1, 2, 3, 5, 8)


@dataclass(frozen=True)
class Published:
    """A show folder built to v1 with v2 edits waiting, and what v1 and v2 publish."""

    base: Project
    old_items: dict[str, tuple[str, str]]
    old_files: dict[str, bytes]
    new_items: dict[str, tuple[str, str]]
    """guid -> (enclosure URL, length) of the v2 feed. Only URLs are compared with it: a
    build that synthesizes a segment again (killed before its cache write) can differ by a
    few bytes, as espeak-ng's output varies slightly from run to run."""
    new_keys: frozenset[str]
    """Segments v2 synthesizes (not in the v1 cache)."""
    seconds: float
    """How long an uninterrupted ``pangocast build`` of v2 takes as a subprocess."""

    def copy(self, to: Path) -> Project:
        shutil.copytree(self.base.root, to, symlinks=True)
        return Project(to)


def _urls(items: dict[str, tuple[str, str]]) -> dict[str, str]:
    return {guid: url for guid, (url, _) in items.items()}


def _cache_keys(project: Project) -> set[str]:
    return set(SegmentCache(project.cache / "segments").keys())


def _cli_build(project: Project) -> list[str]:
    return [
        sys.executable, "-m", "pangocast_cli", "--project", str(project.root), "--quiet",
        "build", "--engine", "espeak", "--jobs", "1",
    ]  # fmt: skip


@pytest.fixture(scope="module")
def v1(tmp_path_factory: pytest.TempPathFactory) -> Project:
    """Two episodes built and published (the "old" state)."""
    project = new_show(tmp_path_factory.mktemp("v1") / "show")
    build(project, ESPEAK)
    assert problems(project, loudness=True) == []
    return project


def _published(v1: Project, where: Path, change: Callable[[Project], None]) -> Published:
    base = Project(where / "base")
    shutil.copytree(v1.root, base.root)
    old_items, old_files = feed_items(base.output), output_files(base)
    change(base)
    ref = Project(where / "ref")
    shutil.copytree(base.root, ref.root)
    start = time.monotonic()
    subprocess.run(_cli_build(ref), check=True, capture_output=True, cwd=ROOT)
    seconds = time.monotonic() - start
    assert problems(ref) == []
    new_items = feed_items(ref.output)
    assert new_items != old_items
    return Published(
        base,
        old_items,
        old_files,
        new_items,
        frozenset(_cache_keys(ref) - _cache_keys(base)),
        seconds,
    )


@pytest.fixture(scope="module")
def edit_and_add(v1: Project, tmp_path_factory: pytest.TempPathFactory) -> Published:
    """v2: one sentence edited in one episode, a third episode added."""

    def change(p: Project) -> None:
        edit(p, "01-tiny.txt", "我也是。", "我也在做技术。")
        (p.scripts / "03-third.txt").write_text(THIRD, encoding="utf-8")

    return _published(v1, tmp_path_factory.mktemp("edit-and-add"), change)


@pytest.fixture(scope="module")
def one_edit(v1: Project, tmp_path_factory: pytest.TempPathFactory) -> Published:
    """v2: one sentence edited in one episode (the smallest rebuild)."""
    return _published(
        v1,
        tmp_path_factory.mktemp("one-edit"),
        lambda p: edit(p, "01-tiny.txt", "我也是。", "我也在做技术。"),
    )


def _assert_old_or_new(project: Project, state: Published, *, temporaries_ok: bool) -> str:
    """The output is v1 exactly or v2 consistent; returns which ("old" or "new")."""
    assert problems(project, temporaries_ok=temporaries_ok) == []
    assert cache_problems(project) == []
    items = feed_items(project.output)
    if items == state.old_items:
        files = output_files(project)
        for rel, data in state.old_files.items():
            # what the old feed references (and the feed itself) is untouched
            if not rel.endswith(".html") and rel not in ("manifest.json",):
                assert files.get(rel) == data, f"{rel} changed while the old feed is live"
        return "old"
    assert _urls(items) == _urls(state.new_items), "the feed is neither the old nor the new one"
    return "new"


def _finish(project: Project, state: Published, *, loudness: bool = True) -> None:
    """Building again completes v2 from what was done, and leaves nothing behind
    (``loudness``: also decode every MP3 to compare its duration with the manifest)."""
    cached = _cache_keys(project)
    report = build(project, ESPEAK)
    assert report.synthesized == len(state.new_keys - cached), "resumes from cached segments"
    assert not report.failed
    assert _urls(feed_items(project.output)) == _urls(state.new_items)
    assert problems(project, loudness=loudness) == []
    assert not (project.root / LOCK_NAME).exists()
    manifest = read_manifest(project.output)
    assert manifest is not None
    assert not is_pending(manifest, (project.output / "feed.xml").read_bytes())


# ------------------------------------------------------------------ real kills


def _stage(project: Project, state: Published) -> str:
    """How far a killed build got: new segments cached, new MP3s, manifest state."""
    segments = len(state.new_keys & _cache_keys(project))
    new_audio = {url.rsplit("/", 1)[1] for url, _ in state.new_items.values()}
    old_audio = {url.rsplit("/", 1)[1] for url, _ in state.old_items.values()}
    audio_dir = project.output / "audio"
    mp3s = len((new_audio - old_audio) & {p.name for p in audio_dir.iterdir()})
    manifest = read_manifest(project.output)
    feed = (project.output / "feed.xml").read_bytes()
    where = "pending" if manifest and is_pending(manifest, feed) else "in step"
    return f"{segments}/{len(state.new_keys)} segments, {mp3s} new MP3s, manifest {where}"


def test_sigkill_at_random_points_leaves_old_or_new_output_and_resumes(
    edit_and_add: Published, tmp_path: Path
) -> None:
    """``pangocast build`` as a subprocess, SIGKILLed after a seeded random delay."""
    outcomes: list[tuple[int, float, str, str, str]] = []
    for i, seed in enumerate(KILL_SEEDS):
        # stratified: seed i draws its delay within the i-th fifth of the build's run time
        # (from interpreter start-up), so kills spread over start-up and synthesis (the first
        # 0.2 s), assembly and publishing
        rng = random.Random(seed)
        delay = (i + rng.random()) / len(KILL_SEEDS) * edit_and_add.seconds
        project = edit_and_add.copy(tmp_path / f"seed-{seed}")
        proc = subprocess.Popen(
            _cli_build(project), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT
        )
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        _, err = proc.communicate(timeout=60)
        killed = proc.returncode == -signal.SIGKILL
        assert killed or proc.returncode == 0, err.decode()
        state = _assert_old_or_new(project, edit_and_add, temporaries_ok=True)
        outcomes.append(
            (
                seed,
                round(delay, 2),
                "killed" if killed else "finished",
                state,
                _stage(project, edit_and_add),
            )
        )
        _finish(project, edit_and_add, loudness=i == 0)
    print("kills (seed, delay s, process, output):", outcomes)
    assert sum(o[2] == "killed" for o in outcomes) >= len(KILL_SEEDS) // 2, outcomes


# ------------------------------------------------------- injected write failures


def _replacing(
    real: Callable[..., Any], seen: list[str], fail_at: int | None = None
) -> Callable[..., Any]:
    """``os.replace`` that records each destination and raises ENOSPC on call ``fail_at``."""

    def replace(src: Any, dst: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(str(dst))
        if len(seen) == fail_at:
            raise OSError(errno.ENOSPC, "No space left on device (injected)", str(dst))
        return real(src, dst, *args, **kwargs)

    return replace


def _renames_of_a_build(
    state: Published, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[Project, list[str]]:
    """A copy of ``state`` built, with the destination of every ``os.replace`` in order."""
    calls: list[str] = []
    counting = state.copy(tmp_path / "counting")
    with monkeypatch.context() as m:
        m.setattr(os, "replace", _replacing(os.replace, calls))
        build(counting, ESPEAK)
    return counting, calls


def _step(path: str, root: Path) -> str:
    """Which publish step a rename belongs to: its folder under output/ or the file name;
    ``audio`` is split into the encoder's rename to the build's temporary and the final."""
    rel = Path(path).relative_to(root)
    if rel.parts[0] == ".cache":
        return "cache"
    if rel.parts[-1].startswith(".tmp-"):
        return f"{rel.parts[1]} (temporary)"
    return rel.parts[1] if len(rel.parts) > 2 else rel.parts[-1]


def test_a_write_failing_at_every_step_leaves_old_or_new_output(
    one_edit: Published, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``os.replace`` (every rename into place: cache entry, MP3, transcripts, chapters,
    assets, pages, manifest, feed) raises at the first call of each publish step."""
    real = os.replace
    counting, calls = _renames_of_a_build(one_edit, tmp_path, monkeypatch)
    first: dict[str, int] = {}
    for n, dst in enumerate(calls, 1):
        first.setdefault(_step(dst, counting.root), n)
    assert set(first) == {
        "cache",
        "audio (temporary)",
        "audio",
        "transcripts",
        "chapters",
        "assets",
        "index.html",
        "episodes",
        "embed",
        "oembed",
        "pagefind",
        "manifest.json",
        "feed.xml",
    }, first
    outcome: dict[str, str] = {}
    for step, n in first.items():
        project = one_edit.copy(tmp_path / f"n{n}")
        seen: list[str] = []
        with monkeypatch.context() as m:
            m.setattr(os, "replace", _replacing(real, seen, fail_at=n))
            with pytest.raises(PangocastError) as exc_info:
                build(project, ESPEAK)
        assert _step(seen[-1], project.root) == step
        assert "No space left on device" in exc_info.value.one_line() or isinstance(
            exc_info.value.__cause__, OSError
        )
        outcome[step] = _assert_old_or_new(project, one_edit, temporaries_ok=False)
        if step == "feed.xml":
            manifest = read_manifest(project.output)
            assert manifest is not None and is_pending(
                manifest, (project.output / "feed.xml").read_bytes()
            ), "the manifest written before the failed feed is recognisably pending"
        _finish(project, one_edit, loudness=False)
    print(f"{len(outcome)} injected write failures of {len(calls)} renames:", outcome)
    after_feed = {"pagefind"}  # the search index is installed after the feed's commit
    assert {s for s, o in outcome.items() if o == "new"} == after_feed, outcome
    assert list(first)[-1] == "pagefind", "the search index goes in after the feed"


def test_old_files_are_kept_when_pruning_fails_and_removed_next_time(
    one_edit: Published, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = one_edit.copy(tmp_path / "show")
    real = os.unlink
    output = project.output.resolve()

    def unlink(path: Any, *args: Any, **kwargs: Any) -> None:
        p = Path(path).resolve()
        if p.is_relative_to(output) and p.exists() and not p.name.startswith("."):
            raise PermissionError(errno.EACCES, "Permission denied (injected)", str(path))
        real(path, *args, **kwargs)

    with monkeypatch.context() as m:
        m.setattr(os, "unlink", unlink)
        report = build(project, ESPEAK)
    assert not report.failed
    assert _urls(feed_items(project.output)) == _urls(one_edit.new_items)
    assert problems(project) == []
    old_audio = {url.rsplit("/", 1)[1] for url, _ in one_edit.old_items.values()}
    assert old_audio <= {p.name for p in (project.output / "audio").iterdir()}
    build(project, ESPEAK)
    assert {p.name for p in (project.output / "audio").iterdir()} == {
        url.rsplit("/", 1)[1] for url, _ in one_edit.new_items.values()
    }


# ----------------------------------------------------------- encoder failures


@pytest.fixture
def both_edited(v1: Project, tmp_path: Path) -> Project:
    project = Project(tmp_path / "show")
    shutil.copytree(v1.root, project.root)
    edit(project, "01-tiny.txt", "我也是。", "我也在做技术。")
    edit(project, "02-second.txt", "我也是。", "我也在做开源。")
    return project


def _fake_ffmpeg(tmp_path: Path, body: str) -> Path:
    exe = tmp_path / "fake-ffmpeg"
    exe.write_text(f"#!{sys.executable}\n{body}", encoding="utf-8")
    exe.chmod(0o755)
    return exe


@pytest.mark.parametrize("mode", ["fails", "truncates"])
def test_ffmpeg_that_cannot_encode_stops_that_episode_only(
    both_edited: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    """The real ffmpeg behind pydub replaced by one that fails (exit 1, a message) or that
    exits 0 after writing a truncated MP3: never a short or empty MP3 published."""
    from pangocast.audio import mp3 as encode
    from pangocast.audio.ffmpeg import ffmpeg_exe

    old = feed_items(both_edited.output)
    if mode == "fails":
        body = "import sys\nsys.stderr.write(\"Unknown encoder 'libmp3lame'\\n\")\nsys.exit(1)\n"
    else:
        body = (
            f"import os, subprocess, sys\n"
            f"subprocess.run([{ffmpeg_exe()!r}, *sys.argv[1:]], check=True)\n"
            f"out = sys.argv[-1]\n"
            f"os.truncate(out, os.path.getsize(out) * 2 // 5)\n"
        )
    fake = str(_fake_ffmpeg(tmp_path, body))
    real_encode, real_lame = delivery.encode_mp3, encode.run_lame_encoder
    encoding: list[str] = []
    calls: list[str] = []

    def encode_mp3(audio: Any, path: Path, *args: Any, **kwargs: Any) -> int:
        encoding.append(path.name)
        return real_encode(audio, path, *args, **kwargs)

    def lame(*args: Any) -> None:  # only episode 'tiny' meets the bad ffmpeg, and only LAME
        if "tiny" not in encoding[-1]:
            calls.append("real")
            return real_lame(*args)
        calls.append(fake)
        with monkeypatch.context() as m:
            m.setattr(ffmpeg, "ffmpeg_exe", lambda: fake)
            return real_lame(*args)

    monkeypatch.setattr(delivery, "encode_mp3", encode_mp3)
    monkeypatch.setattr(encode, "run_lame_encoder", lame)
    report = build(both_edited, BuildOptions(engine="espeak", jobs=1, keep_going=True))
    status = {e.slug: e.status for e in report.episodes}
    failed = {e.slug: e.error for e in report.episodes if e.error is not None}
    assert fake in calls and status == {"tiny": "failed", "second": "built"}
    slug, error = "tiny", failed["tiny"]
    message = error.one_line()
    if mode == "fails":
        assert "could not be encoded to MP3" in message and "Unknown encoder" in message
    else:
        assert "truncated or damaged MP3" in message or "does not decode" in message
    assert "scripts/" in message
    items = feed_items(both_edited.output)
    guid = f"pangocast:{slug}"
    assert items[guid] == old[guid], "the failed episode stays as published"
    assert problems(both_edited) == []
    monkeypatch.setattr(encode, "run_lame_encoder", real_lame)
    assert not build(both_edited, ESPEAK).failed
    assert problems(both_edited, loudness=True) == []


def test_encode_raising_on_one_episode_keeps_going_and_exits_nonzero(
    both_edited: Project, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``encode_mp3`` raising for one episode, through the CLI with --keep-going."""
    from pangocast_cli.app import main

    real = delivery.encode_mp3

    def encode(audio: Any, path: Path, *args: Any, **kwargs: Any) -> int:
        if "tiny" in path.name:
            raise AudioError("MP3 encoding failed: injected", path=path)
        return real(audio, path, *args, **kwargs)

    monkeypatch.setattr(delivery, "encode_mp3", encode)
    old = feed_items(both_edited.output)
    argv = ["pangocast", "--project", str(both_edited.root), "--quiet", "build"]
    monkeypatch.setattr(sys, "argv", [*argv, "--engine", "espeak", "--jobs", "1", "-k"])
    with pytest.raises(SystemExit) as exit_:
        main()
    assert exit_.value.code == 1
    err = [ln for ln in capsys.readouterr().err.splitlines() if ln.strip()]
    assert err == [
        "error: tiny: episode 'tiny' could not be encoded to MP3: MP3 encoding failed: "
        f"injected ({both_edited.scripts / '01-tiny.txt'}): the published episode is "
        "unchanged; check that ffmpeg works (pangocast --debug build) and build again"
    ]
    items = feed_items(both_edited.output)
    assert items["pangocast:tiny"] == old["pangocast:tiny"]
    assert items["pangocast:second"] != old["pangocast:second"]
    assert problems(both_edited) == []
    # without --keep-going: the first failure stops the build, nothing is published
    before = output_files(both_edited)
    edit(both_edited, "02-second.txt", "我也在做开源。", "我也在做云计算。")
    monkeypatch.setattr(sys, "argv", [*argv, "--engine", "espeak", "--jobs", "1"])
    with pytest.raises(SystemExit) as exit_:
        main()
    assert exit_.value.code == 1
    err = capsys.readouterr().err
    assert err.startswith("error: episode 'tiny' could not be encoded") and "Traceback" not in err
    assert output_files(both_edited) == before


# ------------------------------------------------------------ engine stand-ins


STAND_INS = {
    "fake-empty": ("FakeEmptyToneEngine", "空白", "returned silence for: 这一句是空白"),
    "fake-truncating": ("FakeTruncatingToneEngine", "截断", "returned truncated audio"),
    "fake-raising": ("FakeRaisingToneEngine", "崩溃", "fake engine crashed on"),
}


@pytest.fixture
def fake_show(tmp_path: Path) -> Iterator[Project]:
    project = new_show(tmp_path / "show")
    casting = project.voices / "casting.toml"
    for name in STAND_INS:
        casting.write_text(
            casting.read_text(encoding="utf-8")
            + f'\n[engines.{name}]\nnarrator = {{voice="t"}}\nhost = {{voice="t", pitch = -5}}\n'
            'guests = [{voice="t", pitch = 3}, {voice="t", pitch = 6}]\n',
            encoding="utf-8",
        )
    yield project


@pytest.mark.parametrize("engine", sorted(STAND_INS))
def test_engine_failures_stop_their_episode_with_a_clear_message(
    fake_show: Project, monkeypatch: pytest.MonkeyPatch, engine: str
) -> None:
    cls, marker, expected = STAND_INS[engine]
    monkeypatch.setitem(ENGINES, engine, ("tests.fakes", cls))
    build(fake_show, BuildOptions(engine=engine, jobs=1))
    published = output_files(fake_show)
    old = feed_items(fake_show.output)
    line = f"这一句是{marker}。"
    edit(fake_show, "01-tiny.txt", "叶理灯:我也是。", f"叶理灯:{line}")
    edit(fake_show, "02-second.txt", "我也是。", "我也在做开源。")
    with pytest.raises(PangocastError) as exc_info:
        build(fake_show, BuildOptions(engine=engine, jobs=1))
    message = exc_info.value.one_line()
    assert expected in message and line[:4] in message
    script = fake_show.scripts / "01-tiny.txt"
    number = script.read_text(encoding="utf-8").splitlines().index(f"叶理灯:{line}") + 1
    assert f"({script}:{number})" in message, "names the script line"
    assert output_files(fake_show) == published, "a failed build publishes nothing"
    assert SegmentCache(fake_show.cache / "segments").keys(), "other segments were cached"
    report = build(fake_show, BuildOptions(engine=engine, jobs=1, keep_going=True))
    assert {e.slug: e.status for e in report.episodes} == {"tiny": "failed", "second": "built"}
    assert problems(fake_show) == []
    assert feed_items(fake_show.output)["pangocast:tiny"] == old["pangocast:tiny"]
    assert cache_problems(fake_show) == []


def test_a_write_failing_at_any_page_of_a_new_episode_leaves_no_broken_link(
    edit_and_add: Published, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A build that adds an episode, with ``os.replace`` raising at each rename of the site
    (assets, pages, embeds, oEmbed): the show's index never links to a page not yet in
    place (the index is written after every page it links to)."""
    real = os.replace
    counting, calls = _renames_of_a_build(edit_and_add, tmp_path, monkeypatch)
    site = {"assets", "index.html", "episodes", "embed", "oembed"}
    at = [n for n, dst in enumerate(calls, 1) if _step(dst, counting.root) in site]
    assert len(at) >= 3 * 3 + 1, calls  # three episodes' page, embed, oEmbed; the index
    for n in at:
        project = edit_and_add.copy(tmp_path / f"n{n}")
        seen: list[str] = []
        with monkeypatch.context() as m:
            m.setattr(os, "replace", _replacing(real, seen, fail_at=n))
            with pytest.raises(PangocastError):
                build(project, ESPEAK)
        assert problems(project) == [], (n, seen[-1])
