"""Loudness (ITU-R BS.1770, checked against pyloudnorm): K-weighting, gating, and a meter that
takes a programme chunk by chunk, so an hour of audio is never held as floating point.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
import numpy.typing as npt

from pangocast.audio.pcm import PCM, Audio, FloatArray, to_db
from pangocast.audio.truepeak import HALF_TAPS, envelope_span, true_peak_of

SILENT_LUFS = -70.0
"""BS.1770's absolute gate: anything quieter counts as silence."""


GATING_BLOCK = 0.4  # BS.1770 gating block (s): pyloudnorm refuses anything shorter


_HOPS_PER_CHUNK = 15  # chunked processing: 15 gating hops (1.5 s) at a time


@dataclass(frozen=True)
class Loudness:
    """What a BS.1770 meter reports for a programme.

    Attributes:
        integrated_lufs: gated integrated loudness (``-inf`` for silence).
        true_peak_dbtp: 4x oversampled peak in dB relative to full scale (``-inf`` for
            digital silence).
    """

    integrated_lufs: float
    true_peak_dbtp: float


def _sosfilt() -> Any:
    """scipy's ``sosfilt``, imported on first use: scipy.signal takes 1-2.5 s to import,
    which a build that assembles nothing (no change) must not pay, and a build that
    assembles imports in the background while its segments are made
    (:data:`~pangocast.pipeline.schedule.ASSEMBLY_MODULES`)."""
    import scipy.signal  # type: ignore[import-untyped, unused-ignore]

    return scipy.signal.sosfilt


@cache
def _k_sections(rate: int) -> FloatArray:
    """BS.1770's K-weighting at ``rate`` as two second-order sections (pyloudnorm's own
    coefficients: the shelf, then the high-pass)."""
    from pyloudnorm.iirfilter import IIRfilter  # imports scipy.signal: only when measuring

    stages = (
        IIRfilter(4.0, 1 / math.sqrt(2), 1500.0, rate, "high_shelf"),
        IIRfilter(0.0, 0.5, 38.0, rate, "high_pass"),
    )
    return np.array([np.concatenate([st.b, st.a]) for st in stages], dtype=np.float64)


def k_weighted(x: FloatArray, rate: int) -> FloatArray:
    """``x`` through K-weighting: both sections in one sosfilt pass, the same result as
    pyloudnorm's two lfilter passes (to 1e-12) at an eighth of the time."""
    return np.asarray(_sosfilt()(_k_sections(rate), x), dtype=np.float64)


def gated_loudness(weighted: FloatArray, rate: int) -> float:
    """BS.1770 gated loudness of a K-weighted signal (400 ms blocks, 75 % overlap,
    -70 LUFS absolute and -10 LU relative gates), block for block as pyloudnorm computes
    it, with the block sums taken from one running sum instead of a Python loop."""
    count = round((len(weighted) / rate - GATING_BLOCK) / (GATING_BLOCK * 0.25)) + 1
    if count < 1:
        return -math.inf
    h = gating_hop(rate)
    if h is not None:
        # blocks are four 100 ms hops: sum each hop once (one pass, no running sum over
        # the whole episode), the last one possibly partial as pyloudnorm's last block is
        full = len(weighted) // h
        sq = weighted * weighted
        hops = sq[: full * h].reshape(full, h).sum(axis=1)
        return gated_hop_loudness(hops, float(sq[full * h :].sum()), len(weighted), rate)
    j = np.arange(count)
    lo = (GATING_BLOCK * (j * 0.25) * rate).astype(np.int64)
    hi = np.minimum((GATING_BLOCK * (j * 0.25 + 1) * rate).astype(np.int64), len(weighted))
    energy = np.concatenate([[0.0], np.cumsum(weighted * weighted)])
    return _gate((energy[hi] - energy[lo]) / (GATING_BLOCK * rate))


def gating_hop(rate: int) -> int | None:
    """Samples in one 100 ms gating hop, None when that is not a whole number."""
    hop = GATING_BLOCK * 0.25 * rate
    return int(hop) if hop.is_integer() else None


