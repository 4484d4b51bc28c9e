"""Audiograms: a shareable MP4 of each soundbite, in two sizes, with burned-in captions.

One real build (offline English voice) of a script with a pull quote, audiograms on; its
videos are probed and decoded with the project's ffmpeg. A short render of Chinese
captions checks that CJK text is drawn with real glyphs.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from lxml import etree
from typer.testing import CliRunner

import pangocast
from pangocast import init_show
from pangocast.audio.ffmpeg import ffmpeg_exe
from pangocast.core.errors import ConfigError, Notice
from pangocast.core.project import Project, load_show
from pangocast.pipeline.build import BuildEvents, BuildOptions, BuildReport, build
from pangocast.publish import audiogram, feed, site
from pangocast.publish.audiogram import AudiogramJob, audiogram_font, render_audiogram
from pangocast.publish.audiogram_frame import LAYOUTS
from pangocast.publish.bucket import IMMUTABLE, cache_control
from pangocast.publish.feed_ext import PODCAST_NS
from pangocast.publish.manifest import read_manifest
from pangocast.publish.serve import content_type
from pangocast.publish.transcripts import Cue
from pangocast_cli.app import app
from tests.test_soundbites import SCRIPT


@dataclass
class Recorder(BuildEvents):
    planned_videos: list[tuple[int, float]] = field(default_factory=list)
    rendered: list[str] = field(default_factory=list)
    warnings: list[Notice] = field(default_factory=list)

    def audiograms_planned(self, videos: int, seconds: float) -> None:
        self.planned_videos.append((videos, seconds))

    def audiogram_done(self, name: str, seconds: float) -> None:
        self.rendered.append(name)

    def warning(self, notice: Notice) -> None:
        self.warnings.append(notice)


@dataclass(frozen=True)
class Built:
    project: Project
    events: Recorder


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    root = tmp_path_factory.mktemp("audiograms") / "show"
    init_show(root, title="Bite Talk", language="en")
    (root / "scripts" / "01-small-library.txt").write_text(SCRIPT, encoding="utf-8")
    project = Project(root)
    events = Recorder()
    build(project, BuildOptions(jobs=1, engine="espeak", audiograms=True), events)
    return Built(project, events)


def _soundbite(project: Project) -> tuple[float, float]:
    root = etree.fromstring((project.output / "feed.xml").read_bytes())
    (bite,) = root.findall(f"channel/item/{{{PODCAST_NS}}}soundbite")
    return float(bite.get("startTime")), float(bite.get("duration"))


def _probe(path: Path) -> str:
    """What ffmpeg says of a file's streams (imageio-ffmpeg ships no ffprobe)."""
    proc = subprocess.run([ffmpeg_exe(), "-hide_banner", "-i", str(path)], capture_output=True)
    return proc.stderr.decode("utf-8", "replace")


def _seconds(stamp: str) -> float:
    h, m, s = stamp.split(":")
    return int(h) * 3600 + int(m) * 60 + float(s)


def _decoded_seconds(path: Path, stream: str) -> float:
    """Seconds of ``stream`` (``v`` or ``a``) decoded from the file, to a null sink."""
    cmd = [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-nostats", "-i", str(path),
           "-map", f"0:{stream}:0", "-f", "null", "-", "-progress", "pipe:1"]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, check=True)
    times = re.findall(r"out_time_us=(\d+)", proc.stdout.decode())
    return int(times[-1]) / 1e6


def _frame(path: Path, at: float, size: str) -> np.ndarray:
    """The frame shown at ``at`` seconds, as an RGB array."""
    layout = LAYOUTS[size]
    cmd = [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-ss", f"{at:.3f}",
           "-i", str(path), "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24",
           "pipe:1"]  # fmt: skip
    raw = subprocess.run(cmd, capture_output=True, check=True).stdout
    return np.frombuffer(raw, dtype=np.uint8).reshape(layout.height, layout.width, 3)


def _caption_region(frame: np.ndarray, size: str) -> np.ndarray:
    layout = LAYOUTS[size]
    top = layout.caption_y
    return frame[top : top + 4 * layout.caption_px].astype(np.float64)


