"""Mastering and delivering an episode: the one path from joined audio to a published MP3.

Mastering follows Apple's delivery spec for podcasts: -16 LUFS integrated and a true peak at
or below -1 dBTP, measured on the DECODED MP3, not on the PCM that went in.

A whole episode is never held as floating point: :func:`deliver` keeps the episode as 16-bit
PCM at its working rate (the engine's) and works through it in chunks of 1.5 s (loudness,
peaks and gains are computed chunk by chunk; the limiter's gain is kept only where it is not
1), streams the mastered result into the encoder, and measures the encoded MP3 as it is
decoded, chunk by chunk. An hour of audio at 24 kHz is held as 173 MB of 16-bit PCM, not
the dozen float64 arrays (1.3 GB each at 44.1 kHz) of a whole-signal computation.
"""

from __future__ import annotations

import ctypes
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from pangocast.audio.decode import measure_decoded
from pangocast.audio.ffmpeg import resample
from pangocast.audio.limiter import over_regions, region_gain
from pangocast.audio.loudness import (
    GATING_BLOCK,
    SILENT_LUFS,
    Loudness,
    Meter,
    chunk_samples,
    energies_by_hop,
    gated_hop_loudness,
    gated_loudness,
    gating_hop,
    k_weighted,
    padded_to_block,
)
from pangocast.audio.mp3 import Id3Tags, PcmStream, encode_mp3
from pangocast.audio.pcm import MASTER_RATE, PCM, Audio, FloatArray, IntArray, from_db
from pangocast.audio.truepeak import HALF_TAPS, envelope_span
from pangocast.core.errors import AudioError
from pangocast.core.models import Chapter
from pangocast.core.standards import LUFS_TOLERANCE, MAX_TRUE_PEAK_DBTP, TARGET_LUFS

MIN_WORKING_RATE = 16000
"""Below this an episode is mastered at :data:`MASTER_RATE` rather than its own rate."""


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
class Prepared:
    """What every mastering pass over one episode shares: the episode as 16-bit PCM at
    its working rate, the K-weighted energy of each of its 100 ms gating hops, and its loudness."""

    pcm: PCM
    rate: int
    hops: FloatArray
    rest: float
    """K-weighted energy of the unfinished last hop."""
    loudness: float


@dataclass(frozen=True)
class Measured:
    """An episode measured for mastering: prepared, and its peaks scanned."""

    prepared: Prepared
    peaks: Peaks


def first_aim(
    bitrate: str, target_lufs: float = TARGET_LUFS, true_peak: float = MAX_TRUE_PEAK_DBTP
) -> tuple[float, float]:
    """The loudness (LUFS) and true-peak ceiling (linear) :func:`deliver`'s first pass
    masters to: the target and limit with the encoder's expected loss and overshoot."""
    loss, headroom = _CODEC_PRIOR.get(bitrate, _DEFAULT_PRIOR)
    return target_lufs + loss, from_db(true_peak - headroom)


def working_rate(rate: int) -> int:
    """The rate an episode at ``rate`` Hz is mastered at: its own, when that carries speech
    (at least :data:`MIN_WORKING_RATE`) and holds a whole number of samples per gating hop,
    else :data:`MASTER_RATE`.

    Mastering at the engine's rate (24 kHz for the neural voice) works on 54 % of the
    samples of 44.1 kHz and skips a resampling pass; the encoder resamples to 44.1 kHz.
    Loudness and true peak are properties of the band-limited signal, not of its rate, and
    :func:`deliver` measures the decoded MP3 at 44.1 kHz whatever the working rate.
    """
    return rate if rate >= MIN_WORKING_RATE and gating_hop(rate) is not None else MASTER_RATE


def prepare(audio: Audio) -> Prepared | None:
    """The episode at its :func:`working_rate`, K-weighted and measured chunk by chunk;
    None when silent."""
    return _measured(resample(audio, working_rate(audio.rate)))


def _measured(audio: Audio) -> Prepared | None:
    """``audio`` (at a rate with whole gating hops) measured chunk by chunk; None when
    silent."""
    pcm, rate = audio.samples, audio.rate
    hop = gating_hop(rate)
    assert hop is not None  # see working_rate
    if len(pcm) == 0 or not pcm.any():
        return None
    if len(pcm) <= int(GATING_BLOCK * rate):
        # shorter than one gating block: measured repeated (see padded_to_block)
        x = audio.to_float()
        weighted = k_weighted(padded_to_block(x, rate), rate)
        loudness = gated_loudness(weighted, rate)
        hops, rest = energies_by_hop(weighted[: len(x)], hop)
    else:
        meter = Meter(rate, peak=False)
        for lo in range(0, len(pcm), meter.chunk):
            meter.feed(pcm[lo : lo + meter.chunk])
        hops, rest = meter.hop_energies()
        loudness = gated_hop_loudness(hops, rest, len(pcm), rate)
    if loudness <= SILENT_LUFS:
        return None
    return Prepared(pcm, rate, hops, rest, loudness)


