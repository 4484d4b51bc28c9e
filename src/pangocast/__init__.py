"""Pangocast: turn written interviews into a podcast.

This module is the library's front door: the functions below are what the ``pangocast``
command line calls, one per command, and what other programs should use. The library
never prints; problems it can go on with come back as :class:`Notice` (in reports, or
through :class:`BuildEvents`), and the ones it cannot as a :class:`PangocastError`.

Each function imports its subpackage when it is called, so ``import pangocast`` (and
``pangocast --help``) stays fast.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from pangocast.core.errors import (
    AudioError,
    BuildError,
    ConfigError,
    EngineError,
    EngineUnavailableError,
    InputError,
    Notice,
    PangocastError,
    ScriptError,
    SynthesisError,
)
from pangocast.core.project import Project
from pangocast.voice import DEFAULT_ENGINE

if TYPE_CHECKING:
    from pangocast.check.findings import Finding
    from pangocast.ingest.article import ParsedSource
    from pangocast.ingest.importer import ImportReport
    from pangocast.pipeline.events import BuildEvents, BuildOptions, BuildReport
    from pangocast.publish.bucket import BucketPublishReport
    from pangocast.show.init import NewShow
    from pangocast.voice.casting import CastSheet
    from pangocast.voice.engines.base import VoiceInfo
    from pangocast.voice.prune import PruneReport
    from pangocast.voice.segments import CacheStats

__all__ = [
    "DEFAULT_ENGINE",
    "AudioError",
    "BuildError",
    "ConfigError",
    "EngineError",
    "EngineUnavailableError",
    "InputError",
    "Notice",
    "PangocastError",
    "Project",
    "ScriptError",
    "SynthesisError",
    "__version__",
    "build",
    "cache_stats",
    "cast",
    "check_output",
    "import_source",
    "init_show",
    "list_voices",
    "parse_source",
    "preview",
    "prune_cache",
    "publish",
    "serve",
]
__version__ = "0.1.0"


def build(
    project: Project, options: BuildOptions | None = None, events: BuildEvents | None = None
) -> BuildReport:
    """Build the show: episodes, transcripts, chapters, site and feed, incrementally.

    Raises:
        PangocastError: bad input, an unusable engine, or (without ``keep_going``) the first
            episode that failed; what was published stays as it was.
    """
    from pangocast.pipeline.build import build as run
    from pangocast.pipeline.events import BuildOptions

    return run(project, options or BuildOptions(), events)


def import_source(source: Path, out: Path, *, force: bool = False) -> ImportReport:
    """Write one episode script per article of ``source`` (text, a column dump) into ``out``.

    Raises:
        InputError: the source cannot be read or holds nothing to say.
    """
    from pangocast.ingest.importer import import_source as run

    return run(source, out, force=force)


def parse_source(source: Path) -> ParsedSource:
    """How the parser attributes every paragraph of an article or a script.

    Raises:
        InputError: the file cannot be read, or the script or article is malformed.
    """
    from pangocast.ingest.article import parse_source as run

    return run(source)


def init_show(
    root: Path,
    *,
    title: str | None = None,
    language: str = "en",
    author: str | None = None,
    force: bool = False,
) -> NewShow:
    """Create a show folder at ``root``, ready for ``import`` and ``build``: ``scripts/``,
    ``voices/`` cast for ``language`` on every engine that speaks it, ``feeds/show.toml``
    (a fresh ``podcast_guid``), the generated sting and bed, and a ``.gitignore``.

    Raises:
        InputError: ``root`` is a file, or a folder holding files (without ``force``), or
            ``language`` has no message catalogue (the error names those there are).
        BuildError: a file cannot be written.
    """
    from pangocast.show.init import init_show as run

    return run(root, title=title, language=language, author=author, force=force)


def cast(project: Project, episode: str, engine: str | None = None) -> CastSheet:
    """Who speaks with which voice in one episode (without ``engine``: the show's engine).

    Raises:
        InputError: no such episode, or a script or ``voices/casting.toml`` is malformed.
    """
    from pangocast.core.project import show_if_any
    from pangocast.voice.casting import cast_sheet
    from pangocast.voice.engines import choose_engine

    return cast_sheet(project, episode, choose_engine(engine, show_if_any(project)))


def list_voices(
    engine: str | None = None, language: str | None = None, project: Project | None = None
) -> list[VoiceInfo]:
    """The voices ``engine`` (default: the show's engine) offers in ``language`` (a BCP 47
    tag); without one, in the language of ``project``'s ``feeds/show.toml``; all of them
    when neither is known.

    Raises:
        EngineUnavailableError: unknown engine, or its voice list cannot be had (offline).
        ConfigError: the show's ``feeds/show.toml`` is malformed.
    """
    from pangocast.core.project import show_if_any
    from pangocast.voice.engines import choose_engine, get_engine

    show = show_if_any(project) if project is not None else None
    eng = get_engine(choose_engine(engine, show))
    if language is None and show is not None:
        language = show.language
    return eng.voices_for(language) if language else eng.list_voices()


def preview(project: Project, episode: str, *, turns: int = 3, engine: str | None = None) -> Path:
    """A short clip of the episode's first ``turns`` turns, mastered like the episode.

    Raises:
        PangocastError: bad episode name, scripts, casting or engine.
    """
    from pangocast.pipeline.preview import preview as run

    return run(project, episode, turns=turns, engine=engine)


def check_output(project: Project, previous_feed: bytes | None = None) -> list[Finding]:
    """Validate the built ``output/`` as podcast validators and apps do.

    Raises:
        ConfigError: ``feeds/show.toml`` is missing or malformed.
    """
    from pangocast.check.validate import check_output as run
    from pangocast.core.project import load_show

    return run(project.output, load_show(project), previous_feed=previous_feed)


def serve(
    project: Project, host: str, port: int, *, ready: Callable[[str], None] | None = None
) -> None:
    """Serve ``output/`` locally (HEAD and byte ranges, like a static host) until stopped.

    Raises:
        BuildError: there is nothing built to serve, or the port is taken.
    """
    from pangocast.publish.serve import preview_output

    preview_output(project, host, port, ready=ready)


def publish(
    project: Project,
    target: str,
    *,
    grace_hours: float = 24.0,
    progress: Callable[[str], None] | None = None,
) -> BucketPublishReport:
    """Upload the built show (``output/``) to ``target``, an ``s3://BUCKET/PREFIX`` URL
    (endpoint and credentials from the ``AWS_*`` variables): content-addressed objects
    first with a long immutable cache lifetime, the feed last; only changed objects;
    objects no longer needed are deleted after ``grace_hours``.

    Raises:
        ConfigError: a bad target URL.
        BuildError: nothing built, the bucket unreachable, or another publish running.
    """
    import datetime as dt

    from pangocast.publish.bucket import publish_to_bucket

    return publish_to_bucket(
        project.output, target, grace=dt.timedelta(hours=grace_hours), progress=progress
    )


def cache_stats(project: Project, cache: str | None = None) -> CacheStats:
    """How many synthesized segments the cache holds, and their size: the show's
    ``.cache/segments``, or ``cache`` (``s3://BUCKET/PREFIX`` or a folder).

    Raises:
        ConfigError: ``cache`` is not a folder or an S3 URL.
        BuildError: the bucket cannot be read.
    """
    from pangocast.voice.segments import open_cache

    return open_cache(cache, project.segments).stats()


def prune_cache(
    project: Project, engines: Sequence[str] = (), cache: str | None = None
) -> PruneReport:
    """Remove the cached segments no script needs any more with ``engines``' casting, from
    the show's cache or ``cache`` (``s3://BUCKET/PREFIX`` or a folder).

    Raises:
        PangocastError: a script or the casting is malformed (nothing is removed), a
            build holds the show's lock, or the bucket cannot be reached.
    """
    from pangocast.voice.prune import prune_cache as run

    return run(project, engines, cache)
