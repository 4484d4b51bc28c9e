"""Reading raw articles and column dumps: every paragraph gets a kind and a speaker.

:func:`parse_article` turns an article (or a dump of several) into episodes whose turns say
who speaks each paragraph, the way a careful editor would read it:

- labelled Q&A in every spelling (``老王:``, ``老王:``, ``**老王**:``, ``问:``/``答:``,
  ``Q:``/``A:``, ``记者:``/``主持人:``/``笔者:``/``编者:`` for the interviewer) and a label
  whose colon was lost ("叶理灯如果说…" right after a question, when 叶理灯 is a speaker);
- an unlabelled paragraph continues the current speaker until the next label, a heading,
  or a paragraph that talks about that speaker in the third person;
- framing (intro, a chapter's opening before any label, closing narration) is the narrator;
- quoted speech inside narration goes to the person quoted (:mod:`pangocast.ingest.quotes`);
- headings are chapters; pull quotes and editor's highlight lines are highlights; captions,
  image markers, bylines and a dump's listing header are skipped;
- the column footer, found by repetition (:mod:`pangocast.ingest.split`), becomes an outro
  read once per episode by the narrator (:attr:`pangocast.core.models.Turn.outro`).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pangocast.core.errors import InputError, Notice
from pangocast.core.files import read_text
from pangocast.core.models import DEFAULT_NARRATOR, Episode, Role, Turn
from pangocast.ingest.markdown import MARKDOWN_SUFFIXES, markdown_paragraphs
from pangocast.ingest.names import byline_name, strip_honorific
from pangocast.ingest.people import (
    DEFAULT_GUEST,
    DEFAULT_HOST,
    NARRATOR_WORDS,
    People,
    analyse_people,
    base_label,
    label_of,
)
from pangocast.ingest.quotes import QuoteReader, enclosed, quote_balance, starts_with_quote
from pangocast.ingest.split import Chunk, split_dump
from pangocast.ingest.text import (
    LATIN_ARTICLE,
    SENTENCE_END,
    UNSPOKEN_FORMS,
    Para,
    clause_aligned,
    fold_width,
    is_caption,
    is_credit_line,
    is_date_line,
    is_furniture,
    is_heading_form,
    is_image_marker,
    is_key_points_heading,
    is_listing_header,
    latin_share,
    letters,
    mark_cues,
    sentences,
    split_paragraphs,
    squash,
    strip_heading_marks,
)
from pangocast.ingest.webpage import HTML_SUFFIXES, page_paragraphs
from pangocast.script.format import is_script, load_script

__all__ = [
    "ArticleAnalysis",
    "ParsedEpisode",
    "ParsedSource",
    "analyse_article",
    "analyse_paragraphs",
    "parse_article",
    "parse_source",
    "source_paragraphs",
]

PULL_QUOTE_MAX = 100
PULL_QUOTE_MIN = 8
HIGHLIGHT_MAX = 60
QUOTE_CARRY_MAX = 8
LATIN_NARRATOR = "Narrator"
_ABOUT_RE = re.compile(r"^(?:'s|’s)? (?:is|was|has|had|writes|lives|works|leads|joined)\b")
_EDITOR_NOTE_RE = re.compile(
    r"^(?:editor[’']s note|editors[’'] note|update|correction|clarification|note)\b\s*[:.—-]",
    re.I,
)
_LOST_COLON_STOP = set(
    "说表认讲指谈介解补强透告回坦直笑感提举总反答问的,,、。::((先等和与也还则又就在对是及"
)


@dataclass(frozen=True)
class ParsedSource:
    """What :func:`parse_source` read from a file."""

    episodes: tuple[Episode, ...]
    warnings: tuple[Notice, ...]
    """The guesses the parser made (an episode boundary, an ambiguous answer label)."""


@dataclass(frozen=True)
class ParsedEpisode:
    """One episode read from an article, with what the parser found out about it.

    Attributes:
        episode: the episode (``meta`` is None: the article has no script header).
        guests: the interviewees' canonical names.
        host: the interviewer's name when the article gives one.
        speakers: every named speaker of a turn (narrator excluded) and its role.
        footer_lines: source lines of the paragraphs that were the column footer.
        guessed_split: the episode's start was guessed (no marker, no footer before it).
        paragraphs: the body paragraphs (for coverage checks and summaries).
        narrator: the narrator's name, in the article's language.
    """

    episode: Episode
    guests: tuple[str, ...]
    host: str | None
    speakers: dict[str, Role]
    footer_lines: tuple[int, ...]
    guessed_split: bool
    paragraphs: tuple[Para, ...] = ()
    narrator: str = DEFAULT_NARRATOR


@dataclass(frozen=True)
class ArticleAnalysis:
    """Everything :func:`analyse_article` found in a document.

    Attributes:
        episodes: the articles, in document order.
        footer: the column footer's paragraphs (empty when there is none).
        column: the column's name, when the footer or a listing header gives it.
        host: the dump's most common named interviewer.
        warnings: the guesses made, one line each.
    """

    episodes: tuple[ParsedEpisode, ...]
    footer: tuple[str, ...]
    column: str | None
    host: str | None
    warnings: tuple[str, ...] = field(default=())


def parse_source(path: Path) -> ParsedSource:
    """Episodes from a file: an episode script, or a raw article / column dump, and the
    guesses made while reading it.

    Raises:
        InputError: the file cannot be read, or the script or article is malformed.
    """
    text = read_article(path)
    if is_script(text):
        return ParsedSource((load_script(path),), ())
    analysis = analyse_paragraphs(source_paragraphs(text, path), str(path))
    return ParsedSource(
        tuple(pe.episode for pe in analysis.episodes),
        tuple(Notice(w, path=path) for w in analysis.warnings),
    )


def read_article(path: Path) -> str:
    """Read an article: UTF-8 (BOM and CRLF tolerated), as every file a user writes is read.

    Raises:
        InputError: the file is missing, unreadable or not UTF-8.
    """
    return read_text(path, error=InputError)


def source_paragraphs(text: str, path: Path | str) -> list[Para]:
    """The paragraphs of an article file, read by its format: Markdown (``.md``), a saved
    web page (``.html``) or plain text (anything else).

    Raises:
        InputError: a web page with no article body.
    """
    suffix = Path(path).suffix.lower()
    text = fold_width(text)
    if suffix in MARKDOWN_SUFFIXES:
        return markdown_paragraphs(text)
    if suffix in HTML_SUFFIXES:
        return page_paragraphs(text, str(path))
    return split_paragraphs(text)


def parse_article(text: str, source: str = "<article>") -> list[Episode]:
    """Episodes from a raw article or a column dump, every paragraph attributed.

    The guesses made (an episode boundary without marker or footer, …) are in
    :func:`analyse_article`'s result.

    Raises:
        InputError: the text has nothing to read.
    """
    return [pe.episode for pe in analyse_article(text, source).episodes]


def analyse_article(text: str, source: str = "<article>") -> ArticleAnalysis:
    """Read a raw article or dump (plain text, or Markdown / HTML when ``source`` names
    such a file); return the episodes and what was found or guessed.

    Raises:
        InputError: the text has nothing to read.
    """
    return analyse_paragraphs(source_paragraphs(text, source), source)


def analyse_paragraphs(paras: list[Para], source: str = "<article>") -> ArticleAnalysis:
    """:func:`analyse_article` on paragraphs already read from their format.

    Raises:
        InputError: the paragraphs have nothing to read.
    """
    if not any(letters(p.text) for p in paras if p.split_mark is None):
        raise InputError(
            "the article is empty",
            path=source,
            line=1,
            hint="give the interview's text, its paragraphs separated by blank lines",
        )
    split = split_dump(paras)
    found = [analyse_people(c.paras) for c in split.chunks]
    hosts = Counter(p.host for p in found if p.host)
    dump_host = hosts.most_common(1)[0][0] if hosts else None
    notes = list(split.warnings)
    episodes: list[ParsedEpisode] = []
    for chunk in split.chunks:
        people = analyse_people(chunk.paras, known_hosts=hosts, host_fallback=dump_host)
        notes.extend(people.warnings)
        parsed = _read_chunk(chunk, people, dump_host, split.footer, source)
        if parsed is None:
            first = (chunk.header + chunk.paras)[0].line
            notes.append(f"line {first}: no speech until the next split; skipped")
            continue
        episodes.append(parsed)
    if not episodes:
        raise InputError(
            "the article has nothing to say",
            path=source,
            line=paras[0].line,
            hint="it holds only captions, markers or headings: give the interview's text",
        )
    return ArticleAnalysis(tuple(episodes), split.footer, split.column, dump_host, tuple(notes))


def _read_chunk(
    chunk: Chunk, people: People, dump_host: str | None, footer: Sequence[str], source: str
) -> ParsedEpisode | None:
    """One article's episode (None when it has nothing to say)."""
    reader = _ChunkReader(chunk, people, dump_host)
    turns = reader.read()
    if not any(t.kind == "speech" for t in turns):
        return None
    turns.extend(_outro(footer, chunk, reader.narrator))
    return ParsedEpisode(
        episode=Episode(title=chunk.title, turns=tuple(turns), source=source),
        guests=tuple(people.guests),
        host=people.host,
        speakers=reader.used,
        footer_lines=tuple(p.line for p in chunk.footer),
        guessed_split=chunk.guessed,
        paragraphs=tuple(chunk.paras),
        narrator=reader.narrator,
    )


