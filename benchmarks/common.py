"""What more than one benchmark needs (imported as ``common``: each benchmark runs as a
script, with ``benchmarks/`` first on ``sys.path``)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np

from pangocast.audio.delivery import master_stream, prepare
from pangocast.audio.ffmpeg import resample
from pangocast.audio.pcm import MASTER_RATE, Audio, from_db


def master(audio: Audio, target_lufs: float = -16.0, ceiling_dbtp: float = -2.0) -> Audio:
    """The build's mastering stream at 44.1 kHz, joined (-1 dBTP less the encoder headroom):
    what the encoder is fed, held whole so a benchmark can compare it with the decoded MP3."""
    audio = resample(audio, MASTER_RATE)
    prepared = prepare(audio)
    if prepared is None:
        return audio
    stream = master_stream(prepared, target_lufs, from_db(ceiling_dbtp), 0.2)
    return Audio(np.concatenate(list(stream.pieces())), stream.rate)


def judge(python: Path, job: dict[str, Any]) -> dict[str, Any] | None:
    """``benchmarks/voices_judge.py``'s verdict on ``job``, run by the judge venv's
    ``python``; None (and the judge's error on stderr) if it failed."""
    done = subprocess.run(
        [str(python), str(Path(__file__).resolve().parent / "voices_judge.py")],
        input=json.dumps(job, ensure_ascii=False),
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        print(done.stderr[-3000:], file=sys.stderr)
        return None
    result: dict[str, Any] = json.loads(done.stdout)
    return result
