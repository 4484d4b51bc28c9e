"""The episode script: the one editable file per episode under ``scripts/``.

Format (documented in README)::

    +++
    title = "SOFAStack 的开源之路"
    slug = "sofastack"
    date = 2019-07-01
    host = "老王"
    guests = ["余淮"]
    summary = "..."
    +++

    # 第一章 SOFA 与开源

    旁白:2018 年,SOFAStack 开始开源之后……

    余淮:我们的策略叫开源核心。

    这一段没有标签:它接着上一段的说话人(余淮)。

    > 一句编辑摘出的金句:展示在节目说明里,不朗读。

    % 图注或其他不朗读的备注

    [outro]

    旁白:栏目介绍(片尾):由旁白朗读;若 feeds/show.toml 配置了 outro,则被它替换。

Paragraphs are separated by blank lines; the lines of one paragraph are joined.
A paragraph without a label continues the previous paragraph's speaker (the narrator at
the start, and again right after the ``[outro]`` line). Everything after a paragraph
reading exactly ``[outro]`` is the column's closing boilerplate (:attr:`Turn.outro`).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import Literal, cast

from pangocast.core.errors import ScriptError
from pangocast.core.files import read_text
from pangocast.core.models import DEFAULT_NARRATOR, ROLES, Episode, EpisodeMeta, Role, Turn

FENCE = "+++"
SCRIPT_SUFFIX = ".txt"
OUTRO_MARK = "[outro]"
SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,79}$")
# A label is a short run without spaces or sentence punctuation, then a colon.
_NOT_IN_LABEL = r"\s,,。.!!??::;;“”\"'「」()()\[\]【】*#>%"
_NOT_IN_LABEL += "\uff0c\uff1a\uff1b\uff01\uff1f\uff08\uff09"
LABEL_RE = re.compile(rf"^(?:\*\*)?([^{_NOT_IN_LABEL}]{{1,12}})(?:\*\*)?\s*[:\uff1a]\s*")
REQUIRED = ("title", "slug", "date", "host", "guests")
KNOWN_KEYS = frozenset(
    {*REQUIRED, "summary", "narrator", "episode", "season", "guid", "episode_type", "speakers"}
)
# Characters XML 1.0 cannot carry (C0 controls but tab and line ends, U+FFFE/U+FFFF) and lone
# surrogates: refused with their line, rather than failing when the feed is written.
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def is_script(text: str) -> bool:
    """True when ``text`` looks like an episode script (starts with the ``+++`` fence)."""
    return text.lstrip("\ufeff").lstrip().startswith(FENCE)


def load_script(path: Path) -> Episode:
    """Read and validate one episode script.

    Raises:
        ScriptError: the header or body is malformed (message names file and line).
    """
    return parse_script(read_text(path), path)


def parse_script(text: str, path: Path | str = "<script>") -> Episode:
    """Parse the text of an episode script.

    Raises:
        ScriptError: the header or body is malformed.
    """
    path = Path(path)
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    bad = _FORBIDDEN.search(text)
    if bad is not None:
        raise ScriptError(
            f"the script holds the character U+{ord(bad.group()):04X}, which feeds cannot carry",
            path=path,
            line=text.count("\n", 0, bad.start()) + 1,
            hint="delete it (control characters are often pasted in by accident)",
        )
    lines = text.split("\n")
    start = next((i for i, ln in enumerate(lines) if ln.strip()), None)
    if start is None or lines[start].strip() != FENCE:
        raise ScriptError(
            "script has no metadata header",
            path=path,
            line=1,
            hint=f"start the file with a '{FENCE}' line, the metadata, and another '{FENCE}'",
        )
    end = next((i for i in range(start + 1, len(lines)) if lines[i].strip() == FENCE), None)
    if end is None:
        raise ScriptError(
            "metadata header is not closed",
            path=path,
            line=start + 1,
            hint=f"add a '{FENCE}' line after the metadata",
        )
    meta = _parse_meta("\n".join(lines[start + 1 : end]), path, start + 2)
    turns = _parse_body(lines, end + 1, meta, path)
    if not any(t.kind == "speech" for t in turns):
        raise ScriptError(
            "episode has nothing to say",
            path=path,
            line=end + 1,
            hint="add at least one spoken paragraph after the header",
        )
    return Episode(title=meta.title, turns=tuple(turns), meta=meta, source=str(path))


def _parse_meta(header: str, path: Path, first_line: int) -> EpisodeMeta:
    try:
        data = tomllib.loads(header)
    except tomllib.TOMLDecodeError as exc:
        msg = str(exc)
        m = re.search(r"at line (\d+)", msg)
        line = first_line + int(m.group(1)) - 1 if m else first_line
        what = re.sub(r"\s*\(at line \d+, column \d+\)", "", msg)
        header_lines = header.split("\n")
        bad_line = (
            header_lines[line - first_line] if 0 <= line - first_line < len(header_lines) else ""
        )
        key = bad_line.partition("=")[0].strip()
        if key == "date":
            raise ScriptError(
                f"date '{bad_line.partition('=')[2].strip()}' is not a date",
                path=path,
                line=line,
                hint="write date = YYYY-MM-DD (a real day, e.g. 2019-07-01)",
            ) from exc
        raise ScriptError(
            f"malformed metadata: {what}",
            path=path,
            line=line,
            hint='write each field as key = "value" (TOML)',
        ) from exc

    def line_of(key: str) -> int:
        for i, ln in enumerate(header.split("\n")):
            if re.match(rf"\s*{re.escape(key)}\s*=", ln):
                return first_line + i
        return first_line

    def fail(key: str, what: str, hint: str) -> ScriptError:
        return ScriptError(what, path=path, line=line_of(key), hint=hint)

    for key, value in data.items():
        bad = next((m for v in _strings(value) if (m := _FORBIDDEN.search(v))), None)
        if bad is not None:  # written as an escape ("\u0007"), which TOML decodes
            raise fail(
                key,
                f"metadata field '{key}' holds the character U+{ord(bad.group()):04X},"
                " which feeds cannot carry",
                "delete the escape",
            )
    for key in REQUIRED:
        if key not in data:
            raise ScriptError(
                f"metadata field '{key}' is missing",
                path=path,
                line=first_line,
                hint=f"add a '{key} = ...' line to the header",
            )
    unknown = sorted(set(data) - KNOWN_KEYS)
    if unknown:
        raise fail(
            unknown[0],
            f"unknown metadata field '{unknown[0]}'",
            "known fields: " + ", ".join(sorted(KNOWN_KEYS)),
        )

    def text_field(key: str, required: bool = True) -> str:
        value = data.get(key, "")
        if not isinstance(value, str) or (required and not value.strip()):
            raise fail(
                key, f"metadata field '{key}' must be non-empty text", f'write {key} = "..."'
            )
        return value.strip()

    title = text_field("title")
    slug = text_field("slug")
    if not SLUG_RE.match(slug):
        raise fail(
            "slug",
            f"slug '{slug}' is not allowed",
            "use lower-case letters, digits and '-' only (no '/', '..' or spaces)",
        )
    raw_date = data["date"]
    if isinstance(raw_date, dt.datetime):
        date = raw_date.date()
    elif isinstance(raw_date, dt.date):
        date = raw_date
    else:
        try:
            date = dt.date.fromisoformat(str(raw_date))
        except ValueError as exc:
            raise fail(
                "date", f"date '{raw_date}' is not a date", "write date = YYYY-MM-DD"
            ) from exc
    host = text_field("host")
    guests_raw = data["guests"]
    if isinstance(guests_raw, str):
        guests_raw = [guests_raw]
    if not isinstance(guests_raw, list) or not all(
        isinstance(g, str) and g.strip() for g in guests_raw
    ):
        raise fail("guests", "guests must be a list of names", 'write guests = ["名字", ...]')
    guests = tuple(g.strip() for g in guests_raw)
    narrator = text_field("narrator") if "narrator" in data else DEFAULT_NARRATOR
    speakers_raw = data.get("speakers", {})
    speakers: dict[str, Role] = {}
    if not isinstance(speakers_raw, dict):
        raise fail("speakers", "speakers must be a table", 'write speakers = { "名字" = "host" }')
    for name, role in speakers_raw.items():
        if role not in ROLES:
            raise fail(
                "speakers",
                f"speaker '{name}' has unknown role '{role}'",
                "roles are: " + ", ".join(ROLES),
            )
        speakers[str(name)] = cast(Role, role)
    names = [narrator, host, *guests, *speakers]
    dup = next((n for n in names if names.count(n) > 1 and n not in speakers), None)
    if dup is not None:
        raise fail("guests", f"speaker '{dup}' is listed twice", "give each speaker one role")

    def int_field(key: str) -> int | None:
        value = data.get(key)
        if value is None:
            return None
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise fail(key, f"{key} must be a whole number", f"write {key} = 1")
        return value

    episode_type = data.get("episode_type", "full")
    if episode_type not in ("full", "trailer", "bonus"):
        raise fail("episode_type", "episode_type must be full, trailer or bonus", "fix the value")
    guid = data.get("guid")
    if guid is not None and (not isinstance(guid, str) or not guid.strip()):
        raise fail("guid", "guid must be non-empty text", "remove it or set a fixed id")
    return EpisodeMeta(
        title=title,
        slug=slug,
        date=date,
        host=host,
        guests=guests,
        summary=text_field("summary", required=False),
        narrator=narrator,
        episode=int_field("episode"),
        season=int_field("season"),
        guid=guid.strip() if isinstance(guid, str) else None,
        episode_type=cast(Literal["full", "trailer", "bonus"], episode_type),
        speakers=speakers,
    )


def _strings(value: object) -> Iterable[str]:
    """Every string in a TOML value (keys of tables included)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)
    elif isinstance(value, dict):
        for k, v in value.items():
            yield str(k)
            yield from _strings(v)


