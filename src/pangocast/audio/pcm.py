"""In-memory audio: mono 16-bit PCM as a numpy array plus its sample rate.

Engines return :class:`Audio`; assembly joins them once with numpy and hands the result to
ffmpeg for encoding. Intermediates stay 16-bit PCM.
"""

from __future__ import annotations

import io
import math
import subprocess
import tempfile
import threading
import wave
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import numpy.typing as npt

from pangocast.core.errors import AudioError

PCM = npt.NDArray[np.int16]


@dataclass(frozen=True, eq=False)
class Audio:
    """Mono 16-bit PCM samples at ``rate`` Hz."""

    samples: PCM
    rate: int

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return len(self.samples) / self.rate

    @classmethod
    def silence(cls, seconds: float, rate: int) -> Audio:
        """``seconds`` of digital silence."""
        return cls(np.zeros(round(seconds * rate), dtype=np.int16), rate)

    @classmethod
    def from_float(cls, samples: npt.NDArray[np.floating], rate: int) -> Audio:
        """From float samples in [-1, 1] (clipped)."""
        clipped = np.clip(np.asarray(samples, dtype=np.float64), -1.0, 1.0)
        return cls((clipped * 32767.0).round().astype(np.int16), rate)

    def to_float(self) -> npt.NDArray[np.float64]:
        """Samples as float64 in [-1, 1]."""
        return self.samples.astype(np.float64) / 32768.0

    def to_wav_bytes(self) -> bytes:
        """A 16-bit mono WAV file in memory."""
        buf = io.BytesIO()
        with wave.open(buf, "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(self.rate)
            w.writeframes(self.samples.tobytes())
        return buf.getvalue()

    @classmethod
    def from_wav_bytes(cls, data: bytes) -> Audio:
        """Read a 16-bit mono WAV file from memory.

        Raises:
            AudioError: not a 16-bit mono WAV.
        """
        try:
            with wave.open(io.BytesIO(data), "rb") as w:
                if w.getsampwidth() != 2 or w.getnchannels() != 1:
                    raise AudioError("expected 16-bit mono WAV")
                frames = w.readframes(w.getnframes())
                rate = w.getframerate()
        except (wave.Error, EOFError) as exc:
            raise AudioError(f"not a WAV file: {exc}") from exc
        return cls(np.frombuffer(frames, dtype=np.int16).copy(), rate)


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


FloatArray = npt.NDArray[np.float64]


IntArray = npt.NDArray[np.int64]


MASTER_RATE = 44100
"""Sample rate of delivered episodes: the safe rate for MP3 podcasts."""


def to_db(x: float) -> float:
    """An amplitude ratio in dB (``-inf`` for 0)."""
    return 20.0 * math.log10(x) if x > 0 else -math.inf


def from_db(db: float) -> float:
    """The amplitude ratio of ``db`` dB."""
    return float(10.0 ** (db / 20.0))
