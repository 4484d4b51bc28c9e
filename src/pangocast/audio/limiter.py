"""Levelling one turn or segment: trimming silence, gain to a loudness target, and a
look-ahead true-peak limiter whose gain changes are spread over +-10 ms around each peak.
"""

from __future__ import annotations

import numpy as np

from pangocast.audio.pcm import Audio, FloatArray, IntArray, from_db
from pangocast.audio.truepeak import box_mean, peak_envelope, sliding_min
from pangocast.core.standards import MAX_TRUE_PEAK_DBTP

_LIMITER_RADIUS = 0.010  # s; gain changes are spread over +-10 ms around a peak


def limiter_gain(x: FloatArray, rate: int, ceiling: float) -> FloatArray | None:
    """The gain of a look-ahead true-peak limiter for ``x``, or None when none is needed.

    The gain each sample needs is spread by a sliding minimum over +-R and smoothed by two
    moving averages of radius R/2: every smoothed value near a peak averages only minima
    that already include that peak, so the result never exceeds the needed gain (no
    overshoot, no clipping), and attack and release are ~R long each, zero-phase.

    Only the neighbourhoods of samples over the ceiling are processed (a gain of exactly 1
    elsewhere), so the cost follows the number of peaks, not the length of the episode.
    """
    env = peak_envelope(x, ceiling)
    over = np.flatnonzero(env > ceiling)
    if len(over) == 0:
        return None
    gain = np.ones(len(x))
    for lo, hi, keep in over_regions(over, len(x), rate):
        gain[lo:keep] = region_gain(env[lo:hi], rate, ceiling)[: keep - lo]
    return gain


def over_regions(over: IntArray, n: int, rate: int) -> list[tuple[int, int, int]]:
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


def region_gain(env: FloatArray, rate: int, ceiling: float) -> FloatArray:
    """The limiter's gain over one stretch, from its true-peak envelope (see
    :func:`limiter_gain`)."""
    half = max(1, round(_LIMITER_RADIUS * rate / 2))
    needed = np.minimum(1.0, ceiling / np.maximum(env, 1e-12))
    smooth = box_mean(box_mean(sliding_min(needed, 2 * half), half), half)
    return np.minimum(smooth, needed)


def apply_limiter(x: FloatArray, rate: int, ceiling: float) -> FloatArray:
    """``x`` through the true-peak limiter (``x`` itself when nothing is over)."""
    gain = limiter_gain(x, rate, ceiling)
    return x if gain is None else x * gain


def audible_span(audio: Audio, threshold_db: float = -45.0) -> tuple[float, float] | None:
    """Where sound starts and ends (seconds): the first and last sample louder than
    ``threshold_db`` dBFS, or None when nothing is.

    Engines pad speech with silence; this is the "first audio" a chapter mark or a caption
    should line up with.
    """
    loud = np.flatnonzero(np.abs(audio.to_float()) > from_db(threshold_db))
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


def limit_true_peak(audio: Audio, ceiling_dbtp: float = MAX_TRUE_PEAK_DBTP) -> Audio:
    """``audio`` with its true peak brought to at most ``ceiling_dbtp`` by a smooth limiter.

    Raises:
        AudioError: never for valid :class:`Audio` (listed for the public contract).
    """
    x = apply_limiter(audio.to_float(), audio.rate, from_db(ceiling_dbtp))
    return Audio.from_float(x, audio.rate)
