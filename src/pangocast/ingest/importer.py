"""``pangocast import``: a raw article or column dump becomes one episode script each.

Scripts are named ``NN-slug.txt`` (``NN`` = the episode's position in the source, the slug =
the guests' names in pinyin). Their metadata is guessed from the text — title (column,
guest, topic), host, guests, date, summary — and every guess is reported so a producer
can check it. Import is idempotent (same source, byte-identical scripts) and never
overwrites a script that a producer edited, unless forced; every write is atomic.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path

from pypinyin import lazy_pinyin

from pangocast.core.errors import InputError, Notice
from pangocast.core.files import write_atomic
from pangocast.core.models import DEFAULT_NARRATOR, Episode, EpisodeMeta, Role
from pangocast.ingest.article import ArticleAnalysis, ParsedEpisode, analyse_article, read_article
from pangocast.ingest.people import DEFAULT_HOST
from pangocast.ingest.text import sentences, trim
from pangocast.script.format import SCRIPT_SUFFIX, is_script, parse_script, render_script

SUMMARY_MIN = 40
SUMMARY_MAX = 100
SLUG_MAX = 60
FALLBACK_DATE = dt.date(2000, 1, 1)
_YEAR_RE = re.compile(r"(?<!\d)((?:19|20)\d\d)(?!\d)")
_FULL_DATE_RE = re.compile(r"((?:19|20)\d\d)\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]")
_YEAR_MONTH_RE = re.compile(r"((?:19|20)\d\d)\s*年\s*(\d{1,2})\s*月")
_MONTH_DAY_RE = re.compile(r"(?<![\d年])\s*(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]")
_CN_MONTH_RE = re.compile(
    r"(?<![一二三四五六七八九十第每几个上下这])(十[一二]?|[一二三四五六七八九])月(?!份?[的之]?\d)"
)
_MONTHS = {
    m: n
    for n, names in enumerate(
        (
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ),
        start=1,
    )
    for m in names
}
_MONTH_NAME = r"(" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_EN_MDY_RE = re.compile(
    rf"\b{_MONTH_NAME}\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+((?:19|20)\d\d)\b", re.I
)
_EN_DMY_RE = re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+{_MONTH_NAME}\s+((?:19|20)\d\d)\b", re.I)
_ISO_DATE_RE = re.compile(r"\b((?:19|20)\d\d)-(\d\d)-(\d\d)\b")
_CN_NUM = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_TERM_RE = re.compile(r"(?<![A-Za-z0-9])([A-Za-z][A-Za-z0-9]*(?:\s[A-Z][a-z]+)?)(?![A-Za-z0-9])")
_EVENT_RE = re.compile(r"^\s*(?:19|20)\d\d")


@dataclass
class ImportReport:
    """What an import did.

    Attributes:
        written: scripts created or replaced.
        unchanged: scripts that already held exactly what import would write.
        kept: existing scripts that differ (a producer edited them) and were left alone.
        warnings: guesses to check and files kept.
        episodes: the metadata of every episode, in source order.
    """

    written: list[Path] = field(default_factory=list)
    unchanged: list[Path] = field(default_factory=list)
    kept: list[Path] = field(default_factory=list)
    warnings: list[Notice] = field(default_factory=list)
    episodes: list[EpisodeMeta] = field(default_factory=list)

    def lines(self) -> list[str]:
        """A human-readable account, one line each (the command line prints these)."""
        out = [f"wrote     {p}" for p in self.written]
        out += [f"unchanged {p}" for p in self.unchanged]
        out += [f"kept      {p}" for p in self.kept]
        out += [f"warning: {w.one_line()}" for w in self.warnings]
        out.append(
            f"{len(self.episodes)} episode(s): {len(self.written)} written, "
            f"{len(self.unchanged)} unchanged, {len(self.kept)} kept"
        )
        return out


def import_source(source: Path, out_dir: Path, *, force: bool = False) -> ImportReport:
    """Write one episode script per episode of ``source`` into ``out_dir``.

    Args:
        source: a raw article, a column dump, or an episode script.
        out_dir: the scripts folder (created when missing).
        force: replace scripts that differ from what import writes (edited by hand).

    Raises:
        InputError: the source cannot be read or holds nothing to import, or ``out_dir``
            cannot be written.
    """
    text = read_article(source)
    report = ImportReport()
    planned: list[tuple[str, str]] = []
    if is_script(text):
        ep = parse_script(text, source)
        assert ep.meta is not None
        number = ep.meta.episode or 1
        planned.append(
            (f"{number:02d}-{ep.meta.slug}{SCRIPT_SUFFIX}", render_script(ep.meta, ep.turns))
        )
        report.episodes.append(ep.meta)
    else:
        analysis = analyse_article(text, str(source))
        report.warnings.extend(Notice(w, path=source) for w in analysis.warnings)
        slugs: Counter[str] = Counter()
        for number, pe in enumerate(analysis.episodes, start=1):
            meta, notes = guess_meta(pe, number, analysis)
            slugs[meta.slug] += 1
            if slugs[meta.slug] > 1:
                meta = replace(meta, slug=f"{meta.slug}-{slugs[meta.slug]}")
            name = f"{number:02d}-{meta.slug}{SCRIPT_SUFFIX}"
            report.warnings.extend(Notice(n, path=out_dir / name) for n in notes)
            report.episodes.append(meta)
            planned.append((name, render_script(meta, pe.episode.turns)))
    _ensure_dir(out_dir)
    for name, content in planned:
        _place(out_dir / name, content, force, report)
    return report


# --- writing ------------------------------------------------------------------------------


def _ensure_dir(out_dir: Path) -> None:
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(
            f"cannot create the scripts folder: {exc.strerror or exc}",
            path=out_dir,
            hint="pass --out with a writable folder",
        ) from exc


def _place(path: Path, content: str, force: bool, report: ImportReport) -> None:
    data = content.encode("utf-8")
    if path.exists():
        try:
            old = path.read_bytes()
        except OSError as exc:
            raise InputError(
                f"cannot read the existing script: {exc.strerror or exc}", path=path
            ) from exc
        if old == data:
            report.unchanged.append(path)
            return
        if not force:
            report.kept.append(path)
            report.warnings.append(
                Notice(
                    "kept: it differs from the import (edited by hand?)",
                    path=path,
                    hint="use --force to replace it",
                )
            )
            return
    write_atomic(path, data, error=InputError, what="the script", hint="check the folder")
    report.written.append(path)


# --- guessing metadata ----------------------------------------------------------------------


def guess_meta(
    pe: ParsedEpisode, number: int, analysis: ArticleAnalysis
) -> tuple[EpisodeMeta, list[str]]:
    """Metadata for one parsed episode, and notes on what was guessed."""
    notes: list[str] = []
    guests = tuple(pe.guests)
    host, host_note = _guess_host(pe, analysis)
    if host_note:
        notes.append(host_note)
    date, date_note = guess_date(pe.episode)
    notes.append(date_note)
    speakers: dict[str, Role] = {
        name: role
        for name, role in sorted(pe.speakers.items())
        if name not in (host, *guests, DEFAULT_NARRATOR, pe.narrator)
    }
    meta = EpisodeMeta(
        title=guess_title(pe, analysis.column),
        slug=make_slug(guests, number),
        date=date,
        host=host,
        guests=guests,
        summary=guess_summary(pe.episode),
        episode=number,
        speakers=speakers,
        narrator=pe.narrator,
    )
    if not guests:
        notes.append("no interviewee found: add guests to the header")
    return meta, notes


def _guess_host(pe: ParsedEpisode, analysis: ArticleAnalysis) -> tuple[str, str | None]:
    if pe.host:
        return pe.host, None
    in_turns = [n for n, r in pe.speakers.items() if r == "host"]
    if in_turns:
        return in_turns[0], None
    if analysis.host:
        return analysis.host, f"host '{analysis.host}' guessed from the other articles"
    fallback = DEFAULT_HOST if pe.narrator == DEFAULT_NARRATOR else "Host"
    return fallback, f"no interviewer named: host set to '{fallback}'"


def make_slug(guests: tuple[str, ...], number: int) -> str:
    """An ASCII slug from the guests' names in pinyin ("叶理灯" -> "ye-li-deng")."""
    parts: list[str] = []
    for g in guests:
        parts.extend(lazy_pinyin(g))
    raw = "-".join(parts).lower()
    slug = re.sub(r"[^a-z0-9]+", "-", raw).strip("-")[:SLUG_MAX].strip("-")
    return slug or f"episode-{number}"


