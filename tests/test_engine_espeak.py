"""espeak-ng through ctypes, on real short sentences: measured properties, never bytes."""

from __future__ import annotations

import importlib.util
import threading

import numpy as np
import pytest

from pangocast.audio.pcm import Audio
from pangocast.core.errors import EngineUnavailableError, SynthesisError
from pangocast.voice.engines.base import Voice
from tests.audio_measure import f0_track, rms

pytest.importorskip("espeakng_loader")

from pangocast.voice.engines.espeak import EspeakEngine, speak_latin

SENTENCE = "容器时代已经与以虚拟机为核心的时代完全不同了。"
MIXED = "在 Kubernetes 社区里,SOFAStack 很活跃"
MIXED_WITHOUT_LATIN = "在社区里,很活跃"


def median_f0(audio: Audio) -> float:
    """Median F0 (Hz) of voiced frames."""
    return float(np.median(f0_track(audio, voicing=0.4)))


@pytest.fixture(scope="module")
def engine() -> EspeakEngine:
    return EspeakEngine()


def cmn(prosody: dict[str, float | int] | None = None, variant: str = "cmn") -> Voice:
    return Voice.make("espeak", variant, prosody)


def test_speaks_mandarin_at_22khz(engine: EspeakEngine) -> None:
    audio = engine.synthesize(SENTENCE, cmn())
    assert audio.rate == 22050
    assert rms(audio) > 0.03
    # espeak reads about 4-6 syllables a second at its default 175 wpm.
    assert 22 / 7 < audio.duration < 22 / 3


def test_rate_is_words_per_minute(engine: EspeakEngine) -> None:
    slow = engine.synthesize(SENTENCE, cmn({"rate": 120}))
    fast = engine.synthesize(SENTENCE, cmn({"rate": 300}))
    assert fast.duration < slow.duration * 0.65


def test_pitch_raises_f0(engine: EspeakEngine) -> None:
    # The female variant: the default male voice's ~90 Hz confuses a simple estimator.
    low = engine.synthesize(SENTENCE, cmn({"pitch": 20}, "cmn+f2"))
    high = engine.synthesize(SENTENCE, cmn({"pitch": 80}, "cmn+f2"))
    assert median_f0(high) > median_f0(low) * 1.25


def test_variants_change_the_voice(engine: EspeakEngine) -> None:
    male = engine.synthesize(SENTENCE, cmn(variant="cmn+m3"))
    female = engine.synthesize(SENTENCE, cmn(variant="cmn+f2"))
    assert median_f0(female) > median_f0(male) * 1.3


def test_latin_words_are_read_in_english(engine: EspeakEngine) -> None:
    mixed = engine.synthesize(MIXED, cmn())
    without = engine.synthesize(MIXED_WITHOUT_LATIN, cmn())
    assert mixed.duration - without.duration > 2 * 0.4


def test_numbers_are_normalised_for_mandarin_voices(engine: EspeakEngine) -> None:
    digits = engine.synthesize("2019 年", cmn())
    words = engine.synthesize("二零一九年", cmn())
    assert digits.duration == pytest.approx(words.duration, abs=0.05)


def test_repeated_text_is_stable(engine: EspeakEngine) -> None:
    # libespeak-ng never resets its pitch-flutter phase, so samples are not bit-exact
    # between calls; length and level are.
    a = engine.synthesize(SENTENCE, cmn())
    b = engine.synthesize(SENTENCE, cmn())
    assert abs(a.duration - b.duration) < 0.02
    assert rms(a) == pytest.approx(rms(b), rel=0.05)


def test_threads_share_the_library_safely(engine: EspeakEngine) -> None:
    expected = engine.synthesize(SENTENCE, cmn()).duration
    results: list[float] = []

    def work() -> None:
        for _ in range(3):
            results.append(engine.synthesize(SENTENCE, cmn()).duration)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 12
    assert all(abs(d - expected) < 0.02 for d in results)


def test_speak_latin_helper() -> None:
    clip = speak_latin("Kubernetes", pitch=70, rate=175)
    assert clip.rate == 22050 and rms(clip) > 0.03
    assert 0.4 < clip.duration < 2.0
    assert median_f0(speak_latin("Kubernetes", pitch=80)) > median_f0(
        speak_latin("Kubernetes", pitch=20)
    )


def test_lists_voices_and_version(engine: EspeakEngine) -> None:
    ids = {v.id for v in engine.list_voices()}
    assert {"cmn", "en-us", "cmn+m3", "cmn+f2"} <= ids
    assert engine.version().startswith("espeak-ng 1.52")


def test_rejects_unknown_voice_and_bad_prosody(engine: EspeakEngine) -> None:
    with pytest.raises(SynthesisError):
        engine.synthesize("你好", Voice.make("espeak", "no-such-voice"))
    with pytest.raises(SynthesisError):
        engine.synthesize("你好", cmn({"rate": "fast"}))  # type: ignore[dict-item]


def test_missing_library_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec

    def without_loader(name: str, *args: object) -> object:
        return None if name == "espeakng_loader" else real(name)

    monkeypatch.setattr(importlib.util, "find_spec", without_loader)
    with pytest.raises(EngineUnavailableError) as err:
        EspeakEngine()
    assert "pip install espeakng-loader" in str(err.value)