def gated_hop_loudness(hops: FloatArray, rest: float, n: int, rate: int) -> float:
    """:func:`gated_loudness` from the K-weighted energy of each complete 100 ms hop of an
    ``n``-sample signal (``hops``) and of its incomplete last hop (``rest``)."""
    count = round((n / rate - GATING_BLOCK) / (GATING_BLOCK * 0.25)) + 1
    if count < 1:
        return -math.inf
    hops = np.concatenate([hops, [rest], np.zeros(max(0, count + 3 - len(hops)))])
    four = np.concatenate([[0.0], np.cumsum(hops)])
    return _gate((four[4 : count + 4] - four[:count]) / (GATING_BLOCK * rate))


def _gate(z: FloatArray) -> float:
    """Integrated loudness from the mean squares of the 400 ms blocks, gated."""
    with np.errstate(divide="ignore"):
        level = -0.691 + 10 * np.log10(z)
    z_abs = z[level >= SILENT_LUFS]
    if len(z_abs) == 0:
        return -math.inf
    relative = -0.691 + 10 * math.log10(float(z_abs.mean())) - 10.0
    z_rel = z[(level > relative) & (level > SILENT_LUFS)]
    if len(z_rel) == 0:
        return -math.inf
    return -0.691 + 10 * math.log10(float(z_rel.mean()))


