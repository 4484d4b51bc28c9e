"""Trimming the segment cache to what the show's scripts still need.

A cache key is a hash: it does not say which engine or script made the segment. What the
scripts need is worked out the way a build works it out (plan every episode with the
current casting and lexicon), once per engine to keep, and everything else goes. Pruning
holds the show's build lock, so it never removes a segment a running build is writing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pangocast.core.project import Project, load_show
from pangocast.publish.output import build_lock
from pangocast.script.catalogue import load_episodes
from pangocast.voice.casting import load_casting
from pangocast.voice.engines import engine_class, get_engine
from pangocast.voice.lexicon import load_lexicon
from pangocast.voice.plan import Planner
from pangocast.voice.segments import CacheStats, open_cache


@dataclass(frozen=True)
class PruneReport:
    """What a prune removed and kept."""

    removed: CacheStats
    kept: CacheStats
    engines: tuple[str, ...]
    """The engines whose segments were kept."""


def referenced_keys(project: Project, engine: str) -> set[str]:
    """Cache keys every current script needs with ``engine``'s current casting and lexicon
    (the spoken intro and outro included).

    Raises:
        PangocastError: bad scripts, casting or show file, or an unusable engine.
    """
    show = load_show(project)
    rules = load_casting(project.voices).for_engine(engine)
    lexicon = load_lexicon(project.voices)
    planner = Planner(get_engine(engine), rules, lexicon, language=show.language)
    keys: set[str] = set()
    for ep in load_episodes(project):
        keys.update(j.key for j in planner.plan_in_show(ep, show).jobs())
    return keys


def prune_cache(
    project: Project, engines: Sequence[str] = (), cache: str | None = None
) -> PruneReport:
    """Remove every cached segment that no script needs with any of ``engines`` (default:
    every engine ``voices/casting.toml`` casts), and temporary files a killed build left,
    from ``cache`` (``s3://BUCKET/PREFIX`` or a folder; default: the show's own).

    Everything is planned before anything is removed: a bad script or casting file stops
    the prune with the cache untouched.

    Raises:
        PangocastError: bad scripts or casting, an unknown or unusable engine, or another
            build of the show is running.
    """
    names = tuple(dict.fromkeys(engines)) or tuple(load_casting(project.voices).engines)
    for name in names:
        engine_class(name)  # an unknown name is reported before any planning
    with build_lock(project.root):
        keep: set[str] = set()
        for name in names:
            keep |= referenced_keys(project, name)
        store = open_cache(cache, project.segments)
        removed = store.prune(keep)
        return PruneReport(removed, store.stats(), names)
