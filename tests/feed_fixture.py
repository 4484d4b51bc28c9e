"""A small real built show for the feed and check tests.

Two episodes with real MP3s (tones mastered to -16 LUFS, encoded by the project's ffmpeg,
with ID3 chapters written by mutagen), a real PNG cover made by ffmpeg, WebVTT/SRT/JSON
transcripts, Podcasting 2.0 chapters, a manifest and the feed rendered from them. One
episode's title, summary and notes carry XML-hostile text.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import subprocess
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import mutagen.id3
import numpy as np
import pyloudnorm

from pangocast.audio.ffmpeg import ffmpeg_exe
from pangocast.audio.pcm import Audio
from pangocast.core.models import Chapter
from pangocast.core.project import Project, ShowConfig, load_show
from pangocast.publish.feed import render_feed
from pangocast.publish.manifest import (
    MANIFEST_NAME,
    BuiltEpisode,
    Manifest,
    manifest_to_text,
)

_id3: Any = mutagen.id3

BASE_URL = "https://podcast.example.org/show/"
BUILD_DATE = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC)
RATE = 44100
NASTY = '<script>alert("x")</script> & \'q\' "双引号"'
"""Text that breaks XML or HTML wherever it is not escaped."""

SHOW_TOML = """
title = "穿山甲专访 测试"
description = "测试用的节目 & <描述>"
base_url = "https://podcast.example.org/show/"
language = "zh-cn"
# episodes go out at publish_time (local time) on their date, in this IANA time zone
timezone = "Asia/Shanghai"
publish_time = "08:00"
author = "Linux 中国"
category = "Technology"
subcategory = "Software How-To"
explicit = false
type = "episodic"
podcast_guid = "cd55c2be-ffbf-5db3-ab93-017b3566b67d"
locked = true
copyright = "© Linux 中国"

[owner]
name = "Linux 中国"
email = "podcast@example.org"

[[hosts]]
name = "老王"
role = "host"
href = "https://example.org/laowang"
"""


@dataclass(frozen=True)
class EpisodeSpec:
    """What the fixture builds for one episode."""

    slug: str
    guid: str
    title: str
    date: dt.date
    episode: int
    seconds: float
    freq: float
    guests: tuple[str, ...]
    chapters: tuple[Chapter, ...]
    summary: str


SPECS = (
    EpisodeSpec(
        slug="yang-lei",
        guid="pangocast:test:yang-lei",
        title=f"杨镭谈 UCloud {NASTY}",
        date=dt.date(2019, 7, 1),
        episode=1,
        seconds=3.0,
        freq=440.0,
        guests=("杨镭",),
        chapters=(Chapter(0.0, "开场"), Chapter(1.5, f"第二部分 {NASTY}")),
        summary=f"摘要 {NASTY}",
    ),
    EpisodeSpec(
        slug="ye-li-deng",
        guid="pangocast:test:ye-li-deng",
        title="叶理灯:开源与社区",
        date=dt.date(2019, 8, 1),
        episode=2,
        seconds=2.0,
        freq=550.0,
        guests=("叶理灯", "Alice Wang"),
        chapters=(Chapter(0.0, "开场"), Chapter(1.0, "问答")),
        summary="第二期的摘要。",
    ),
)


@dataclass(frozen=True)
class BuiltOutput:
    """A built ``output/`` folder and what made it."""

    root: Path
    show: ShowConfig
    manifest: Manifest

    @property
    def output(self) -> Path:
        return self.root / "output"

    @property
    def feed(self) -> bytes:
        return (self.output / "feed.xml").read_bytes()

    def episode(self, slug: str) -> BuiltEpisode:
        return next(e for e in self.manifest.episodes if e.slug == slug)


def load_test_show(root: Path) -> ShowConfig:
    """Write ``feeds/show.toml`` under ``root`` and load it the way the CLI does."""
    (root / "feeds").mkdir(parents=True, exist_ok=True)
    (root / "feeds" / "show.toml").write_text(SHOW_TOML, encoding="utf-8")
    return load_show(Project(root))


def tone(seconds: float, freq: float, lufs: float = -16.0) -> Audio:
    """A sine tone scaled to ``lufs`` integrated loudness (BS.1770, pyloudnorm)."""
    t = np.arange(round(seconds * RATE)) / RATE
    x = np.sin(2 * np.pi * freq * t)
    measured = pyloudnorm.Meter(RATE).integrated_loudness(x)
    return Audio.from_float(x * 10 ** ((lufs - measured) / 20), RATE)


def encode_mp3(audio: Audio, path: Path) -> None:
    """64 kbit/s mono 44.1 kHz MP3 through the bundled ffmpeg (with its Xing/Info header)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    cmd = [
        ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y",
        "-f", "s16le", "-ar", str(audio.rate), "-ac", "1", "-i", "pipe:0",
        "-c:a", "libmp3lame", "-b:a", "64k", str(path),
    ]  # fmt: skip
    subprocess.run(cmd, input=audio.samples.tobytes(), check=True, capture_output=True)