def test_each_soundbite_has_an_h264_aac_video_of_its_length_in_both_sizes(built: Built) -> None:
    start, duration = _soundbite(built.project)
    manifest = read_manifest(built.project.output)
    assert manifest is not None
    (episode,) = manifest.episodes
    videos = {a.size: a for a in episode.audiograms}
    assert set(videos) == {"square", "vertical"}
    for size, video in videos.items():
        assert video.clip == "soundbite" and video.start == pytest.approx(start, abs=0.001)
        path = built.project.output / video.file
        assert path.suffix == ".mp4" and path.parent.name == "audiograms"
        info = _probe(path)
        assert re.search(r"Video: h264 .*?, (\d+)x(\d+)", info), info
        width, height = map(int, re.search(r"Video: h264 .*?(\d{3,4})x(\d{3,4})", info).groups())
        assert (width, height) == (LAYOUTS[size].width, LAYOUTS[size].height)
        assert "Audio: aac" in info
        assert len(re.findall(r"Stream #", info)) == 2, info  # no chapter or data track
        container = _seconds(re.search(r"Duration: ([\d:.]+)", info).group(1))
        assert container == pytest.approx(duration, abs=0.1)
        assert _decoded_seconds(path, "v") == pytest.approx(duration, abs=0.1)
        assert _decoded_seconds(path, "a") == pytest.approx(duration, abs=0.1)
    assert built.events.planned_videos == [(2, pytest.approx(2 * duration, abs=0.01))]
    assert sorted(built.events.rendered) == sorted(v.file for v in videos.values())


def test_frames_are_not_blank_and_the_captions_follow_the_cues(built: Built) -> None:
    start, duration = _soundbite(built.project)
    manifest = read_manifest(built.project.output)
    assert manifest is not None
    (episode,) = manifest.episodes
    # two cues of the clip, from the episode's own JSON transcript
    transcript = json.loads((built.project.output / episode.transcripts["json"]).read_text())
    inside = [
        (s["startTime"] - start, s["endTime"] - start, s["body"])
        for s in transcript["segments"]
        if s["startTime"] >= start and s["endTime"] <= start + duration
    ]
    assert len(inside) >= 2, inside
    (a0, a1, text_a), (b0, b1, text_b) = inside[0], inside[-1]
    assert text_a != text_b
    for video in episode.audiograms:
        path = built.project.output / video.file
        first = _frame(path, (a0 + a1) / 2, video.size)
        last = _frame(path, (b0 + b1) / 2, video.size)
        for frame in (first, last):
            assert frame.std() > 20  # a picture, not one flat colour
        ca, cb = _caption_region(first, video.size), _caption_region(last, video.size)
        assert ca.std() > 10 and cb.std() > 10  # text is drawn there
        assert np.abs(ca - cb).mean() > 3, video.file  # and it changed with the cue


def test_the_episode_page_links_the_videos_and_the_feed_does_not(built: Built) -> None:
    out = built.project.output
    page = next(out.glob("episodes/*/index.html")).read_text(encoding="utf-8")
    manifest = read_manifest(out)
    assert manifest is not None
    for video in manifest.episodes[0].audiograms:
        assert f'href="../../{video.file}" type="video/mp4"' in page
    assert "Video (square)" in page and "Video (vertical)" in page
    assert ".mp4" not in (out / "feed.xml").read_text(encoding="utf-8")


def test_a_rebuild_with_nothing_changed_renders_nothing(
    built: Built, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = built.project.output
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()}

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("rendered again")

    monkeypatch.setattr(audiogram, "render_audiogram", refuse)
    monkeypatch.setattr(subprocess, "run", refuse)  # no ffmpeg at all
    monkeypatch.setattr(feed, "render_feed", refuse)
    monkeypatch.setattr(site, "render_site", refuse)
    events = Recorder()
    again = build(built.project, BuildOptions(jobs=1, engine="espeak", audiograms=True), events)
    assert [e.status for e in again.episodes] == ["unchanged"]
    assert events.planned_videos == [] and events.rendered == []
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()} == before


