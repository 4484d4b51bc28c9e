"""In-memory audio: mono 16-bit PCM as a numpy array plus its sample rate.

Engines return :class:`Audio`; assembly joins them once with numpy and hands the result to
ffmpeg for encoding. Intermediates stay 16-bit PCM.
"""

from __future__ import annotations

import io
import math
import wave
from dataclasses import dataclass

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
