"""The build's audiograms: which videos each episode gets, rendering only those not on disk
yet, and the episodes (as the feed and the site see them) with their videos attached.

They are rendered after every episode is delivered and before publishing, so the pages
that link them are written after them; a video already under ``output/audiograms/`` with
its key in the name is the same video and is kept (a build with nothing changed renders
none). With audiograms off, the episodes carry none, and publishing prunes the old ones.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pangocast.core.errors import Notice, PangocastError
from pangocast.pipeline.events import BuildEvents
from pangocast.publish.manifest import Audiogram, BuiltEpisode
from pangocast.publish.soundbites import soundbites

if TYPE_CHECKING:
    from pangocast.publish.audiogram import AudiogramJob

__all__ = ["attach_audiograms"]


def _planned(
    ep: BuiltEpisode, output: Path, cover: str | None, whole: bool
) -> list[tuple[Audiogram, AudiogramJob]]:
    """The episode's videos (their file names carry their keys), each with its job."""
    from pangocast.publish.audiogram import AudiogramJob, clip_cues
    from pangocast.publish.audiogram_frame import LAYOUTS

    spans: list[tuple[Literal["soundbite", "episode"], float, float, str]] = [
        ("soundbite", b.start, b.duration, f"{round(b.start)}s")
        for b in soundbites(ep.turns, ep.highlights, ep.duration)
    ]
    if whole:
        spans.append(("episode", 0.0, ep.duration, "episode"))
    out: list[tuple[Audiogram, AudiogramJob]] = []
    for clip, start, duration, tag in spans:
        captions = clip_cues(ep.turns, start, duration)
        for size in LAYOUTS:
            job = AudiogramJob(
                audio=output / ep.audio,
                start=start,
                duration=duration,
                captions=captions,
                cover=output / cover if cover else None,
                title=ep.title,
                size=size,
            )
            record = Audiogram(clip, start, duration, size, f"audiograms/{ep.slug}-{tag}-{size}")
            out.append((record, job))
    return out


def attach_audiograms(
    built: dict[str, BuiltEpisode],
    output: Path,
    cover: str | None,
    *,
    enabled: bool,
    whole_episodes: bool,
    events: BuildEvents,
    keep_going: bool = False,
) -> None:
    """Give every episode of ``built`` its audiograms (rendering the missing ones), or
    none when not ``enabled``; ``built`` is updated in place.

    Raises:
        PangocastError: no CJK font is installed, or a video could not be rendered
            (without ``keep_going``; with it, a warning, and that video is left out).
    """
    planned = (
        {slug: _planned(ep, output, cover, whole_episodes) for slug, ep in built.items()}
        if enabled
        else {}
    )
    if not any(planned.values()):
        for slug, ep in built.items():
            if ep.audiograms:
                built[slug] = replace(ep, audiograms=())
        return
    from pangocast.publish.audiogram import audiogram_font, audiogram_key, render_audiogram

    font = audiogram_font()
    videos: dict[str, list[tuple[Audiogram, AudiogramJob]]] = {}
    for slug, jobs in planned.items():
        named = []
        for record, job in jobs:
            key = audiogram_key(job, font)[:10]
            named.append((replace(record, file=f"{record.file}-{key}.mp4"), job))
        videos[slug] = named
    todo = [
        (r, j) for named in videos.values() for r, j in named if not (output / r.file).is_file()
    ]
    if todo:
        events.audiograms_planned(len(todo), sum(r.duration for r, _ in todo))
    failed: set[str] = set()
    for record, job in todo:
        try:
            render_audiogram(job, output / record.file, font)
        except PangocastError as exc:
            if not keep_going:
                raise
            events.warning(Notice(exc.what, exc.path, exc.line, exc.hint))
            failed.add(record.file)
            continue
        events.audiogram_done(record.file, record.duration)
    for slug, named in videos.items():
        kept = tuple(r for r, _ in named if r.file not in failed)
        if kept != built[slug].audiograms:
            built[slug] = replace(built[slug], audiograms=kept)
