"""Casting: which voice speaks each speaker of an episode, per engine (``voices/casting.toml``).

Rules, in order: a per-person entry (same voice across episodes), else the role's voice
(host, narrator), else for guests the next guest voice of the engine's list not yet used in
this episode, so several guests always sound different. The guest who says most takes the
list's first free voice, the next the second...: the list reads best first, so a voice that
is slower or less clear goes to a smaller part (the neural list's second source, second in
it, goes to the guest who says second most: the first two guests are then different
sources, not two conversions of one voice).
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pangocast.core.errors import ConfigError, EngineUnavailableError, Notice
from pangocast.core.files import read_text
from pangocast.core.models import Episode, Role
from pangocast.core.project import Project
from pangocast.voice.engines.base import Engine, ProsodyValue, Voice

CASTING_FILE = "casting.toml"


@dataclass(frozen=True)
class EngineCasting:
    """The casting rules of one engine."""

    engine: str
    narrator: Voice
    host: Voice
    guests: tuple[Voice, ...]
    people: Mapping[str, Voice] = field(default_factory=dict)
    fallback: Voice | None = None


def with_fallback(rules: EngineCasting, failed: set[Voice]) -> EngineCasting:
    """``rules`` with every voice in ``failed`` replaced by the fallback voice.

    Used when the engine refuses a voice (e.g. a blocked edge voice); the fallback keeps
    the speaker's prosody out of it, since another voice may not accept those values.
    """
    fb = rules.fallback
    if fb is None:
        return rules

    def swap(v: Voice) -> Voice:
        return fb if v in failed else v

    return EngineCasting(
        engine=rules.engine,
        narrator=swap(rules.narrator),
        host=swap(rules.host),
        guests=tuple(swap(g) for g in rules.guests),
        people={k: swap(v) for k, v in rules.people.items()},
        fallback=fb,
    )


@dataclass(frozen=True)
class Casting:
    """Casting rules for every engine, as read from ``voices/casting.toml``."""

    engines: Mapping[str, EngineCasting]
    path: Path | None = None

    def for_engine(self, engine: str) -> EngineCasting:
        """The rules of ``engine``.

        Raises:
            ConfigError: the casting file has no section for that engine.
        """
        if engine not in self.engines:
            raise ConfigError(
                f"no casting for engine '{engine}'",
                path=self.path,
                hint=f"add an [engines.{engine}] table (engines cast: {', '.join(self.engines)})",
            )
        return self.engines[engine]


@dataclass(frozen=True)
class CastEntry:
    """One speaker of an episode and the voice it gets."""

    speaker: str
    role: Role
    voice: Voice
    turns: int
    source: str
    """Why this voice: "person", "role" or "guest #N"."""


def _voice(engine: str, table: Any, where: str, path: Path) -> Voice:
    if not isinstance(table, dict) or not isinstance(table.get("voice"), str):
        raise ConfigError(
            f"{where} must be a table with a 'voice' name",
            path=path,
            hint=f'write {where} = {{ voice = "..." }}',
        )
    prosody: dict[str, ProsodyValue] = {}
    for key, value in table.items():
        if key == "voice":
            continue
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise ConfigError(f"{where}.{key} must be a number or text", path=path)
        prosody[key] = value
    checker = _engine_class(engine)
    if checker is not None:
        try:
            checker.check_prosody(prosody)
        except ValueError as exc:
            raise ConfigError(
                f"{where}: {exc}", path=path, hint=f"see the comment at the top of {path.name}"
            ) from exc
    return Voice.make(engine, table["voice"], prosody)


def _engine_class(name: str) -> type[Engine] | None:
    """The class of the registered engine ``name``, to check its prosody (None when no
    engine has that name or it cannot be imported here: it is then checked when used)."""
    from pangocast.voice.engines import ENGINES, engine_class

    if name not in ENGINES:
        return None
    try:
        return engine_class(name)
    except (EngineUnavailableError, ImportError):
        return None


def load_casting(voices_dir: Path) -> Casting:
    """Read ``voices/casting.toml``.

    Raises:
        ConfigError: the file is missing or malformed.
    """
    path = voices_dir / CASTING_FILE
    if not path.is_file():
        raise ConfigError(
            "casting file not found", path=path, hint="create voices/casting.toml (see README)"
        )
    try:
        data = tomllib.loads(read_text(path, error=ConfigError))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"malformed casting file: {exc}", path=path) from exc
    engines_raw = data.get("engines")
    if not isinstance(engines_raw, dict) or not engines_raw:
        raise ConfigError(
            "casting file has no [engines.NAME] tables", path=path, hint="see README, Casting"
        )
    engines: dict[str, EngineCasting] = {}
    for name, table in engines_raw.items():
        if not isinstance(table, dict):
            raise ConfigError(f"engines.{name} must be a table", path=path)
        for key in ("narrator", "host", "guests"):
            if key not in table:
                raise ConfigError(
                    f"engines.{name} has no '{key}'",
                    path=path,
                    hint=f"add {key} to [engines.{name}]",
                )
        guests_raw = table["guests"]
        if isinstance(guests_raw, dict):
            guests_raw = [guests_raw]
        if not isinstance(guests_raw, list) or not guests_raw:
            raise ConfigError(f"engines.{name}.guests must be a list of voices", path=path)
        people_raw = table.get("people", {})
        if not isinstance(people_raw, dict):
            raise ConfigError(f"engines.{name}.people must be a table", path=path)
        engines[name] = EngineCasting(
            engine=name,
            narrator=_voice(name, table["narrator"], f"engines.{name}.narrator", path),
            host=_voice(name, table["host"], f"engines.{name}.host", path),
            guests=tuple(
                _voice(name, g, f"engines.{name}.guests[{i}]", path)
                for i, g in enumerate(guests_raw)
            ),
            people={
                person: _voice(name, v, f"engines.{name}.people.{person}", path)
                for person, v in people_raw.items()
            },
            fallback=(
                _voice(name, table["fallback"], f"engines.{name}.fallback", path)
                if "fallback" in table
                else None
            ),
        )
    return Casting(engines=engines, path=path)


def cast_episode(episode: Episode, rules: EngineCasting) -> dict[str, CastEntry]:
    """Assign a voice to every speaker of ``episode`` (in order of first appearance).

    Guests without a personal voice take the engine's guest voices in order, the guest
    who says most (in characters; ties by first appearance) first, skipping voices another
    speaker of this episode already has; when the list runs out they reuse it, which
    ``pangocast cast`` shows as a clash.
    """
    counts: dict[str, int] = {}
    said: dict[str, int] = {}
    roles: dict[str, Role] = {}
    if episode.meta is not None:
        for name, role in episode.meta.roles().items():
            roles[name] = role
    for t in episode.turns:
        if t.spoken:
            counts[t.speaker] = counts.get(t.speaker, 0) + 1
            said[t.speaker] = said.get(t.speaker, 0) + len(t.text)
            roles.setdefault(t.speaker, t.role)
    order = [s for s in counts]
    out: dict[str, CastEntry] = {}
    used: list[Voice] = []

    # Fixed voices first, so pooled guests avoid them.
    for speaker in order:
        role = roles[speaker]
        if speaker in rules.people:
            voice, source = rules.people[speaker], "person"
        elif role == "narrator":
            voice, source = rules.narrator, "role"
        elif role == "host":
            voice, source = rules.host, "role"
        else:
            continue
        out[speaker] = CastEntry(speaker, role, voice, counts[speaker], source)
        used.append(voice)
    pooled = [s for s in order if s not in out]
    by_words = sorted(pooled, key=lambda s: -said[s])  # stable: ties keep their order
    for n, speaker in enumerate(by_words):
        free = [v for v in rules.guests if v not in used]
        voice = free[0] if free else rules.guests[n % len(rules.guests)]
        idx = rules.guests.index(voice) + 1
        out[speaker] = CastEntry(speaker, roles[speaker], voice, counts[speaker], f"guest #{idx}")
        used.append(voice)
    return {s: out[s] for s in order}


def clashes(cast: Mapping[str, CastEntry]) -> list[tuple[str, str]]:
    """Pairs of speakers of one episode who were given the same voice."""
    entries = list(cast.values())
    return [
        (a.speaker, b.speaker)
        for i, a in enumerate(entries)
        for b in entries[i + 1 :]
        if a.voice == b.voice
    ]


@dataclass(frozen=True)
class CastSheet:
    """Who speaks with which voice in one episode (``pangocast cast``)."""

    title: str
    engine: str
    entries: tuple[CastEntry, ...]
    warnings: tuple[Notice, ...]
    """Speakers that share a voice, and what to add to ``voices/casting.toml``."""


def cast_sheet(project: Project, episode: str, engine: str) -> CastSheet:
    """The casting of the episode named ``episode`` (slug or script name) with ``engine``.

    Raises:
        ScriptError: no episode has that name, or a script is malformed.
        ConfigError: the casting file is missing, malformed or does not cast ``engine``.
    """
    from pangocast.script.catalogue import load_episodes, select

    casting = load_casting(project.voices)
    rules = casting.for_engine(engine)
    (ep,) = select(load_episodes(project), [episode])[:1]
    cast = cast_episode(ep, rules)
    warnings = tuple(
        Notice(
            f"{a} and {b} share a voice",
            path=casting.path,
            hint=f"add a guest voice for {engine}",
        )
        for a, b in clashes(cast)
    )
    return CastSheet(ep.title or "", engine, tuple(cast.values()), warnings)