def _paragraphs(lines: list[str], start: int) -> Iterable[tuple[int, str]]:
    """Blank-line separated blocks as (1-based line, joined text)."""
    block: list[str] = []
    first = 0
    for i in range(start, len(lines) + 1):
        ln = lines[i].strip() if i < len(lines) else ""
        if ln:
            if not block:
                first = i + 1
            block.append(ln)
            continue
        if block:
            yield first, join_lines(block)
            block = []


def join_lines(parts: list[str]) -> str:
    """Join wrapped lines: no space between CJK text, one space between Latin words."""
    out = parts[0]
    for p in parts[1:]:
        latin_gap = out[-1:].isascii() and out[-1:].isalnum() and p[0].isascii() and p[0].isalnum()
        if latin_gap:
            out += " " + p
        else:
            out += p
    return out


def _parse_body(lines: list[str], start: int, meta: EpisodeMeta, path: Path) -> list[Turn]:
    roles = meta.roles()
    turns: list[Turn] = []
    speaker = meta.narrator
    outro = False
    for line, para in _paragraphs(lines, start):
        if para.strip().lower() == OUTRO_MARK:
            outro = True
            speaker = meta.narrator
            continue
        if para.startswith("#"):
            title = para.lstrip("#").strip()
            if not title:
                raise ScriptError("empty heading", path=path, line=line, hint="write '# 标题'")
            turns.append(Turn("chapter", "narrator", meta.narrator, title, line, outro))
            continue
        if para.startswith(">"):
            text = para[1:].strip()
            turns.append(Turn("highlight", "narrator", meta.narrator, text, line, outro))
            continue
        if para.startswith("%"):
            turns.append(Turn("skip", "narrator", meta.narrator, para[1:].strip(), line, outro))
            continue
        m = _known_label(para, roles) or LABEL_RE.match(para)
        if m:
            name = m.group(1)
            if name in roles:
                speaker = name
                para = para[m.end() :].strip()
                if not para:
                    raise ScriptError(
                        f"empty turn for '{name}'",
                        path=path,
                        line=line,
                        hint="write the words after the label or delete the line",
                    )
            elif not _looks_like_prose(name):
                raise ScriptError(
                    f"unknown speaker '{name}'",
                    path=path,
                    line=line,
                    hint=(
                        f"add '{name}' to guests (or speakers) in the header, "
                        "or start the paragraph with a known label"
                    ),
                )
        spoken = _drop_cues(para)
        if not spoken:  # only a stage direction: kept as a note, never spoken
            turns.append(Turn("skip", "narrator", meta.narrator, para, line, outro))
            continue
        turns.append(Turn("speech", roles[speaker], speaker, spoken, line, outro))
    return turns


