"""Text-level helpers for reading articles: paragraphs, and what a paragraph looks like.

Nothing here knows about speakers; :mod:`pangocast.ingest.article` decides who speaks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from pangocast.script.format import join_lines

# --- characters -------------------------------------------------------------------------

SENTENCE_END = "。!?!?"
"""Punctuation that ends a sentence."""
CLAUSE_PUNCT = ",,、;;::" + SENTENCE_END
OPEN_QUOTES = "“「『‘"
CLOSE_QUOTES = "”」』’"
ASCII_QUOTE = '"'
QUOTE_CHARS = OPEN_QUOTES + CLOSE_QUOTES + ASCII_QUOTE
_PUNCT_RE = re.compile(r"[\s\W_]+", re.UNICODE)
_SPACE_RE = re.compile(r"\s+")


_FULL_WIDTH = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}


def fold_width(text: str) -> str:
    """Full-width ASCII forms ("：", "，", "（", "？", "Ａ", "１") as their ASCII letters, the
    way the rest of the reader (and the bundled column) writes them; "。", "、" and curly
    quotes stay."""
    return text.translate(_FULL_WIDTH)


def trim(text: str, chars: str, *, left: bool = True, right: bool = True) -> str:
    """``text`` without any of ``chars`` at its ends (a set of characters, like ``strip``)."""
    cls = "[" + re.escape(chars) + "]*"
    if left:
        text = re.sub("^" + cls, "", text)
    if right:
        text = re.sub(cls + "$", "", text)
    return text


def squash(text: str) -> str:
    """``text`` without any whitespace (for comparisons that ignore layout)."""
    return _SPACE_RE.sub("", text)


def letters(text: str) -> str:
    """Only the letters and digits of ``text`` (CJK counts as letters)."""
    return _PUNCT_RE.sub("", text)


def is_cjk(ch: str) -> bool:
    """True for a CJK unified ideograph."""
    return "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf"


def sentences(text: str) -> list[str]:
    """``text`` cut after each sentence-ending mark (marks kept, empty pieces dropped)."""
    out: list[str] = []
    buf = ""
    for ch in text:
        buf += ch
        if ch in SENTENCE_END:
            out.append(buf)
            buf = ""
    if buf.strip():
        out.append(buf)
    return [s for s in out if s.strip()]


# --- paragraphs -------------------------------------------------------------------------

SPLIT_MARK_RE = re.compile(r"^(?:={3,}|<!--\s*episode\s*(?::\s*(?P<title>.*?))?\s*-->)$", re.I)
"""A producer-forced episode split: a paragraph ``===`` or a line ``<!-- episode -->``
(optionally ``<!-- episode: 标题 -->`` to give the next episode its title)."""
_COMMENT_MARK_RE = re.compile(r"^\s*<!--\s*episode\b.*-->\s*$", re.I)


ParaForm = Literal["text", "title", "heading", "quote", "item", "image", "caption", "code"]
UNSPOKEN_FORMS = frozenset({"image", "caption", "code"})
"""Forms that are never read aloud (kept in the script as ``%`` notes)."""


@dataclass(frozen=True)
class Para:
    """One paragraph of an article.

    Attributes:
        index: position in the whole document (0-based).
        line: 1-based line of its first line.
        text: its lines joined (see :func:`pangocast.script.format.join_lines`), without
            markup when the source is Markdown or HTML.
        form: what the source's markup says it is: ``"text"`` (a paragraph, or any
            paragraph of plain text), ``"title"`` (the document's H1), ``"heading"``,
            ``"quote"`` (a blockquote), ``"item"`` (a list item), ``"image"``, ``"caption"``
            or ``"code"`` (never spoken).
        strong: the whole paragraph is bold in the source.
        em: the whole paragraph is in italics in the source (a standfirst, an editor's
            note, an author's bio: editorial, never a speaker's words).
        marked: the source had markup (Markdown/HTML): headings come from it, not from
            a paragraph's shape.
    """

    index: int
    line: int
    text: str
    form: ParaForm = "text"
    strong: bool = False
    marked: bool = False
    em: bool = False

    @property
    def split_mark(self) -> re.Match[str] | None:
        """The forced-split marker match, when this paragraph is one."""
        return SPLIT_MARK_RE.match(self.text)


def split_paragraphs(text: str) -> list[Para]:
    """Blank-line separated paragraphs of ``text`` (BOM and CRLF tolerated).

    A ``<!-- episode -->`` line is always a paragraph of its own, even without blank lines
    around it; a ``===`` line only when it stands alone (under a text line it is a Markdown
    heading underline and stays part of that paragraph).
    """
    lines = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    out: list[Para] = []
    block: list[str] = []
    first = 0

    def flush() -> None:
        if block:
            out.append(Para(len(out), first, join_lines(block)))
            block.clear()

    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if _COMMENT_MARK_RE.match(line):
            flush()
            out.append(Para(len(out), number, line))
            continue
        if not line:
            flush()
            continue
        if not block:
            first = number
        block.append(line)
    flush()
    return out


# --- paragraph forms --------------------------------------------------------------------

_IMAGE_RE = re.compile(
    r"^(?:[【\[]\s*(?:图|图片|配图|插图|照片|视频|image|img|photo|picture|figure|fig)[^】\]]*[】\]]"
    r"|!\[[^\]]*\]\([^)]*\)|<img\b[^>]*>)$",
    re.I,
)
_POSITION_RE = re.compile(
    r"[((]\s*(?:左|右|中|上|下|前|后)(?:[一二三四五六七八九\d起排侧]{0,2}|图)?\s*[))]"
)
_CAPTION_LEAD_RE = re.compile(
    r"^(?:图|图片|图注|题图|摄影|供图|图源|图片来源|图片来自|photo|image|figure|fig)\s*"
    r"(?:\d+|[一二三四五六七八九十]+)?\s*[::./|]",
    re.I,
)
_CREDIT_RE = re.compile(
    r"^(?:本期|本文)?(?:作者|文|撰文|编辑|责编|责任编辑|校对|译者|翻译|来源|出品|策划|审校|排版|原文链接|原文|"
    r"摄影|图片|视频|统筹|监制|"
    r"本文作者|本文来源|本文编辑|author|source|editor)\s*[::/\uff5c|]\s*\S.{0,40}$",
    re.I,
)
_NUMBERED_HEAD_RE = re.compile(
    r"^(?:第[一二三四五六七八九十百\d]+[章节部分篇回]|[一二三四五六七八九十]+[、.．]|"
    r"(?:Part|Chapter)\s*\d+)"
)
_LISTING_RE = re.compile(
    r"(?:^(?:分类|标签|归档|专栏|栏目|专题|category|tag|archives?)\b)|(?:下的文章$)", re.I
)
_CLOSING_WORDS = ("尾声", "结语", "总结", "后记", "结束语", "写在最后", "编后语", "编后", "结尾")
MAX_HEADING_CHARS = 40
MAX_LATIN_HEADING_CHARS = 90
"""Latin-script headings are longer in characters ("Chef Lena Marsh on Fire, Failure and
Fermentation" is 42 letters, 8 words)."""
MAX_LATIN_HEADING_WORDS = 14


def is_image_marker(text: str) -> bool:
    """An image/video placeholder (``【图:…】``, ``![..](..)``, ``<img>``): never spoken."""
    return bool(_IMAGE_RE.match(text.strip()))


def is_caption(text: str) -> bool:
    """A photo caption: short, no sentence end, with a position mark ("(左)") or a
    caption lead ("图:", "摄影:")."""
    t = text.strip()
    if len(squash(t)) > 60 or any(c in t for c in "。!?!?"):
        return False
    return bool(_POSITION_RE.search(t) or _CAPTION_LEAD_RE.match(t))


def _unwrapped(text: str) -> str:
    """``text`` without one pair of brackets around all of it ("(责任编辑:周宁)")."""
    t = text.strip()
    if len(t) > 2 and t[0] in "([【" and t[-1] in ")]】":
        return t[1:-1].strip()
    return t


def is_credit_line(text: str) -> bool:
    """A byline or source line ("作者:老王", "作者 | 老王", "记者 王晓雨", "来源:Linux 中国",
    "(责任编辑:周宁)", "By Jane Doe")."""
    t = _unwrapped(text)
    if _COLUMN_TAG_RE.match(t) or _PUBLISHED_RE.match(t):
        return True
    return bool(_CREDIT_RE.match(t) or _CJK_BYLINE_RE.match(t)) or is_byline(t)


_PUBLISHED_RE = re.compile(r"^(?i:published|updated|posted|first published)\b.{0,80}$")


_FURNITURE_RE = re.compile(
    r"(?:转载请注明|转载请联系|未经(?:授权|许可)[,,]?\s*(?:不得|禁止|请勿)转载|禁止转载|谢绝转载|"
    r"版权(?:所有|归.{1,20}所有)|本文(?:为|系).{0,30}原创|本文(?:首发|原载|转载)(?:于|自)|"
    r"经授权(?:转载|发布)|点击.{0,6}阅读原文|扫码关注|长按.{0,6}(?:关注|识别)|"
    r"all rights reserved|reprinted with permission|(?:originally|first) (?:published|appeared) "
    r"(?:in|on|at)|(?:has|have) been (?:lightly |slightly )?(?:edited|condensed)(?: and "
    r"(?:condensed|edited))? for (?:length|clarity|brevity)|(?:edited|condensed) for "
    r"(?:length|clarity|brevity)|经过?(?:编辑|删减|整理)(?:[,,和与及]|以)?(?:删减|精简|编辑)?|"
    r"关注.{0,16}(?:公众号|微信号|视频号|服务号)|图片(?:由.{0,12}提供|来源|来自)|"
    r"^(?:©|\(c\)|copyright\b))",
    re.I,
)
_KEY_POINTS_RE = re.compile(
    r"^(?:划重点|本文要点|文章要点|要点速览|核心要点|核心观点|要点|key (?:points|takeaways)|"
    r"takeaways|highlights|tl;\s*dr|in brief|at a glance)\s*[::]?\s*$",
    re.I,
)
_BYLINE_RE = re.compile(
    r"^(?i:by|words by|text by|interview by|interviewed by|story by|reporting by|photos? by)"
    r"\s+[A-ZÀ-ÖØ-Þ][\w'’.\-]*"
    r"(?:\s+(?:and\s+)?[A-ZÀ-ÖØ-Þ][\w'’.\-]*){0,4}\s*"
    r"(?:(?:[,|·•—–/-]|\s(?i:published|updated|posted)\b).{0,60})?$"
)
_COLUMN_TAG_RE = re.compile(r"^【[^】]{1,16}】\s*[^。!?]{0,16}$")
"""A column tag line ("【匠人对话】第27期")."""
_CJK_BYLINE_RE = re.compile(
    r"^(?:记者|作者|文|撰文|采写|采访|编辑|摄影|文字|文/图|图/文|口述|整理)\s+"
    r"[\u4e00-\u9fff·]{2,5}(?:[\s、,][\u4e00-\u9fff·]{2,5}){0,3}$"
)


def is_furniture(text: str) -> bool:
    """A reprint or copyright notice, or an "edited for length" note: skipped, never spoken
    by a speaker, never a chapter."""
    t = text.strip()
    return len(squash(t)) <= 160 and bool(_FURNITURE_RE.search(t))


def is_key_points_heading(text: str) -> bool:
    """The lead-in of a key-point list ("划重点", "Key takeaways"): narrated, not a chapter."""
    return bool(_KEY_POINTS_RE.match(text.strip()))


_DATE_LINE_RE = re.compile(
    r"^(?:(?:19|20)\d\d[-/.年]\s*\d{1,2}[-/.月]\s*\d{1,2}日?|"
    r"[A-Z][a-z]{2,8}\.? \d{1,2}(?:st|nd|rd|th)?, (?:19|20)\d\d|"
    r"\d{1,2} [A-Z][a-z]{2,8} (?:19|20)\d\d)(?:\s+\d{1,2}:\d\d)?"
    r"(?:\s*(?:[|·•]|来源|source)[^。!?]{0,30})?$",
    re.I,
)


def is_date_line(text: str) -> bool:
    """A paragraph that is only a date ("2024年11月8日", "March 3, 2025"): a dateline."""
    return bool(_DATE_LINE_RE.match(text.strip()))


def is_byline(text: str) -> bool:
    """An English byline ("By Jane Doe", "By Jane Doe · March 3, 2025")."""
    return bool(_BYLINE_RE.match(text.strip()))


LATIN_ARTICLE = 0.6
"""Share of Latin letters above which an article is read as written in a Latin script."""


def latin_share(paras: list[Para]) -> float:
    """The share of Latin letters among the letters of ``paras`` (0 = all CJK)."""
    latin = cjk = 0
    for p in paras:
        for ch in p.text:
            if is_cjk(ch):
                cjk += 1
            elif ch.isalpha():
                latin += 1
    return latin / (latin + cjk) if latin + cjk else 0.0


_STAGE_WORDS = (
    "笑|大笑|笑声|众笑|哈哈|哈哈哈|微笑|苦笑|掌声|鼓掌|停顿|沉默|叹气|叹息|咳嗽|音乐|背景音乐|"
    "现场笑声|全场笑|听不清|音频中断|"
    "laughs|laughing|laughter|chuckles|chuckling|giggles|applause|claps|pause|pauses|silence|"
    "sighs|coughs|crosstalk|cross talk|inaudible|unintelligible|music|audio cuts out|"
    "both laugh|all laugh|audience laughs"
)
_STAGE_RE = re.compile(
    rf"\s*[(\uff08\[\u3010]\s*(?:{_STAGE_WORDS})\s*[.\u3002!\uff01]?\s*[)\uff09\]\u3011]", re.I
)


def mark_cues(text: str) -> str:
    """Stage directions ("(笑)", "[掌声]", "(laughs)") rewritten as script cues ``{…}``
    (never spoken: :mod:`pangocast.script.format` drops them from the words)."""
    return _STAGE_RE.sub(_cue, text).strip()


def _cue(m: re.Match[str]) -> str:
    word = m.group(0).strip()[1:-1].strip()
    lead = " " if m.string[: m.start()][-1:].isascii() else ""
    return f"{lead}{{{word}}}"


def is_listing_header(text: str) -> bool:
    """A blog listing page's header ("分类 X 下的文章", "Category: X")."""
    return bool(_LISTING_RE.search(text.strip()))


def is_heading_form(text: str) -> bool:
    """Looks like a heading: short, no sentence or clause end, few commas.

    Numbered forms ("第一章 …", "一、…") are headings even with a question mark.
    """
    t = text.strip()
    n = len(squash(t))
    latin = not any(is_cjk(c) for c in t)
    if n == 0 or n > (MAX_LATIN_HEADING_CHARS if latin else MAX_HEADING_CHARS):
        return False
    if latin and len(t.split()) > MAX_LATIN_HEADING_WORDS:
        return False
    if _NUMBERED_HEAD_RE.match(t) and t[-1] not in "。;;::,,":
        return True
    if t[-1] in SENTENCE_END + ",,、;;::." or "。" in t or ". " in t:
        return False
    if t[-1] in CLOSE_QUOTES + ASCII_QUOTE and len(t) > 1 and t[-2] in SENTENCE_END + ".,":
        return False  # ends a quotation ("As Ruiz put it: “…”")
    if sum(t.count(c) for c in ",,;;") > 2:
        return False
    return any(is_cjk(c) or c.isalnum() for c in t)


def closing_heading(text: str) -> bool:
    """A heading that opens a piece's closing section ("尾声", "第三章 结语")."""
    core = trim(_NUMBERED_HEAD_RE.sub("", text.strip()), " ::—-·.")
    return any(core == w or core.endswith(w) for w in _CLOSING_WORDS)


def strip_heading_marks(text: str) -> str:
    """A heading without Markdown ``#``/bold marks around it."""
    return text.strip().lstrip("#").strip().strip("*").strip()


def clause_aligned(hay: str, start: int, end: int) -> bool:
    """True when ``hay[start:end]`` starts and ends at a clause boundary."""
    before_ok = start == 0 or hay[start - 1] in CLAUSE_PUNCT + QUOTE_CHARS
    after_ok = end >= len(hay) or hay[end] in CLAUSE_PUNCT + QUOTE_CHARS + "…—"
    return before_ok and after_ok
