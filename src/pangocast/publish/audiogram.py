"""Audiograms: a shareable MP4 (H.264 video, AAC audio) of a soundbite or a whole episode,
in two sizes (:data:`~pangocast.publish.audiogram_frame.LAYOUTS`), rendered by ffmpeg.

The picture is a still frame (cover and title, drawn once, see
:mod:`pangocast.publish.audiogram_frame`), a waveform of the clip's audio that moves with it
(ffmpeg's ``showwaves``) and the transcript's captions with the speaker's name, burned in
by libass from an ASS file, with the CJK font handed over through ``fontsdir``.

An audiogram's name carries :func:`audiogram_key`, a hash of everything it is made of (the
episode's MP3, whose name is content-addressed, the time span, the cover, the captions,
the title, the size, the font and :data:`AUDIOGRAM_VERSION`): one that is already on disk
is the same video, and is not rendered again.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pangocast.audio.ffmpeg import ffmpeg_exe
from pangocast.core.errors import AudioError, ConfigError
from pangocast.core.files import commit_file
from pangocast.core.models import TimedTurn
from pangocast.publish.artwork import FONT_HINT, CjkFont, find_cjk_font
from pangocast.publish.audiogram_frame import LAYOUTS, captions_ass, still_frame
from pangocast.publish.transcripts import Cue, cues

__all__ = [
    "AUDIOGRAM_VERSION",
    "CUE_LIMIT",
    "FPS",
    "AudiogramJob",
    "audiogram_font",
    "audiogram_key",
    "clip_cues",
    "render_audiogram",
]

AUDIOGRAM_VERSION = "1"
"""Bump when the drawing, the filter graph or the encoding change the video of the same
input: every audiogram is rendered again."""
FPS = 25
CUE_LIMIT = 48
"""Longest caption (characters): three lines of the square video at most."""
_WAVE_COLOUR = "#F6B254"  # the covers' accent


@dataclass(frozen=True)
class AudiogramJob:
    """One video to render: ``duration`` seconds of ``audio`` from ``start``."""

    audio: Path
    """The episode's MP3 (its name holds a hash of its content)."""
    start: float
    duration: float
    captions: tuple[Cue, ...]
    """The clip's cues, times relative to ``start``."""
    cover: Path | None
    title: str
    size: str
    """A key of :data:`~pangocast.publish.audiogram_frame.LAYOUTS`."""


def clip_cues(
    turns: Sequence[TimedTurn], start: float, duration: float, limit: int = CUE_LIMIT
) -> tuple[Cue, ...]:
    """The transcript's cues heard between ``start`` and ``start + duration``, cut to the
    clip and timed from its start (a cue the clip cuts into shows for the part heard)."""
    end = start + duration
    out = []
    for cue in cues(turns, limit):
        a, b = max(cue.start, start), min(cue.end, end)
        if b - a > 0.05:
            out.append(Cue(round(a - start, 3), round(b - start, 3), cue.speaker, cue.text))
    return tuple(out)


def audiogram_font() -> CjkFont:
    """The font captions and titles are drawn with (the covers' CJK font).

    Raises:
        ConfigError: no font with Chinese glyphs is installed (the message says which
            package brings one).
    """
    try:
        return find_cjk_font()
    except ConfigError as exc:
        raise ConfigError(
            "no font with Chinese glyphs is installed for the audiograms' captions",
            path=exc.path,
            hint=FONT_HINT,
        ) from exc


def audiogram_key(job: AudiogramJob, font: CjkFont) -> str:
    """Hash of everything the video of ``job`` is made of."""
    try:
        audio_bytes = job.audio.stat().st_size
        font_bytes = font.path.stat().st_size
    except OSError:
        audio_bytes = font_bytes = -1
    data = [
        AUDIOGRAM_VERSION,
        FPS,
        job.audio.name,
        audio_bytes,
        round(job.start, 3),
        round(job.duration, 3),
        [[c.start, c.end, c.speaker, c.text] for c in job.captions],
        job.cover.name if job.cover is not None else None,
        job.title,
        job.size,
        [font.path.name, font.index, font_bytes],
    ]
    return hashlib.sha256(json.dumps(data, ensure_ascii=False).encode()).hexdigest()


def _graph(size: str) -> str:
    """The filter graph: input 0 the still frame, input 1 the clip's audio."""
    layout = LAYOUTS[size]
    waves = (
        f"showwaves=s={layout.width}x{layout.wave_height}:mode=cline:rate={FPS}"
        f":colors={_WAVE_COLOUR}:draw=full:scale=sqrt"
    )
    return (
        # the still frame converted once, then repeated (decoding it per frame costs more
        # than the rest of the graph)
        "[0:v]format=yuv420p,loop=loop=-1:size=1:start=0[bg];"
        f"[1:a]aformat=channel_layouts=mono,{waves}[w];"
        f"[bg][w]overlay=0:{layout.wave_y}:shortest=1:format=yuv420,"
        "ass=filename=captions.ass:fontsdir=fonts[v]"
    )


def render_audiogram(job: AudiogramJob, out: Path, font: CjkFont) -> Path:
    """Render ``job`` to the MP4 ``out`` (through a temporary name beside it).

    Raises:
        AudioError: ffmpeg failed (its last message line is in the error), or the file
            could not be written.
        ConfigError: the cover or the font cannot be read.
    """
    layout = LAYOUTS[job.size]
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".tmp-{os.getpid()}-{out.name}")
    with tempfile.TemporaryDirectory(prefix="pangocast-audiogram-") as work:
        folder = Path(work)
        still_frame(layout, job.cover, job.title, font, folder / "still.png")
        (folder / "captions.ass").write_text(
            captions_ass(job.captions, layout, font), encoding="utf-8"
        )
        (folder / "fonts").mkdir()
        (folder / "fonts" / font.path.name).symlink_to(font.path.resolve())
        span = f"{job.duration:.3f}"
        cmd = [
            ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-nostdin", "-y",
            "-framerate", str(FPS), "-i", "still.png",
            "-ss", f"{job.start:.3f}", "-t", span, "-i", str(job.audio.resolve()),
            "-filter_complex", _graph(job.size), "-map", "[v]", "-map", "1:a",
            # the MP3's chapters and tags would become a text track and wrong metadata
            "-map_chapters", "-1", "-map_metadata", "-1",
            "-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-pix_fmt", "yuv420p",
            "-r", str(FPS), "-c:a", "aac", "-b:a", "128k", "-ac", "2",
            "-t", span, "-movflags", "+faststart", "-f", "mp4", str(tmp.resolve()),
        ]  # fmt: skip
        try:
            proc = subprocess.run(cmd, cwd=folder, capture_output=True, check=False)
            if proc.returncode != 0:
                lines = proc.stderr.decode("utf-8", "replace").strip().splitlines()
                raise AudioError(
                    f"audiogram rendering failed: {lines[-1] if lines else '?'}",
                    path=job.audio,
                    hint="check that ffmpeg works (pangocast --debug build)",
                )
            commit_file(tmp, out)
        except OSError as exc:
            raise AudioError(f"cannot write the audiogram: {exc}", path=out) from exc
        finally:
            tmp.unlink(missing_ok=True)
    return out
