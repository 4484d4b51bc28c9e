"""The ``pangocast`` command line: one library call per command, errors as one line."""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

import pangocast
from pangocast import PangocastError, Project

app = typer.Typer(
    name="pangocast",
    help=(
        "Turn written interviews into a podcast: one synthetic voice per speaker, "
        "MP3 episodes, an RSS feed and web pages with embeddable players."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
cache_app = typer.Typer(help="Inspect and trim the segment cache.", no_args_is_help=True)
app.add_typer(cache_app, name="cache")


class State:
    project: Project = Project(Path("."))
    debug: bool = False
    quiet: bool = False
    interrupted: str = "interrupted"
    """What Ctrl-C prints (a command that can be resumed says how)."""


RESUME = "interrupted: finished segments are cached; run the same command again"


class _Interrupted(BaseException):
    """Ctrl-C. Typer turns a KeyboardInterrupt into a silent exit; this passes it by (as
    KeyboardInterrupt does, the library's clean-up runs on the way out)."""


def _on_sigint(signum: int, frame: object) -> None:
    raise _Interrupted


state = State()

CacheOpt = Annotated[
    str | None,
    typer.Option(
        "--cache",
        envvar="PANGOCAST_SEGMENT_CACHE",
        help="Segment cache: s3://BUCKET/PREFIX (endpoint and credentials from AWS_*) or a"
        " folder; default: the show's .cache/segments.",
    ),
]

EngineOpt = Annotated[
    str | None,
    typer.Option(
        "--engine",
        "-e",
        help="Speech engine: neural (offline), espeak (draft), edge; default: the show's"
        " `engine` in feeds/show.toml, else neural.",
    ),
]


@app.callback()
def main_options(
    project: Annotated[
        Path, typer.Option("--project", "-p", help="Show folder (holds scripts/, voices/ ...).")
    ] = Path("."),
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")] = False,
) -> None:
    """Pangocast: interviews in, podcast out."""
    state.project = Project(project)
    state.debug = debug
    state.quiet = quiet


def _console() -> Any:
    from rich.console import Console

    return Console(stderr=True, quiet=state.quiet)


@app.command("build")
def build_cmd(
    episodes: Annotated[
        list[str] | None,
        typer.Argument(help="Episodes to build (slug or script name); default all."),
    ] = None,
    engine: EngineOpt = None,
    jobs: Annotated[
        int | None, typer.Option("--jobs", "-j", min=1, help="Parallel workers (default: cores).")
    ] = None,
    base_url: Annotated[
        str | None, typer.Option("--base-url", help="Public URL of output/ (overrides the show's).")
    ] = None,
    keep_going: Annotated[
        bool, typer.Option("--keep-going", "-k", help="Build the other episodes when one fails.")
    ] = False,
    cluster: Annotated[
        str | None,
        typer.Option(
            "--cluster",
            envvar="PANGOCAST_CLUSTER",
            help="Synthesize on the Dask cluster whose scheduler is at tcp://HOST:PORT.",
        ),
    ] = None,
    cache: CacheOpt = None,
    audiograms: Annotated[
        bool | None,
        typer.Option(
            "--audiograms/--no-audiograms",
            help="Render a shareable MP4 of every soundbite (1080x1080 and 1080x1920);"
            " default: the show's `audiograms` in feeds/show.toml, else off.",
        ),
    ] = None,
) -> None:
    """Build MP3 episodes, transcripts, chapters, the site and output/feed.xml."""
    from pangocast.pipeline.events import BuildOptions
    from pangocast_cli.progress import RichEvents, summary_table

    state.interrupted = RESUME
    console = _console()
    options = BuildOptions(
        engine=engine,
        episodes=tuple(episodes or ()),
        jobs=jobs,
        base_url=base_url,
        keep_going=keep_going,
        cluster=cluster,
        cache=cache,
        audiograms=audiograms,
    )
    with RichEvents(console) as events:
        report = pangocast.build(state.project, options, events)
    console.print(summary_table(report))
    for f in report.failed:
        if f.error is not None:
            typer.echo(f"error: {f.slug}: {f.error.one_line()}", err=True)
    if report.failed:
        raise typer.Exit(1)


@app.command("init")
def init_cmd(
    folder: Annotated[Path, typer.Argument(help="The new show folder (new, or empty).")],
    title: Annotated[
        str | None, typer.Option("--title", help="The show's title (default: the folder name).")
    ] = None,
    language: Annotated[
        str,
        typer.Option("--language", "-l", help="The show's language, a BCP 47 tag (en, zh-cn)."),
    ] = "en",
    author: Annotated[str | None, typer.Option("--author", help="The show's author.")] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Write into a folder that is not empty.")
    ] = False,
) -> None:
    """Create a show folder ready for import and build (voices for its language)."""
    show = pangocast.init_show(folder, title=title, language=language, author=author, force=force)
    typer.echo(
        f"created {show.root} ({show.language}, engine {show.engine}; cast for"
        f" {', '.join(show.engines)}): edit feeds/show.toml, then add scripts/ and build"
    )


@app.command("import")
def import_cmd(
    source: Annotated[Path, typer.Argument(help="A raw article or a column dump (UTF-8 text).")],
    out: Annotated[Path | None, typer.Option("--out", help="Folder for the scripts.")] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite scripts a producer has edited.")
    ] = False,
) -> None:
    """Split an article or column dump into episode scripts under scripts/."""
    report = pangocast.import_source(source, out or state.project.scripts, force=force)
    for line in report.lines():
        typer.echo(line)