def _copy(built: Built, tmp_path: Path, switch: str = "", to: str = "") -> Project:
    """A copy of the built show, its ``feeds/show.toml`` line ``switch`` replaced by ``to``."""
    root = tmp_path / "show"
    shutil.copytree(built.project.root, root)
    if switch:
        show = root / "feeds" / "show.toml"
        text = show.read_text(encoding="utf-8")
        assert f"\n{switch}\n" in text  # a new show has the switch (off)
        show.write_text(text.replace(f"\n{switch}\n", f"\n{to}\n"), encoding="utf-8")
    return Project(root)


def test_audiograms_off_renders_none_and_removes_the_old(
    built: Built, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = _copy(built, tmp_path)

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("an audiogram was rendered")

    monkeypatch.setattr(audiogram, "render_audiogram", refuse)
    build(project, BuildOptions(jobs=1, engine="espeak"))  # off by default
    manifest = read_manifest(project.output)
    assert manifest is not None and manifest.episodes[0].audiograms == ()
    assert list((project.output / "audiograms").glob("*")) == []  # pruned with the feed
    assert ".mp4" not in next(project.output.glob("episodes/*/index.html")).read_text()

    # a new show, never built with audiograms, renders none either
    shutil.rmtree(project.output)
    build(project, BuildOptions(jobs=1, engine="espeak"))
    assert not (project.output / "audiograms").exists()


def test_the_show_toml_switch_turns_them_on(
    built: Built, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = _copy(built, tmp_path, "audiograms = false", "audiograms = true")
    assert load_show(project).audiograms is True
    monkeypatch.setattr(audiogram, "render_audiogram", lambda *a, **k: pytest.fail("rendered"))
    build(project, BuildOptions(jobs=1, engine="espeak"))
    manifest = read_manifest(project.output)
    assert manifest is not None and len(manifest.episodes[0].audiograms) == 2  # kept as made
    # --no-audiograms wins over the show's switch
    build(project, BuildOptions(jobs=1, engine="espeak", audiograms=False))
    manifest = read_manifest(project.output)
    assert manifest is not None and manifest.episodes[0].audiograms == ()


def test_a_switch_that_is_not_true_or_false_is_one_clear_error(show_dir: Path) -> None:
    show = show_dir / "feeds" / "show.toml"
    text = show.read_text(encoding="utf-8")
    show.write_text(text.replace("music = true", 'audiograms = "yes"'), encoding="utf-8")
    with pytest.raises(ConfigError, match="'audiograms' must be true or false"):
        load_show(Project(show_dir))


def test_cli_flag_reaches_the_build(monkeypatch: pytest.MonkeyPatch, show_dir: Path) -> None:
    seen: list[BuildOptions] = []

    def fake(project: Project, options: BuildOptions, events: BuildEvents) -> BuildReport:
        seen.append(options)
        return BuildReport()

    monkeypatch.setattr(pangocast, "build", fake)
    runner = CliRunner()
    for args, want in (([], None), (["--audiograms"], True), (["--no-audiograms"], False)):
        result = runner.invoke(app, ["--project", str(show_dir), "build", *args])
        assert result.exit_code == 0, result.output
        assert seen[-1].audiograms is want


def test_videos_are_served_and_published_as_immutable_mp4() -> None:
    rel = "audiograms/ep-13s-square-0123456789.mp4"
    assert content_type(rel) == "video/mp4"
    assert cache_control(rel) == IMMUTABLE


def _tone(path: Path, seconds: float) -> Path:
    cmd = [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i",
           f"sine=f=300:d={seconds}", "-ac", "1", "-b:a", "64k", str(path)]  # fmt: skip
    subprocess.run(cmd, check=True)
    return path


def test_chinese_captions_are_drawn_with_real_glyphs(tmp_path: Path) -> None:
    # Two captions of as many characters: drawn as tofu boxes (a font without CJK glyphs)
    # they would look the same.
    job = AudiogramJob(
        audio=_tone(tmp_path / "tone.mp3", 4.0),
        start=0.5,
        duration=3.0,
        captions=(Cue(0.0, 1.5, "杨镭", "我们的库很小"), Cue(1.5, 3.0, "老王", "承诺却很大")),
        cover=None,
        title="小库大承诺",
        size="square",
    )
    out = render_audiogram(job, tmp_path / "zh.mp4", audiogram_font())
    assert _decoded_seconds(out, "v") == pytest.approx(3.0, abs=0.1)
    first, second = _frame(out, 0.75, "square"), _frame(out, 2.25, "square")
    ca, cb = _caption_region(first, "square"), _caption_region(second, "square")
    assert ca.std() > 10 and cb.std() > 10
    assert np.abs(ca - cb).mean() > 3
    # the speaker's name changes with the cue too
    layout = LAYOUTS["square"]
    name = slice(layout.name_y, layout.name_y + layout.name_px * 2)
    assert np.abs(first[name].astype(float) - second[name].astype(float)).mean() > 1


def test_a_missing_font_is_one_line_naming_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from pangocast.publish import artwork

    monkeypatch.delenv(artwork.FONT_ENV, raising=False)
    monkeypatch.setattr(artwork, "_noto_package_font", lambda: None)
    monkeypatch.setattr(artwork, "DEBIAN_FONTS", ())
    with pytest.raises(ConfigError) as caught:
        audiogram_font()
    line = caught.value.one_line()
    assert "audiograms" in line and "pip install noto-cjk-sans-otc" in line
    assert "\n" not in line


def test_whole_episode_videos_join_the_downloads_when_the_show_asks(
    built: Built, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = _copy(built, tmp_path, "audiogram_episodes = false", "audiogram_episodes = true")
    jobs: list[AudiogramJob] = []

    def fake_render(job: AudiogramJob, out: Path, font: object) -> Path:
        jobs.append(job)  # rendering itself is tested above: a stand-in file
        out.write_bytes(b"mp4")
        return out

    monkeypatch.setattr(audiogram, "render_audiogram", fake_render)
    events = Recorder()
    build(project, BuildOptions(jobs=1, engine="espeak", audiograms=True), events)
    manifest = read_manifest(project.output)
    assert manifest is not None
    (episode,) = manifest.episodes
    whole = [a for a in episode.audiograms if a.clip == "episode"]
    assert {a.size for a in whole} == {"square", "vertical"}
    assert all(a.start == 0.0 and a.duration == episode.duration for a in whole)
    assert len(jobs) == 2 and all(j.captions[-1].end <= episode.duration for j in jobs)
    assert len(events.rendered) == 2  # the soundbites' videos were already there
    page = next(project.output.glob("episodes/*/index.html")).read_text(encoding="utf-8")
    for video in whole:
        assert f'href="../../{video.file}" type="video/mp4" download' in page


def test_a_failed_render_stops_the_build_or_with_keep_going_is_a_warning(
    built: Built, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pangocast.core.errors import AudioError
    from pangocast.pipeline.audiograms import attach_audiograms

    def broken(*args: object, **kwargs: object) -> None:
        raise AudioError("audiogram rendering failed: no encoder")

    monkeypatch.setattr(audiogram, "render_audiogram", broken)
    out = built.project.output
    manifest = read_manifest(out)
    assert manifest is not None
    episodes = {e.slug: e for e in manifest.episodes}
    with pytest.raises(AudioError):
        attach_audiograms(
            dict(episodes), out, manifest.cover, enabled=True, whole_episodes=True,
            events=Recorder(),
        )  # fmt: skip
    events = Recorder()
    kept = dict(episodes)
    attach_audiograms(
        kept, out, manifest.cover, enabled=True, whole_episodes=True, events=events,
        keep_going=True,
    )  # fmt: skip
    assert len(events.warnings) == 2 and "no encoder" in events.warnings[0].what
    (episode,) = kept.values()
    assert [a.clip for a in episode.audiograms] == ["soundbite", "soundbite"]  # on disk


def test_the_cli_draws_a_bar_of_the_videos() -> None:
    import io

    from rich.console import Console

    from pangocast_cli.progress import RichEvents

    console = Console(file=io.StringIO(), force_terminal=False, width=100)
    with RichEvents(console) as events:
        events.planned(1, 10, 0)
        events.audiograms_planned(2, 90.0)
        events.audiogram_done("audiograms/a.mp4", 45.0)
        events.audiogram_done("audiograms/b.mp4", 45.0)
    text = console.file.getvalue()  # type: ignore[attr-defined]
    assert "audiograms" in text and "2/2" in text and "1.5 min video" in text