_CUE_RE = re.compile(r"\s*\{[^{}\n]{1,40}\}")


def _drop_cues(text: str) -> str:
    """A turn's words without its stage directions (``{笑}``, ``{laughs}``)."""
    if "{" not in text:
        return text
    return re.sub(r" {2,}", " ", _CUE_RE.sub("", text)).strip()


def _known_label(para: str, roles: dict[str, Role]) -> re.Match[str] | None:
    """A label naming a speaker of the header, spaces allowed ("Jane Doe: …")."""
    for name in sorted((n for n in roles if " " in n), key=len, reverse=True):
        if para.startswith(name):
            m = re.compile(rf"^(?:\*\*)?({re.escape(name)})(?:\*\*)?\s*[:\uff1a]\s*").match(para)
            if m:
                return m
    return None


_PROSE_HINTS = ("说", "道", "是", "的", "了", "在", "为", "例如", "比如", "如下", "包括", "具体")


def _looks_like_prose(prefix: str) -> bool:
    """A colon after a run like '具体来说' or '例如' introduces text, not a speaker."""
    return len(prefix) > 6 or any(h in prefix for h in _PROSE_HINTS)


def _toml_str(value: str) -> str:
    # JSON string escapes are a subset of TOML basic-string escapes.
    return json.dumps(value, ensure_ascii=False)


