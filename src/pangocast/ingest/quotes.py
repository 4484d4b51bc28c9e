"""Quoted speech inside narration: who says the words between quotation marks.

``鲁直说:"……"``, ``"……"四爷介绍说,"……"``, ``他补充道:"……"`` are speech: the attribution
stays with the narrator, the quoted words go to the person quoted. Quotation marks that
are not speech (names and terms, nicknames, scare quotes, "X 反问的“……”这句话") stay in
the narrator's text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pangocast.ingest.names import (
    EN_SPEECH_VERB,
    LATIN_NAME,
    SENTENCE_STARTERS,
    SURNAMES,
    latin_heavy,
    name_like,
    person_like,
    plausible_name,
    strip_honorific,
    strip_title,
)
from pangocast.ingest.people import ADVERBS, SPEECH_VERB_RE, People, subject_names
from pangocast.ingest.text import is_cjk, letters, squash, trim

_OPENERS = {"“": "”", "「": "」", '"': '"'}
_CLOSERS = "”」"
_SENT_END = "。!?!?;;"
_SPEECH_PUNCT = re.compile(r"[,,。!?!?;;]")
_NOT_ATTRIBUTION = re.compile(
    r"(?:来说|来讲|所说|听说|就是说|比如说|例如说|譬如说|换句话说|所谓|俗话说|常说|据说|可以说|"
    r"应该说|不得不说|老实说|坦白说|一般说)$"
)
_MENTION_BEFORE = re.compile(r"(?:的|叫|为|是|称|谓|做|作|把|将|被|个|种|句|词|了)$")
_VERB_END = re.compile(SPEECH_VERB_RE.pattern + "$")
_VERB_TAIL = re.compile(
    r"(?P<head>[\u4e00-\u9fff]{2,}?)" + ADVERBS + "{0,3}" + SPEECH_VERB_RE.pattern + "$"
)
_MIN_UNATTRIBUTED = 15
_EN_SENT_END = re.compile(r"[.!?](?=\s)")
_EN_SPEECH_PUNCT = re.compile(r"[,.!?;]")
_EN_PRONOUN = re.compile(r"\b(?:he|she|He|She)\b")
_EN_VERB_END = re.compile(rf"\b{EN_SPEECH_VERB}(?: \w+ly)?\s*,?$")
_EN_AFTER = re.compile(
    rf"^\s*,?\s*(?:(?P<who>[^,]{{1,60}}?)\s+(?:\w+ly\s+)?{EN_SPEECH_VERB}\b"
    rf"|{EN_SPEECH_VERB}\s+(?P<who2>.{{1,60}}))"
)


RECENT_PARAGRAPHS = 3


@dataclass(frozen=True)
class Span:
    """One top-level quotation in a paragraph.

    Attributes:
        open_at: index of the opening mark (-1 when the paragraph starts inside a quote).
        close_at: index of the closing mark (len(text) when it is not closed here).
    """

    open_at: int
    close_at: int

    @property
    def inner(self) -> tuple[int, int]:
        """Start and end of the quoted words."""
        return self.open_at + 1, self.close_at


def quote_spans(text: str, carried: bool = False) -> list[Span]:
    """Top-level quotations in ``text``.

    Args:
        text: one paragraph.
        carried: the paragraph starts inside a quotation opened in an earlier paragraph.
    """
    spans: list[Span] = []
    depth = 1 if carried else 0
    opener = ""
    start = -1
    for i, ch in enumerate(text):
        if depth == 0:
            if ch in _OPENERS:
                depth, opener, start = 1, ch, i
            continue
        closer = _OPENERS.get(opener, "")
        if opener and ch == opener and opener != '"':
            depth += 1
        elif (closer and ch == closer) or (not opener and ch in _CLOSERS + '"'):
            depth -= 1
            if depth == 0:
                spans.append(Span(start, i))
                opener = ""
    if depth > 0:
        spans.append(Span(start, len(text)))
    return spans


def quote_balance(text: str) -> tuple[bool, bool]:
    """(closes a quotation it never opened, leaves a quotation open at its end)."""
    depth = 0
    leading_close = False
    for ch in text:
        if ch in "“「":
            depth += 1
        elif ch in _CLOSERS:
            if depth == 0:
                leading_close = True
            else:
                depth -= 1
    ascii_open = text.count('"') % 2 == 1
    return leading_close, depth > 0 or ascii_open


def starts_with_quote(text: str) -> bool:
    """True when the paragraph opens with a quotation mark."""
    t = text.lstrip()
    return bool(t) and t[0] in _OPENERS


def enclosed(text: str) -> str:
    """``text`` without quotation marks around all of it ("“……”" -> "……")."""
    t = text.strip()
    spans = quote_spans(t)
    if len(spans) == 1 and spans[0].open_at == 0 and spans[0].close_at == len(t) - 1:
        return t[1:-1].strip()
    return t


@dataclass(frozen=True)
class Piece:
    """A run of a paragraph: narrator text (``speaker`` None) or someone's quoted words."""

    speaker: str | None
    text: str


