"""Every ffmpeg process Pangocast runs, in one place: the bundled binary (imageio-ffmpeg),
filters and resampling, decoding files and bytes (whole or piece by piece), and the LAME
MP3 encoder fed with PCM through a pipe. Audio goes in and out as 16-bit mono PCM.
"""

from __future__ import annotations

import io
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import cast

import numpy as np

from pangocast.audio.pcm import PCM, Audio
from pangocast.core.errors import AudioError

BATCHED = "asetnsamples=n=65536:p=0"
"""An ffmpeg filter that hands samples on in blocks of 65536 (none added at the end).
ffmpeg passes every decoded frame (1152 samples of MP3) from thread to thread on its way
to a pipe; batching them first takes a third off the CPU time of decoding an episode."""


@cache
def ffmpeg_exe() -> str:
    """Path of the ffmpeg binary shipped by imageio-ffmpeg.

    Raises:
        AudioError: imageio-ffmpeg is not installed or has no binary.
    """
    try:
        import imageio_ffmpeg

        return str(imageio_ffmpeg.get_ffmpeg_exe())
    except Exception as exc:  # imageio-ffmpeg raises RuntimeError when it has no binary
        raise AudioError(
            "ffmpeg not found", hint="pip install imageio-ffmpeg (it ships ffmpeg)"
        ) from exc


def run_ffmpeg_filter(audio: Audio, filters: str, out_rate: int | None = None) -> Audio:
    """Run ``audio`` through an ffmpeg audio filter chain (``-af``), in memory.

    Raises:
        AudioError: ffmpeg failed.
    """
    rate = out_rate or audio.rate
    cmd = [
        ffmpeg_exe(), "-hide_banner", "-loglevel", "error",
        "-f", "s16le", "-ar", str(audio.rate), "-ac", "1", "-i", "pipe:0",
        "-af", f"{filters},{BATCHED}", "-f", "s16le", "-ar", str(rate), "-ac", "1", "pipe:1",
    ]  # fmt: skip
    code, out, err = _through(cmd, audio.samples)
    if code != 0:
        lines = err.strip().splitlines()
        raise AudioError(f"ffmpeg filter '{filters}' failed: {lines[-1] if lines else '?'}")
    return Audio(np.frombuffer(out, dtype=np.int16, count=len(out) // 2), rate)


def _through(cmd: list[str], samples: PCM) -> tuple[int, bytearray, str]:
    """Run ``cmd`` with ``samples`` on its stdin: exit code, stdout, stderr.

    The samples are written by a thread in one call, without a copy, while this thread
    reads stdout in large blocks straight into the result (``subprocess.run`` would copy
    the input and write it 512 bytes per poll, which costs seconds for an episode).
    Messages go to a temporary file, so no pipe can fill up and block ffmpeg.
    """
    pcm = np.ascontiguousarray(samples, dtype="<i2").data.cast("B")
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err)
        assert proc.stdin is not None and proc.stdout is not None
        stdin = proc.stdin

        def feed() -> None:
            try:
                with stdin:
                    stdin.write(pcm)
            except OSError:
                pass  # ffmpeg stopped reading: its exit code and message say why

        writer = threading.Thread(target=feed, daemon=True)
        writer.start()
        out = bytearray()
        while block := proc.stdout.read(1 << 20):
            out += block
        proc.stdout.close()
        code = proc.wait()
        writer.join()
        err.seek(0)
        return code, out, err.read().decode("utf-8", "replace")


def resample(audio: Audio, rate: int) -> Audio:
    """``audio`` at a new sample rate (ffmpeg's resampler); a no-op when equal."""
    if audio.rate == rate:
        return audio
    return run_ffmpeg_filter(audio, "aresample", rate)


def decode_file(path: Path, rate: int) -> Audio:
    """Decode any audio file ffmpeg reads (MP3, WAV...) to mono PCM at ``rate``.

    Raises:
        AudioError: the file is missing or undecodable.
    """
    if not path.is_file():
        raise AudioError("audio file not found", path=path)
    cmd = [
        ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-i", str(path), "-af", BATCHED,
        "-f", "s16le", "-ar", str(rate), "-ac", "1", "pipe:1",
    ]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, check=False)
    if proc.returncode != 0:
        err = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise AudioError(f"cannot decode audio: {err[-1] if err else '?'}", path=path)
    return Audio(np.frombuffer(proc.stdout, dtype=np.int16).copy(), rate)


def decode_bytes(data: bytes, rate: int) -> Audio:
    """Decode in-memory MP3 data (e.g. edge-tts chunks) to mono PCM at ``rate``, with pydub.

    pydub drives imageio-ffmpeg's ffmpeg; ``codec="mp3"`` spares it the ffprobe call that
    imageio-ffmpeg (which ships no ffprobe) cannot answer.

    Raises:
        AudioError: undecodable.
    """
    from pydub import AudioSegment

    AudioSegment.converter = ffmpeg_exe()
    try:
        seg = AudioSegment.from_file(io.BytesIO(data), codec="mp3")
        seg = seg.set_channels(1).set_sample_width(2).set_frame_rate(rate)
    except Exception as exc:  # pydub raises CouldntDecodeError, IndexError, OSError...
        raise AudioError(f"cannot decode audio: {exc}".splitlines()[0]) from exc
    return Audio(np.frombuffer(seg.raw_data, dtype=np.int16).copy(), rate)


