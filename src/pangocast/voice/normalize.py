"""Written Chinese to speakable Chinese, for the offline engines.

The neural voice's frontend misreads full-width digits, dates, times and ASCII punctuation,
and has no phonemes for Latin letters. :func:`normalize_for_speech` rewrites numbers as
hanzi (years digit by digit, quantities as cardinals, percentages, decimals, versions,
times, ranges), turns ASCII pause punctuation beside Chinese into its full-width form (only
those carry pauses), and removes marks that have no sound (markdown, brackets, bullets,
quotes). Latin words stay as they are for an English voice; digits glued to the end of a
Latin word are read in Chinese ("SOFA5" -> "SOFA 五"), digits inside one stay ("K8S").

Pure functions, compiled tables, no I/O.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

__all__ = ["digits_zh", "normalize_for_speech", "number_zh", "split_sentences"]

_DIGITS = "零一二三四五六七八九"
_SMALL_UNITS = ((1000, "千"), (100, "百"), (10, "十"))
_BIG_UNITS = ((10**12, "兆"), (10**8, "亿"), (10**4, "万"))

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
_FULL_PUNCT = "，。！？；：、"
_SENTENCE_END = "。！？；"

# Measure words before which a lone 2 is read 两 (两个, 两天) and a 4-digit number is a
# quantity, not a year ("2000 人" -> 两千人, but "2007 开始" -> 二零零七开始).
_MEASURE_WORDS = frozenset(
    "个位种次件条只张台家天周岁倍本份项道场点句名人层部块类组套段篇届期辆架支节门笔轮批款"
    "所座间遍代首片颗行列米元斤克吨秒分小字页章招步万千百亿多余来"
)

_ASCII_TO_FULL = {",": "，", ":": "：", ";": "；", "!": "！", "?": "？", ".": "。"}


def _under_10000(n: int) -> str:
    out: list[str] = []
    zero_pending = False
    for value, unit in _SMALL_UNITS:
        d, n = divmod(n, value)
        if d:
            if zero_pending:
                out.append("零")
            out.append(_DIGITS[d] + unit)
            zero_pending = False
        elif out:
            zero_pending = True
    if n:
        if zero_pending:
            out.append("零")
        out.append(_DIGITS[n])
    return "".join(out)


def number_zh(n: int, *, two_as_liang: bool = True) -> str:
    """A non-negative integer as a Chinese cardinal: 120 -> 一百二十, 10 -> 十, 20000 -> 两万.

    Args:
        n: the number.
        two_as_liang: read a leading 2 before 千/万/亿 as 两 (两千, 两万).

    Raises:
        ValueError: ``n`` is negative.
    """
    if n < 0:
        raise ValueError("negative number")
    if n == 0:
        return "零"
    parts: list[str] = []
    rest = n
    need_zero = False
    for value, unit in _BIG_UNITS:
        high, rest = divmod(rest, value)
        if high:
            if need_zero or (parts and high < 1000):
                parts.append("零")
            parts.append(number_zh(high, two_as_liang=False) + unit)
            need_zero = False
        elif parts:
            need_zero = True
    if rest:
        if parts and (need_zero or rest < 1000):
            parts.append("零")
        parts.append(_under_10000(rest))
    text = "".join(parts)
    # 10-19 are said 十X, not 一十X, when they start the number.
    if text.startswith("一十"):
        text = text[1:]
    if two_as_liang and text.startswith("二") and text[1:2] in ("千", "万", "亿"):
        text = "两" + text[1:]
    return text


def digits_zh(digits: str) -> str:
    """Digit by digit: "2019" -> "二零一九".

    Raises:
        KeyError: ``digits`` holds a non-digit.
    """
    return "".join(_DIGITS[int(d)] for d in digits)


def _decimal_zh(text: str) -> str:
    """ "35.5" -> 三十五点五, "0.4.0" (a version) -> 零点四点零."""
    head, *tails = text.split(".")
    if len(tails) == 1:
        return _int_zh(head) + "点" + digits_zh(tails[0])
    return "点".join(_int_zh(p) for p in [head, *tails])


def _int_zh(digits: str, following: str = "") -> str:
    digits = digits.replace(",", "")
    if (len(digits) > 1 and digits.startswith("0")) or len(digits) > 12:
        return digits_zh(digits)
    n = int(digits)
    if n == 2 and following[:1] in _MEASURE_WORDS:
        return "两"
    return number_zh(n)


# --- the rewriting passes, in order -------------------------------------------------------

_Rule = tuple[re.Pattern[str], Callable[[re.Match[str]], str]]


def _sub(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _date(m: re.Match[str]) -> str:
    year, month, day = m.group("y", "m", "d")
    return f"{digits_zh(year)}年{number_zh(int(month))}月{number_zh(int(day))}日"


def _time(m: re.Match[str]) -> str:
    h, mi, s = int(m["h"]), int(m["mi"]), m["s"]
    out = ("两" if h == 2 else number_zh(h)) + "点"
    if mi:
        out += ("零" if mi < 10 else "") + number_zh(mi) + "分"
    if s and int(s):
        out += number_zh(int(s)) + "秒"
    return out


def _percent(m: re.Match[str]) -> str:
    low, high = m["a"], m["b"]
    if low is None:
        return "百分之" + _decimal_zh(high)
    return "百分之" + _decimal_zh(low) + "到百分之" + _decimal_zh(high)


def _number_word(value: str, following: str) -> str:
    if "." in value:
        return _decimal_zh(value)
    if _is_year(value, following):
        return digits_zh(value)
    return _int_zh(value, following)


def _is_year(digits: str, following: str) -> bool:
    if len(digits) != 4 or digits.startswith("0"):
        return False
    if following.startswith("年"):
        return True
    # A bare 19xx/20xx is a year ("KubeCon 2019", "2007 开始") unless a measure word follows.
    return 1900 <= int(digits) <= 2099 and following[:1] not in _MEASURE_WORDS


def _range(m: re.Match[str]) -> str:
    following = m.string[m.end() :].lstrip()
    low, high = m["a"], m["b"]
    return _number_word(low, following) + "到" + _number_word(high, following)


def _number(m: re.Match[str]) -> str:
    following = m.string[m.end() :].lstrip(" ")
    before = m.string[: m.start()].rstrip(" ")
    value = m["n"]
    if before.endswith("第"):
        return number_zh(int(value.replace(",", ""))) if "." not in value else _decimal_zh(value)
    return _number_word(value, following)


def _domain(m: re.Match[str]) -> str:
    return digits_zh(m["n"]) + "点" + m["w"]


def _list_item(m: re.Match[str]) -> str:
    return m["pre"] + "第" + number_zh(int(m["n"])) + "，"


_NUM = r"\d+(?:\.\d+)*"
_NOT_BEFORE = r"(?<![\dA-Za-z.])"
_NOT_AFTER = r"(?![\dA-Za-z]|\.\d)"

_NUMBER_RULES: tuple[_Rule, ...] = (
    # "1. 首先" at the start of a line: an enumeration, said 第一.
    (_sub(r"(?m)(?P<pre>^[ \t]*)(?P<n>\d{1,2})[.、)]\s+(?=\D)"), _list_item),
    (
        _sub(_NOT_BEFORE + r"(?P<y>\d{4})[-/.](?P<m>\d{1,2})[-/.](?P<d>\d{1,2})" + _NOT_AFTER),
        _date,
    ),
    (
        _sub(_NOT_BEFORE + r"(?P<h>[01]?\d|2[0-4]):(?P<mi>[0-5]\d)(?::(?P<s>[0-5]\d))?(?!\d)"),
        _time,
    ),
    (
        _sub(
            _NOT_BEFORE + r"(?:(?P<a>\d+(?:\.\d+)?)%?\s*[-~～—–至到]\s*)?(?P<b>\d+(?:\.\d+)?)\s*%"
        ),
        _percent,
    ),
    (
        _sub(_NOT_BEFORE + r"(?P<a>" + _NUM + r")\s*[-~～—–]\s*(?P<b>" + _NUM + r")" + _NOT_AFTER),
        _range,
    ),
    (_sub(_NOT_BEFORE + r"(?P<n>\d+)\.(?P<w>[A-Za-z]{2,})\b"), _domain),
    (
        _sub(_NOT_BEFORE + r"(?P<n>\d{1,3}(?:,\d{3})+|" + _NUM + r")" + _NOT_AFTER),
        _number,
    ),
)

# "SOFA5" -> "SOFA 5", "5G" -> "5 G"; "K8S", "light4j" (digits inside a word) stay whole.
_LATIN_TRAILING_DIGITS = _sub(r"(?<=[A-Za-z])(?=(?:\d+(?:\.\d+)*)(?![\dA-Za-z]))")
_LEADING_DIGITS_LATIN = _sub(r"(?<![A-Za-z\d.])(\d+)(?=[A-Za-z])")
_PLUS_BETWEEN = _sub(r"(?<=[\dA-Za-z])\s*\+\s*(?=\d)")

# Marks with no sound. Brackets become a pause (they set off an aside).
_MARKDOWN = _sub(r"(?m)\*\*|__|`+|~~|^#{1,6}\s+|^[ \t]*[-*+•·●▪◆■★☆►▶]\s+")
_SILENT_CHARS = dict.fromkeys(map(ord, '“”"‘’「」『』《》〈〉【】〔〕•●▪◆■★☆►▶※'), None)
_BRACKETS = _sub(r"[()\[\]（）{}]")
_PAUSE_DASH = _sub(r"\s*(?:——+|—|–|…+|\.{3,})\s*")
_NEWLINES = _sub(r"\s*\n+\s*")
_ASCII_PUNCT = _sub(r"[,:;!?.]")
_PUNCT_RUN = _sub(r"[，。！？；：、]{2,}")
_SPACE_BETWEEN_CJK = _sub(
    "(?<=[" + _CJK + _FULL_PUNCT + "])[ \t\u3000]+(?=[" + _CJK + _FULL_PUNCT + "])"
    "|[ \t\u3000]+(?=[" + _FULL_PUNCT + "])|(?<=[" + _FULL_PUNCT + "])[ \t\u3000]+"
)
_SPACES = _sub(r"[ \t\u3000]{2,}")
_NOT_PAUSE_MARK = _sub(r"[^，！？；：]+")

_STRENGTH = {"。": 5, "！": 5, "？": 5, "；": 4, "：": 3, "，": 2, "、": 1}


def _strongest(m: re.Match[str]) -> str:
    return max(m.group(0), key=lambda c: _STRENGTH[c])


def _is_cjk_side(ch: str) -> bool:
    return bool(ch) and (re.match("[" + _CJK + _FULL_PUNCT + "]", ch) is not None)


def _full_width_punct(text: str) -> str:
    """ASCII ``, : ; ! ? .`` beside Chinese (or at the ends) become full-width pauses."""
    out = list(text)
    for m in _ASCII_PUNCT.finditer(text):
        i = m.start()
        left = text[:i].rstrip(" ")[-1:]
        right = text[i + 1 :].lstrip(" ")[:1]
        ch = text[i]
        if ch == "." and (not left or (left.isdigit() and right.isdigit())):
            continue
        if _is_cjk_side(left) or _is_cjk_side(right) or (ch != "." and not right):
            out[i] = _ASCII_TO_FULL[ch]
    return "".join(out)


def normalize_for_speech(text: str) -> str:
    """Rewrite ``text`` so an offline engine reads every word right.

    NFKC (full-width digits and letters), 〇 -> 零, numbers as hanzi (years digit by digit:
    "2019 年" -> 二零一九年; quantities: "120 多位" -> 一百二十多位; "35.5%" ->
    百分之三十五点五; "2.0" -> 二点零; "3:00" -> 三点; "2-3 天" -> 两到三天; dates
    "2019-06-12" -> 二零一九年六月十二日), ASCII pause punctuation beside Chinese to
    full-width, and soundless marks (markdown, 【】, quotes, bullets) removed. Latin words
    are kept for an English voice. Idempotent.

    Args:
        text: one paragraph (or more) of written Chinese, possibly mixed with English.

    Returns:
        The text to hand to a Mandarin engine.
    """
    # NFKC everywhere except on full-width pause marks, which it would make ASCII (and so
    # ambiguous between Latin words): that keeps the function idempotent.
    text = _NOT_PAUSE_MARK.sub(lambda m: unicodedata.normalize("NFKC", m.group(0)), text)
    text = text.replace("〇", "零")
    text = _MARKDOWN.sub("", text).translate(_SILENT_CHARS)
    text = _PLUS_BETWEEN.sub(" 加 ", text)
    text = _LATIN_TRAILING_DIGITS.sub(" ", text)
    text = _LEADING_DIGITS_LATIN.sub(r"\1 ", text)
    for pattern, replace in _NUMBER_RULES:
        text = pattern.sub(replace, text)
    text = _PAUSE_DASH.sub("，", text)
    text = _BRACKETS.sub("，", text)
    text = _full_width_punct(text)
    text = _NEWLINES.sub("。", text.strip())
    text = _SPACE_BETWEEN_CJK.sub("", text)
    text = _SPACES.sub(" ", text)
    text = _PUNCT_RUN.sub(_strongest, text)
    return text.strip(" ，、：").replace("，。", "。")


_SPLIT_AFTER = re.compile("(?<=[" + _SENTENCE_END + "])")
_CLAUSE_AFTER = re.compile("(?<=[，、：,:])")


def split_sentences(text: str, max_chars: int = 120) -> list[str]:
    """Split at 。！？； (kept on the left); pieces over ``max_chars`` split again at
    clause marks (，、：), then at spaces, then hard. Empty pieces are dropped.

    Args:
        text: normalised text.
        max_chars: the longest piece wanted (at least 1).

    Returns:
        The pieces, in order; joined they give back ``text`` without its newlines.

    Raises:
        ValueError: ``max_chars`` is below 1.
    """
    if max_chars < 1:
        raise ValueError("max_chars must be at least 1")
    pieces: list[str] = []
    for line in text.splitlines():
        for sentence in _SPLIT_AFTER.split(line):
            if sentence.strip():
                pieces.extend(_fit(sentence, max_chars))
    return pieces


def _fit(sentence: str, max_chars: int) -> list[str]:
    if len(sentence) <= max_chars:
        return [sentence]
    out: list[str] = []
    current = ""
    for clause in _CLAUSE_AFTER.split(sentence):
        if len(current) + len(clause) <= max_chars:
            current += clause
            continue
        if current:
            out.append(current)
        current = ""
        while len(clause) > max_chars:
            cut = clause.rfind(" ", 1, max_chars + 1)
            cut = cut if cut > 0 else max_chars
            out.append(clause[:cut])
            clause = clause[cut:]
        current = clause
    if current:
        out.append(current)
    return [p for p in out if p.strip()]