def _scaled(pcm: PCM, lo: int, hi: int, gain: float) -> FloatArray:
    """Samples ``[lo, hi)`` of ``pcm`` as floats times ``gain``, zero outside the signal."""
    a, b = max(0, lo), min(len(pcm), hi)
    x = pcm[a:b].astype(np.float64) / 32768.0 * gain
    if a > lo or b < hi:
        x = np.concatenate([np.zeros(a - lo), x, np.zeros(hi - b)])
    return x


_Gains = list[tuple[int, FloatArray]]
"""The limiter's gain where it is not 1: (first sample, gains), in order, not overlapping."""


class Peaks:
    """The positions of the prepared episode whose true-peak envelope reaches within
    :data:`_PEAK_MARGIN_DB` of a ceiling at a gain, and their envelope: found in one pass
    over the episode (:meth:`of`, or :meth:`scan` chunk by chunk as the episode arrives),
    they serve every round of :func:`master_stream` (whose gains differ by tenths of a
    dB), which then only works near the peaks."""

    def __init__(self, gain: float, ceiling: float) -> None:
        self.top_gain = gain * from_db(_PEAK_MARGIN_DB)
        """The highest gain the positions are complete for, at ``ceiling``."""
        self.threshold = ceiling / self.top_gain
        """The envelope is known wherever it exceeds this."""
        self.scanned = 0
        """Samples scanned so far."""
        self._where: list[IntArray] = []
        self._values: list[FloatArray] = []
        self.where = np.zeros(0, dtype=np.int64)
        self.env = np.zeros(0)

    @classmethod
    def of(cls, p: Prepared, gain: float, ceiling: float) -> Peaks:
        """The positions of the whole prepared episode."""
        peaks = cls(gain, ceiling)
        n, step, pad = len(p.pcm), chunk_samples(p.rate), HALF_TAPS
        for lo in range(0, n, step):
            peaks.scan(_scaled(p.pcm, lo - pad, min(n, lo + step) + pad, 1.0))
        return peaks.done()

    def scan(self, window: FloatArray) -> None:
        """The next chunk: its samples with the :data:`HALF_TAPS` samples either side of
        it (zeros outside the signal)."""
        pad = HALF_TAPS
        env = envelope_span(window, pad, len(window) - pad, self.threshold)
        near = np.flatnonzero(env > self.threshold)
        self._where.append(near + self.scanned)
        self._values.append(env[near])
        self.scanned += len(window) - 2 * pad

    def done(self) -> Peaks:
        """Every chunk is scanned: :attr:`where` and :attr:`env` gathered."""
        if self._where:
            self.where = np.concatenate(self._where)
            self.env = np.concatenate(self._values)
        return self

    def covers(self, gain: float, ceiling: float) -> bool:
        """True when :meth:`over` is complete at ``gain`` and ``ceiling``."""
        return ceiling / gain >= self.threshold

    def over(self, gain: float, ceiling: float) -> IntArray:
        """Positions over ``ceiling`` at ``gain`` (which :meth:`covers` must cover)."""
        assert self.covers(gain, ceiling)
        return self.where[self.env * gain > ceiling]


_PEAK_MARGIN_DB = 2.0


def _limiter_gains(p: Prepared, gain: float, ceiling: float, peaks: Peaks) -> _Gains:
    """:func:`limiter_gain` of the prepared episode times ``gain``, kept only where it is
    not 1 (``peaks`` tells where the episode comes near the ceiling)."""
    n, pad = len(p.pcm), HALF_TAPS
    over = peaks.over(gain, ceiling)
    if len(over) == 0:
        return []
    gains: _Gains = []
    for lo, hi, keep in over_regions(over, n, p.rate):
        env = envelope_span(_scaled(p.pcm, lo - pad, hi + pad, gain), pad, pad + hi - lo, ceiling)
        gains.append((lo, region_gain(env, p.rate, ceiling)[: keep - lo]))
    return gains


