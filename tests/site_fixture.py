"""A small real built show for the site, serve and browser tests.

A 12 s MP3 (a tone, encoded by the project's ffmpeg), a real PNG cover, transcripts and a
feed file, and a manifest whose titles, names and turns carry HTML-hostile text.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from pangocast.audio.ffmpeg import ffmpeg_exe
from pangocast.core.models import Chapter, TimedTurn
from pangocast.core.project import Person, ShowConfig
from pangocast.publish.manifest import BuiltEpisode, Manifest
from pangocast.publish.serve import PreviewServer
from pangocast.publish.site import render_site

NASTY = "<script>alert(1)</script> \"引号\" & 'apos'"
"""Text that breaks a page wherever it is not escaped."""

DURATION = 12.0
SLUG = "ep-1"
AUDIO = f"audio/{SLUG}-0123abcd.mp3"
COVER = "images/cover-89ab.png"
COVER_SIZE = (300, 300)
CHAPTERS = (Chapter(0.0, f"开场 {NASTY}"), Chapter(6.0, "第二章 </textarea><b>粗</b> & 更多"))
HOST = "老王"
GUEST = '杨镭 <img src=x onerror="alert(2)"> "&"'
TURNS = (
    TimedTurn(0.0, 2.4, "旁白", "narrator", "chapter", f"开场 {NASTY}"),
    TimedTurn(2.4, 5.0, HOST, "host", "speech", f"你好,{NASTY}"),
    TimedTurn(5.0, 7.5, GUEST, "guest", "speech", "大家好。</p></li><script>alert(3)</script>"),
    TimedTurn(7.5, 10.0, HOST, "host", "speech", "第四段:A & B <i>斜体</i>"),
    TimedTurn(10.0, DURATION, GUEST, "guest", "speech", "最后一段,谢谢!"),
)
NOTES_HTML = (
    "<p>摘要 &lt;script&gt;已转义&lt;/script&gt;</p>"
    '<script>alert("notes")</script><p onclick="alert(4)">点击</p>'
    '<ul><li><a href="javascript:alert(5)">坏链接</a></li></ul>'
)
"""Show notes as the notes module would write them, plus markup no page may carry."""


def make_mp3(path: Path, seconds: float = DURATION) -> None:
    """Encode ``seconds`` of a 330 Hz tone as 64 kbit/s mono MP3."""
    path.parent.mkdir(parents=True, exist_ok=True)
    cmd = [
        ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y",
        "-f", "lavfi", "-i", f"sine=frequency=330:sample_rate=44100:duration={seconds}",
        "-ac", "1", "-c:a", "libmp3lame", "-b:a", "64k", str(path),
    ]  # fmt: skip
    subprocess.run(cmd, check=True, capture_output=True)


def make_png(path: Path, size: tuple[int, int] = COVER_SIZE) -> None:
    """A solid-colour PNG of ``size`` pixels."""
    path.parent.mkdir(parents=True, exist_ok=True)
    cmd = [
        ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y",
        "-f", "lavfi", "-i", f"color=c=0xb4361c:s={size[0]}x{size[1]}",
        "-frames:v", "1", str(path),
    ]  # fmt: skip
    subprocess.run(cmd, check=True, capture_output=True)


def make_show(base_url: str, title: str = f"穿山甲 {NASTY}") -> ShowConfig:
    """Show metadata with hostile text in the fields pages print."""
    return ShowConfig(
        title=title,
        description=f"描述 {NASTY}",
        base_url=base_url,
        language="zh-cn",
        author=f"Linux 中国 {NASTY}",
        owner_name="Linux 中国",
        owner_email="podcast@example.org",
        category="Technology",
        subcategory=None,
        explicit=False,
        show_type="episodic",
        podcast_guid="2fe141fa-64b9-5f3f-916f-25a720628cd9",
        locked=True,
        copyright=f"© {NASTY}",
        cover=None,
        hosts=(Person(HOST),),
        outro=None,
        intro=None,
    ).with_base_url(base_url)


def make_episode() -> BuiltEpisode:
    """The one episode: chapters at 0 and 6 s, five turns over 12 s."""
    return BuiltEpisode(
        slug=SLUG,
        guid="guid-1",
        title=f"第一期 {NASTY}",
        date=dt.date(2026, 11, 1),
        summary=f"摘要 {NASTY}",
        host=HOST,
        guests=(GUEST,),
        episode=1,
        season=None,
        episode_type="full",
        audio=AUDIO,
        audio_bytes=0,
        duration=DURATION,
        chapters=CHAPTERS,
        turns=TURNS,
        transcripts={
            "vtt": f"transcripts/{SLUG}.vtt",
            "srt": f"transcripts/{SLUG}.srt",
            "json": f"transcripts/{SLUG}.json",
        },
        chapters_file=f"chapters/{SLUG}.json",
        notes_html=NOTES_HTML,
    )


@dataclass(frozen=True)
class BuiltSite:
    """A rendered fixture site."""

    output: Path
    show: ShowConfig
    manifest: Manifest
    written: list[Path]

    @property
    def episode(self) -> BuiltEpisode:
        return self.manifest.episodes[0]


def build_site(output: Path, base_url: str, *, template_dir: Path | None = None) -> BuiltSite:
    """Lay out a built show under ``output`` (audio, cover, transcripts, feed) and render it."""
    make_mp3(output / AUDIO)
    make_png(output / COVER)
    ep = make_episode()
    transcripts = output / "transcripts"
    transcripts.mkdir(parents=True, exist_ok=True)
    (transcripts / f"{SLUG}.vtt").write_text("WEBVTT\n\n00:00.000 --> 00:02.400\n开场\n")
    (transcripts / f"{SLUG}.srt").write_text("1\n00:00:00,000 --> 00:00:02,400\n开场\n")
    (transcripts / f"{SLUG}.json").write_text(json.dumps({"version": "1.0.0", "segments": []}))
    (output / "chapters").mkdir(exist_ok=True)
    (output / f"chapters/{SLUG}.json").write_text(json.dumps({"version": "1.2.0"}))
    (output / "feed.xml").write_text('<?xml version="1.0"?><rss version="2.0"></rss>')
    ep = replace(ep, audio_bytes=(output / AUDIO).stat().st_size)
    show = make_show(base_url)
    manifest = Manifest(episodes=(ep,), cover=COVER, build_date=dt.datetime(2026, 11, 2, 8, 0))
    written = render_site(show, manifest, output, template_dir=template_dir)
    return BuiltSite(output=output, show=show, manifest=manifest, written=written)


@contextlib.contextmanager
def running(server: PreviewServer) -> Iterator[str]:
    """Serve in a thread for the ``with`` block; yields the base URL."""
    thread = threading.Thread(target=server.serve_forever, name="preview", daemon=True)
    thread.start()
    try:
        yield server.base_url
    finally:
        server.shutdown()
        thread.join(timeout=10)
