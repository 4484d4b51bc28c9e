"""Loudness: level each turn, master the episode, measure what a listener's app will measure.

Mastering follows Apple's delivery spec for podcasts: -16 LUFS integrated (ITU-R BS.1770,
measured with pyloudnorm) and a true peak at or below -1 dBTP. The true-peak limiter and the
true-peak meter share one 4x oversampling interpolator (BS.1770-4 Annex 2), written with numpy
so the result is deterministic and needs no extra ffmpeg pass.

A whole episode is never held as floating point: :func:`deliver` keeps the episode as 16-bit
PCM at its working rate (the engine's) and works through it in chunks of 1.5 s (loudness,
peaks and gains are computed chunk by chunk; the limiter's gain is kept only where it is not
1), streams the mastered result into the encoder, and measures the encoded MP3 as it is
decoded, chunk by chunk (in process by libsndfile's mpg123, through soundfile; by ffmpeg
when that cannot read the file at the rate asked for). An hour of audio at 24 kHz is held
as 173 MB of 16-bit PCM, not the dozen float64 arrays (1.3 GB each at 44.1 kHz) of a
whole-signal computation.
"""

from __future__ import annotations

import ctypes
import io
import math
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, cast

import numpy as np
import numpy.typing as npt
import scipy.signal  # type: ignore[import-untyped, unused-ignore]
from pyloudnorm.iirfilter import IIRfilter

from pangocast.audio.mp3 import Id3Tags, PcmStream, encode_mp3
from pangocast.audio.pcm import BATCHED, PCM, Audio, decode_file, ffmpeg_exe, resample
from pangocast.audio.read_ahead import read_ahead
from pangocast.core.errors import AudioError
from pangocast.publish.manifest import Chapter

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

MASTER_RATE = 44100
"""Sample rate of delivered episodes: the safe rate for MP3 podcasts."""

MIN_WORKING_RATE = 16000
"""Below this an episode is mastered at :data:`MASTER_RATE` rather than its own rate."""

SILENT_LUFS = -70.0
"""BS.1770's absolute gate: anything quieter counts as silence."""

_BLOCK = 0.4  # BS.1770 gating block (s): pyloudnorm refuses anything shorter
_OVERSAMPLE = 4
_HALF_TAPS = 8  # interpolator taps on each side of the point (16 per phase)
_LIMITER_RADIUS = 0.010  # s; gain changes are spread over +-10 ms around a peak
_CHUNK = 1 << 18  # candidate samples interpolated at once (bounds memory)
_HOPS_PER_CHUNK = 15  # chunked processing: 15 gating hops (1.5 s) at a time
_DENSE = 20  # convolve along hot stretches, not gather windows, past 1 candidate in 20
_WARM_UP = 0.05  # s before a span that K-weighting it from rest needs (see _limited_loudness)
_MAX_PASSES = 3  # encodes deliver() tries before reporting what it got
# What MP3 encoding does to loudness, by bit rate, as first guesses for deliver(): the
# loudness it loses (LU) and the true-peak overshoot to keep free below the limit (dB).
# Measured with LAME at quality 7 (encode.LAME_QUALITY), 64 kbit/s: the six bundled
# episodes (neural voice) lose 0.48-0.52 LU and overshoot 0.05-0.14 dB; espeak-ng speech
# loses 0.64 LU; the noisier speech-like stand-in loses 0.5-0.6 LU and overshoots up to
# 0.9 dB; at 80 kbit/s these lose 0.55-0.62 LU and overshoot up to 0.5 dB. The passes
# that follow correct what a guess misses.
_CODEC_PRIOR = {"64k": (0.5, 1.3), "80k": (0.55, 1.2)}
_DEFAULT_PRIOR = (0.1, 1.0)


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


def _db(x: float) -> float:
    return 20.0 * math.log10(x) if x > 0 else -math.inf


def _gain(db: float) -> float:
    return float(10.0 ** (db / 20.0))


@cache
def _kernels() -> FloatArray:
    """Polyphase interpolators for the points 1/4, 2/4 and 3/4 between two samples.

    Kaiser-windowed sinc, 16 taps per phase, each phase normalised to unity DC gain: within
    0.1 dB of an ideal interpolator for speech and music, which is what the true-peak
    measure needs (BS.1770's own reference filter has 12 taps per phase).
    """
    offsets = np.arange(-_HALF_TAPS + 1, _HALF_TAPS + 1, dtype=np.float64)
    rows = []
    for phase in range(1, _OVERSAMPLE):
        t = offsets - phase / _OVERSAMPLE
        window = np.i0(8.0 * np.sqrt(np.clip(1.0 - (t / _HALF_TAPS) ** 2, 0.0, 1.0)))
        h = np.sinc(t) * window
        rows.append(h / h.sum())
    return np.array(rows)


