"""What more than one benchmark needs (imported as ``common``: each benchmark runs as a
script, with ``benchmarks/`` first on ``sys.path``)."""

from __future__ import annotations

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