def guess_title(pe: ParsedEpisode, column: str | None) -> str:
    """An informative title: the article's own title, else column + guest + topic."""
    if pe.episode.title:
        return pe.episode.title
    if pe.narrator != DEFAULT_NARRATOR:  # a Latin-script article
        names = ", ".join(pe.guests)
        return (
            f"A conversation with {names}" if names else _first_chapter(pe.episode) or "Interview"
        )
    who = "、".join(pe.guests)
    topic = guess_topic(pe.episode)
    body = f"{who}谈 {topic}" if who and topic else who or topic or _first_chapter(pe.episode)
    body = body or "访谈"
    return f"{column}:{body}" if column else body


def guess_topic(episode: Episode) -> str | None:
    """The Latin-script term (product, project) the episode mentions most."""
    counts: Counter[str] = Counter()
    events: Counter[str] = Counter()
    for t in episode.turns:
        if not t.spoken or t.outro:
            continue
        for m in _TERM_RE.finditer(t.text):
            term = m.group(1)
            if len(term) < 3:
                continue
            counts[term] += 1
            if _EVENT_RE.match(t.text[m.end() :]):
                events[term] += 1
    ranked = [(c, term) for term, c in counts.items() if events[term] * 2 < c]
    if not ranked:
        return None
    best = max(ranked, key=lambda ct: (ct[0], -_first_pos(episode, ct[1])))
    return best[1] if best[0] >= 2 else None


