"""What an audiogram costs to render: seconds of rendering per minute of video, both sizes.

Run from the repository root: ``python benchmarks/audiograms.py [--seconds 60] [--runs 2]``.

Encodes ``--seconds`` of speech-like sound (``tests/speechlike.py``) to an MP3 as a build
does, draws a cover, and makes captions of mixed Chinese and English text, one cue every
three seconds with the speaker's name; then renders the audiogram of the whole clip in each
size as a build would (:func:`pangocast.publish.audiogram.render_audiogram`, ffmpeg's
libx264 and AAC). For each size it prints the wall-clock seconds (best of ``--runs``) and
ffmpeg's CPU seconds per minute of video, and the file's size per minute. On a machine
whose cores are shared, the wall-clock time depends on the load: the CPU time does less.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from tests.speechlike import speech_like  # noqa: E402

from pangocast.audio.ffmpeg import run_lame_encoder  # noqa: E402
from pangocast.publish.artwork import render_cover  # noqa: E402
from pangocast.publish.audiogram import AudiogramJob, audiogram_font, render_audiogram  # noqa: E402
from pangocast.publish.audiogram_frame import LAYOUTS  # noqa: E402
from pangocast.publish.transcripts import Cue  # noqa: E402

LINES = (
    (
        "\u6768\u956d",
        "\u6211\u4eec\u7684\u5e93\u5f88\u5c0f\uff0c\u4f46\u662f\u627f\u8bfa\u5f88\u5927\u3002",
    ),
    ("Ana Ruiz", "A feature is a promise you make for ten years."),
)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="length of the video")
    parser.add_argument("--runs", type=int, default=2, help="renders per size (best is kept)")
    args = parser.parse_args()
    font = audiogram_font()
    with tempfile.TemporaryDirectory() as work:
        folder = Path(work)
        audio = speech_like(args.seconds, 44100)
        mp3 = folder / "clip.mp3"
        run_lame_encoder(iter([audio.samples]), audio.rate, mp3, "64k")
        cover = render_cover("\u7a7f\u5c71\u7532\u4e13\u8bbf", "Pangocast", folder / "cover.png")
        captions = tuple(
            Cue(t, min(t + 3.0, args.seconds), *LINES[i % len(LINES)])
            for i, t in enumerate(x * 3.0 for x in range(int(args.seconds // 3)))
        )
        print(f"{args.seconds:.0f} s of video, {len(captions)} captions, font {font.path.name}")
        print(f"{'size':10} {'wall s/min':>10} {'cpu s/min':>10} {'MB/min':>8}")
        for size in LAYOUTS:
            job = AudiogramJob(mp3, 0.0, args.seconds, captions, cover, "Benchmark", size)
            best_wall, best_cpu = float("inf"), float("inf")
            out = folder / f"{size}.mp4"
            for _ in range(args.runs):
                cpu, wall = _children_cpu(), time.perf_counter()
                render_audiogram(job, out, font)
                best_wall = min(best_wall, time.perf_counter() - wall)
                best_cpu = min(best_cpu, _children_cpu() - cpu)
            per_minute = 60.0 / args.seconds
            megabytes = out.stat().st_size / 1e6 * per_minute
            print(
                f"{size:10} {best_wall * per_minute:10.1f} {best_cpu * per_minute:10.1f}"
                f" {megabytes:8.1f}"
            )


if __name__ == "__main__":
    main()