def _limited_loudness(p: Prepared, gain: float, gains: _Gains) -> float:
    """Loudness of the prepared episode times ``gain`` and the limiter's ``gains``.

    K-weighting is linear and the limiter's gain moves slowly (over ~20 ms) next to the
    filters' responses, so K(x * gain) ~= K(x) * gain (measured: within 0.01 LU of
    filtering each limited signal): the hop energies change only where the limiter acts,
    by K(x)^2 (gain^2 - 1), with K(x) there filtered from rest 50 ms earlier (12 time
    constants of the 38 Hz high-pass: the state it forgot is below 1e-4 of the signal).
    """
    hop = gating_hop(p.rate)
    assert hop is not None
    hops, rest = p.hops.copy(), p.rest
    warm = round(_WARM_UP * p.rate)
    for lo, g in gains:
        hi = lo + len(g)
        start = max(0, lo - warm)
        w = k_weighted(p.pcm[start:hi].astype(np.float64) / 32768.0, p.rate)[lo - start :]
        delta = np.bincount(np.arange(lo, hi) // hop - lo // hop, weights=w * w * (g * g - 1.0))
        first = lo // hop
        upto = min(len(hops), first + len(delta))
        hops[first:upto] += delta[: upto - first]
        rest += float(delta[upto - first :].sum())
    g2 = gain * gain
    return gated_hop_loudness(hops * g2, rest * g2, len(p.pcm), p.rate)


def _pieces(p: Prepared, gain: float, gains: _Gains) -> Iterator[PCM]:
    """The prepared episode times ``gain`` and the limiter's ``gains``, as 16-bit PCM,
    chunk by chunk."""
    n, step = len(p.pcm), chunk_samples(p.rate)
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


def master_stream(
    p: Prepared,
    target_lufs: float,
    ceiling: float,
    tolerance_lu: float,
    peaks: Peaks | None = None,
) -> PcmStream:
    """Gain to ``target_lufs``, peaks limited to ``ceiling``, repeated from the original
    (gains never compound) until the loudness is within ``tolerance_lu``; the result is
    computed chunk by chunk as it is read (by the encoder), never held whole. ``peaks``:
    the episode's, when already scanned (used while they cover the gain)."""
    gain_db = target_lufs - p.loudness
    for _ in range(5):
        g = from_db(gain_db)
        if peaks is None or not peaks.covers(g, ceiling):
            peaks = Peaks.of(p, g, ceiling)
        gains = _limiter_gains(p, g, ceiling, peaks)
        if not gains:
            break  # linear gain alone: loudness is exactly on target
        error = target_lufs - _limited_loudness(p, g, gains)
        if abs(error) <= tolerance_lu:
            break
        gain_db += error
    return PcmStream(p.rate, len(p.pcm), lambda: _pieces(p, g, gains))


LEVEL_TOLERANCE_LU = 0.2
"""How close to its target a levelled turn must come."""


TURN_LUFS = -20.0
"""The loudness every turn is levelled to (:func:`level_segment`)."""


def level_segment(
    audio: Audio, target_lufs: float = TURN_LUFS, *, max_gain_db: float = 30.0
) -> Audio:
    """One turn brought to ``target_lufs`` so every voice sits at the same loudness.

    Levelling turns before joining them keeps a soft-spoken voice from sitting under a
    loud one; mastering then only sets the final level. It runs the mastering's own
    chunked path (loudness measured hop by hop, the true-peak limiter's gain kept only
    where it acts, the result made chunk by chunk), so a 75-minute turn costs its 16-bit
    copies, never whole-turn floating-point arrays. Silent or empty audio comes back
    unchanged; peaks the gain would push past -1 dBTP are limited rather than clipped.

    Args:
        audio: one synthesized turn.
        target_lufs: loudness to reach.
        max_gain_db: cap on the gain either way, so near-silence (breaths, noise) is not
            blown up to speech level.

    Raises:
        AudioError: the turn's rate has no whole number of samples per 100 ms gating hop.
    """
    if len(audio.samples) == 0:
        return audio
    if gating_hop(audio.rate) is None:
        raise AudioError(f"cannot level audio at {audio.rate} Hz (no whole 100 ms hops)")
    p = _measured(audio)
    if p is None:
        return audio
    change = max(-max_gain_db, min(max_gain_db, target_lufs - p.loudness))
    stream = master_stream(p, p.loudness + change, from_db(MAX_TRUE_PEAK_DBTP), LEVEL_TOLERANCE_LU)
    out = np.empty(len(audio.samples), dtype=np.int16)
    at = 0
    for piece in stream.pieces():
        out[at : at + len(piece)] = piece
        at += len(piece)
    return Audio(out, audio.rate)


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
    target_lufs: float = TARGET_LUFS,
    true_peak: float = MAX_TRUE_PEAK_DBTP,
    tolerance_lu: float = LUFS_TOLERANCE,
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
    target_lufs: float = TARGET_LUFS,
    true_peak: float = MAX_TRUE_PEAK_DBTP,
    measured: Measured | None = None,
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
        measured: ``audio`` already measured for mastering, as it arrived
            (:class:`~pangocast.audio.measure_ahead.EpisodeMeter`); None: measured here.

    Returns:
        Size, decoded loudness and number of encodes. The loudness is reported, not
        enforced: check it with :func:`within_spec`.

    Raises:
        AudioError: resampling, encoding, tagging or decoding failed.
    """
    loss, headroom = _CODEC_PRIOR.get(bitrate, _DEFAULT_PRIOR)
    aim = target_lufs + loss
    passes = 0
    prepared, peaks = (measured.prepared, measured.peaks) if measured else (prepare(audio), None)
    _give_back_memory()
    while True:
        passes += 1
        mastered: Audio | PcmStream
        if prepared is None:
            mastered = audio  # silence: nothing to master (the encoder resamples)
        else:
            ceiling = from_db(true_peak - headroom)
            mastered = master_stream(prepared, aim, ceiling, 0.2, peaks)
        size = encode_mp3(mastered, path, tags, bitrate=bitrate, chapters=chapters)
        del mastered  # not needed while the MP3 is measured
        got, decoded = measure_decoded(path, MASTER_RATE)
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