def narrator_for(paras: list[Para]) -> str:
    """The narrator's name in the article's language: 旁白 for Chinese, else Narrator."""
    return DEFAULT_NARRATOR if latin_share(paras) < LATIN_ARTICLE else LATIN_NARRATOR


def _outro(footer: Sequence[str], chunk: Chunk, narrator: str) -> list[Turn]:
    if not footer:
        return []
    lines = [p.line for p in chunk.footer]
    out: list[Turn] = []
    for n, text in enumerate(footer):
        line = lines[n] if n < len(lines) else None
        out.append(Turn("speech", "narrator", narrator, text, line, outro=True))
    return out


# --- reading one article ----------------------------------------------------------------


def is_pull_quote(paras: Sequence[Para], i: int) -> bool:
    """A short paragraph that repeats a sentence of a neighbouring paragraph."""
    text = paras[i].text
    flat = squash(text).lower()
    n = len(letters(flat))
    if not PULL_QUOTE_MIN <= n <= PULL_QUOTE_MAX:
        return False
    core = flat.rstrip(SENTENCE_END + "…. ")
    heading_like = is_heading_form(text)
    for j in (i + 1, i - 1, i + 2):
        if not 0 <= j < len(paras):
            continue
        if j == i + 2 and is_heading_form(paras[i + 1].text):
            continue
        hay = squash(paras[j].text).lower()
        if len(hay) <= len(flat):
            continue
        pos = hay.find(core)
        if pos < 0:
            continue
        if heading_like:
            if j == i + 1 and pos == 0 and len(letters(core)) >= 10:
                return True
            continue
        if len(letters(core)) >= 12 or clause_aligned(hay, pos, pos + len(core)):
            return True
    return False