@dataclass
class QuoteState:
    """What the narration said so far, for attributing the next quotation.

    Attributes:
        last_speaker: the person quoted most recently.
        last_named: the person named most recently (English pronouns point at them).
        last_at: paragraph index of that quotation.
        pending: a speaker announced at the end of the previous paragraph ("鲁直说:").
        open_speaker: the speaker of a quotation still open at the end of a paragraph.
    """

    last_speaker: str | None = None
    last_named: str | None = None
    last_at: int = -10
    pending: str | None = None
    open_speaker: str | None = None


class QuoteReader:
    """Splits narrator paragraphs into narration and the quoted words of people."""

    def __init__(self, people: People, host: str | None) -> None:
        self.people = people
        self.host = host
        self.names = people.names()
        self.state = QuoteState()

    # -- who ----------------------------------------------------------------------------

    def _sole_guest(self) -> str | None:
        return self.people.guests[0] if len(self.people.guests) == 1 else None

    def person_in(self, clause: str) -> str | None:
        """The last person named (or pointed at by a pronoun) in ``clause``."""
        best: tuple[int, str] | None = None
        for name in self.names:
            pos = clause.rfind(name)
            if pos >= 0 and (best is None or pos > best[0]):
                best = (pos, self.people.canonical(name))
        for pron in ("他", "她"):
            pos = clause.rfind(pron)
            plural = (
                clause[pos : pos + 2] in ("他们", "她们", "他的", "她的")
                or clause[pos - 1 : pos + 1] == "其他"
            )  # (a possessive "她的合伙人杜文涛说" names someone else)
            if pos >= 0 and not plural:
                who = self._pronoun()
                if who and (best is None or pos > best[0]):
                    best = (pos, who)
        pos = clause.rfind("我")
        mine = pos >= 0 and clause[pos : pos + 2] != "我们"
        if mine and self.host and (best is None or pos > best[0]):
            best = (pos, self.host)
        if best is None:
            found = subject_names(clause) or _name_before_verb(clause)
            if found:
                return self.people.canonical(found[-1])
        return best[1] if best else None

    def _pronoun(self) -> str | None:
        return (
            self._sole_guest()
            or self.state.last_speaker
            or (self.people.guests[0] if self.people.guests else None)
        )

    def _fallback(self, index: int) -> str | None:
        if self.state.last_speaker and index - self.state.last_at <= RECENT_PARAGRAPHS:
            return self.state.last_speaker
        return self._sole_guest()

    # -- what ---------------------------------------------------------------------------

    # -- English ------------------------------------------------------------------------

    def _named_in(
        self, clause: str, *, first: bool = False, known_only: bool = False
    ) -> tuple[int, str] | None:
        """The last (or ``first``) person named in ``clause`` and where: a known name, or
        a new full name (unless ``known_only``). A name inside a longer one counts as the
        longer one ("Ortiz" in "Elena Ortiz"); a possessive ("Marsh's colleague") does not
        name the speaker."""
        spans: list[tuple[int, int, str]] = []
        if not known_only:
            for m in re.finditer(LATIN_NAME, clause):
                words = m.group(0).split()
                start = m.start()
                while words and words[0] in SENTENCE_STARTERS:
                    start += len(words.pop(0)) + 1
                name = strip_title(strip_honorific(" ".join(words)))
                if person_like(name) and plausible_name(name):
                    spans.append((start, start + len(" ".join(words)), name))
        for name in self.names:
            for m in re.finditer(rf"\b{re.escape(name)}\b", clause):
                spans.append((m.start(), m.end(), name))
        chosen: list[tuple[int, int, str]] = []
        for a, b, name in sorted(spans, key=lambda s: (s[0] - s[1], s[0])):  # longest first
            if any(a < d and c < b for c, d, _ in chosen):
                continue
            if clause[b : b + 2] in ("'s", "’s"):
                continue
            chosen.append((a, b, name))
        if not chosen:
            return None
        a, _b, name = (min if first else max)(chosen, key=lambda s: s[0])
        return a, self.people.canonical(name)

    def person_in_en(self, clause: str, before: str, *, first: bool = False) -> str | None:
        """The person an English attribution clause names or points at with he/she;
        ``before`` is the paragraph's text before the clause (for the pronoun); ``first``:
        the clause's subject comes first ("says Jane Doe, who runs the Shelter")."""
        named = self._named_in(clause, first=first)
        pron = None
        for m in _EN_PRONOUN.finditer(clause):
            pron = m.start()
        if pron is not None and (named is None or (pron < named[0] if first else pron > named[0])):
            earlier = self._named_in(before)
            return earlier[1] if earlier else self.state.last_named or self._pronoun()
        return named[1] if named else None

    def _attribute_en(self, text: str, span: Span, prev_end: int, index: int) -> str | None:
        a, b = span.inner
        inner = text[a:b]
        start = max(span.open_at, 0)
        cut = max([prev_end, *(m.end() for m in _EN_SENT_END.finditer(text, 0, start))])
        pre = text[cut:start].strip()
        if pre.endswith(":") and (len(letters(inner)) >= 4 or _SPEECH_PUNCT.search(inner)):
            return self.person_in_en(pre, text[:cut], first=True) or self._fallback(index)
        if _EN_VERB_END.search(pre):
            who = self.person_in_en(pre, text[:cut])
            if who:
                return who
        if span.close_at < len(text):
            post = re.split(r"[.;:!?“\"]", text[span.close_at + 1 :], maxsplit=1)[0]
            m = _EN_AFTER.match(post)
            if m:
                before = text[:start]
                if m.group("who"):
                    who = self.person_in_en(m.group("who"), before)
                else:
                    who = self.person_in_en(m.group("who2") or "", before, first=True)
                if who:
                    return who
        if len(letters(inner)) >= _MIN_UNATTRIBUTED and _EN_SPEECH_PUNCT.search(inner):
            if span.open_at == 0 and self.state.pending:
                return self.state.pending
            return self._fallback(index)
        return None

    def _attribute(self, text: str, span: Span, prev_end: int, index: int) -> str | None:
        """The speaker of ``span``, or None when the quotation is not speech."""
        if latin_heavy(text):
            return self._attribute_en(text, span, prev_end, index)
        a, b = span.inner
        inner = text[a:b]
        cut = max(prev_end, *(text.rfind(c, 0, max(span.open_at, 0)) + 1 for c in _SENT_END))
        pre = text[cut : max(span.open_at, 0)].rstrip()
        pre_core = trim(pre, ",,、 ", left=False)
        if pre_core.endswith((":", ":")):
            who = self.person_in(pre_core) or self._fallback(index)
            if len(letters(inner)) >= 4 or _SPEECH_PUNCT.search(inner):
                return who
        elif _VERB_END.search(pre_core) and not _NOT_ATTRIBUTION.search(pre_core):
            return self.person_in(pre_core) or self._fallback(index)
        if span.close_at < len(text):
            after = trim(text[span.close_at + 1 :], ",, ", right=False)
            post = re.split(r"[,,。!?!?;;“「\"]", after, maxsplit=1)[0]
            if SPEECH_VERB_RE.search(post):
                who = self.person_in(post)
                if who:
                    return who
        if _MENTION_BEFORE.search(pre_core) and not pre_core.endswith(("了:", "了:")):
            return None
        if len(letters(inner)) >= _MIN_UNATTRIBUTED and _SPEECH_PUNCT.search(inner):
            if span.open_at == 0 and self.state.pending:
                return self.state.pending
            return self._fallback(index)
        return None

    def _announce(self, text: str) -> str | None:
        """A speaker announced by a paragraph that ends with a colon ("鲁直说:")."""
        t = text.rstrip()
        if not t.endswith((":", ":")):
            return None
        if latin_heavy(t):
            return self.person_in_en(t, "")
        clause = re.split(r"[。!?!?;;]", t[:-1])[-1]
        return self.person_in(clause)

    def read(self, text: str, index: int, carried: bool = False) -> list[Piece]:
        """Split one narrator paragraph into narration and quoted speech.

        Args:
            text: the paragraph.
            index: its position in the article (recency of the last quoted speaker).
            carried: the paragraph starts inside a quotation left open earlier.
        """
        pieces: list[Piece] = []
        narr_from = 0
        prev_end = 0
        for span in quote_spans(text, carried):
            if span.open_at < 0:
                who = self.state.open_speaker or self._fallback(index)
            else:
                who = self._attribute(text, span, prev_end, index)
            prev_end = min(span.close_at + 1, len(text))
            if who is None:
                continue
            a, b = span.inner
            _add(pieces, None, text[narr_from : max(span.open_at, 0)])
            _add(pieces, who, text[a:b])
            narr_from = prev_end
            self.state.last_speaker, self.state.last_at = who, index
            self.state.open_speaker = who if span.close_at >= len(text) else None
        _add(pieces, None, text[narr_from:])
        if latin_heavy(text):
            narration = " ".join(p.text for p in pieces if p.speaker is None)
            named = self._named_in(narration, known_only=True)
            quoted = [p.speaker for p in pieces if p.speaker]
            if quoted:
                self.state.last_named = quoted[-1]
            elif named:
                self.state.last_named = named[1]
        self.state.pending = self._announce(text)
        if not any(p.speaker for p in pieces):
            self.state.open_speaker = None
        return pieces or [Piece(None, text.strip())]


