"""Segments synthesized on a Dask ``distributed`` cluster (``--cluster tcp://HOST:PORT``).

Each task's Dask future is mirrored by a :class:`concurrent.futures.Future` (what
``client.get_executor()`` does, minus its race on Ctrl-C: a task finishing just as the
build cancels it made distributed log a traceback), so the build collects them as it
collects a local pool's. An :class:`EnginePlugin` creates the
engine once per worker (a worker that joins later gets it too); workers must have the
same Pangocast (and the engine's prerequisites) installed. A worker that dies mid-task
costs that task a retry on another worker (Dask reschedules it), not the build. Workers
write to a shared cache (S3) themselves; with a local cache they send the audio back and
the build stores it.

A failure of the segment itself (:class:`~pangocast.core.errors.PangocastError`) comes
back as the task's value rather than raised, so Dask does not retry what would only fail
again; only unexpected errors are retried (:data:`RETRIES`).
"""

from __future__ import annotations

import contextlib
import threading
from concurrent.futures import CancelledError, Future, InvalidStateError
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from distributed import Client, get_worker
from distributed import Future as DaskFuture
from distributed.diagnostics.plugin import WorkerPlugin

from pangocast.core.errors import BuildError, PangocastError, SynthesisError
from pangocast.voice.engines import Engine
from pangocast.voice.executors import SegmentWorkers
from pangocast.voice.segments import SegmentStore

if TYPE_CHECKING:
    from pangocast.voice.synth import SegmentJob

CONNECT_TIMEOUT = 3.0
"""Seconds to reach the scheduler, and again to see a first worker, before giving up."""

RETRIES = 2
"""Extra tries of a task that failed unexpectedly (a lost worker is rescheduled anyway)."""


def _plugin_name(cls: type[Engine]) -> str:
    return f"pangocast-engine:{cls.__module__}.{cls.__qualname__}"


class EnginePlugin(WorkerPlugin):
    """Creates the engine once per Dask worker, when the worker gets the plugin."""

    engine: Engine | None = None
    lock: threading.Lock | None = None
    jobs = 0
    """Segments this worker synthesized (tests and diagnostics read it)."""

    def __init__(self, cls: type[Engine]) -> None:
        self.cls = cls
        self.name = _plugin_name(cls)

    def setup(self, worker: Any) -> None:
        # made here, on the worker: an engine (a loaded model) never travels pickled
        self.engine = self.cls()
        self.lock = threading.Lock()


def _cluster_job(job: SegmentJob, cache: SegmentStore, plugin: str) -> object:
    """A segment on a Dask worker, with the worker's engine (see module)."""
    from pangocast.voice.synth import synthesize_one

    p = get_worker().plugins[plugin]
    assert isinstance(p, EnginePlugin)
    assert p.engine is not None and p.lock is not None  # set by setup
    try:
        # engines are not thread-safe: a worker started with more threads runs one at a time
        with p.lock:
            result, audio = synthesize_one(p.engine, job)
            p.jobs += 1
        if cache.shared:
            cache.put(job.key, audio)
            return result
        return replace(result, audio=audio)
    except PangocastError as exc:
        return exc


class ClusterWorkers(SegmentWorkers):
    """Tasks on a Dask cluster (see module)."""

    def __init__(self, client: Client, cls: type[Engine], cache: SegmentStore) -> None:
        self.client = client
        self.cache = cache
        self.plugin = _plugin_name(cls)
        try:
            client.register_plugin(EnginePlugin(cls), name=self.plugin)
        except Exception as exc:
            client.close()
            raise BuildError(
                f"the cluster's workers cannot create the engine: {exc}",
                hint="install the same pangocast (and the engine's prerequisites) on them",
            ) from exc
        self._tasks: list[DaskFuture[Any]] = []

    def submit(self, job: SegmentJob) -> Future[Any]:
        task = self.client.submit(
            _cluster_job, job, self.cache, self.plugin, retries=RETRIES, pure=False
        )
        mirror: Future[Any] = Future()

        def finished(task: DaskFuture[Any]) -> None:  # in a thread of the client
            try:
                value = task.result()
            except BaseException as exc:
                with contextlib.suppress(InvalidStateError):  # cancelled by the build
                    mirror.set_exception(exc)
            else:
                with contextlib.suppress(InvalidStateError):
                    mirror.set_result(value)

        def cancelled(mirror: Future[Any]) -> None:
            if mirror.cancelled():
                task.cancel()

        task.add_done_callback(finished)
        mirror.add_done_callback(cancelled)
        self._tasks.append(task)
        return mirror

    def outcome(self, fut: Future[Any]) -> object:
        """A task that stopped every worker it ran on comes back as a SynthesisError.

        Raises:
            BuildError: the cluster was lost.
        """
        from distributed import KilledWorker

        try:
            return fut.result()
        except KilledWorker:
            return SynthesisError(
                "the segment's task stopped every Dask worker that ran it",
                hint="see the workers' logs (out of memory?); build again to retry",
            )
        except (CancelledError, OSError) as exc:
            raise BuildError(
                f"lost the Dask cluster: {exc or type(exc).__name__}",
                hint="finished segments are cached; build again when the scheduler is back",
            ) from exc

    def close(self) -> None:
        try:
            self.client.cancel([t for t in self._tasks if not t.done()])
        finally:
            self.client.close()


def connect(address: str) -> Client:
    """A client of the Dask scheduler at ``address``, once it has a worker.

    Raises:
        BuildError: the scheduler cannot be reached, or no worker joins, within
            :data:`CONNECT_TIMEOUT` seconds.
    """
    import dask

    hint = "start `dask scheduler` and `dask worker` there, or fix --cluster / PANGOCAST_CLUSTER"
    with dask.config.set({"distributed.comm.timeouts.connect": f"{CONNECT_TIMEOUT}s"}):
        try:
            client = Client(address, timeout=CONNECT_TIMEOUT, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as exc:
            raise BuildError(f"cannot reach the Dask cluster at {address}", hint=hint) from exc
    try:
        client.wait_for_workers(1, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError) as exc:
        client.close()
        raise BuildError(f"the Dask cluster at {address} has no workers", hint=hint) from exc
    return client
