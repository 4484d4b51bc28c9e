"""The catalogue of a show's episodes: every script under ``scripts/``, validated together
(no two share a slug or guid), picked by name, numbered and put in one order."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TypeVar

from pangocast.core.errors import PangocastError, ScriptError
from pangocast.core.files import read_text
from pangocast.core.models import Episode
from pangocast.core.project import Project
from pangocast.script.format import load_script


def load_episodes(project: Project) -> list[Episode]:
    """Every episode script of the show, validated.

    Raises:
        ScriptError: a script is malformed, or two scripts share a slug or guid.
        ConfigError: there is no scripts/ folder.
    """
    episodes = [load_script(p) for p in project.script_files()]
    if not episodes:
        raise ScriptError(
            "no episode scripts",
            path=project.scripts,
            hint="run 'pangocast import ARTICLE' or add a script (see README)",
        )
    seen: dict[str, str] = {}
    for ep in episodes:
        assert ep.meta is not None
        for key in (ep.meta.slug, guid_of(ep)):
            if key in seen:
                raise ScriptError(
                    f"slug or guid '{key}' is used by two scripts (also {seen[key]})",
                    path=ep.source,
                    line=_header_line(Path(str(ep.source)), key),
                    hint="give every episode its own slug (and guid)",
                )
            seen[key] = str(ep.source)
    return episodes


def _header_line(path: Path, value: str) -> int | None:
    """The 1-based line of the script's header that sets ``slug`` or ``guid`` to ``value``."""
    try:
        lines = read_text(path).splitlines()
    except PangocastError:  # only a line number for a message: none rather than another error
        return None
    for i, line in enumerate(lines, 1):
        key, _, rest = line.partition("=")
        if key.strip() in ("slug", "guid") and rest.strip().strip("\"'") == value:
            return i
    return None


def guid_of(ep: Episode) -> str:
    """The episode's permanent guid: set in the script, else derived from its slug."""
    assert ep.meta is not None
    return ep.meta.guid or f"pangocast:{ep.meta.slug}"


def select(episodes: list[Episode], wanted: Sequence[str]) -> list[Episode]:
    """The episodes named by slug or script file name.

    Raises:
        ScriptError: a name matches no episode.
    """
    if not wanted:
        return episodes
    out: list[Episode] = []
    for w in wanted:
        hits = [
            e
            for e in episodes
            if e.meta is not None
            and w in (e.meta.slug, Path(str(e.source)).name, Path(str(e.source)).stem)
        ]
        if not hits:
            names = ", ".join(e.meta.slug for e in episodes if e.meta)
            raise ScriptError(f"no episode named '{w}'", hint=f"known episodes: {names}")
        out.extend(h for h in hits if h not in out)
    return out


def numbered(episodes: list[Episode]) -> dict[str, int]:
    """Episode numbers: from the script, else by date then file name."""
    order = sorted(episodes, key=lambda e: (e.meta.date if e.meta else dt.date.min, str(e.source)))
    return {
        e.meta.slug: (e.meta.episode or i + 1) for i, e in enumerate(order) if e.meta is not None
    }


class _Dated(Protocol):
    @property
    def date(self) -> dt.date: ...
    @property
    def season(self) -> int | None: ...
    @property
    def episode(self) -> int | None: ...
    @property
    def slug(self) -> str: ...


D = TypeVar("D", bound=_Dated)


def newest_first(episodes: Iterable[D]) -> list[D]:
    """Episodes in the show's one order (feed items, site index, manifest): newest
    publication date first; on the same date the higher season, then the higher episode
    number first (the later one in the series), then the slug, so that the order never
    depends on the order files were read in."""
    return sorted(
        episodes,
        key=lambda e: (e.date, e.season or 0, e.episode or 0, e.slug),
        reverse=True,
    )


@dataclass(frozen=True)
class _Listed:
    date: dt.date
    season: int | None
    episode: int | None
    slug: str


def in_show_order(episodes: Iterable[Episode], numbers: Mapping[str, int]) -> list[str]:
    """The slugs of episode scripts in the show's one order (:func:`newest_first`), each
    numbered as ``numbers`` (:func:`numbered`) says: as the feed and the site list them.

    Raises:
        KeyError: ``numbers`` lacks an episode.
    """
    listed = [
        _Listed(e.meta.date, e.meta.season, numbers[e.meta.slug], e.meta.slug)
        for e in episodes
        if e.meta is not None
    ]
    return [e.slug for e in newest_first(listed)]
