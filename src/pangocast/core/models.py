"""The domain: episodes made of turns, each turn spoken by one named speaker in one role."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal, TypedDict

Role = Literal["host", "guest", "narrator"]
ROLES: tuple[Role, ...] = ("host", "guest", "narrator")

TurnKind = Literal["speech", "chapter", "highlight", "skip"]
"""``speech`` and ``chapter`` are spoken; ``highlight`` (pull quotes, editor's highlights)
and ``skip`` (captions, image markers) are kept for show notes but never spoken."""

SPOKEN_KINDS: frozenset[str] = frozenset({"speech", "chapter"})

DEFAULT_NARRATOR = "旁白"


@dataclass(frozen=True)
class Turn:
    """One paragraph of an episode.

    Attributes:
        kind: what the paragraph is (see :data:`TurnKind`).
        role: host, guest or narrator.
        speaker: the speaker's name as written in the script ("杨镭", "老王", "旁白").
        text: the words, exactly as they will be shown; normalisation for speech happens
            only at synthesis time.
        line: 1-based line in the source file, when known.
        outro: True for the column's closing boilerplate (the ``[outro]`` section of a
            script): spoken by the narrator, or dropped when the show configures its own
            outro.
    """

    kind: TurnKind
    role: Role
    speaker: str
    text: str
    line: int | None = None
    outro: bool = False

    @property
    def spoken(self) -> bool:
        """True when the turn is read out."""
        return self.kind in SPOKEN_KINDS


@dataclass(frozen=True)
class EpisodeMeta:
    """An episode's metadata, from the header of its script."""

    title: str
    slug: str
    date: dt.date
    host: str
    guests: tuple[str, ...]
    summary: str = ""
    narrator: str = DEFAULT_NARRATOR
    episode: int | None = None
    season: int | None = None
    guid: str | None = None
    episode_type: Literal["full", "trailer", "bonus"] = "full"
    speakers: dict[str, Role] = field(default_factory=dict)
    """Extra named speakers (e.g. a second interviewer) and their roles."""

    def roles(self) -> dict[str, Role]:
        """Every known speaker name mapped to its role."""
        out: dict[str, Role] = {self.narrator: "narrator", self.host: "host"}
        for g in self.guests:
            out[g] = "guest"
        out.update(self.speakers)
        return out


@dataclass(frozen=True)
class Episode:
    """A parsed episode: metadata (may be partial for raw articles) and its turns."""

    title: str | None
    turns: tuple[Turn, ...]
    meta: EpisodeMeta | None = None
    source: str | None = None
    """The file the episode came from (for error messages)."""

    def without_outro(self) -> Episode:
        """The episode without its ``[outro]`` turns (when the show has its own outro)."""
        return Episode(
            self.title, tuple(t for t in self.turns if not t.outro), self.meta, self.source
        )


@dataclass(frozen=True)
class Chapter:
    """A chapter: start offset in the final audio (seconds) and its title."""

    start: float
    title: str


@dataclass(frozen=True)
class TimedTurn:
    """A spoken turn placed in the final audio (seconds)."""

    start: float
    end: float
    speaker: str
    role: str
    kind: str
    text: str


class TurnJSON(TypedDict):
    """One turn in ``pangocast parse --json`` output."""

    kind: Literal["speech", "chapter"]
    role: Role
    speaker: str
    text: str


class EpisodeJSON(TypedDict):
    """One episode in ``pangocast parse --json`` output."""

    title: str | None
    turns: list[TurnJSON]


class ParseJSON(TypedDict):
    """The whole ``pangocast parse --json`` document."""

    episodes: list[EpisodeJSON]


def to_parse_json(episodes: list[Episode]) -> ParseJSON:
    """The documented ``parse --json`` shape: only spoken turns, four fields each."""
    out: list[EpisodeJSON] = []
    for ep in episodes:
        turns: list[TurnJSON] = []
        for t in ep.turns:
            if t.kind == "speech" or t.kind == "chapter":
                turns.append(TurnJSON(kind=t.kind, role=t.role, speaker=t.speaker, text=t.text))
        out.append(EpisodeJSON(title=ep.title, turns=turns))
    return ParseJSON(episodes=out)
