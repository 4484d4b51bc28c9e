"""Producing an iterator's items in a background thread, a few ahead of their consumer.

Decoding an MP3 (libsndfile, ffmpeg's pipe) releases the GIL, and so does most of measuring
what it decoded (scipy's filters, numpy): with the decoder in its own thread the two run on
two cores instead of one after the other.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")

_POLL = 0.05
"""Seconds between checks, by a producer facing a full queue, that the consumer is still there."""


@dataclass(frozen=True)
class _End:
    error: BaseException | None = None


def read_ahead(
    items: Iterator[T], depth: int = 4, name: str = "pangocast-read-ahead"
) -> Iterator[T]:
    """``items``, produced by a background thread at most ``depth`` ahead of the caller.

    An exception raised by ``items`` is raised here, in order, after the items before it.
    When the caller stops early (``break``, an exception, closing this generator) the
    thread stops at its next item and closes ``items`` itself; this generator returns
    only once the thread has ended.
    """
    handoff: queue.Queue[T | _End] = queue.Queue(depth)
    stop = threading.Event()

    def put(entry: T | _End) -> bool:
        while not stop.is_set():
            try:
                handoff.put(entry, timeout=_POLL)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put(item):
                    return
            put(_End())
        except BaseException as exc:  # handed to the consumer, raised there
            put(_End(exc))
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()

    thread = threading.Thread(target=produce, name=name, daemon=True)
    thread.start()
    try:
        while True:
            value = handoff.get()
            if isinstance(value, _End):
                if value.error is not None:
                    raise value.error
                return
            yield value
    finally:
        stop.set()
        thread.join()
