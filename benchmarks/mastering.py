"""How much time mastering adds to encoding a 5-minute episode.

Run from the repository root: ``python benchmarks/mastering.py [minutes]``.

The episode is the speech-like stand-in of tests/speechlike.py at 22.05 kHz (the rate the
offline engines produce), in 60 turns of five seconds from three voices at different
levels. Timed, best of three runs each:

- encode alone: ``encode_mp3`` of the raw joined audio (resampling to 44.1 kHz included);
- levelling: ``level_segment`` on every turn;
- master: ``master`` (resample, gain, true-peak limiter, re-measure);
- deliver: ``deliver`` (master + encode + decode-and-measure, re-done if off target);
- for comparison only, ffmpeg's ``loudnorm`` in two passes (measure, then linear gain).
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from common import master
from tests.speechlike import speech_like

from pangocast.audio.delivery import deliver, level_segment
from pangocast.audio.ffmpeg import ffmpeg_exe, run_ffmpeg_filter
from pangocast.audio.loudness import measure
from pangocast.audio.mp3 import Id3Tags, encode_mp3
from pangocast.audio.pcm import Audio

RATE = 22050
T = TypeVar("T")
TURN_SECONDS = 5.0


def _cpu() -> float:
    """CPU seconds of this process and its finished children (ffmpeg runs as a child)."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def _best(fn: Callable[[], T], runs: int = 3) -> tuple[float, float, T]:
    """Best wall-clock and best CPU time of ``runs`` calls (the machine is shared: CPU time
    is the steadier figure), and the last result."""
    walls, cpus = [], []
    result: T | None = None
    for _ in range(runs):
        wall, cpu = time.perf_counter(), _cpu()
        result = fn()
        walls.append(time.perf_counter() - wall)
        cpus.append(_cpu() - cpu)
    assert result is not None
    return min(walls), min(cpus), result


def _loudnorm_two_pass(audio: Audio) -> Audio:
    """ffmpeg loudnorm as documented: measure, then normalise linearly with the figures."""
    target = "I=-16:TP=-1.5:LRA=11"
    cmd = [
        ffmpeg_exe(), "-hide_banner", "-nostats", "-f", "s16le", "-ar", str(audio.rate),
        "-ac", "1", "-i", "pipe:0", "-af", f"loudnorm={target}:print_format=json",
        "-f", "null", "-",
    ]  # fmt: skip
    proc = subprocess.run(cmd, input=audio.samples.tobytes(), capture_output=True, check=True)
    err = proc.stderr.decode()
    stats = json.loads(err[err.rindex("{") : err.rindex("}") + 1])
    second = (
        f"loudnorm={target}:linear=true:measured_I={stats['input_i']}"
        f":measured_TP={stats['input_tp']}:measured_LRA={stats['input_lra']}"
        f":measured_thresh={stats['input_thresh']}:offset={stats['target_offset']}"
    )
    return run_ffmpeg_filter(audio, second, 44100)


def main(minutes: float = 5.0) -> None:
    turns = round(minutes * 60 / TURN_SECONDS)
    voices = [(110.0, -18.0), (210.0, -30.0), (150.0, -24.0)]
    pieces = [
        speech_like(TURN_SECONDS, RATE, f0=voices[i % 3][0], level_db=voices[i % 3][1], seed=i)
        for i in range(turns)
    ]
    gap = np.zeros(round(0.6 * RATE), dtype=np.int16)
    raw = Audio(np.concatenate([x for p in pieces for x in (p.samples, gap)]), RATE)
    tags = Id3Tags("benchmark", "pangocast", "benchmarks")

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        encode = _best(lambda: encode_mp3(raw, out / "raw.mp3", tags))
        level = _best(lambda: [level_segment(p) for p in pieces])
        levelled = Audio(np.concatenate([x for p in level[2] for x in (p.samples, gap)]), RATE)
        mastered = _best(lambda: master(levelled))
        delivered = _best(lambda: deliver(levelled, out / "ep.mp3", tags))
        loudnorm = _best(lambda: _loudnorm_two_pass(levelled), runs=1)

    def row(timing: tuple[float, float, object]) -> dict[str, float]:
        return {"wall_s": round(timing[0], 3), "cpu_s": round(timing[1], 3)}

    result = delivered[2]
    report = {
        "audio_minutes": round(raw.duration / 60, 2),
        "encode_alone": row(encode),
        "level_turns": row(level),
        "master": row(mastered),
        "deliver (master+encode+verify)": row(delivered),
        "deliver_passes": result.passes,
        "decoded_lufs": round(result.loudness.integrated_lufs, 2),
        "decoded_true_peak_dbtp": round(result.loudness.true_peak_dbtp, 2),
        "ratio_mastering_to_encode (level+master, cpu)": round(
            (level[1] + mastered[1]) / encode[1], 2
        ),
        "ratio_deliver_to_encode (level+deliver, cpu)": round(
            (level[1] + delivered[1]) / encode[1], 2
        ),
        "ffmpeg_loudnorm_two_pass (not used)": row(loudnorm),
        "ffmpeg_loudnorm_result (not used)": str(measure(loudnorm[2])),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 5.0)
