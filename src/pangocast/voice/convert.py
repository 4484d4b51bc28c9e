"""Voice conversion: one source voice made into another person by WORLD resynthesis.

A :class:`Conversion` moves the voice's pitch (F0) and its vocal-tract size (formants)
independently: the audio is analysed with the WORLD vocoder (pyworld: ``dio`` +
``stonemask`` for F0, ``cheaptrick`` for the spectral envelope, ``d4c`` for aperiodicity),
F0 is multiplied by :attr:`Conversion.f0_ratio`, the envelope and the aperiodicity are
stretched along frequency by :attr:`Conversion.formant_ratio`, and the result is
synthesized again. A lower F0 with formants a little lower sounds like a man, not like a
slowed tape (which a pitch shifter moving both together gives).

:func:`convert` is deterministic (the same input gives the same samples) and keeps the
length exactly. Intonation and pace are not here: the neural model sets those itself
(its ``f0`` and ``speed``), which keeps the speech natural.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float32]

CONVERSION_VERSION = "world-3"
"""Changes whenever :func:`convert` sounds different; part of the engines' versions."""

RATIO_RANGE = (0.5, 2.0)
"""The ratios :class:`Conversion` accepts (beyond them WORLD's output degrades)."""

_FRAME_PERIOD = 10.0
"""Analysis hop in ms: 10, not WORLD's default 5, halves the cost (d4c, the aperiodicity, is
most of it) for the same similarity and intelligibility (benchmarks/voices.py)."""
_APERIODICITY_STEP = 3
"""d4c (the aperiodicity) runs on every third analysis frame and is interpolated between
them: it changes slowly, and this cuts the conversion's cost by about a third with the
same similarity and intelligibility (``benchmarks/conversion.py``)."""
_F0_FLOOR = 71.0
_F0_CEIL = 800.0


@dataclass(frozen=True)
class Conversion:
    """How a voice is changed.

    Attributes:
        f0_ratio: multiplies the pitch (0.56 takes a 250 Hz voice to 140 Hz); 1 keeps it.
        formant_ratio: stretches the spectral envelope along frequency (< 1 a longer vocal
            tract, a bigger person; > 1 a smaller one); 1 keeps it.
    """

    f0_ratio: float = 1.0
    formant_ratio: float = 1.0

    def __post_init__(self) -> None:
        low, high = RATIO_RANGE
        for name in ("f0_ratio", "formant_ratio"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and low <= value <= high):
                raise ValueError(f"{name} must be between {low} and {high}, not {value!r}")

    @property
    def identity(self) -> bool:
        """True when the conversion changes nothing (and :func:`convert` is skipped)."""
        return self.f0_ratio == 1.0 and self.formant_ratio == 1.0


def convert(
    samples: FloatArray,
    rate: int,
    conversion: Conversion,
    *,
    aperiodicity_step: int = _APERIODICITY_STEP,
) -> FloatArray:
    """``samples`` (mono float, at ``rate`` Hz) spoken by the converted voice.

    The result has exactly as many samples as the input, so timings measured on the input
    (where a word starts) hold for the output. An identity conversion returns the input.

    Raises:
        ImportError: pyworld is not installed.
    """
    if conversion.identity or samples.size < rate * _FRAME_PERIOD / 1000 * 4:
        return samples
    import pyworld

    x = samples.astype(np.float64)
    f0, times = pyworld.dio(
        x, rate, f0_floor=_F0_FLOOR, f0_ceil=_F0_CEIL, frame_period=_FRAME_PERIOD
    )
    f0 = pyworld.stonemask(x, f0, times, rate)
    fft_size = pyworld.get_cheaptrick_fft_size(rate, _F0_FLOOR)
    envelope = pyworld.cheaptrick(x, f0, times, rate, f0_floor=_F0_FLOOR, fft_size=fft_size)
    aperiodicity = _aperiodicity(x, f0, times, rate, fft_size, max(1, aperiodicity_step))
    if conversion.formant_ratio != 1.0:
        # in the log domain: formant peaks and valleys move without being smeared
        envelope = np.exp(_stretch(np.log(np.maximum(envelope, 1e-16)), conversion.formant_ratio))
        aperiodicity = _stretch(aperiodicity, conversion.formant_ratio)
    y = pyworld.synthesize(
        f0 * conversion.f0_ratio, envelope, aperiodicity, rate, frame_period=_FRAME_PERIOD
    )
    out = np.zeros(samples.size, dtype=np.float32)
    n = min(out.size, y.size)
    out[:n] = y[:n]
    return out


def _stretch(frames: npt.NDArray[np.float64], ratio: float) -> npt.NDArray[np.float64]:
    """Each frame's spectrum moved along frequency: what was at f lands at ``ratio`` * f.

    Bins above the old spectrum's top (ratio > 1 reads beyond Nyquist) take its last value.
    """
    bins = frames.shape[1]
    source = np.minimum(np.arange(bins) / ratio, bins - 1)
    low = np.floor(source).astype(np.int64)
    high = np.minimum(low + 1, bins - 1)
    frac = source - low
    stretched = frames[:, low] * (1.0 - frac) + frames[:, high] * frac
    return np.ascontiguousarray(stretched)


def _aperiodicity(
    x: npt.NDArray[np.float64],
    f0: npt.NDArray[np.float64],
    times: npt.NDArray[np.float64],
    rate: int,
    fft_size: int,
    step: int,
) -> npt.NDArray[np.float64]:
    """D4C's aperiodicity on every ``step``-th frame (and the last), linear between them."""
    import pyworld

    if step == 1 or times.size <= 2:
        result: npt.NDArray[np.float64] = pyworld.d4c(x, f0, times, rate, fft_size=fft_size)
        return result
    picked = np.arange(0, times.size, step)
    if picked[-1] != times.size - 1:
        picked = np.append(picked, times.size - 1)
    coarse = pyworld.d4c(
        x,
        np.ascontiguousarray(f0[picked]),
        np.ascontiguousarray(times[picked]),
        rate,
        fft_size=fft_size,
    )
    frame = np.arange(times.size)
    right = np.clip(np.searchsorted(picked, frame, side="left"), 1, picked.size - 1)
    left = right - 1
    weight = ((frame - picked[left]) / (picked[right] - picked[left]))[:, None]
    return np.ascontiguousarray(coarse[left] * (1.0 - weight) + coarse[right] * weight)