def _name_before_verb(clause: str) -> list[str]:
    """The name right before a closing speech verb ("合作方代表赵某表示" -> ["赵某"]): the
    longest run that starts with a surname, else the two characters before the verb."""
    m = _VERB_TAIL.search(trim(clause, ",,:: ", left=False))
    if m is None:
        return []
    head = m.group("head")
    bare = strip_title(head)
    if bare != head and 2 <= len(bare) <= 4 and plausible_name(bare):
        return [bare]  # "同事刘佳说" -> 刘佳
    runs = [head[-n:] for n in (4, 3, 2) if len(head) >= n]
    runs = [r for r in runs if plausible_name(r) and all(is_cjk(c) for c in r)]
    for r in runs:
        if r[0] in SURNAMES:
            return [r]
    return [r for r in runs if name_like(r)][-1:]


def _add(pieces: list[Piece], speaker: str | None, text: str) -> None:
    t = text.strip()
    if speaker is None:
        t = trim(t, ",,、;;。 ", right=False).strip()
    if not letters(t) and not squash(t):
        return
    if not letters(t):
        if pieces:
            last = pieces[-1]
            pieces[-1] = Piece(last.speaker, last.text + t)
        return
    if pieces and pieces[-1].speaker == speaker:
        pieces[-1] = Piece(speaker, pieces[-1].text + t)
        return
    pieces.append(Piece(speaker, t))