def _sliding_max(a: FloatArray, radius: int) -> FloatArray:
    """``out[i] = max(a[i - radius : i + radius + 1])`` in O(n) (van Herk / Gil-Werman).

    The running maxima go down the columns of a (width, blocks) array, so each step is one
    contiguous vector operation: several times faster than accumulating along rows.
    """
    if radius <= 0 or len(a) == 0:
        return a.copy()
    width = 2 * radius + 1
    n = len(a)
    blocks = -(-(n + 2 * radius) // width)
    padded = np.full(blocks * width, -np.inf)
    padded[radius : radius + n] = a
    cols = np.ascontiguousarray(padded.reshape(blocks, width).T)
    prefix = np.maximum.accumulate(cols, axis=0).T.ravel()
    suffix = np.maximum.accumulate(cols[::-1], axis=0)[::-1].T.ravel()
    return np.maximum(suffix[:n], prefix[width - 1 : width - 1 + n])


def _sliding_min(a: FloatArray, radius: int) -> FloatArray:
    return -_sliding_max(-a, radius)


def _box(a: FloatArray, radius: int) -> FloatArray:
    """Centred moving average over ``2 * radius + 1`` samples (edges held)."""
    if radius <= 0 or len(a) == 0:
        return a.copy()
    width = 2 * radius + 1
    # edges held by hand: np.pad's argument handling costs more than the work on the short
    # stretches the limiter passes in, thousands of times an episode
    padded = np.concatenate([np.full(radius + 1, a[0]), a, np.full(radius, a[-1])])
    csum: FloatArray = np.cumsum(padded)
    return (csum[width:] - csum[:-width]) / width


_TAPS = np.arange(-_HALF_TAPS + 1, _HALF_TAPS + 1)
"""Offsets of the samples the interpolators after position ``p`` read: ``p - 7 .. p + 8``."""


@cache
def _curvature_weight() -> float:
    """``C`` such that, for every interpolator ``k``, ``|x(p + k/4)|`` is at most
    ``max(|x[p]|, |x[p + 1]|) + C * max |x[t] - 2 x[t + 1] + x[t + 2]|`` over the samples
    under the interpolator.

    Each interpolator ``h`` is a straight line between ``x[p]`` and ``x[p + 1]`` (the
    weights ``1 - v`` and ``v``, ``v`` its first moment) plus a rest with zero sum and zero
    first moment. Such a rest has a double zero at DC, so it factors into second
    differences: ``rest = q * [1, -2, 1]`` exactly, and ``|rest . x|`` is at most
    ``sum |q|`` times the largest second difference. Speech is smooth next to the sample
    rate, so the bound stays close to the samples: on a decoded episode of the bundled show,
    under 0.01 % of 32-sample runs come within reach of its true peak, where
    ``sum |h| * max |x|`` (+5.8 dB) sends every loud syllable to the interpolators.
    """
    worst = 0.0
    for h in _kernels():
        v = float(h @ _TAPS)
        assert 0.0 <= v <= 1.0, v
        line = np.zeros(len(h))
        line[_HALF_TAPS - 1 : _HALF_TAPS + 1] = (1.0 - v, v)  # offsets 0 and 1
        quotient, remainder = np.polydiv(h - line, [1.0, -2.0, 1.0])
        assert float(np.abs(remainder).max()) < 1e-12
        worst = max(worst, float(np.abs(quotient).sum()))
    return worst


_SCREEN = 32
"""Positions screened together by :func:`_screen_bounds`."""


def _block_max(a: FloatArray, blocks: int) -> FloatArray:
    """The maximum of each run of :data:`_SCREEN` values of ``a`` (zeros past its end)."""
    padded = np.zeros(blocks * _SCREEN)
    padded[: min(len(a), len(padded))] = a[: len(padded)]
    out: FloatArray = padded.reshape(blocks, _SCREEN).max(axis=1)
    return out


def _screen_bounds(buf: FloatArray, lo: int, hi: int) -> FloatArray:
    """For each run of :data:`_SCREEN` positions ``p`` of ``[lo, hi)`` (the last may be
    shorter), an upper bound of ``max(|x[p]|, |x(p + k/4)|)`` over the run, where
    ``buf[p - 7 : p + 9]`` lies inside ``buf`` (see :func:`_curvature_weight`).

    A run's bound takes ``|x|`` and the second differences from the run and the next one
    (the interpolators of a run reach 8 samples past it), widened by a few ulps for
    rounding. Three passes over the samples and a few over the runs: much cheaper than
    interpolating, and close enough that near a peak few runs are left to interpolate.
    """
    blocks = -(-(hi - lo) // _SCREEN) + 1
    span = buf[lo - _HALF_TAPS + 1 : hi + _HALF_TAPS]
    curvature = _block_max(np.abs(span[2:] - 2.0 * span[1:-1] + span[:-2]), blocks)
    ends = _block_max(np.abs(buf[lo : hi + 1]), blocks)
    bound = np.maximum(ends[:-1], ends[1:])
    bound += _curvature_weight() * np.maximum(curvature[:-1], curvature[1:])
    return bound * (1.0 + 1e-9) + 1e-12


def _interpolated(buf: FloatArray, lo: int, hi: int) -> FloatArray:
    """``max_k |x(p + k/4)|`` for every position ``p`` in ``[lo, hi)`` of ``buf`` (whose
    ``buf[p - 7 : p + 9]`` must lie inside ``buf``), by three whole-span convolutions
    (faster than gathering windows once 1 position in ~20 needs interpolating)."""
    out = np.zeros(hi - lo)
    span = buf[lo - _HALF_TAPS + 1 : hi + _HALF_TAPS]
    for h in _kernels():
        np.maximum(out, np.abs(np.convolve(span, h[::-1], "valid")), out=out)
    return out


def _envelope(buf: FloatArray, lo: int, hi: int, threshold: float) -> FloatArray:
    """Per-position true-peak envelope over ``[lo, hi)`` of ``buf``: ``max(|x[p]|,
    |x(p + k/4)|)`` for k = 1..3, where ``buf[p - 7 : p + 9]`` lies inside ``buf``.

    Exact wherever the envelope can exceed ``threshold``: only the runs of positions whose
    :func:`_screen_bounds` exceed ``threshold`` are interpolated; the others keep
    ``|x[p]|``, which like their true envelope stays at or below ``threshold``.
    """
    env = np.abs(buf[lo:hi])
    if hi <= lo:
        return env
    runs = np.flatnonzero(_screen_bounds(buf, lo, hi) > threshold)
    if len(runs) == 0:
        return env
    if len(runs) * _SCREEN * _DENSE > hi - lo:
        # many candidates: convolve along each stretch of runs at most one run apart (in
        # the loud stretches of speech a sixth of the positions, in about ten stretches)
        gaps = np.flatnonzero(np.diff(runs) > 2)
        firsts = runs[np.concatenate([[0], gaps + 1])] * _SCREEN
        lasts = np.minimum((runs[np.concatenate([gaps, [len(runs) - 1]])] + 1) * _SCREEN, hi - lo)
        for a, b in zip(firsts.tolist(), lasts.tolist(), strict=True):
            np.maximum(env[a:b], _interpolated(buf, lo + a, lo + b), out=env[a:b])
        return env
    near = (runs[:, None] * _SCREEN + np.arange(_SCREEN)).ravel()
    near = near[near < hi - lo]
    kernels = _kernels().T
    for start in range(0, len(near), _CHUNK):
        idx = near[start : start + _CHUNK]
        windows = buf[(idx + lo)[:, None] + _TAPS[None, :]]
        env[idx] = np.maximum(env[idx], np.abs(windows @ kernels).max(axis=1))
    return env


def _padded(x: FloatArray) -> FloatArray:
    """``x`` with the zeros its first and last interpolators read (positions start at 8)."""
    return np.concatenate([np.zeros(_HALF_TAPS), x, np.zeros(_HALF_TAPS)])


def _peak_envelope(x: FloatArray, threshold: float) -> FloatArray:
    """:func:`_envelope` of a whole signal (zero outside it): exact wherever it can exceed
    ``threshold``."""
    return _envelope(_padded(x), _HALF_TAPS, _HALF_TAPS + len(x), threshold)


def _true_peak(x: FloatArray) -> float:
    if len(x) == 0:
        return 0.0
    sample_peak = float(np.abs(x).max())
    if sample_peak == 0.0:
        return 0.0
    # span by span: a span only interpolates what could beat the peak found so far
    buf, peak, step = _padded(x), sample_peak, _CHUNK
    for lo in range(_HALF_TAPS, _HALF_TAPS + len(x), step):
        hi = min(lo + step, _HALF_TAPS + len(x))
        peak = max(peak, float(_envelope(buf, lo, hi, peak).max()))
    return peak


@cache
def _k_sections(rate: int) -> FloatArray:
    """BS.1770's K-weighting at ``rate`` as two second-order sections (pyloudnorm's own
    coefficients: the shelf, then the high-pass)."""
    stages = (
        IIRfilter(4.0, 1 / math.sqrt(2), 1500.0, rate, "high_shelf"),
        IIRfilter(0.0, 0.5, 38.0, rate, "high_pass"),
    )
    return np.array([np.concatenate([st.b, st.a]) for st in stages], dtype=np.float64)


def _k_weighted(x: FloatArray, rate: int) -> FloatArray:
    """``x`` through K-weighting: both sections in one sosfilt pass, the same result as
    pyloudnorm's two lfilter passes (to 1e-12) at an eighth of the time."""
    return np.asarray(scipy.signal.sosfilt(_k_sections(rate), x), dtype=np.float64)


def _gated(weighted: FloatArray, rate: int) -> float:
    """BS.1770 gated loudness of a K-weighted signal (400 ms blocks, 75 % overlap,
    -70 LUFS absolute and -10 LU relative gates), block for block as pyloudnorm computes
    it, with the block sums taken from one running sum instead of a Python loop."""
    count = round((len(weighted) / rate - _BLOCK) / (_BLOCK * 0.25)) + 1
    if count < 1:
        return -math.inf
    h = _hop(rate)
    if h is not None:
        # blocks are four 100 ms hops: sum each hop once (one pass, no running sum over
        # the whole episode), the last one possibly partial as pyloudnorm's last block is
        full = len(weighted) // h
        sq = weighted * weighted
        hops = sq[: full * h].reshape(full, h).sum(axis=1)
        return _gated_hops(hops, float(sq[full * h :].sum()), len(weighted), rate)
    j = np.arange(count)
    lo = (_BLOCK * (j * 0.25) * rate).astype(np.int64)
    hi = np.minimum((_BLOCK * (j * 0.25 + 1) * rate).astype(np.int64), len(weighted))
    energy = np.concatenate([[0.0], np.cumsum(weighted * weighted)])
    return _gate((energy[hi] - energy[lo]) / (_BLOCK * rate))


def _hop(rate: int) -> int | None:
    """Samples in one 100 ms gating hop, None when that is not a whole number."""
    hop = _BLOCK * 0.25 * rate
    return int(hop) if hop.is_integer() else None


def _gated_hops(hops: FloatArray, rest: float, n: int, rate: int) -> float:
    """:func:`_gated` from the K-weighted energy of each complete 100 ms hop of an
    ``n``-sample signal (``hops``) and of its incomplete last hop (``rest``)."""
    count = round((n / rate - _BLOCK) / (_BLOCK * 0.25)) + 1
    if count < 1:
        return -math.inf
    hops = np.concatenate([hops, [rest], np.zeros(max(0, count + 3 - len(hops)))])
    four = np.concatenate([[0.0], np.cumsum(hops)])
    return _gate((four[4 : count + 4] - four[:count]) / (_BLOCK * rate))


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


def _padded_short(x: FloatArray, rate: int) -> FloatArray:
    """A clip shorter than one gating block, repeated to fill two: repetition keeps its
    K-weighted mean square, which is what one block of it would measure."""
    if 0 < len(x) <= int(_BLOCK * rate):
        return np.tile(x, int(2 * _BLOCK * rate) // len(x) + 2)
    return x


def _integrated(x: FloatArray, rate: int) -> float:
    """Integrated loudness (LUFS) of ``x``, also for clips shorter than one gating block."""
    if len(x) == 0 or not np.any(x):
        return -math.inf
    return _gated(_k_weighted(_padded_short(x, rate), rate), rate)


def measure(audio: Audio) -> Loudness:
    """Integrated loudness (BS.1770 gated) and true peak (4x oversampled) of ``audio``.

    Clips shorter than one 400 ms gating block are measured over their whole length.

    Raises:
        AudioError: never for valid :class:`Audio`; listed for symmetry with
            :func:`measure_file`.
    """
    x = audio.to_float()
    return Loudness(_integrated(x, audio.rate), _db(_true_peak(x)))


def measure_file(path: Path, rate: int = MASTER_RATE) -> Loudness:
    """:func:`measure` of an encoded file as a player decodes it (at ``rate`` Hz).

    Measuring the decoded MP3 matters: the encoder's filtering can raise the true peak by
    a few tenths of a dB over the PCM that went in. The decoded audio is measured as it
    is decoded (see :func:`_decoded_pieces`), never held whole.

    Raises:
        AudioError: the file is missing or undecodable.
    """
    return _measure_decoded(path, rate)[0]


class _Meter:
    """:func:`measure` of 16-bit PCM fed in order, piece by piece, in O(piece) memory.

    K-weighting carries its filter state from piece to piece, the energy of each 100 ms
    hop is summed as it completes, and the true peak of each position is taken once the 8
    samples after it have arrived. Pieces of whole hops give exactly :func:`measure`'s
    figures. Only for rates with a whole number of samples per hop.
    """

    def __init__(self, rate: int, *, peak: bool = True) -> None:
        hop = _hop(rate)
        if hop is None:
            raise ValueError(f"no whole number of samples per gating hop at {rate} Hz")
        self.rate = rate
        self.hop = hop
        self.n = 0
        """Samples fed so far."""
        self._peak_wanted = peak
        self._zi = np.zeros((len(_k_sections(rate)), 2))
        self._hops: list[FloatArray] = []
        self._carry = np.zeros(0)  # squared K-weighted samples of the unfinished hop
        self._head = np.zeros(0)  # the first samples, for clips shorter than a block
        self._tail = np.zeros(2 * _HALF_TAPS - 1)  # the 15 samples before the next piece
        self._peak = 0.0

    @property
    def chunk(self) -> int:
        """A good piece size: whole hops, 1.5 s."""
        return _chunk(self.rate)

    def feed(self, samples: PCM | npt.NDArray[np.floating]) -> None:
        """The next samples: 16-bit PCM, or floats at full scale 1.0."""
        if len(samples) == 0:
            return
        if samples.dtype == np.int16:
            x = samples.astype(np.float64) / 32768.0
        else:
            x = samples.astype(np.float64, copy=False)
        block = int(_BLOCK * self.rate) + 1
        if len(self._head) < block:
            self._head = np.concatenate([self._head, x[: block - len(self._head)]])
        w, self._zi = scipy.signal.sosfilt(_k_sections(self.rate), x, zi=self._zi)
        sq = w * w
        if len(self._carry):
            sq = np.concatenate([self._carry, sq])
        full = len(sq) // self.hop
        if full:
            self._hops.append(sq[: full * self.hop].reshape(full, self.hop).sum(axis=1))
        self._carry = sq[full * self.hop :]
        if self._peak_wanted:
            buf = np.concatenate([self._tail, x])
            self._tail = buf[-len(self._tail) :]
            self._take_peak(buf)
        self.n += len(x)

    def _take_peak(self, buf: FloatArray) -> None:
        """Positions of ``buf`` (the 15 samples before sample ``self.n``, then new ones)
        whose interpolators' 16 samples are all in it; never those before the start."""
        lo = _HALF_TAPS - 1 + max(0, _HALF_TAPS - self.n)
        hi = len(buf) - _HALF_TAPS
        if hi > lo:
            sample_peak = float(np.abs(buf[lo:hi]).max())
            threshold = max(self._peak, sample_peak)
            if threshold > 0.0:
                self._peak = max(threshold, float(_envelope(buf, lo, hi, threshold).max()))

    def result(self) -> Loudness:
        """Loudness and true peak of everything fed."""
        if self._peak_wanted:
            self._take_peak(np.concatenate([self._tail, np.zeros(_HALF_TAPS)]))
            self._peak_wanted = False  # the last positions are in: result() is repeatable
        peak = _db(self._peak)
        if self.n <= int(_BLOCK * self.rate):
            return Loudness(_integrated(self._head[: self.n], self.rate), peak)
        return Loudness(_gated_hops(*self.hop_energies(), self.n, self.rate), peak)

    def hop_energies(self) -> tuple[FloatArray, float]:
        """K-weighted energy of each complete hop, and of the unfinished last one."""
        hops = np.concatenate(self._hops) if self._hops else np.zeros(0)
        return hops, float(self._carry.sum())


def _decoded_pieces(path: Path, rate: int, piece: int) -> Iterator[PCM | npt.NDArray[np.floating]]:
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
    reader = _libsndfile_reader(path, rate)
    if reader is not None:
        yield from _libsndfile_pieces(reader, path, piece)
    else:
        yield from _ffmpeg_pieces(path, rate, piece)


def _libsndfile_reader(path: Path, rate: int) -> Any:
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


def _ffmpeg_pieces(path: Path, rate: int, piece: int) -> Iterator[PCM]:
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


def _measure_decoded(path: Path, rate: int) -> tuple[Loudness, int]:
    """Loudness of the file at ``path`` as decoded at ``rate``, and how many samples the
    decoder gave (what a player plays), measured piece by piece as it is decoded.

    Raises:
        AudioError: the file is missing or undecodable.
    """
    if _hop(rate) is None:
        audio = decode_file(path, rate)
        return measure(audio), len(audio.samples)
    meter = _Meter(rate)
    # decoding (which releases the GIL) runs in its own thread, beside the measuring
    for pcm in read_ahead(_decoded_pieces(path, rate, meter.chunk), name="pangocast-decode"):
        meter.feed(pcm)
    return meter.result(), meter.n


def _limiter_gain(x: FloatArray, rate: int, ceiling: float) -> FloatArray | None:
    """The gain of a look-ahead true-peak limiter for ``x``, or None when none is needed.

    The gain each sample needs is spread by a sliding minimum over +-R and smoothed by two
    moving averages of radius R/2: every smoothed value near a peak averages only minima
    that already include that peak, so the result never exceeds the needed gain (no
    overshoot, no clipping), and attack and release are ~R long each, zero-phase.

    Only the neighbourhoods of samples over the ceiling are processed (a gain of exactly 1
    elsewhere), so the cost follows the number of peaks, not the length of the episode.
    """
    env = _peak_envelope(x, ceiling)
    over = np.flatnonzero(env > ceiling)
    if len(over) == 0:
        return None
    gain = np.ones(len(x))
    for lo, hi, keep in _regions(over, len(x), rate):
        gain[lo:keep] = _region_gain(env[lo:hi], rate, ceiling)[: keep - lo]
    return gain


def _regions(over: IntArray, n: int, rate: int) -> list[tuple[int, int, int]]:
    """The stretches ``[lo, hi)`` of an ``n``-sample signal the limiter works on, in order,
    given the (sorted) positions ``over`` the ceiling: peaks closer than two reaches share
    one stretch, processed in one piece. Neighbours may share one sample, where the later
    one's gain holds: a stretch's gain is kept on ``[lo, keep)`` only."""
    half = max(1, round(_LIMITER_RADIUS * rate / 2))
    reach = 4 * half  # how far a peak's gain reduction extends either way
    breaks = np.flatnonzero(np.diff(over) > 2 * reach + 1)
    firsts = np.concatenate([over[:1], over[breaks + 1]]).tolist()
    lasts = np.concatenate([over[breaks], over[-1:]]).tolist()
    spans = [
        (max(0, f - reach - 1), min(n, last + reach + 2))
        for f, last in zip(firsts, lasts, strict=True)
    ]
    nexts = [lo for lo, _ in spans[1:]] + [n]
    return [(lo, hi, min(hi, nxt)) for (lo, hi), nxt in zip(spans, nexts, strict=True)]


def _region_gain(env: FloatArray, rate: int, ceiling: float) -> FloatArray:
    """The limiter's gain over one stretch, from its true-peak envelope (see
    :func:`_limiter_gain`)."""
    half = max(1, round(_LIMITER_RADIUS * rate / 2))
    needed = np.minimum(1.0, ceiling / np.maximum(env, 1e-12))
    smooth = _box(_box(_sliding_min(needed, 2 * half), half), half)
    return np.minimum(smooth, needed)


def _limit(x: FloatArray, rate: int, ceiling: float) -> FloatArray:
    """``x`` through the true-peak limiter (``x`` itself when nothing is over)."""
    gain = _limiter_gain(x, rate, ceiling)
    return x if gain is None else x * gain


def audible_span(audio: Audio, threshold_db: float = -45.0) -> tuple[float, float] | None:
    """Where sound starts and ends (seconds): the first and last sample louder than
    ``threshold_db`` dBFS, or None when nothing is.

    Engines pad speech with silence; this is the "first audio" a chapter mark or a caption
    should line up with.
    """
    loud = np.flatnonzero(np.abs(audio.to_float()) > _gain(threshold_db))
    if len(loud) == 0:
        return None
    return float(loud[0]) / audio.rate, float(loud[-1] + 1) / audio.rate


def trim_silence(audio: Audio, threshold_db: float = -45.0, keep: float = 0.02) -> Audio:
    """``audio`` without leading and trailing silence, keeping ``keep`` seconds either side
    (so soft onsets and decays are not cut); all-silent audio comes back empty.
    """
    span = audible_span(audio, threshold_db)
    if span is None:
        return Audio(audio.samples[:0].copy(), audio.rate)
    start = max(0, round((span[0] - keep) * audio.rate))
    end = min(len(audio.samples), round((span[1] + keep) * audio.rate))
    return Audio(audio.samples[start:end].copy(), audio.rate)


def limit_true_peak(audio: Audio, ceiling_dbtp: float = -1.0) -> Audio:
    """``audio`` with its true peak brought to at most ``ceiling_dbtp`` by a smooth limiter.

    Raises:
        AudioError: never for valid :class:`Audio` (listed for the public contract).
    """
    x = _limit(audio.to_float(), audio.rate, _gain(ceiling_dbtp))
    return Audio.from_float(x, audio.rate)


def level_segment(audio: Audio, target_lufs: float = -20.0, *, max_gain_db: float = 30.0) -> Audio:
    """One turn brought to ``target_lufs`` so every voice sits at the same loudness.

    Levelling turns before joining them keeps a soft-spoken voice from sitting under a
    loud one; the episode-wide :func:`master` then only sets the final level. Silent or
    empty audio comes back unchanged, very short clips are measured over their whole
    length, and peaks the gain would push past -1 dBTP are limited rather than clipped.

    Args:
        audio: one synthesized turn.
        target_lufs: loudness to reach.
        max_gain_db: cap on the gain either way, so near-silence (breaths, noise) is not
            blown up to speech level.

    Raises:
        AudioError: never for valid :class:`Audio` (listed for the public contract).
    """
    x = audio.to_float()
    loudness = _integrated(x, audio.rate)
    if loudness <= SILENT_LUFS:
        return audio
    change = max(-max_gain_db, min(max_gain_db, target_lufs - loudness))
    scaled = x * _gain(change)
    y = _limit(scaled, audio.rate, _gain(-1.0))
    if y is not scaled:
        # limiting took energy out (clicks, plosives): make it up once
        error = target_lufs - _integrated(y, audio.rate)
        change = max(-max_gain_db, min(max_gain_db, change + error))
        y = _limit(x * _gain(change), audio.rate, _gain(-1.0))
    return Audio.from_float(y, audio.rate)


def master(
    audio: Audio,
    target_lufs: float = -16.0,
    true_peak: float = -1.0,
    *,
    encoder_headroom_db: float = 1.0,
    tolerance_lu: float = 0.2,
) -> Audio:
    """The finished episode: mono 44.1 kHz at ``target_lufs`` with a bounded true peak.

    Linear gain sets the integrated loudness, a look-ahead true-peak limiter catches the
    peaks the gain pushes over the ceiling, and because limiting lowers the loudness a
    little the two are repeated (from the original, gains never compound) until the
    loudness is within ``tolerance_lu``.

    Args:
        audio: the joined episode (any rate; resampled to 44.1 kHz).
        target_lufs: integrated loudness to reach (Apple: -16).
        true_peak: the true-peak limit the delivered file must meet (Apple: -1 dBTP).
        encoder_headroom_db: extra margin below ``true_peak`` for the MP3 encoder, whose
            filtering raises peaks; the decoded MP3 is what must meet ``true_peak``.
        tolerance_lu: how close to ``target_lufs`` the result must be.

    Raises:
        AudioError: resampling failed (ffmpeg missing or broken).
    """
    audio = resample(audio, MASTER_RATE)  # peaks are limited at the rate handed back
    prepared = _prepare(audio)
    if prepared is None:
        return audio
    return _render(prepared, target_lufs, _gain(true_peak - encoder_headroom_db), tolerance_lu)


@dataclass(frozen=True)
class _Prepared:
    """What every mastering pass over one episode shares: the episode as 16-bit PCM at
    its working rate, the K-weighted energy of each of its 100 ms gating hops, and its loudness."""

    pcm: PCM
    rate: int
    hops: FloatArray
    rest: float
    """K-weighted energy of the unfinished last hop."""
    loudness: float


def _hop_energies(weighted: FloatArray, hop: int) -> tuple[FloatArray, float]:
    full = len(weighted) // hop
    sq = weighted * weighted
    return sq[: full * hop].reshape(full, hop).sum(axis=1), float(sq[full * hop :].sum())


def working_rate(rate: int) -> int:
    """The rate an episode at ``rate`` Hz is mastered at: its own, when that carries speech
    (at least :data:`MIN_WORKING_RATE`) and holds a whole number of samples per gating hop,
    else :data:`MASTER_RATE`.

    Mastering at the engine's rate (24 kHz for the neural voice) works on 54 % of the
    samples of 44.1 kHz and skips a resampling pass; the encoder resamples to 44.1 kHz.
    Loudness and true peak are properties of the band-limited signal, not of its rate, and
    :func:`deliver` measures the decoded MP3 at 44.1 kHz whatever the working rate.
    """
    return rate if rate >= MIN_WORKING_RATE and _hop(rate) is not None else MASTER_RATE


def _prepare(audio: Audio) -> _Prepared | None:
    """The episode at its :func:`working_rate`, K-weighted and measured chunk by chunk;
    None when silent."""
    audio = resample(audio, working_rate(audio.rate))
    pcm, rate = audio.samples, audio.rate
    hop = _hop(rate)
    assert hop is not None  # see working_rate
    if len(pcm) == 0 or not pcm.any():
        return None
    if len(pcm) <= int(_BLOCK * rate):
        # shorter than one gating block: measured repeated (see _padded_short)
        x = audio.to_float()
        weighted = _k_weighted(_padded_short(x, rate), rate)
        loudness = _gated(weighted, rate)
        hops, rest = _hop_energies(weighted[: len(x)], hop)
    else:
        meter = _Meter(rate, peak=False)
        for lo in range(0, len(pcm), meter.chunk):
            meter.feed(pcm[lo : lo + meter.chunk])
        hops, rest = meter.hop_energies()
        loudness = _gated_hops(hops, rest, len(pcm), rate)
    if loudness <= SILENT_LUFS:
        return None
    return _Prepared(pcm, rate, hops, rest, loudness)


def _chunk(rate: int) -> int:
    """Samples processed at once: whole gating hops, 1.5 s."""
    return round(_BLOCK * 0.25 * rate) * _HOPS_PER_CHUNK


def _scaled(pcm: PCM, lo: int, hi: int, gain: float) -> FloatArray:
    """Samples ``[lo, hi)`` of ``pcm`` as floats times ``gain``, zero outside the signal."""
    a, b = max(0, lo), min(len(pcm), hi)
    x = pcm[a:b].astype(np.float64) / 32768.0 * gain
    if a > lo or b < hi:
        x = np.concatenate([np.zeros(a - lo), x, np.zeros(hi - b)])
    return x


_Gains = list[tuple[int, FloatArray]]
"""The limiter's gain where it is not 1: (first sample, gains), in order, not overlapping."""


class _Peaks:
    """The positions of the prepared episode whose true-peak envelope reaches within
    :data:`_PEAK_MARGIN_DB` of a ceiling at a gain, and their envelope: found in one pass
    over the episode, they serve every round of :func:`_render` (whose gains differ by
    tenths of a dB), which then only works near the peaks."""

    def __init__(self, p: _Prepared, gain: float, ceiling: float) -> None:
        self.top_gain = gain * _gain(_PEAK_MARGIN_DB)
        """The highest gain the positions are complete for."""
        threshold = ceiling / self.top_gain
        n, step, pad = len(p.pcm), _chunk(p.rate), _HALF_TAPS
        where: list[IntArray] = []
        values: list[FloatArray] = []
        for lo in range(0, n, step):
            hi = min(n, lo + step)
            env = _envelope(_scaled(p.pcm, lo - pad, hi + pad, 1.0), pad, pad + hi - lo, threshold)
            near = np.flatnonzero(env > threshold)
            where.append(near + lo)
            values.append(env[near])
        self.where = np.concatenate(where) if where else np.zeros(0, dtype=np.int64)
        self.env = np.concatenate(values) if values else np.zeros(0)

    def over(self, gain: float, ceiling: float) -> IntArray:
        """Positions over ``ceiling`` at ``gain`` (at most :attr:`top_gain`)."""
        assert gain <= self.top_gain
        return self.where[self.env * gain > ceiling]


_PEAK_MARGIN_DB = 2.0


def _limiter_gains(p: _Prepared, gain: float, ceiling: float, peaks: _Peaks) -> _Gains:
    """:func:`_limiter_gain` of the prepared episode times ``gain``, kept only where it is
    not 1 (``peaks`` tells where the episode comes near the ceiling)."""
    n, pad = len(p.pcm), _HALF_TAPS
    over = peaks.over(gain, ceiling)
    if len(over) == 0:
        return []
    gains: _Gains = []
    for lo, hi, keep in _regions(over, n, p.rate):
        env = _envelope(_scaled(p.pcm, lo - pad, hi + pad, gain), pad, pad + hi - lo, ceiling)
        gains.append((lo, _region_gain(env, p.rate, ceiling)[: keep - lo]))
    return gains


def _limited_loudness(p: _Prepared, gain: float, gains: _Gains) -> float:
    """Loudness of the prepared episode times ``gain`` and the limiter's ``gains``.

    K-weighting is linear and the limiter's gain moves slowly (over ~20 ms) next to the
    filters' responses, so K(x * gain) ~= K(x) * gain (measured: within 0.01 LU of
    filtering each limited signal): the hop energies change only where the limiter acts,
    by K(x)^2 (gain^2 - 1), with K(x) there filtered from rest 50 ms earlier (12 time
    constants of the 38 Hz high-pass: the state it forgot is below 1e-4 of the signal).
    """
    hop = _hop(p.rate)
    assert hop is not None
    hops, rest = p.hops.copy(), p.rest
    warm = round(_WARM_UP * p.rate)
    for lo, g in gains:
        hi = lo + len(g)
        start = max(0, lo - warm)
        w = _k_weighted(p.pcm[start:hi].astype(np.float64) / 32768.0, p.rate)[lo - start :]
        delta = np.bincount(np.arange(lo, hi) // hop - lo // hop, weights=w * w * (g * g - 1.0))
        first = lo // hop
        upto = min(len(hops), first + len(delta))
        hops[first:upto] += delta[: upto - first]
        rest += float(delta[upto - first :].sum())
    g2 = gain * gain
    return _gated_hops(hops * g2, rest * g2, len(p.pcm), p.rate)


def _pieces(p: _Prepared, gain: float, gains: _Gains) -> Iterator[PCM]:
    """The prepared episode times ``gain`` and the limiter's ``gains``, as 16-bit PCM,
    chunk by chunk."""
    n, step = len(p.pcm), _chunk(p.rate)
    first = 0  # the first stretch of gains not wholly before the chunk
    for lo in range(0, n, step):
        hi = min(n, lo + step)
        y = p.pcm[lo:hi].astype(np.float64) / 32768.0 * gain
        while first < len(gains) and gains[first][0] + len(gains[first][1]) <= lo:
            first += 1
        for start, g in gains[first:]:
            if start >= hi:
                break
            a, b = max(lo, start), min(hi, start + len(g))
            y[a - lo : b - lo] *= g[a - start : b - start]
        yield Audio.from_float(y, p.rate).samples


def _render(p: _Prepared, target_lufs: float, ceiling: float, tolerance_lu: float) -> Audio:
    """:func:`_master_stream`, joined."""
    stream = _master_stream(p, target_lufs, ceiling, tolerance_lu)
    return Audio(np.concatenate(list(stream.pieces())), p.rate)


def _master_stream(
    p: _Prepared, target_lufs: float, ceiling: float, tolerance_lu: float
) -> PcmStream:
    """Gain to ``target_lufs``, peaks limited to ``ceiling``, repeated from the original
    (gains never compound) until the loudness is within ``tolerance_lu``; the result is
    computed chunk by chunk as it is read (by the encoder), never held whole."""
    gain_db = target_lufs - p.loudness
    peaks: _Peaks | None = None
    for _ in range(5):
        g = _gain(gain_db)
        if peaks is None or g > peaks.top_gain:
            peaks = _Peaks(p, g, ceiling)
        gains = _limiter_gains(p, g, ceiling, peaks)
        if not gains:
            break  # linear gain alone: loudness is exactly on target
        error = target_lufs - _limited_loudness(p, g, gains)
        if abs(error) <= tolerance_lu:
            break
        gain_db += error
    return PcmStream(p.rate, len(p.pcm), lambda: _pieces(p, g, gains))


@cache
def _libc() -> ctypes.CDLL | None:
    try:
        return ctypes.CDLL("libc.so.6")
    except OSError:
        return None


def _give_back_memory() -> None:
    """Return freed heap memory to the system (glibc's ``malloc_trim``; a no-op elsewhere).

    Assembling an episode frees thousands of segment-sized arrays (0.1-10 MB, below
    glibc's mmap threshold) in a heap it keeps: ~150 MB an hour of audio that would stay
    resident beside the mastering's 16-bit copies.
    """
    libc = _libc()
    if libc is not None and hasattr(libc, "malloc_trim"):
        libc.malloc_trim(0)


@dataclass(frozen=True)
class Delivered:
    """An encoded episode and its loudness as a listener's player decodes it."""

    size: int
    """Bytes of the MP3 (the feed's enclosure length)."""
    loudness: Loudness
    """Measured on the decoded MP3, not on the PCM that went in."""
    passes: int
    """How many encodes it took (1 when the first one met the target)."""
    decoded_seconds: float
    """How long the decoded MP3 plays (what a player plays), from the same decoding."""


def within_spec(
    loudness: Loudness,
    target_lufs: float = -16.0,
    true_peak: float = -1.0,
    tolerance_lu: float = 1.0,
) -> bool:
    """True when ``loudness`` is within ``tolerance_lu`` of the target and under the peak."""
    return (
        abs(loudness.integrated_lufs - target_lufs) <= tolerance_lu
        and loudness.true_peak_dbtp <= true_peak
    )


def deliver(
    audio: Audio,
    path: Path,
    tags: Id3Tags,
    *,
    chapters: Sequence[Chapter] = (),
    bitrate: str = "64k",
    target_lufs: float = -16.0,
    true_peak: float = -1.0,
) -> Delivered:
    """Master, encode and tag an episode so that the DECODED MP3 meets the loudness spec.

    A low-rate MP3 encoder drops some high-frequency energy (loudness falls by a few tenths
    of a LU) and its filtering overshoots peaks (0.3-1.7 dB at 64 kbit/s, depending on the
    transients). The decoded file is measured; while it is more than 0.5 LU off target or
    above ``true_peak`` - 0.1 dB, the episode is mastered again with the measured loss and
    overshoot compensated and re-encoded, up to three encodes in all.

    Args:
        audio: the joined episode (levelled turns, pauses, music).
        path: the MP3 to write (atomically, see :func:`~pangocast.audio.mp3.encode_mp3`).
        tags: ID3 text and cover.
        chapters: chapter starts in the final audio.
        bitrate: constant MP3 bit rate.
        target_lufs: integrated loudness of the delivered file.
        true_peak: true-peak limit of the delivered file (dBTP).

    Returns:
        Size, decoded loudness and number of encodes. The loudness is reported, not
        enforced: check it with :func:`within_spec`.

    Raises:
        AudioError: resampling, encoding, tagging or decoding failed.
    """
    loss, headroom = _CODEC_PRIOR.get(bitrate, _DEFAULT_PRIOR)
    aim = target_lufs + loss
    passes = 0
    prepared = _prepare(audio)
    _give_back_memory()
    while True:
        passes += 1
        mastered: Audio | PcmStream
        if prepared is None:
            mastered = audio  # silence: nothing to master (the encoder resamples)
        else:
            mastered = _master_stream(prepared, aim, _gain(true_peak - headroom), 0.2)
        size = encode_mp3(mastered, path, tags, bitrate=bitrate, chapters=chapters)
        del mastered  # not needed while the MP3 is measured
        got, decoded = _measure_decoded(path, MASTER_RATE)
        # 0.1 dB below the limit and 0.5 LU of the target (half the allowed 1 LU): other
        # decoders round and resample a little differently, and a tighter aim would cost a
        # second encode for most episodes (64 kbit/s loses 0.3-0.5 LU of loudness)
        done = within_spec(got, target_lufs, true_peak - 0.1, 0.5)
        if done or passes == _MAX_PASSES or got.integrated_lufs <= SILENT_LUFS:
            return Delivered(size, got, passes, decoded / MASTER_RATE)
        aim += target_lufs - got.integrated_lufs
        excess = got.true_peak_dbtp - (true_peak - 0.1)
        if excess > 0:
            # the encoder's overshoot varies with the material near each peak, so leave
            # some extra margin rather than exactly the excess seen
            headroom += excess + 0.5
