"""Loudness: level each turn, master the episode, measure what a listener's app will measure.

Mastering follows Apple's delivery spec for podcasts: -16 LUFS integrated (ITU-R BS.1770,
measured with pyloudnorm) and a true peak at or below -1 dBTP. The true-peak limiter and the
true-peak meter share one 4x oversampling interpolator (BS.1770-4 Annex 2), written with numpy
so the result is deterministic and needs no extra ffmpeg pass.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import numpy.typing as npt
import scipy.signal  # type: ignore[import-untyped, unused-ignore]
from pyloudnorm.iirfilter import IIRfilter

from pangocast.audio import Audio, decode_file, resample
from pangocast.encode import Id3Tags, encode_mp3
from pangocast.manifest import Chapter

FloatArray = npt.NDArray[np.float64]

MASTER_RATE = 44100
"""Sample rate of mastered episodes: the safe rate for MP3 podcasts."""

SILENT_LUFS = -70.0
"""BS.1770's absolute gate: anything quieter counts as silence."""

_BLOCK = 0.4  # BS.1770 gating block (s): pyloudnorm refuses anything shorter
_OVERSAMPLE = 4
_HALF_TAPS = 8  # interpolator taps on each side of the point (16 per phase)
_LIMITER_RADIUS = 0.010  # s; gain changes are spread over +-10 ms around a peak
_CHUNK = 1 << 18  # candidate samples interpolated at once (bounds memory)
_MAX_PASSES = 3  # encodes deliver() tries before reporting what it got
# What MP3 encoding does to loudness, by bit rate, as first guesses for deliver(): the
# loudness it loses (LU) and the true-peak overshoot to keep free below the limit (dB).
# Measured on espeak-ng speech and the speech-like stand-in: 64 kbit/s loses 0.3-0.45 LU
# and overshoots 1.0-2.0 dB; the passes that follow correct what a guess misses.
_CODEC_PRIOR = {"64k": (0.3, 1.8), "80k": (0.2, 1.5)}
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


def _peak_envelope(x: FloatArray, threshold: float) -> FloatArray:
    """Per-sample true-peak envelope: ``max(|x[n]|, |x(n + k/4)|)`` for k = 1..3.

    Only samples whose neighbourhood could overshoot ``threshold`` are interpolated: an
    interpolated value is at most ``sum(|h|)`` times the largest sample under the filter,
    so the others provably stay at or below it and keep ``|x[n]|``.
    """
    env = np.abs(x)
    if len(x) == 0:
        return env
    kernels = _kernels()
    bound = float(np.abs(kernels).sum(axis=1).max())
    # taps cover x[n-7] .. x[n+8]: a sample can overshoot only if one within 8 samples
    # is above threshold / bound; widening that mask by shifts is cheaper than a window max
    hot = env > threshold / bound
    near = hot.copy()
    for shift in range(1, _HALF_TAPS + 1):
        near[:-shift] |= hot[shift:]
        near[shift:] |= hot[:-shift]
    candidates = np.flatnonzero(near)
    if len(candidates) == 0:
        return env
    if len(candidates) > len(x) // 32:
        # dense: whole-signal convolutions (~0.02 us a sample for all three phases) beat
        # gathering windows (~0.4 us a candidate) once 1 sample in ~20 is a candidate
        for h in kernels:
            full = np.convolve(x, h[::-1])  # full[n + 8] = sum_k h[k] * x[n - 7 + k]
            np.maximum(env, np.abs(full[_HALF_TAPS : _HALF_TAPS + len(x)]), out=env)
        return env
    padded = np.concatenate([np.zeros(_HALF_TAPS), x, np.zeros(_HALF_TAPS)])
    taps = np.arange(-_HALF_TAPS + 1, _HALF_TAPS + 1) + _HALF_TAPS
    for lo in range(0, len(candidates), _CHUNK):
        idx = candidates[lo : lo + _CHUNK]
        windows = padded[idx[:, None] + taps[None, :]]
        inter = np.abs(windows @ kernels.T).max(axis=1)
        env[idx] = np.maximum(env[idx], inter)
    return env