def _short_line(text: str) -> bool:
    """Short enough to be a pull quote (saved pages drop the blockquote's marker)."""
    n = len(letters(text))
    return 12 <= n <= PULL_QUOTE_MAX and len(sentences(text)) <= 2


def repeats_text(paras: Sequence[Para], i: int) -> bool:
    """A quotation block whose words appear in another paragraph of the article."""
    core = squash(paras[i].text).lower().strip("“”\"'「」").rstrip(SENTENCE_END + "…. ")
    if len(letters(core)) < PULL_QUOTE_MIN:
        return False
    return any(j != i and core in squash(q.text).lower() for j, q in enumerate(paras))


def _skip_form(text: str) -> bool:
    return is_image_marker(text) or is_caption(text) or is_credit_line(text) or is_date_line(text)


class _ChunkReader:
    """Attributes the paragraphs of one article."""

    def __init__(self, chunk: Chunk, people: People, dump_host: str | None) -> None:
        self.chunk = chunk
        self.paras = chunk.paras
        self.people = people
        self.narrator = narrator_for(chunk.paras)
        self.host = people.host or dump_host
        self.quotes = QuoteReader(people, self.host)
        self.turns: list[Turn] = []
        self.used: dict[str, Role] = {}
        self.current: str | None = None
        self.carried: set[int] = set()
        self.asker: str | None = None
        self.answerer: str | None = None
        if self._bold_questions():
            latin = self.narrator == LATIN_NARRATOR
            writer = next(
                (n for p in chunk.header + chunk.paras[:6] if (n := byline_name(p.text))), None
            )
            self.host = self.asker = self.host or writer or ("Host" if latin else DEFAULT_HOST)
            self.answerer = (
                people.guests[0] if people.guests else ("Guest" if latin else DEFAULT_GUEST)
            )

    def _bold_questions(self) -> bool:
        """The article asks its questions in bold, with no speaker labels (a common web
        layout): each bold question is the host's, the plain paragraphs after it the guest's."""
        if self.people.speakers:
            return False
        asked = [
            p
            for p in self.paras
            if p.strong and p.form == "text" and p.text.rstrip().endswith(("?", "\uff1f"))
        ]
        return len(asked) >= 2

    # -- helpers ----------------------------------------------------------------------

    def _role(self, speaker: str) -> Role:
        if speaker == self.host:
            return "host"
        return self.people.roles.get(speaker, "guest")

    def _say(self, speaker: str | None, text: str, line: int, kind: str = "speech") -> None:
        text = text.strip()
        if not text:
            return
        if kind == "highlight":
            self.turns.append(Turn("highlight", "narrator", self.narrator, text, line))
            return
        if kind == "skip":
            self.turns.append(Turn("skip", "narrator", self.narrator, text, line))
            return
        if kind == "chapter":
            self.turns.append(Turn("chapter", "narrator", self.narrator, text, line))
            return
        text = mark_cues(text)
        if text.startswith("{") and text.endswith("}") and text.count("{") == 1:
            self.turns.append(Turn("skip", "narrator", self.narrator, text, line))
            return
        if speaker is None or speaker == self.narrator:
            self.turns.append(Turn("speech", "narrator", self.narrator, text, line))
            return
        role = self._role(speaker)
        self.used.setdefault(speaker, role)
        self.turns.append(Turn("speech", role, speaker, text, line))

    def _label(self, text: str) -> tuple[str | None, str] | None:
        """(speaker or None for the narrator, words) when ``text`` is a labelled turn."""
        lab = label_of(text)
        if lab is None:
            return None
        raw, rest = lab
        name = base_label(strip_honorific(raw))
        if raw in NARRATOR_WORDS or name in NARRATOR_WORDS:
            return None, text
        mapped = self.people.speakers.get(name) or self.people.speakers.get(raw)
        if mapped is None:
            return None
        return mapped[0], enclosed(rest)

    def _lost_colon(self, text: str) -> tuple[str, str] | None:
        """ "叶理灯如果说…": a known labelled speaker's name with the colon lost."""
        for raw, (speaker, _role) in self.people.speakers.items():
            if len(raw) < 2 or speaker == self.current or not text.startswith(raw):
                continue
            rest = text[len(raw) :]
            if rest and rest[0] not in _LOST_COLON_STOP and not rest[0].isspace():
                return speaker, rest
        return None

    def _third_person(self, text: str, speaker: str) -> bool:
        """The paragraph talks about ``speaker`` (so the speaker is not the one talking), or
        opens on another person in the third person ("Jane Doe is a contributing writer")."""
        for other in self.people.roles:
            if (
                other != speaker
                and " " in other
                and text.startswith(other)
                and _ABOUT_RE.match(text[len(other) :])
            ):
                return True
        names = {speaker} | {a for a, c in self.people.aliases.items() if c == speaker}
        for n in names:
            for m in re.finditer(re.escape(n), text):
                if text[max(0, m.start() - 1) : m.start()] != "我":
                    return True
        return False

    def _is_highlight_line(self, i: int) -> bool:
        """A one-sentence line inside an answer, right before the same speaker's label."""
        text = self.paras[i].text
        if len(letters(text)) > HIGHLIGHT_MAX or len(sentences(text)) != 1:
            return False
        if i + 1 >= len(self.paras):
            return False
        nxt = self._label(self.paras[i + 1].text)
        return nxt is not None and nxt[0] == self.current

    def _plan_carry(self) -> None:
        """Paragraphs that continue a quotation left open (Chinese multi-paragraph quotes)."""
        for i, p in enumerate(self.paras):
            _lead, open_end = quote_balance(p.text)
            if not open_end:
                continue
            for j in range(i + 1, min(i + 1 + QUOTE_CARRY_MAX, len(self.paras))):
                q = self.paras[j].text
                if starts_with_quote(q) or is_heading_form(q) or label_of(q) is not None:
                    break
                lead, _ = quote_balance(q)
                if lead:
                    self.carried.update(range(i + 1, j + 1))
                    break
                if any(c in q for c in '“「"'):
                    break

    # -- the walk ---------------------------------------------------------------------

    def read(self) -> list[Turn]:
        """The turns of the article, header lines first."""
        for p in self.chunk.header:
            self._say(None, p.text, p.line, "skip")
        self._plan_carry()
        for i, p in enumerate(self.paras):
            self._paragraph(i, p)
        return self.turns

    def _heading(self, i: int, p: Para) -> bool:
        """The paragraph is a chapter heading: marked up as one, or (in plain text, or
        a whole bold line in Markdown) shaped like one."""
        if p.form == "heading":
            return True
        if p.form != "text" or i in self.carried:
            return False
        return (p.strong or not p.marked) and is_heading_form(p.text)

    def _paragraph(self, i: int, p: Para) -> None:
        text = p.text
        if (
            p.form in UNSPOKEN_FORMS
            or _skip_form(text)
            or (i == 0 and is_listing_header(text))
            or (is_furniture(text) and self._label(text) is None)
        ):
            self._say(None, text, p.line, "skip")
            return
        if is_key_points_heading(text) or _EDITOR_NOTE_RE.match(text):
            self.current = None
            self._say(None, text, p.line)
            return
        if p.form == "heading":
            self.current = None
            self._say(None, text, p.line, "chapter")
            return
        if i not in self.carried and (
            is_pull_quote(self.paras, i)
            or (p.form == "quote" and repeats_text(self.paras, i))
            or (p.marked and _short_line(text) and repeats_text(self.paras, i))
        ):
            self._say(None, text, p.line, "highlight")
            return
        if p.index in self.people.intros or (p.em and self._label(text) is None):
            self.current = None
            self._narrate(i, p)
            return
        labelled = self._label(text)
        if self.asker and labelled is None and p.strong and not self._heading(i, p):
            self._say(self.asker, text, p.line)
            self.current = self.answerer
            return
        if labelled is None and self._heading(i, p):
            self.current = None
            self._say(None, strip_heading_marks(text), p.line, "chapter")
            return
        if labelled is not None:
            speaker, words = labelled
            self.current = speaker
            if speaker is None:
                self._narrate(i, p)
            else:
                self._say(speaker, words, p.line)
            return
        if self.current is not None:
            lost = self._lost_colon(text)
            if lost is not None:
                self.current = lost[0]
                self._say(lost[0], lost[1], p.line)
                return
            if self._is_highlight_line(i):
                self._say(None, text, p.line, "highlight")
                return
            if not self._third_person(text, self.current):
                self._say(self.current, text, p.line)
                return
            self.current = None
        self._narrate(i, p)

    def _narrate(self, i: int, p: Para) -> None:
        for piece in self.quotes.read(p.text, p.index, carried=i in self.carried):
            self._say(piece.speaker, piece.text, p.line)
