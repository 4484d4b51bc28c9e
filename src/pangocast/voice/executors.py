"""Where segments are synthesized: a pool on this machine, or a Dask cluster.

One interface, :class:`SegmentWorkers` (``submit`` a job, get a
:class:`concurrent.futures.Future`), three kinds chosen by :func:`open_workers`:

- offline engines, locally: spawned worker processes, each creating its engine once;
- online engines: threads (the engine bounds its own concurrency; a cluster would add
  nothing to waiting on a web service);
- offline engines on a cluster (``--cluster tcp://HOST:PORT``): tasks on a Dask
  ``distributed`` cluster (:mod:`pangocast.voice.cluster`, imported only then: importing
  ``distributed`` takes 1.5 s).
"""

from __future__ import annotations

import multiprocessing
from abc import ABC, abstractmethod
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from types import TracebackType
from typing import TYPE_CHECKING, Any

from pangocast.voice.engines import Engine
from pangocast.voice.segments import SegmentStore

if TYPE_CHECKING:
    from pangocast.voice.synth import SegmentJob, SegmentResult


class SegmentWorkers(ABC):
    """Runs segment jobs somewhere; a context manager that stops them on the way out."""

    executor: Executor

    @abstractmethod
    def submit(self, job: SegmentJob) -> Future[Any]:
        """Start ``job``: the future's value is a ``SegmentResult`` (its ``audio`` set when
        the caller must store it) or the ``PangocastError`` the segment failed with."""

    def outcome(self, fut: Future[Any]) -> object:
        """The finished ``fut``'s value (see :meth:`submit`); raises what the job raised."""
        return fut.result()

    def close(self) -> None:
        """Stop the workers (pending jobs were cancelled by the caller)."""
        self.executor.shutdown(wait=True)

    def __enter__(self) -> SegmentWorkers:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


_worker_engine: Engine | None = None


def _init_worker(cls: type[Engine]) -> None:
    # The class itself, not its registry name: an engine registered at run time is not in
    # a spawned worker's registry, but its class is importable there (pickled by name).
    global _worker_engine
    _worker_engine = cls()


def _run_job(job: SegmentJob, cache: SegmentStore) -> SegmentResult:
    from pangocast.voice.synth import run_one

    assert _worker_engine is not None  # set by _init_worker
    return run_one(_worker_engine, job, cache)


class ProcessWorkers(SegmentWorkers):
    """Spawned processes on this machine, one engine each."""

    def __init__(self, cls: type[Engine], cache: SegmentStore, workers: int) -> None:
        self.cache = cache
        self.executor = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_worker,
            initargs=(cls,),
        )

    def submit(self, job: SegmentJob) -> Future[Any]:
        return self.executor.submit(_run_job, job, self.cache)


class ThreadWorkers(SegmentWorkers):
    """Threads of this process sharing one engine (online engines)."""

    def __init__(self, engine: Engine, cache: SegmentStore, workers: int) -> None:
        self.engine = engine
        self.cache = cache
        self.executor = ThreadPoolExecutor(max_workers=workers)

    def submit(self, job: SegmentJob) -> Future[Any]:
        from pangocast.voice.synth import run_one

        return self.executor.submit(run_one, self.engine, job, self.cache)


def open_workers(
    cls: type[Engine],
    engine: Engine,
    cache: SegmentStore,
    *,
    workers: int,
    cluster: str | None = None,
) -> SegmentWorkers:
    """The workers for jobs of the engine class ``cls`` (``engine``: its instance here, the
    one threads share); ``cluster`` (a scheduler address) is used for offline engines.

    Raises:
        BuildError: the cluster cannot be reached or cannot create the engine.
    """
    if not cls.offline:
        return ThreadWorkers(engine, cache, workers)
    if cluster:
        from pangocast.voice.cluster import ClusterWorkers, connect

        return ClusterWorkers(connect(cluster), cls, cache)
    return ProcessWorkers(cls, cache, workers)
