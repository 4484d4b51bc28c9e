"""Decoding a delivered MP3 as a listener's player does, and measuring it on the way: in process
by libsndfile's mpg123 (through soundfile), or by ffmpeg when libsndfile cannot read the file
at the rate asked for.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from pangocast.audio.ffmpeg import decode_file, ffmpeg_pieces
from pangocast.audio.loudness import Loudness, Meter, PeakMeter, gating_hop, measure
from pangocast.audio.pcm import MASTER_RATE, PCM, to_db
from pangocast.audio.read_ahead import read_ahead
from pangocast.core.errors import AudioError


def measure_file(path: Path, rate: int = MASTER_RATE) -> Loudness:
    """:func:`measure` of an encoded file as a player decodes it (at ``rate`` Hz).

    Measuring the decoded MP3 matters: the encoder's filtering can raise the true peak by
    a few tenths of a dB over the PCM that went in. The decoded audio is measured as it
    is decoded (see :func:`decoded_pieces`), never held whole.

    Raises:
        AudioError: the file is missing or undecodable.
    """
    return measure_decoded(path, rate)[0]


def decoded_pieces(path: Path, rate: int, piece: int) -> Iterator[PCM | npt.NDArray[np.floating]]:
    """The file at ``path`` decoded to mono at ``rate``, ``piece`` samples at a time (the
    last piece shorter): floats read in process by libsndfile (soundfile) when it reads the
    file as mono at ``rate`` (every MP3 Pangocast writes), else 16-bit PCM from ffmpeg,
    which resamples and mixes down.

    libsndfile decodes MP3 with mpg123 and, like ffmpeg, honours the LAME header's encoder
    delay and padding: both give the same samples (within float rounding) and the same
    count, in about a third of ffmpeg's CPU time and with no pipe or extra process
    (``tests/test_mastering.py`` compares the two).

    Raises:
        AudioError: the file is missing, or cannot be decoded.
    """
    if not path.is_file():
        raise AudioError("audio file not found", path=path)
    reader = libsndfile_reader(path, rate)
    if reader is not None:
        yield from _libsndfile_pieces(reader, path, piece)
    else:
        yield from ffmpeg_pieces(path, rate, piece)


def libsndfile_reader(path: Path, rate: int) -> Any:
    """A soundfile reader of ``path`` when libsndfile opens it as mono at ``rate``;
    else None (another rate, stereo, a format it lacks, a file it cannot parse)."""
    try:
        import soundfile
    except (ImportError, OSError):  # no wheel for this platform, or no libsndfile
        return None
    try:
        reader = soundfile.SoundFile(str(path))
    except (RuntimeError, OSError, TypeError, ValueError):  # LibsndfileError is a RuntimeError
        return None
    if reader.samplerate != rate or reader.channels != 1:
        reader.close()
        return None
    return reader


def _libsndfile_pieces(reader: Any, path: Path, piece: int) -> Iterator[npt.NDArray[np.floating]]:
    # read() until it returns nothing, not blocks(): blocks() pads up to the length the
    # file's header declares, which would hide a truncated MP3
    with reader:
        while True:
            try:
                block = reader.read(piece, dtype="float64")
            except (RuntimeError, OSError) as exc:
                raise AudioError(f"cannot decode audio: {exc}", path=path) from exc
            if len(block) == 0:
                return
            yield block


def measure_decoded(path: Path, rate: int) -> tuple[Loudness, int]:
    """Loudness of the file at ``path`` as decoded at ``rate``, and how many samples the
    decoder gave (what a player plays), measured piece by piece as it is decoded.

    Raises:
        AudioError: the file is missing or undecodable.
    """
    if gating_hop(rate) is None:
        audio = decode_file(path, rate)
        return measure(audio), len(audio.samples)
    meter, peaks = Meter(rate, peak=False), PeakMeter()
    # Three threads on the way, each mostly outside the GIL (libsndfile's or ffmpeg's
    # decoding, scipy's K-weighting, numpy's true-peak interpolation): decoding runs
    # ahead, and the true peak of each piece is taken beside its loudness.
    with ThreadPoolExecutor(1, thread_name_prefix="pangocast-peak") as peak_thread:
        pending: Future[None] | None = None
        for pcm in read_ahead(decoded_pieces(path, rate, meter.chunk), name="pangocast-decode"):
            if pending is not None:
                pending.result()  # in order, and at most one piece ahead
            pending = peak_thread.submit(peaks.feed, pcm)
            meter.feed(pcm)
        if pending is not None:
            pending.result()
    return Loudness(meter.loudness(), to_db(peaks.result())), meter.n