def padded_to_block(x: FloatArray, rate: int) -> FloatArray:
    """A clip shorter than one gating block, repeated to fill two: repetition keeps its
    K-weighted mean square, which is what one block of it would measure."""
    if 0 < len(x) <= int(GATING_BLOCK * rate):
        return np.tile(x, int(2 * GATING_BLOCK * rate) // len(x) + 2)
    return x


def integrated_loudness(x: FloatArray, rate: int) -> float:
    """Integrated loudness (LUFS) of ``x``, also for clips shorter than one gating block."""
    if len(x) == 0 or not np.any(x):
        return -math.inf
    return gated_loudness(k_weighted(padded_to_block(x, rate), rate), rate)


def measure(audio: Audio) -> Loudness:
    """Integrated loudness (BS.1770 gated) and true peak (4x oversampled) of ``audio``.

    Clips shorter than one 400 ms gating block are measured over their whole length.

    Raises:
        AudioError: never for valid :class:`Audio`; listed for symmetry with
            :func:`measure_file`.
    """
    x = audio.to_float()
    return Loudness(integrated_loudness(x, audio.rate), to_db(true_peak_of(x)))


def _as_float(samples: PCM | npt.NDArray[np.floating]) -> FloatArray:
    """16-bit PCM as floats at full scale 1.0; floats as float64 (not copied when they are)."""
    if samples.dtype == np.int16:
        return samples.astype(np.float64) / 32768.0
    return samples.astype(np.float64, copy=False)


class PeakMeter:
    """The true peak (4x oversampled) of samples fed in order, piece by piece: the peak of
    each position is taken once the 8 samples after it have arrived. Pieces of any size
    give exactly :func:`true_peak_of` of the whole."""

    def __init__(self) -> None:
        self.n = 0
        """Samples fed so far."""
        self._tail = np.zeros(2 * HALF_TAPS - 1)  # the 15 samples before the next piece
        self._peak = 0.0
        self._done = False

    def feed(self, samples: PCM | npt.NDArray[np.floating]) -> None:
        """The next samples: 16-bit PCM, or floats at full scale 1.0."""
        if len(samples) == 0:
            return
        buf = np.concatenate([self._tail, _as_float(samples)])
        self._tail = buf[-len(self._tail) :]
        self._take_peak(buf)
        self.n += len(samples)

    def _take_peak(self, buf: FloatArray) -> None:
        """Positions of ``buf`` (the 15 samples before sample ``self.n``, then new ones)
        whose interpolators' 16 samples are all in it; never those before the start."""
        lo = HALF_TAPS - 1 + max(0, HALF_TAPS - self.n)
        hi = len(buf) - HALF_TAPS
        if hi > lo:
            sample_peak = float(np.abs(buf[lo:hi]).max())
            threshold = max(self._peak, sample_peak)
            if threshold > 0.0:
                self._peak = max(threshold, float(envelope_span(buf, lo, hi, threshold).max()))

    def result(self) -> float:
        """The true peak (linear, full scale 1.0) of everything fed."""
        if not self._done:
            self._take_peak(np.concatenate([self._tail, np.zeros(HALF_TAPS)]))
            self._done = True  # the last positions are in: result() is repeatable
        return self._peak


class Meter:
    """:func:`measure` of 16-bit PCM fed in order, piece by piece, in O(piece) memory.

    K-weighting carries its filter state from piece to piece, the energy of each 100 ms
    hop is summed as it completes, and the true peak is taken by a :class:`PeakMeter`
    (``peak=False``: none; :meth:`result` then reports a peak of ``-inf``). Pieces of
    whole hops give exactly :func:`measure`'s figures. Only for rates with a whole number
    of samples per hop.
    """

    def __init__(self, rate: int, *, peak: bool = True) -> None:
        hop = gating_hop(rate)
        if hop is None:
            raise ValueError(f"no whole number of samples per gating hop at {rate} Hz")
        self.rate = rate
        self.hop = hop
        self.n = 0
        """Samples fed so far."""
        self._peaks = PeakMeter() if peak else None
        self._zi = np.zeros((len(_k_sections(rate)), 2))
        self._hops: list[FloatArray] = []
        self._carry = np.zeros(0)  # squared K-weighted samples of the unfinished hop
        self._head = np.zeros(0)  # the first samples, for clips shorter than a block

    @property
    def chunk(self) -> int:
        """A good piece size: whole hops, 1.5 s."""
        return chunk_samples(self.rate)

    def feed(self, samples: PCM | npt.NDArray[np.floating]) -> None:
        """The next samples: 16-bit PCM, or floats at full scale 1.0."""
        if len(samples) == 0:
            return
        x = _as_float(samples)
        block = int(GATING_BLOCK * self.rate) + 1
        if len(self._head) < block:
            self._head = np.concatenate([self._head, x[: block - len(self._head)]])
        w, self._zi = _sosfilt()(_k_sections(self.rate), x, zi=self._zi)
        sq = w * w
        if len(self._carry):
            sq = np.concatenate([self._carry, sq])
        full = len(sq) // self.hop
        if full:
            self._hops.append(sq[: full * self.hop].reshape(full, self.hop).sum(axis=1))
        self._carry = sq[full * self.hop :]
        if self._peaks is not None:
            self._peaks.feed(x)
        self.n += len(x)

    def loudness(self) -> float:
        """Integrated loudness (LUFS) of everything fed."""
        if self.n <= int(GATING_BLOCK * self.rate):
            return integrated_loudness(self._head[: self.n], self.rate)
        return gated_hop_loudness(*self.hop_energies(), self.n, self.rate)

    def result(self) -> Loudness:
        """Loudness and true peak of everything fed."""
        peak = self._peaks.result() if self._peaks is not None else 0.0
        return Loudness(self.loudness(), to_db(peak))

    def hop_energies(self) -> tuple[FloatArray, float]:
        """K-weighted energy of each complete hop, and of the unfinished last one."""
        hops = np.concatenate(self._hops) if self._hops else np.zeros(0)
        return hops, float(self._carry.sum())


def energies_by_hop(weighted: FloatArray, hop: int) -> tuple[FloatArray, float]:
    full = len(weighted) // hop
    sq = weighted * weighted
    return sq[: full * hop].reshape(full, hop).sum(axis=1), float(sq[full * hop :].sum())


def chunk_samples(rate: int) -> int:
    """Samples processed at once: whole gating hops, 1.5 s."""
    return round(GATING_BLOCK * 0.25 * rate) * _HOPS_PER_CHUNK