def _first_pos(episode: Episode, term: str) -> int:
    for n, t in enumerate(episode.turns):
        if term in t.text:
            return n
    return len(episode.turns)


def _first_chapter(episode: Episode) -> str:
    return next((t.text for t in episode.turns if t.kind == "chapter"), "")


def guess_summary(episode: Episode) -> str:
    """The first narrator sentences of the episode, cut short."""
    out = ""
    for t in episode.turns:
        if t.kind != "speech" or t.role != "narrator" or t.outro:
            continue
        for s in sentences(t.text):
            if len(out) + len(s) > SUMMARY_MAX:
                if not out:
                    out = _cut(s)
                return out
            out += s.strip()
            if len(out) >= SUMMARY_MIN:
                return out
    return out


def _cut(sentence: str) -> str:
    head = sentence[:SUMMARY_MAX]
    cut = max(head.rfind(","), head.rfind(","), head.rfind("、"))
    return trim(head[:cut] if cut > SUMMARY_MIN // 2 else head, ",,、 ", left=False) + "…"


def guess_date(episode: Episode) -> tuple[dt.date, str]:
    """The latest date the text mentions (year from the latest year mentioned).

    Returns:
        The date and a note saying how it was guessed.
    """
    text = "\n".join(t.text for t in episode.turns if not t.outro)
    years = [int(y) for y in _YEAR_RE.findall(text)]
    if not years:
        return FALLBACK_DATE, f"no date in the text: date set to {FALLBACK_DATE}; fix it"
    year = max(years)
    found: list[dt.date] = []
    for y, m, d in _FULL_DATE_RE.findall(text):
        found.extend(_date(int(y), int(m), int(d)))
    for m, d in _MONTH_DAY_RE.findall(text):
        found.extend(_date(year, int(m), int(d)))
    for y, m in _YEAR_MONTH_RE.findall(text):
        found.extend(_date(int(y), int(m), 1))
    for cn in _CN_MONTH_RE.findall(text):
        found.extend(_date(year, _cn_month(cn), 1))
    for mon, d, y in _EN_MDY_RE.findall(text):
        found.extend(_date(int(y), _MONTHS[mon.lower()], int(d)))
    for d, mon, y in _EN_DMY_RE.findall(text):
        found.extend(_date(int(y), _MONTHS[mon.lower()], int(d)))
    for y, m, d in _ISO_DATE_RE.findall(text):
        found.extend(_date(int(y), int(m), int(d)))
    found.append(dt.date(year, 1, 1))
    date = max(found)
    return date, f"date {date.isoformat()} guessed from the dates the text mentions; check it"


def _date(y: int, m: int, d: int) -> list[dt.date]:
    try:
        return [dt.date(y, m, d)]
    except ValueError:
        return []


def _cn_month(word: str) -> int:
    if word.startswith("十"):
        return 10 + (_CN_NUM.get(word[1:], 0) if len(word) > 1 else 0)
    return _CN_NUM[word]
