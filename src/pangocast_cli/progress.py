"""Rich progress bars and the end-of-build summary."""

from __future__ import annotations

from types import TracebackType

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from pangocast.core.errors import Notice
from pangocast.pipeline.events import BuildEvents, BuildReport, EpisodeReport


class RichEvents(BuildEvents):
    """Draws a synthesis bar (segments, audio seconds, ETA), one line per episode and a
    bar of the audiograms rendered."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[audio]}"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=False,
            disable=console.quiet,
        )
        self.synth: TaskID | None = None
        self.assembly: TaskID | None = None
        self.videos: TaskID | None = None
        self.seconds = 0.0

    def __enter__(self) -> RichEvents:
        # The bars start at planned(): errors in the inputs stay a single line.
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.progress.live.is_started:
            self.progress.stop()

    def planned(self, episodes: int, segments: int, to_synthesize: int) -> None:
        self.console.print(
            f"{episodes} episode(s), {segments} segments: {to_synthesize} to synthesize, "
            f"{segments - to_synthesize} cached"
        )
        self.progress.start()
        self.synth = self.progress.add_task("synthesis", total=to_synthesize, audio="")
        self.assembly = self.progress.add_task("episodes", total=episodes, audio="")

    def segment_done(self, seconds: float, ok: bool) -> None:
        self.seconds += seconds
        if self.synth is not None:
            self.progress.update(self.synth, advance=1, audio=f"{self.seconds / 60:.1f} min audio")

    def episode_started(self, slug: str, title: str) -> None:
        if self.assembly is not None:
            self.progress.update(self.assembly, description=f"episodes ({slug})")

    def episode_done(self, report: EpisodeReport) -> None:
        if self.assembly is not None:
            self.progress.update(self.assembly, advance=1)
        mark = {"built": "[green]built", "unchanged": "[dim]unchanged", "failed": "[red]failed"}
        self.progress.console.print(f"{mark[report.status]}[/] {report.slug}")

    def audiograms_planned(self, videos: int, seconds: float) -> None:
        self.videos = self.progress.add_task(
            "audiograms", total=videos, audio=f"{seconds / 60:.1f} min video"
        )

    def audiogram_done(self, name: str, seconds: float) -> None:
        if self.videos is not None:
            self.progress.update(self.videos, advance=1)

    def warning(self, notice: Notice) -> None:
        self.progress.console.print(f"[yellow]warning:[/] {escape(notice.one_line())}")


def summary_table(report: BuildReport) -> Table:
    """One row per episode: status, segments synthesized/reused, duration, file."""
    table = Table(title="build summary")
    for col in ("episode", "status", "synthesized", "reused", "duration", "audio"):
        table.add_column(col)
    for e in report.episodes:
        m, s = divmod(round(e.duration), 60)
        table.add_row(
            e.slug, e.status, str(e.synthesized), str(e.reused), f"{m}:{s:02d}", e.audio or "-"
        )
    table.caption = (
        f"segments: {report.synthesized} synthesized, {report.reused} reused; "
        f"feed: {report.feed or '-'}"
    )
    return table