def write_id3_chapters(path: Path, chapters: tuple[Chapter, ...], duration: float) -> None:
    """ID3v2.3 CTOC + CHAP frames, as AntennaPod reads them."""
    try:
        tags = _id3.ID3(path)
    except _id3.ID3NoHeaderError:
        tags = _id3.ID3()
    ids = [f"chp{i}" for i in range(len(chapters))]
    tags.add(_id3.CTOC(element_id="toc", flags=3, child_element_ids=ids, sub_frames=[]))
    for i, chapter in enumerate(chapters):
        end = chapters[i + 1].start if i + 1 < len(chapters) else duration
        tags.add(
            _id3.CHAP(
                element_id=ids[i],
                start_time=round(chapter.start * 1000),
                end_time=round(end * 1000),
                sub_frames=[_id3.TIT2(encoding=3, text=[chapter.title])],
            )
        )
    tags.save(path, v2_version=3)


def make_png(path: Path, size: tuple[int, int] = (1400, 1400), pix_fmt: str = "rgb24") -> None:
    """A solid-colour image made by ffmpeg (PNG or JPEG by the file's extension)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    cmd = [
        ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y",
        "-f", "lavfi", "-i", f"color=c=0x3366cc:s={size[0]}x{size[1]}",
        "-frames:v", "1", "-pix_fmt", pix_fmt, str(path),
    ]  # fmt: skip
    subprocess.run(cmd, check=True, capture_output=True)


def _stamp(seconds: float, sep: str) -> str:
    ms = round(seconds * 1000)
    return (
        f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d}{sep}{ms % 1000:03d}"
    )


def write_transcripts(output: Path, spec: EpisodeSpec) -> dict[str, str]:
    """VTT (with voice spans), SRT and Podcasting 2.0 JSON transcripts: two cues."""
    half = spec.seconds / 2
    cues = [(0.0, half, "老王", "欢迎收听。"), (half, spec.seconds, spec.guests[0], "谢谢邀请。")]
    vtt = "WEBVTT\n\n" + "".join(
        f"{_stamp(a, '.')} --> {_stamp(b, '.')}\n<v {who}>{text}\n\n" for a, b, who, text in cues
    )
    srt = "".join(
        f"{i}\n{_stamp(a, ',')} --> {_stamp(b, ',')}\n{who}:{text}\n\n"
        for i, (a, b, who, text) in enumerate(cues, start=1)
    )
    js = {
        "version": "1.0.0",
        "segments": [
            {"speaker": who, "startTime": a, "endTime": b, "body": text} for a, b, who, text in cues
        ],
    }
    paths = {k: f"transcripts/{spec.slug}.{k}" for k in ("vtt", "srt", "json")}
    (output / "transcripts").mkdir(parents=True, exist_ok=True)
    (output / paths["vtt"]).write_text(vtt, encoding="utf-8")
    (output / paths["srt"]).write_text(srt, encoding="utf-8")
    (output / paths["json"]).write_text(json.dumps(js, ensure_ascii=False), encoding="utf-8")
    return paths


def hashed_name(path: Path, slug: str) -> str:
    """``audio/<slug>-<hash>.mp3``: the content hash the build puts in audio names."""
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:10]
    return f"audio/{slug}-{digest}.mp3"


def build_episode(output: Path, spec: EpisodeSpec, *, lufs: float = -16.0) -> BuiltEpisode:
    """Encode, tag and lay out one episode's files; its manifest entry."""
    audio = tone(spec.seconds, spec.freq, lufs)
    tmp = output / "audio" / f"{spec.slug}.tmp.mp3"
    encode_mp3(audio, tmp)
    write_id3_chapters(tmp, spec.chapters, spec.seconds)
    rel = hashed_name(tmp, spec.slug)
    tmp.rename(output / rel)
    chapters_file = f"chapters/{spec.slug}.json"
    (output / "chapters").mkdir(parents=True, exist_ok=True)
    (output / chapters_file).write_text(
        json.dumps(
            {
                "version": "1.2.0",
                "chapters": [{"startTime": c.start, "title": c.title} for c in spec.chapters],
            },
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    return BuiltEpisode(
        slug=spec.slug,
        guid=spec.guid,
        title=spec.title,
        date=spec.date,
        summary=spec.summary,
        host="老王",
        guests=spec.guests,
        episode=spec.episode,
        season=1,
        episode_type="full",
        audio=rel,
        audio_bytes=(output / rel).stat().st_size,
        duration=audio.duration,
        chapters=spec.chapters,
        transcripts=write_transcripts(output, spec),
        chapters_file=chapters_file,
        engine="test",
        notes_html=f"<p>{spec.summary.replace('&', '&amp;').replace('<', '&lt;')}</p>",
        notes_text=spec.summary,
    )


def publish(built: BuiltOutput, manifest: Manifest) -> BuiltOutput:
    """Write ``manifest.json`` and ``feed.xml`` for ``manifest`` (like a build's last step)."""
    built.output.joinpath(MANIFEST_NAME).write_text(manifest_to_text(manifest), encoding="utf-8")
    built.output.joinpath("feed.xml").write_bytes(render_feed(built.show, manifest))
    return replace(built, manifest=manifest)


def build_output(root: Path) -> BuiltOutput:
    """The whole fixture show under ``root/output``."""
    show = load_test_show(root)
    output = root / "output"
    cover = "images/cover-3366cc.png"
    make_png(output / cover)
    episodes = tuple(build_episode(output, spec) for spec in SPECS)
    manifest = Manifest(episodes=episodes, cover=cover, build_date=BUILD_DATE)
    return publish(BuiltOutput(root, show, manifest), manifest)


def synthetic_manifest() -> Manifest:
    """A manifest with fixed sizes and durations, no files: for golden feeds."""
    episodes = []
    for spec in SPECS:
        episodes.append(
            BuiltEpisode(
                slug=spec.slug,
                guid=spec.guid,
                title=spec.title,
                date=spec.date,
                summary=spec.summary,
                host="老王",
                guests=spec.guests,
                episode=spec.episode,
                season=1,
                episode_type="full",
                audio=f"audio/{spec.slug}-0123456789.mp3",
                audio_bytes=24_000 + spec.episode,
                duration=spec.seconds + 0.026,
                chapters=spec.chapters,
                transcripts={k: f"transcripts/{spec.slug}.{k}" for k in ("vtt", "srt", "json")},
                chapters_file=f"chapters/{spec.slug}.json",
                notes_html=f"<p>{spec.summary.replace('&', '&amp;').replace('<', '&lt;')}</p>",
                notes_text=spec.summary,
            )
        )
    return Manifest(tuple(episodes), cover="images/cover-3366cc.png", build_date=BUILD_DATE)
