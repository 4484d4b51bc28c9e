"""Measuring an episode for mastering while it is assembled, before its last turn exists.

Mastering starts with one pass over the whole episode: the K-weighted energy of every
100 ms gating hop (its integrated loudness) and the true-peak envelope wherever it comes
near the limiter's ceiling (:func:`~pangocast.audio.delivery.prepare` and
:class:`~pangocast.audio.delivery.Peaks`). Both only need the samples in order, so a build
does that pass on each stretch of the episode as soon as it is final, while the engine
still makes the segments of later turns: after the last segment only that turn's stretch
is left to measure, then the gain, the limiter, the encoding.

:class:`EpisodeMeter` gives exactly the figures of the pass over the whole episode (the
same hops; the same peaks at every gain its scan covers, else mastering scans again), so
the MP3 is the same whichever way the episode was measured.
"""

from __future__ import annotations

import numpy as np

from pangocast.audio.delivery import (
    TURN_LUFS,
    Measured,
    Peaks,
    Prepared,
    first_aim,
    working_rate,
)
from pangocast.audio.loudness import (
    GATING_BLOCK,
    SILENT_LUFS,
    Meter,
    chunk_samples,
    gated_hop_loudness,
)
from pangocast.audio.pcm import PCM, Audio, from_db
from pangocast.audio.truepeak import HALF_TAPS
from pangocast.core.standards import MAX_TRUE_PEAK_DBTP, TARGET_LUFS

PREDICTION_SLACK_DB = 3.0
"""How much more gain than an episode of levelled turns needs the peaks are scanned for:
an episode whose loudness is further below :data:`TURN_LUFS` is scanned again."""


class EpisodeMeter:
    """An episode at its own (working) rate, measured for mastering as it is fed in order.

    :meth:`feed` the final samples as they come, then give :meth:`measured` the whole
    episode (whose start is what was fed). Peaks are scanned for the gain an episode of
    turns levelled to ``expected_lufs`` needs, mastered as :func:`deliver` masters with
    the same ``bitrate``, ``target_lufs`` and ``true_peak``.
    """

    def __init__(
        self,
        rate: int,
        *,
        expected_lufs: float = TURN_LUFS,
        bitrate: str = "64k",
        target_lufs: float = TARGET_LUFS,
        true_peak: float = MAX_TRUE_PEAK_DBTP,
    ) -> None:
        aim, ceiling = first_aim(bitrate, target_lufs, true_peak)
        self.rate = rate
        self.fed = 0
        """Samples fed so far."""
        self._meter = Meter(rate, peak=False)
        self._peaks = Peaks(from_db(aim - expected_lufs + PREDICTION_SLACK_DB), ceiling)
        self._step = chunk_samples(rate)
        self._window = np.zeros(HALF_TAPS)
        """Samples from :data:`HALF_TAPS` before the first one not scanned (zeros before
        the start), as floats."""

    def feed(self, pcm: PCM) -> None:
        """The next final samples of the episode."""
        if len(pcm) == 0:
            return
        self._meter.feed(pcm)
        self.fed += len(pcm)
        self._window = np.concatenate([self._window, pcm.astype(np.float64) / 32768.0])
        self._scan(final=False)

    def _scan(self, *, final: bool) -> None:
        """Scan the chunks whose samples, and the :data:`HALF_TAPS` after them, are in:
        the chunks :meth:`Peaks.of` scans (the last one shorter, zeros after it)."""
        pad = HALF_TAPS
        if final:
            self._window = np.concatenate([self._window, np.zeros(pad)])
        while True:
            left = len(self._window) - 2 * pad
            take = self._step if left >= self._step else (left if final else 0)
            if take <= 0:
                return
            self._peaks.scan(self._window[: take + 2 * pad])
            self._window = self._window[take:]

    def measured(self, audio: Audio) -> Measured | None:
        """``audio`` (the whole episode, its first :attr:`fed` samples those fed) measured;
        None when mastering must measure it itself (another rate, too short, silent)."""
        pcm, rate = audio.samples, audio.rate
        if rate != self.rate or working_rate(rate) != rate or len(pcm) < self.fed:
            return None
        if len(pcm) <= int(GATING_BLOCK * rate) or not pcm.any():
            return None
        self.feed(pcm[self.fed :])
        self._scan(final=True)
        hops, rest = self._meter.hop_energies()
        loudness = gated_hop_loudness(hops, rest, len(pcm), rate)
        if loudness <= SILENT_LUFS:
            return None
        return Measured(Prepared(pcm, rate, hops, rest, loudness), self._peaks.done())
