"""Scheduling the build's work: which episodes wait for which segments, and importing the
assembly modules while the workers synthesize."""

from __future__ import annotations

import importlib
import threading
from collections import deque
from collections.abc import Sequence

ASSEMBLY_MODULES = (
    "pangocast.audio.delivery",
    "pangocast.audio.mp3",
    "pangocast.publish.transcripts",
    "pangocast.publish.shownotes",
    "pangocast.publish.feed",
    "pangocast.publish.site",
    "scipy.signal",  # loudness imports it on first use
    "pyloudnorm.iirfilter",
)
"""What assembling and publishing episodes imports. scipy's signal package alone takes
1-2.5 s to import: a build that synthesizes imports them while its workers make the
segments, so a one-sentence edit does not wait for them after its segment is made."""


CLUSTER_MODULES = ("pangocast.voice.cluster",)
"""What synthesizing on a Dask cluster imports (``distributed``: 1.5-2 s)."""


def preload(modules: Sequence[str]) -> None:
    """Import ``modules`` in a background thread. A module the build then imports while
    the thread is at it waits for that import to finish (Python's module locks); one that
    fails to import fails again, with its real error, where the build imports it."""

    def load() -> None:
        for name in modules:
            try:
                importlib.import_module(name)
            except Exception:  # reported by the build's own import of it
                return

    threading.Thread(target=load, name="pangocast-preload", daemon=True).start()


class Waiting:
    """Which episodes still wait for segments, and which are ready to assemble."""

    def __init__(self) -> None:
        self._missing: dict[int, set[str]] = {}
        self._episodes_of: dict[str, list[int]] = {}
        self._finished: set[int] = set()
        self.ready: deque[int] = deque()
        """Episodes (by index) whose segments are all in, in the order they got ready."""

    def track(self, episode: int, missing: set[str]) -> None:
        """Episode ``episode`` waits for the segments ``missing`` (again, after a re-plan)."""
        self._missing[episode] = set(missing)
        for key in missing:
            self._episodes_of.setdefault(key, []).append(episode)
        if not missing:
            self.ready.append(episode)

    def done(self, key: str) -> None:
        """Segment ``key`` is in the cache."""
        for episode in self._episodes_of.pop(key, ()):
            waiting = self._missing[episode]
            if key in waiting:
                waiting.discard(key)
                if not waiting:
                    self.ready.append(episode)

    def finish(self, episode: int) -> bool:
        """Mark ``episode`` finished; False when it already was."""
        if episode in self._finished:
            return False
        self._finished.add(episode)
        return True
