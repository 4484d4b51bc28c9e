"""What a build is asked to do, what it reports while it runs, and what it returns."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pangocast.core.errors import Notice, PangocastError

Status = Literal["built", "unchanged", "failed"]


@dataclass(frozen=True)
class BuildOptions:
    """What to build and how."""

    engine: str | None = None
    """The speech engine; None: the show's ``engine`` (``feeds/show.toml``), else neural."""
    episodes: Sequence[str] = ()
    """Slugs or script file names to (re)build; empty = all."""
    jobs: int | None = None
    base_url: str | None = None
    keep_going: bool = False
    cluster: str | None = None
    """A Dask scheduler (``tcp://HOST:PORT``) whose workers synthesize; None: this machine."""
    cache: str | None = None
    """The segment cache: ``s3://BUCKET/PREFIX`` or a folder; None: the show's
    ``.cache/segments``."""
    audiograms: bool | None = None
    """Render the soundbites' videos; None: the show's ``audiograms`` (off by default)."""


class BuildEvents:
    """Progress callbacks; the library calls them, the CLI draws bars. All optional."""

    def planned(self, episodes: int, segments: int, to_synthesize: int) -> None:
        """After planning: how much work there is."""

    def segment_done(self, seconds: float, ok: bool) -> None:
        """One segment synthesized (``seconds`` of audio)."""

    def episode_started(self, slug: str, title: str) -> None:
        """Assembly of one episode begins."""

    def episode_done(self, report: EpisodeReport) -> None:
        """One episode finished (built, unchanged or failed)."""

    def audiograms_planned(self, videos: int, seconds: float) -> None:
        """Before rendering: how many audiograms (``seconds`` of video in all) to render."""

    def audiogram_done(self, name: str, seconds: float) -> None:
        """One audiogram (file ``name``, ``seconds`` long) rendered."""

    def warning(self, notice: Notice) -> None:
        """Something the producer should know (the build goes on)."""


@dataclass
class EpisodeReport:
    """The outcome for one episode."""

    slug: str
    title: str
    status: Status
    synthesized: int = 0
    reused: int = 0
    duration: float = 0.0
    audio: str | None = None
    error: PangocastError | None = None


@dataclass
class BuildReport:
    """The outcome of a build."""

    episodes: list[EpisodeReport] = field(default_factory=list)
    """In the show's one order, as the feed lists them
    (:func:`~pangocast.script.catalogue.newest_first`)."""
    synthesized: int = 0
    reused: int = 0
    audio_seconds: float = 0.0
    feed: Path | None = None

    @property
    def failed(self) -> list[EpisodeReport]:
        """Episodes that could not be built."""
        return [e for e in self.episodes if e.status == "failed"]
