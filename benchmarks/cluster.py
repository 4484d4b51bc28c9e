"""Build time on the local process pool vs a two-worker Dask cluster on the same cores.

Run from the repository root::

    python benchmarks/cluster.py                         # 1 episode of the show, espeak
    python benchmarks/cluster.py --episodes 2 --s3       # also the cache in a bucket
    python benchmarks/cluster.py --engine neural --repeat 3

Each build is a cold ``pangocast build`` (empty cache and output/) of a fresh copy of the
bundled show's first ``--episodes`` scripts, run as a ``python -m pangocast_cli``
subprocess, as a producer runs it:

- local: ``--jobs 2``, the spawned process pool (one per core);
- cluster: ``--cluster tcp://…`` with a ``dask scheduler`` and two ``dask worker
  --nthreads 1`` on this machine (started before the timing, as a standing cluster is;
  each worker loads its engine during the build, as a pool worker does); the cache is
  local, so the workers send each segment's audio back;
- cluster+s3 (``--s3``): the same with ``--cache s3://…`` in SeaweedFS (``weed mini``):
  the workers write to the bucket, the build reads from it.

Efficiency is the local build's time over the cluster build's (goal: at least 85 %). The
runs alternate (local, cluster, cluster+s3, local, …); the table gives the median and the
best of the ``--repeat`` runs of each, since the machine may be shared (the best run is
the one other load disturbed least). The servers come from ``tests/servers.py``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.servers import start_dask, start_seaweed, worker_env  # noqa: E402

SHOW_DIRS = ("voices", "feeds", "audio")


def make_copy(dest: Path, episodes: int) -> Path:
    for d in SHOW_DIRS:
        shutil.copytree(ROOT / d, dest / d)
    (dest / "scripts").mkdir()
    for s in sorted((ROOT / "scripts").glob("*.txt"))[:episodes]:
        shutil.copy2(s, dest / "scripts" / s.name)
    return dest


def timed_build(root: Path, args: list[str], env: dict[str, str]) -> float:
    cmd = [sys.executable, "-m", "pangocast_cli", "-q", "--project", str(root), "build", *args]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    took = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"build failed: {' '.join(cmd)}\n{proc.stderr}")
    return took


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--episodes", type=int, default=1)
    ap.add_argument("--engine", default="espeak")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--s3", action="store_true", help="also the cache in a SeaweedFS bucket")
    a = ap.parse_args()

    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="pangocast-bench-")))
        s3env: dict[str, str] = {}
        if a.s3:
            s3env = stack.enter_context(start_seaweed(tmp / "weed" / "data"))
        cluster = stack.enter_context(start_dask(tmp / "dask", 2, s3env))
        env = worker_env(s3env)
        kinds: dict[str, list[str]] = {
            "local pool (--jobs 2)": ["--jobs", "2"],
            "cluster, 2 workers": ["--cluster", cluster.address],
        }
        if a.s3:
            kinds["cluster, 2 workers, s3 cache"] = [
                "--cluster",
                cluster.address,
                "--cache",
                "s3://pangocast-bench/run",
            ]
            # SeaweedFS creates the bucket on its first PUT
            import obstore
            from obstore.store import S3Store

            store = S3Store(
                "pangocast-bench",
                endpoint=s3env["AWS_ENDPOINT_URL"],
                access_key_id=s3env["AWS_ACCESS_KEY_ID"],
                secret_access_key=s3env["AWS_SECRET_ACCESS_KEY"],
                client_options={"allow_http": True},
            )
            obstore.put(store, "README", b"bench")
        times: dict[str, list[float]] = {k: [] for k in kinds}
        for r in range(a.repeat):
            for i, (name, extra) in enumerate(kinds.items()):
                root = make_copy(tmp / f"show-{r}-{i}", a.episodes)
                if "--cache" in extra:
                    extra = [*extra[:-1], f"{extra[-1]}-{r}"]  # a fresh, empty prefix
                took = timed_build(root, ["--engine", a.engine, *extra], env)
                times[name].append(took)
                print(f"... {name}: {took:.1f} s", file=sys.stderr, flush=True)
                shutil.rmtree(root)

    cores = os.cpu_count()
    print(f"{a.episodes} episode(s), engine {a.engine}, {cores} cores, {a.repeat} run(s) each")
    print(f"  {'':30} {'median':>8} {'best':>8}  efficiency (median / best; goal >= 85 %)")
    base = times["local pool (--jobs 2)"]
    for name, ts in times.items():
        med, best = statistics.median(ts), min(ts)
        eff = (
            ""
            if ts is base
            else f"  {statistics.median(base) / med:6.1%} / {min(base) / best:6.1%}"
        )
        print(f"  {name:30} {med:7.1f}s {best:7.1f}s{eff}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