@app.command("parse")
def parse_cmd(
    source: Annotated[Path, typer.Argument(help="A raw article, column dump or episode script.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (see README).")] = False,
) -> None:
    """Show how the parser attributes every paragraph."""
    from pangocast.core.models import to_parse_json

    parsed = pangocast.parse_source(source)
    episodes = list(parsed.episodes)
    for w in parsed.warnings:
        typer.echo(f"warning: {w.one_line()}", err=True)
    if as_json:
        typer.echo(json.dumps(to_parse_json(episodes), ensure_ascii=False, indent=2))
        return
    for i, ep in enumerate(episodes, 1):
        typer.echo(f"== {i}. {ep.title or '(untitled)'}")
        for t in ep.turns:
            mark = {"chapter": "#", "highlight": ">", "skip": "%"}.get(t.kind, " ")
            typer.echo(f"{mark} [{t.role:8}] {t.speaker}: {t.text[:60]}")


@app.command("voices")
def voices_cmd(
    engine: EngineOpt = None,
    language: Annotated[
        str | None,
        typer.Option(
            "--language",
            "-l",
            help="Only voices of this language (e.g. zh, en-US; default: the show's).",
        ),
    ] = None,
) -> None:
    """List the voices an engine offers (edge asks the online service)."""
    for v in pangocast.list_voices(engine, language, state.project):
        typer.echo(f"{v.id:28} {v.language:8} {v.gender:7} {v.description}")


@app.command("cast")
def cast_cmd(
    episode: Annotated[str, typer.Argument(help="Episode slug or script name.")],
    engine: EngineOpt = None,
) -> None:
    """Show who speaks with which voice in an episode."""
    from rich.console import Console
    from rich.table import Table

    sheet = pangocast.cast(state.project, episode, engine)
    table = Table(title=f"{sheet.title} — {sheet.engine}")
    for col in ("speaker", "role", "turns", "voice", "why"):
        table.add_column(col)
    for c in sheet.entries:
        table.add_row(c.speaker, c.role, str(c.turns), c.voice.label(), c.source)
    Console().print(table)
    for w in sheet.warnings:
        typer.echo(f"warning: {w.one_line()}", err=True)


@app.command("preview")
def preview_cmd(
    episode: Annotated[str, typer.Argument(help="Episode slug or script name.")],
    turns: Annotated[int, typer.Option("--turns", "-n", min=1, help="How many turns.")] = 3,
    engine: EngineOpt = None,
) -> None:
    """Render a short clip of an episode's first turns for quick listening."""
    state.interrupted = RESUME
    path = pangocast.preview(state.project, episode, turns=turns, engine=engine)
    typer.echo(str(path))


