"""Quick listening: a short clip of an episode's first turns."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from pangocast.audio.timeline import assemble
from pangocast.core.project import DEFAULT_LANGUAGE, Project, show_if_any
from pangocast.pipeline.episode import engine_rate
from pangocast.pipeline.turn_prep import voice_cached_turn
from pangocast.script.catalogue import load_episodes, select
from pangocast.voice.casting import load_casting
from pangocast.voice.engines import choose_engine, get_engine
from pangocast.voice.lexicon import load_lexicon
from pangocast.voice.plan import Planner
from pangocast.voice.segments import SegmentCache
from pangocast.voice.synth import synthesize_missing

PREVIEW_DIR = "preview"


def _planner(project: Project, engine: str, language: str) -> Planner:
    rules = load_casting(project.voices).for_engine(engine)
    return Planner(get_engine(engine), rules, load_lexicon(project.voices), language=language)


def preview(project: Project, episode: str, *, turns: int = 3, engine: str | None = None) -> Path:
    """Render the first ``turns`` spoken turns of ``episode`` to ``output/preview/<slug>.mp3``.

    Uses (and fills) the segment cache, so a preview speeds up the full build. Without an
    ``engine``, the show's (``feeds/show.toml``), else the default one.

    Raises:
        PangocastError: bad episode name, scripts, casting or engine.
    """
    from pangocast.audio import mp3 as encode
    from pangocast.audio.delivery import deliver
    from pangocast.audio.pacing import load_pacing, pause_between

    (ep,) = select(load_episodes(project), [episode])[:1]
    spoken = [t for t in ep.turns if t.spoken][:turns]
    ep = replace(ep, turns=tuple(spoken))
    show = show_if_any(project)
    engine = choose_engine(engine, show)
    planner = _planner(project, engine, show.language if show else DEFAULT_LANGUAGE)
    plan = planner.plan(ep, show_title="", intro=False)
    cache = SegmentCache(project.segments)
    report = synthesize_missing(engine, plan.jobs(), cache, workers=1)
    if report.failed:
        raise next(iter(report.failed.values()))
    pacing = load_pacing(project)
    rate = engine_rate(plan, cache)
    timeline = assemble(
        [voice_cached_turn(tp, cache, rate, pacing.sentence) for tp in plan.turns],
        rate,
        gap=lambda a, b: pause_between(a, b, pacing),
    )
    assert ep.meta is not None
    out = project.output / PREVIEW_DIR / f"{ep.meta.slug}.mp3"
    out.parent.mkdir(parents=True, exist_ok=True)
    deliver(
        timeline.audio,
        out,
        encode.Id3Tags(
            title=f"{ep.meta.title} (preview)", artist="", album="", date="", comment="", cover=None
        ),
    )
    return out