def _colon(name: str) -> str:
    """The label's colon: full-width after a CJK name, ": " after a Latin one."""
    return ": " if name[-1:].isascii() else ":"


def render_script(meta: EpisodeMeta, turns: Iterable[Turn]) -> str:
    """The text of an episode script for ``meta`` and ``turns`` (every speech labelled)."""
    head = [
        FENCE,
        f"title = {_toml_str(meta.title)}",
        f"slug = {_toml_str(meta.slug)}",
        f"date = {meta.date.isoformat()}",
        f"host = {_toml_str(meta.host)}",
        "guests = [" + ", ".join(_toml_str(g) for g in meta.guests) + "]",
    ]
    if meta.narrator != DEFAULT_NARRATOR:
        head.append(f"narrator = {_toml_str(meta.narrator)}")
    if meta.episode is not None:
        head.append(f"episode = {meta.episode}")
    if meta.season is not None:
        head.append(f"season = {meta.season}")
    if meta.guid:
        head.append(f"guid = {_toml_str(meta.guid)}")
    if meta.episode_type != "full":
        head.append(f"episode_type = {_toml_str(meta.episode_type)}")
    if meta.speakers:
        inner = ", ".join(f"{_toml_str(k)} = {_toml_str(v)}" for k, v in meta.speakers.items())
        head.append("speakers = { " + inner + " }")
    head.append(f"summary = {_toml_str(meta.summary)}")
    head.append(FENCE)
    body: list[str] = []
    in_outro = False
    for t in turns:
        if t.outro and not in_outro:
            body.append(OUTRO_MARK)
            in_outro = True
        text = " ".join(t.text.split("\n"))
        if t.kind == "chapter":
            body.append(f"# {text}")
        elif t.kind == "highlight":
            body.append(f"> {text}")
        elif t.kind == "skip":
            body.append(f"% {text}")
        else:
            body.append(f"{t.speaker}{_colon(t.speaker)}{text}")
    return "\n".join(head) + "\n\n" + "\n\n".join(body) + "\n"