def decoded_duration(path: Path) -> float:
    """Seconds of audio ffmpeg decodes from the file at ``path`` (decoded to a null sink,
    nothing kept in memory): what a player will actually play.

    Raises:
        AudioError: the file is missing, or ffmpeg cannot open or decode it.
    """
    if not path.is_file():
        raise AudioError("audio file not found", path=path)
    cmd = [
        ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-nostats", "-i", str(path),
        "-map", "0:a:0", "-f", "null", "-", "-progress", "pipe:1",
    ]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, check=False)
    times = [
        line.split("=", 1)[1]
        for line in proc.stdout.decode("ascii", "replace").splitlines()
        if line.startswith("out_time_us=")
    ]
    if proc.returncode != 0 or not times or not times[-1].strip().isdigit():
        err = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise AudioError(f"cannot decode audio: {err[-1] if err else '?'}", path=path)
    return int(times[-1]) / 1e6


def ffmpeg_pieces(path: Path, rate: int, piece: int) -> Iterator[PCM]:
    """The file at ``path`` decoded by ffmpeg to mono 16-bit PCM at ``rate``.

    Raises:
        AudioError: ffmpeg cannot decode it (raised at the end).
    """
    cmd = [
        ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-nostdin", "-i", str(path),
        "-af", BATCHED, "-f", "s16le", "-ar", str(rate), "-ac", "1", "pipe:1",
    ]  # fmt: skip
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err)
        stdout = cast(io.BufferedReader, proc.stdout)
        finished = False
        try:
            buf = bytearray(2 * piece)
            view = memoryview(buf)
            while True:
                got = 0
                while got < len(buf):
                    n = stdout.readinto(view[got:])
                    if not n:
                        break
                    got += n
                if got >= 2:
                    yield np.frombuffer(buf, dtype=np.int16, count=got // 2)
                if got < len(buf):
                    finished = True
                    break
        finally:
            if not finished:
                proc.kill()  # the consumer stopped early, or failed
            stdout.close()
            code = proc.wait()
        if code != 0:
            err.seek(0)
            lines = err.read().decode("utf-8", "replace").strip().splitlines()
            raise AudioError(f"cannot decode audio: {lines[-1] if lines else '?'}", path=path)


MP3_RATE = 44100


LAME_QUALITY = 7
"""LAME's algorithm quality (0 best and slowest .. 9): 7 quantizes without LAME's
iterative noise shaping, in about half the CPU time of its default (3), and measured on the
neural voice at 64 kbit/s the decoded audio is no further from the PCM that went in (SNR
24.0 dB vs 20.7 dB; per-band SNR equal or better from 0 to 12 kHz): see
``python benchmarks/encoder.py``."""


def run_lame_encoder(pieces: Iterator[PCM], rate: int, out: Path, bitrate: str) -> None:
    """ffmpeg encoding ``pieces`` at ``rate`` (fed through stdin) to the MP3 file ``out``.

    ffmpeg's messages go to a temporary file, not a pipe, so a chatty ffmpeg can never
    block while this process is still writing samples.

    Raises:
        AudioError: ffmpeg failed (its last message line is in the error).
    """
    cmd = [
        ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y",
        "-f", "s16le", "-ar", str(rate), "-ac", "1", "-i", "pipe:0",
        "-acodec", "libmp3lame", "-b:a", bitrate, "-compression_level", str(LAME_QUALITY),
        "-ac", "1", "-ar", str(MP3_RATE),
        # ffmpeg's own ID3 tag (TSSE "Lavf...") is replaced by write_id3 anyway
        "-id3v2_version", "0", "-f", "mp3", str(out),
    ]  # fmt: skip
    with tempfile.TemporaryFile() as err:
        try:
            proc = subprocess.Popen(
                cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=err
            )
        except OSError as exc:
            raise AudioError(f"MP3 encoding failed: cannot run ffmpeg: {exc}") from exc
        assert proc.stdin is not None
        try:
            with proc.stdin:
                for piece in pieces:
                    proc.stdin.write(np.ascontiguousarray(piece, dtype="<i2").data.cast("B"))
        except BrokenPipeError:
            pass  # ffmpeg stopped reading: it exited, and says why below
        finally:
            code = proc.wait()
        if code != 0:
            err.seek(0)
            text = err.read().decode("utf-8", "replace")
            raise AudioError(f"MP3 encoding failed: {_last_line(text)}")


def _last_line(text: str) -> str:
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    return lines[-1] if lines else "?"
