"""Pauses: how much silence goes between two spoken pieces, by context, per show.

Configured by a ``[pacing]`` table (in ``voices/casting.toml`` or ``feeds/show.toml``), all
values in seconds::

    [pacing]
    sentence = 0.3
    speaker_change = 0.8
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from pangocast.core.errors import ConfigError
from pangocast.core.files import read_text
from pangocast.core.models import Turn
from pangocast.core.project import Project

MAX_PAUSE = 10.0
"""Longest pause accepted (s): anything longer is a typo (milliseconds?), not pacing."""


@dataclass(frozen=True)
class Pacing:
    """Pauses in seconds.

    Attributes:
        sentence: between sentences of one turn (when a turn is synthesized per sentence).
        same_speaker: between two turns of the same speaker (a new paragraph).
        speaker_change: between turns of different speakers.
        before_chapter: before a chapter heading (the longest: a scene change).
        after_chapter: after a chapter heading, before the chapter's first turn.
        after_intro: after the intro (sting and spoken show intro), before the first turn.
    """

    sentence: float = 0.3
    same_speaker: float = 0.5
    speaker_change: float = 0.7
    before_chapter: float = 1.2
    after_chapter: float = 0.8
    after_intro: float = 1.0

    def as_dict(self) -> dict[str, float]:
        """The pauses by name (e.g. for a build fingerprint)."""
        return {f.name: float(getattr(self, f.name)) for f in fields(self)}

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not 0.0 <= value <= MAX_PAUSE or math.isnan(value):
                raise ConfigError(
                    f"pacing.{f.name} = {value} is out of range",
                    hint=f"give seconds between 0 and {MAX_PAUSE:g}",
                )


PACING_KEYS: tuple[str, ...] = tuple(f.name for f in fields(Pacing))


def pacing_from_dict(data: Mapping[str, Any], *, path: Path | None = None) -> Pacing:
    """A :class:`Pacing` from a ``[pacing]`` table; missing keys keep their defaults.

    Args:
        data: the table's contents (seconds as numbers).
        path: the file it came from, for error messages.

    Raises:
        ConfigError: an unknown key, a value that is not a number, or one out of range.
    """
    values: dict[str, float] = {}
    for key, value in data.items():
        if key not in PACING_KEYS:
            raise ConfigError(
                f"unknown pacing setting '{key}'",
                path=path,
                hint="use one of " + ", ".join(PACING_KEYS),
            )
        # bool is an int to Python, but 'pause = true' is a mistake, not one second
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"pacing.{key} must be a number of seconds, not {value!r}", path=path)
        values[key] = float(value)
    try:
        return Pacing(**values)
    except ConfigError as exc:
        raise ConfigError(exc.what, path=path, hint=exc.hint) from None


def _pacing_table(path: Path) -> Mapping[str, Any] | None:
    try:
        data = tomllib.loads(read_text(path, error=ConfigError))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML: {exc}", path=path) from exc
    table = data.get("pacing")
    if table is not None and not isinstance(table, dict):
        raise ConfigError("'pacing' must be a table ([pacing])", path=path)
    return table


def load_pacing(source: Project | Path) -> Pacing:
    """The show's pauses: a ``[pacing]`` table, or the defaults when there is none.

    Args:
        source: a TOML file, or a show whose ``voices/casting.toml`` and
            ``feeds/show.toml`` are searched (in that order; only one may hold the table).

    Raises:
        ConfigError: a file is unreadable or not TOML, both show files have a table, or the
            table is invalid.
    """
    if isinstance(source, Path):
        table = _pacing_table(source) if source.is_file() else None
        return pacing_from_dict(table or {}, path=source)
    found = [
        (path, table)
        for path in (source.voices / "casting.toml", source.feeds / "show.toml")
        if path.is_file() and (table := _pacing_table(path)) is not None
    ]
    if len(found) > 1:
        raise ConfigError(
            "[pacing] is set in both voices/casting.toml and feeds/show.toml",
            path=found[1][0],
            hint="keep one of them",
        )
    if not found:
        return Pacing()
    path, table = found[0]
    return pacing_from_dict(table, path=path)


def pause_between(prev: Turn | None, nxt: Turn, pacing: Pacing) -> float:
    """Seconds of silence to put before ``nxt``, given the spoken turn before it.

    A chapter heading takes precedence (before it, then after it), then the speaker: the
    same one continuing gets a paragraph pause, a new one a longer change-over pause.

    Args:
        prev: the previous SPOKEN turn, or None when ``nxt`` comes straight after the
            intro (the sting): then the pause is ``pacing.after_intro``. (With no intro at
            all, nothing precedes the first turn and the caller adds no pause.)
        nxt: the turn about to be spoken.
        pacing: the show's pauses.

    Returns:
        The pause in seconds; 0.0 when ``nxt`` is not spoken.

    Raises:
        ConfigError: never (listed for the public contract: :class:`Pacing` is validated
            when built).
    """
    if not nxt.spoken:
        return 0.0
    if prev is None:
        return pacing.after_intro
    if nxt.kind == "chapter":
        return pacing.before_chapter
    if prev.kind == "chapter":
        return pacing.after_chapter
    if prev.speaker == nxt.speaker:
        return pacing.same_speaker
    return pacing.speaker_change
