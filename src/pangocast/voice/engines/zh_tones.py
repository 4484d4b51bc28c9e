"""Two readings pypinyin gets wrong in running text, fixed after it for both Mandarin voices.

* **一 (yi)** changes tone with what follows unless it is a number: pypinyin knows the change
  only inside its phrase dictionary (一定 yi2, 一直 yi4) and reads every other 一 as yi1
  (一样, 一次, 一下, 一栋 should be yi2; 一天 yi4). Here a yi1 becomes yi2 before a fourth
  tone and yi4 before the others, and yi5 between a repeated verb (看一看), except where it
  keeps its own tone: the last character of a word (统一, 之一, 唯一: jieba's words), after 第
  or next to another numeral (第一, 十一, 一二三), or before no hanzi.
* **地 (de)** is the adverbial particle (认真地说, 一步一步地找到) when jieba tags it so (``uv``)
  *and* a verb, preposition or adverb follows; pypinyin reads it di4 (ground) everywhere
  outside its phrases. jieba's tag alone is not enough (它 tags 这块地很大 so too).

:func:`adjust` takes a hanzi run and its pypinyin syllables (TONE3, neutral as 5) and returns
them corrected; it never changes the count.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence

READINGS_VERSION = "tones-1"
"""Part of both Mandarin frontends' versions: bump when :func:`adjust` changes a reading."""

_NUMERALS = frozenset(
    "\u96f6\u3007\u4e00\u4e8c\u4e09\u56db\u4e94\u516d\u4e03\u516b\u4e5d\u5341\u4e24"
)
"""零 〇 一 二 三 四 五 六 七 八 九 十 两: next to these, 一 is a digit (十一, 一二三)."""
_YI = "\u4e00"
_DI = "\u5730"
_DI_ORDINAL = "\u7b2c"  # 第
_AFTER_PARTICLE = ("v", "p", "d")
"""jieba tags after which a lone 地 is the adverbial particle: verbs, prepositions, adverbs."""

_LOCK = threading.Lock()


def _word_ends(han: str) -> set[int]:
    """Indices of the last character of each word of two or more characters, the words
    inside longer ones included (统一规划 holds 统一)."""
    import jieba

    with _LOCK:  # jieba builds its dictionary on first use; one thread does it
        jieba.setLogLevel(logging.WARNING)
        return {end - 1 for word, _, end in jieba.tokenize(han, mode="search") if len(word) > 1}


def _tagged(han: str) -> list[tuple[str, str]]:
    import jieba
    import jieba.posseg

    with _LOCK:
        jieba.setLogLevel(logging.WARNING)
        return [(str(p.word), str(p.flag)) for p in jieba.posseg.lcut(han)]


def _tone(syllable: str) -> str:
    return syllable[-1] if syllable and syllable[-1].isdigit() else ""


def _fix_yi(han: str, out: list[str]) -> None:
    ends = _word_ends(han)
    for i, ch in enumerate(han):
        if ch != _YI or out[i] != "yi1" or i in ends:
            continue
        before = han[i - 1] if i > 0 else ""
        after = han[i + 1] if i + 1 < len(han) else ""
        if not after or before == _DI_ORDINAL or before in _NUMERALS or after in _NUMERALS:
            continue
        if before and before == after:
            out[i] = "yi5"  # 看一看, 说一说
            continue
        tone = _tone(out[i + 1])
        if tone == "4":
            out[i] = "yi2"
        elif tone in ("1", "2", "3"):
            out[i] = "yi4"


def _fix_de(han: str, out: list[str]) -> None:
    tagged = _tagged(han)
    at = 0
    for n, (word, flag) in enumerate(tagged):
        particle = word == _DI and flag == "uv" and at > 0 and n + 1 < len(tagged)
        if particle and tagged[n + 1][1].startswith(_AFTER_PARTICLE) and out[at] == "di4":
            out[at] = "de5"
        at += len(word)


def adjust(han: str, syllables: Sequence[str]) -> list[str]:
    """``syllables`` (one per character of ``han``) with 一 and 地 read as people say them.

    ``adjust("一样", ["yi1", "yang4"])`` -> ``["yi2", "yang4"]``.
    """
    out = [str(s) for s in syllables]
    if len(out) != len(han):
        return out
    if _YI in han:
        _fix_yi(han, out)
    if _DI in han:
        _fix_de(han, out)
    return out