def _true_peak(x: FloatArray) -> float:
    if len(x) == 0:
        return 0.0
    sample_peak = float(np.abs(x).max())
    if sample_peak == 0.0:
        return 0.0
    return float(_peak_envelope(x, sample_peak).max())


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
    block = _BLOCK * rate
    count = round((len(weighted) / rate - _BLOCK) / (_BLOCK * 0.25)) + 1
    if count < 1:
        return -math.inf
    hop = _BLOCK * 0.25 * rate
    if hop.is_integer():
        # blocks are four 100 ms hops: sum each hop once (one pass, no running sum over
        # the whole episode), the last one possibly partial as pyloudnorm's last block is
        h = int(hop)
        full = len(weighted) // h
        sq = weighted * weighted
        hops = sq[: full * h].reshape(full, h).sum(axis=1)
        hops = np.concatenate([hops, [sq[full * h :].sum()], np.zeros(max(0, count + 3 - full))])
        four = np.concatenate([[0.0], np.cumsum(hops)])
        z = (four[4 : count + 4] - four[:count]) / block
    else:
        j = np.arange(count)
        lo = (_BLOCK * (j * 0.25) * rate).astype(np.int64)
        hi = np.minimum((_BLOCK * (j * 0.25 + 1) * rate).astype(np.int64), len(weighted))
        energy = np.concatenate([[0.0], np.cumsum(weighted * weighted)])
        z = (energy[hi] - energy[lo]) / block
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
    a few tenths of a dB over the PCM that went in.

    Raises:
        AudioError: the file is missing or undecodable.
    """
    return measure(decode_file(path, rate))


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
    half = max(1, round(_LIMITER_RADIUS * rate / 2))
    reach = 4 * half  # how far a peak's gain reduction extends either way
    # peaks closer than two reaches share one region, processed in one piece
    breaks = np.flatnonzero(np.diff(over) > 2 * reach + 1)
    firsts = np.concatenate([over[:1], over[breaks + 1]])
    lasts = np.concatenate([over[breaks], over[-1:]])
    gain = np.ones(len(x))
    for first, last in zip(firsts.tolist(), lasts.tolist(), strict=True):
        lo, hi = max(0, first - reach - 1), min(len(x), last + reach + 2)
        needed = np.minimum(1.0, ceiling / np.maximum(env[lo:hi], 1e-12))
        smooth = _box(_box(_sliding_min(needed, 2 * half), half), half)
        gain[lo:hi] = np.minimum(smooth, needed)
    return gain


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
    prepared = _prepare(audio)
    if prepared is None:
        return resample(audio, MASTER_RATE)
    return _render(prepared, target_lufs, _gain(true_peak - encoder_headroom_db), tolerance_lu)


@dataclass(frozen=True)
class _Prepared:
    """What every mastering pass over one episode shares."""

    x: FloatArray
    rate: int
    weighted: FloatArray
    loudness: float


def _prepare(audio: Audio) -> _Prepared | None:
    """The episode at 44.1 kHz, K-weighted and measured; None when it is silent."""
    audio = resample(audio, MASTER_RATE)
    x = audio.to_float()
    if len(x) == 0 or not np.any(x):
        return None
    weighted = _k_weighted(_padded_short(x, audio.rate), audio.rate)
    loudness = _gated(weighted, audio.rate)
    if loudness <= SILENT_LUFS:
        return None
    return _Prepared(x, audio.rate, weighted[: len(x)], loudness)


def _render(p: _Prepared, target_lufs: float, ceiling: float, tolerance_lu: float) -> Audio:
    # K-weighting is linear and the limiter's gain moves slowly (over ~20 ms) next to the
    # filters' responses, so K(x * gain) ~= K(x) * gain: one filtering pass serves every
    # round of the loop (measured: within 0.01 LU of filtering each limited signal)
    gain_db = target_lufs - p.loudness
    y = p.x
    for _ in range(5):
        g = _gain(gain_db)
        limiter = _limiter_gain(p.x * g, p.rate, ceiling)
        if limiter is None:
            y = p.x * g
            break  # linear gain alone: loudness is exactly on target
        y = p.x * g * limiter
        error = target_lufs - _gated(p.weighted * g * limiter, p.rate)
        if abs(error) <= tolerance_lu:
            break
        gain_db += error
    return Audio.from_float(y, p.rate)


@dataclass(frozen=True)
class Delivered:
    """An encoded episode and its loudness as a listener's player decodes it."""

    size: int
    """Bytes of the MP3 (the feed's enclosure length)."""
    loudness: Loudness
    """Measured on the decoded MP3, not on the PCM that went in."""
    passes: int
    """How many encodes it took (1 when the first one met the target)."""


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
        path: the MP3 to write (atomically, see :func:`~pangocast.encode.encode_mp3`).
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
    while True:
        passes += 1
        if prepared is None:
            mastered = resample(audio, MASTER_RATE)
        else:
            mastered = _render(prepared, aim, _gain(true_peak - headroom), 0.2)
        size = encode_mp3(mastered, path, tags, bitrate=bitrate, chapters=chapters)
        got = measure_file(path)
        # 0.1 dB below the limit and 0.5 LU of the target (half the allowed 1 LU): other
        # decoders round and resample a little differently, and a tighter aim would cost a
        # second encode for most episodes (64 kbit/s loses 0.3-0.5 LU of loudness)
        done = within_spec(got, target_lufs, true_peak - 0.1, 0.5)
        if done or passes == _MAX_PASSES or got.integrated_lufs <= SILENT_LUFS:
            return Delivered(size, got, passes)
        aim += target_lufs - got.integrated_lufs
        excess = got.true_peak_dbtp - (true_peak - 0.1)
        if excess > 0:
            # the encoder's overshoot varies with the material near each peak, so leave
            # some extra margin rather than exactly the excess seen
            headroom += excess + 0.5