@app.command("check")
def check_cmd(
    previous: Annotated[
        Path | None,
        typer.Option("--previous", help="The previously published feed.xml, to check guids."),
    ] = None,
) -> None:
    """Validate output/ as podcast validators do (feed, audio, art, transcripts, loudness)."""
    from rich.console import Console
    from rich.table import Table

    prev = previous.read_bytes() if previous else None
    findings = pangocast.check_output(state.project, previous_feed=prev)
    table = Table(title="pangocast check")
    for col in ("severity", "where", "finding"):
        table.add_column(col)
    for f in findings:
        table.add_row(f.severity, f.where, f.message)
    Console().print(table)
    errors = sum(f.severity == "error" for f in findings)
    typer.echo(f"{errors} error(s), {sum(f.severity == 'warning' for f in findings)} warning(s)")
    if errors:
        raise typer.Exit(1)


@app.command("serve")
def serve_cmd(
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8000,
    host: Annotated[str, typer.Option("--host", help="Address to bind.")] = "127.0.0.1",
) -> None:
    """Preview output/ locally (HEAD and byte ranges, like a real static host)."""
    try:
        pangocast.serve(state.project, host, port, ready=lambda url: typer.echo(f"serving {url}"))
    except _Interrupted:
        typer.echo("stopped")  # Ctrl-C is how a preview ends


@app.command("publish")
def publish_cmd(
    target: Annotated[str, typer.Argument(help="Where to publish: s3://BUCKET/PREFIX.")],
    grace: Annotated[
        float,
        typer.Option("--grace", min=0, help="Hours before unreferenced objects are deleted."),
    ] = 24.0,
) -> None:
    """Upload output/ to a bucket: the feed last, only what changed (endpoint/keys: AWS_*)."""
    report = pangocast.publish(state.project, target, grace_hours=grace)
    typer.echo(
        f"published to {report.target}: {len(report.uploaded)} uploaded, "
        f"{len(report.unchanged)} unchanged, {len(report.deleted)} deleted, "
        f"{len(report.waiting)} kept for the grace period"
    )


@cache_app.command("stats")
def cache_stats(cache: CacheOpt = None) -> None:
    """How many segments the cache holds and their size."""
    s = pangocast.cache_stats(state.project, cache)
    typer.echo(f"{s.entries} segments, {s.bytes / 1e6:.1f} MB")


@cache_app.command("prune")
def cache_prune(
    engine: Annotated[
        list[str] | None,
        typer.Option(
            "--engine",
            "-e",
            help="Keep what this engine needs (repeatable; default: every engine cast in"
            " voices/casting.toml).",
        ),
    ] = None,
    cache: CacheOpt = None,
) -> None:
    """Remove segments no script needs any more, with the current casting and lexicon."""
    report = pangocast.prune_cache(state.project, engine or (), cache)
    typer.echo(
        f"removed {report.removed.entries} segments ({report.removed.bytes / 1e6:.1f} MB);"
        f" kept {report.kept.entries} ({report.kept.bytes / 1e6:.1f} MB) for"
        f" {', '.join(report.engines)}"
    )


def main() -> None:
    """Entry point: run the app with one top-level error handler.

    Typer's standalone mode handles usage errors (bad options) itself; every error the
    library raises on purpose becomes one line, ``error: <what> (<where>): <what to do>``,
    and Ctrl-C one line saying how to resume (exit code 130).
    """
    signal.signal(signal.SIGINT, _on_sigint)
    try:
        app()
    except PangocastError as exc:
        if state.debug:
            raise
        typer.echo(f"error: {exc.one_line()}", err=True)
        sys.exit(1)
    except (KeyboardInterrupt, _Interrupted):
        typer.echo(state.interrupted, err=True)
        # Everything the build holds was released as the interrupt unwound it (lock, temp
        # files); leave without joining worker threads (a cluster client's, a pool's
        # feeder), which can wait on work that will never finish.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(130)
    except BrokenPipeError:
        sys.exit(0)
