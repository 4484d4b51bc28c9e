"""A show's language: the fixed text of its pages and show notes, its spoken intro, how it
joins names and writes dates, and the voices a new show in it is cast with.

All of it is data, one message catalogue per language shipped with the package
(``pangocast/locales/<primary subtag>.toml``). The show's ``language`` (a BCP 47 tag in
``feeds/show.toml``) picks a catalogue by its primary subtag (``zh-cn`` and ``zh-TW`` take
``zh.toml``); a language without one falls back to English (``en.toml``), and so does
every key a catalogue leaves out, so a partial translation still renders. Adding a
language is adding a file: copy ``en.toml`` to ``xx.toml`` and translate it.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from pangocast.core.errors import BuildError, Notice

LOCALES = Path(__file__).resolve().parent.parent / "locales"
"""The shipped catalogues, one ``<primary subtag>.toml`` each."""
FALLBACK = "en"
"""The catalogue of a language that has none, and of every key a catalogue leaves out."""

# espeak-ng and the neural voice name Chinese by its ISO 639-3 code; a show says zh.
_ALIASES = {"cmn": "zh", "yue": "zh", "wuu": "zh", "hak": "zh", "nan": "zh"}
_TAG = re.compile(r"[a-z]{2,3}(-[a-z0-9]{1,8})*", re.IGNORECASE)


def primary_subtag(language: str) -> str:
    """The primary subtag of a BCP 47 tag, lower case: ``zh-CN`` -> ``zh``, ``en_GB`` -> ``en``;
    Chinese spoken-language codes count as ``zh`` (``cmn`` -> ``zh``)."""
    primary = language.strip().lower().replace("_", "-").split("-", 1)[0]
    return _ALIASES.get(primary, primary)


def is_language_tag(text: str) -> bool:
    """Whether ``text`` has the shape of a BCP 47 tag (``en``, ``zh-cn``, ``en-GB``)."""
    return _TAG.fullmatch(text.strip().replace("_", "-")) is not None


def catalogue_languages() -> list[str]:
    """The primary subtags that have a shipped catalogue, sorted (``["en", "zh"]``)."""
    return sorted(p.stem for p in LOCALES.glob("*.toml"))


def has_catalogue(language: str) -> bool:
    """Whether ``language`` (a BCP 47 tag) has a catalogue of its own, not the fallback."""
    return (LOCALES / f"{primary_subtag(language)}.toml").is_file()


def language_notice(language: str) -> Notice | None:
    """A warning when ``language`` has no catalogue and the pages fall back to English."""
    if has_catalogue(language):
        return None
    return Notice(
        f"no interface text for language '{language}'; the pages and the intro are in English",
        hint=f"add pangocast/locales/{primary_subtag(language)}.toml (copy en.toml, translate)",
    )


@dataclass(frozen=True)
class Messages:
    """One language's catalogue. Called as ``t("key", name=value)`` in templates.

    Attributes:
        language: the catalogue's primary subtag (``zh``, ``en``).
        texts: the fixed texts by key, the fallback's filling any gap.
        separator: between names of a list ("、", ", ").
        last: before the last name of a list ("、", " and ").
        date_format: a date's format, with ``{year}``, ``{month}``, ``{month_name}``, ``{day}``.
        months: the months' names, January first.
        engine: the engine a new show in this language uses (``pangocast init``).
        voices: per engine, the casting tables a new show gets (``voices/casting.toml``).
    """

    language: str
    texts: Mapping[str, str]
    separator: str = ", "
    last: str = " and "
    date_format: str = "{year}-{month:02d}-{day:02d}"
    months: tuple[str, ...] = ()
    engine: str = "espeak"
    voices: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def __call__(self, key: str, **fields: object) -> str:
        """The text of ``key``, its placeholders filled from ``fields``.

        Raises:
            BuildError: no catalogue has ``key`` (a template asks for text that does not exist).
        """
        text = self.texts.get(key)
        if text is None:
            raise BuildError(
                f"no interface text '{key}' in the {self.language} catalogue",
                path=LOCALES / f"{FALLBACK}.toml",
                hint=f'add {key} = "..." to its [text] table',
            )
        return text.format(**fields) if fields else text

    def names(self, names: Sequence[str]) -> str:
        """``names`` as one phrase: "杨镭、叶理灯" or "Jane, John and Joan"."""
        items = [str(n) for n in names]
        if len(items) < 2:
            return "".join(items)
        return self.separator.join(items[:-1]) + self.last + items[-1]

    def date(self, value: dt.date) -> str:
        """A date as readers of this language write it: "2019年7月24日", "24 July 2019"."""
        name = self.months[value.month - 1] if len(self.months) == 12 else str(value.month)
        return self.date_format.format(
            year=value.year, month=value.month, month_name=name, day=value.day
        )


@cache
def messages_for(language: str) -> Messages:
    """The catalogue for ``language`` (a BCP 47 tag), by its primary subtag; English when
    the language has none (see :func:`language_notice`).

    Raises:
        BuildError: a shipped catalogue is missing or malformed (a packaging bug).
    """
    primary = primary_subtag(language)
    code = primary if has_catalogue(primary) else FALLBACK
    data = _read(code)
    base = data if code == FALLBACK else _read(FALLBACK)
    texts = {**base.get("text", {}), **data.get("text", {})}
    names = data.get("names", {})
    dates = data.get("dates", {})
    return Messages(
        language=code,
        texts={k: str(v) for k, v in texts.items()},
        separator=str(names.get("separator", ", ")),
        last=str(names.get("last", " and ")),
        date_format=str(dates.get("format", "{year}-{month:02d}-{day:02d}")),
        months=tuple(str(m) for m in dates.get("months", ())),
        engine=str(data.get("engine", base.get("engine", "espeak"))),
        voices=dict(data.get("voices", {})),
    )


def _read(code: str) -> dict[str, Any]:
    path = LOCALES / f"{code}.toml"
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise BuildError(f"message catalogue cannot be read: {exc}", path=path) from exc
