"""Whole-show build: overhead over the engine, incremental rebuilds, parallelism, memory.

Run from the repository root::

    python benchmarks/build.py                      # the bundled show, neural engine (~20 min)
    python benchmarks/build.py --episodes 1 --engine espeak   # a quick variant

Everything runs on a copy of the show in a temporary folder (scripts/, voices/, feeds/ and
audio/ copied; its own segment cache and output/). Builds run as ``python -m pangocast_cli``
subprocesses, exactly as a producer runs them; their memory is the summed resident size of
the build process and all its descendants (pool workers, ffmpeg; a fork that has not yet
exec'd its program shares its parent's pages and is not counted twice), sampled from /proc
every 100 ms. Sampling costs this process about 2.5 % of a core, taken from the same two
cores the build uses, so the floor runs as a subprocess under the same sampler: both
sides of the overhead ratio pay it alike. Measured side by side, in this order:

- floor: the raw engine time for the same segments with the same parallelism (a spawned
  process pool, each worker creating its engine once, running only ``engine.synthesize``
  over the build's job list, in the build's order), timed inside that subprocess from the
  pool's start (planning the jobs is not counted);
- cold: a whole-show build into an empty cache and output/;
- baseline (``--baseline DIR``, a checkout of another version, e.g. ``git worktree add
  /tmp/base <commit>``): the same cold build with that version's sources and show (its
  casting), for the cold / baseline ratio;
- no-change: the same build again (median of ``--repeat``), and which output files it
  rewrote;
- one-sentence edits: ``--repeat`` of them, one after the other, each changing another
  sentence of the same episode (a build is one sample, so the table gives each ratio and
  their median); each build must synthesize exactly the edited sentence's segment. The
  reference is that segment's synthesis by a fresh engine in a new
  process (the engine's libraries imported and its model loaded, as the build must; the
  interpreter's start-up is not counted; the engine reads the show's cache as the build's
  worker does, before the build, so both find the English clips earlier builds made) plus
  that episode's assembly, mastering and encoding from the warm cache, measured in this
  process with every module already imported (the build imports them too, while it
  synthesizes);
- serial: the cold build again with ``--jobs 1``, for the parallel speed-up;
- start-up: ``pangocast --help``.

The machine may be shared: the table gives wall times of single cold runs (repeat the whole
benchmark to see the spread) and medians for the short ones.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SHOW_DIRS = ("voices", "feeds", "audio")
PAGE = os.sysconf("SC_PAGE_SIZE")
SAMPLE_EVERY = 0.1  # s between memory samples


# -- measuring a subprocess ----------------------------------------------------------------


def _children_of() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(b")") + 2 :].split()[1])
        tree.setdefault(ppid, []).append(int(entry.name))
    return tree


def _cmdline(pid: int) -> bytes:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read()
    except OSError:
        return b""


def _tree_rss(root: int) -> int:
    """Summed resident bytes of ``root`` and all its descendants.

    A child with its parent's command line is a fork that has not yet exec'd its
    program (a worker starting ffmpeg): it shares the parent's pages, so it is skipped
    rather than counted twice.
    """
    tree = _children_of()
    total, todo = 0, [(root, b"")]
    while todo:
        pid, parent_cmd = todo.pop()
        cmd = _cmdline(pid)
        todo.extend((child, cmd) for child in tree.get(pid, ()))
        if parent_cmd and cmd == parent_cmd:
            continue
        try:
            with open(f"/proc/{pid}/statm", "rb") as f:
                total += int(f.read().split()[1]) * PAGE
        except (OSError, IndexError, ValueError):
            continue
    return total


@dataclass
class Run:
    """One subprocess run."""

    wall: float
    cpu: float
    """User + system seconds of the process and every descendant it waited for."""
    peak_rss: int
    """Highest summed RSS of the process tree seen (bytes)."""
    returncode: int
    stderr: str = ""
    stdout: str = ""


def run_measured(cmd: Sequence[str], env: dict[str, str], cwd: Path | None = None) -> Run:
    """Run ``cmd``, sampling the RSS of its process tree; wall, CPU and peak memory."""
    proc = subprocess.Popen(
        cmd, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    return _measure(proc)


def _measure(proc: subprocess.Popen[str]) -> Run:
    """Wait for ``proc`` (just started), sampling the RSS of its process tree."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _tree_rss(proc.pid))
            done.wait(SAMPLE_EVERY)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = proc.communicate()
    wall = time.perf_counter() - started
    done.set()
    sampler.join()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Run(wall, cpu, peak, proc.returncode, err, out or "")


# -- the show copy -------------------------------------------------------------------------


@dataclass
class Bench:
    """The show copy and how to build it."""

    root: Path
    engine: str
    jobs: int | None
    src: Path
    env: dict[str, str] = field(default_factory=dict)

    def build_cmd(self, *extra: str, jobs: int | None = None) -> list[str]:
        cmd = [sys.executable, "-m", "pangocast_cli", "--project", str(self.root), "--quiet"]
        cmd += ["build", "--engine", self.engine]
        j = jobs if jobs is not None else self.jobs
        if j is not None:
            cmd += ["--jobs", str(j)]
        return [*cmd, *extra]

    def build(self, *extra: str, jobs: int | None = None) -> Run:
        run = run_measured(self.build_cmd(*extra, jobs=jobs), self.env)
        if run.returncode != 0:
            raise SystemExit(f"build failed ({run.returncode}):\n{run.stderr}")
        return run

    def clean(self) -> None:
        for d in ("output", ".cache"):
            shutil.rmtree(self.root / d, ignore_errors=True)

    def cache_entries(self) -> set[str]:
        seg = self.root / ".cache" / "segments"
        return {p.stem for p in seg.glob("??/*.wav")} if seg.is_dir() else set()

    def output_state(self) -> dict[str, tuple[int, int]]:
        out = self.root / "output"
        return {
            str(p.relative_to(out)): (p.stat().st_mtime_ns, p.stat().st_size)
            for p in out.rglob("*")
            if p.is_file()
        }


def make_copy(dest: Path, episodes: int | None, source: Path = ROOT) -> None:
    for d in SHOW_DIRS:
        shutil.copytree(source / d, dest / d)
    scripts = sorted((source / "scripts").glob("*.txt"))
    (dest / "scripts").mkdir()
    for s in scripts[:episodes] if episodes else scripts:
        shutil.copy2(s, dest / "scripts" / s.name)


# -- in-process parts (library calls) ------------------------------------------------------


def plans(root: Path, engine: str) -> list[Any]:
    from pangocast.core.project import Project, load_show
    from pangocast.script.catalogue import load_episodes
    from pangocast.voice.casting import load_casting
    from pangocast.voice.engines import get_engine
    from pangocast.voice.lexicon import load_lexicon
    from pangocast.voice.plan import Planner

    project = Project(root)
    show = load_show(project)
    rules = load_casting(project.voices).for_engine(engine)
    lexicon = load_lexicon(project.voices)
    planner = Planner(get_engine(engine), rules, lexicon, language=show.language)
    return [planner.plan_in_show(ep, show) for ep in load_episodes(project)]


def unique_jobs(all_plans: Sequence[Any]) -> list[Any]:
    """The build's segment jobs, each key once, in the order the build submits them."""
    from pangocast.voice.plan import all_jobs

    seen: dict[str, Any] = {}
    for j in all_jobs(all_plans):
        seen.setdefault(j.key, j)
    return list(seen.values())


_engine: Any = None


def _init(name: str) -> None:
    global _engine
    from pangocast.voice.engines import get_engine

    _engine = get_engine(name)


def _synth(text: str, voice: Any) -> float:
    return float(_engine.synthesize(text, voice).duration)


def floor(engine: str, jobs: Sequence[Any], workers: int) -> tuple[float, float]:
    """Wall seconds for a spawned pool to synthesize ``jobs``; seconds of audio made."""
    import multiprocessing

    started = time.perf_counter()
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=ctx, initializer=_init, initargs=(engine,)) as ex:
        futures = [ex.submit(_synth, j.text, j.voice) for j in jobs]
        audio = sum(f.result() for f in futures)
    return time.perf_counter() - started, audio


def floor_in_subprocess(bench: Bench, workers: int) -> tuple[float, float, Run]:
    """:func:`floor` run by this script in a child process (``--floor-of``), measured
    like the builds: its wall time from the pool's start, seconds of audio, and the run."""
    cmd = [sys.executable, __file__, "--floor-of", str(bench.root), "--engine", bench.engine]
    cmd += ["--jobs", str(workers), "--src", str(bench.src)]
    proc = subprocess.Popen(
        cmd, env=bench.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    run = _measure(proc)
    if run.returncode != 0:
        raise SystemExit(f"floor failed ({run.returncode}):\n{run.stderr}")
    result = json.loads(run.stdout.strip().splitlines()[-1])
    return float(result["wall"]), float(result["audio"]), run


def one_segment_seconds(bench: Bench, job: Any, store: Path | None = None) -> float:
    """A fresh engine synthesizing one segment, as a build that makes one segment does:
    in a new process (``--segment``), the engine's libraries imported, its model loaded,
    the segment synthesized; timed inside that process (interpreter start-up excluded).

    ``store``: the show's segment cache, which the engine reads as a build's worker does
    (English clips an earlier build made are reused, not made again); nothing is written
    to it, so the build measured next finds it as it was."""
    voice = [job.voice.engine, job.voice.id, dict(job.voice.prosody)]
    spec = json.dumps(
        {"text": job.text, "voice": voice, "store": str(store) if store else None},
        ensure_ascii=False,
    )
    cmd = [sys.executable, __file__, "--segment", spec, "--src", str(bench.src)]
    out = subprocess.run(cmd, env=bench.env, capture_output=True, text=True, check=True)
    return float(json.loads(out.stdout.strip().splitlines()[-1])["seconds"])


def _segment_child(spec: str) -> float:
    data = json.loads(spec)
    started = time.perf_counter()
    from pangocast.voice.engines import get_engine
    from pangocast.voice.engines.base import Voice

    engine, voice_id, prosody = data["voice"]
    made = get_engine(engine)
    if data.get("store"):
        from pangocast.audio.pcm import Audio
        from pangocast.voice.segments import SegmentCache

        cache = SegmentCache(Path(data["store"]))

        class ReadOnly:
            """The show's cache, read as a build's worker reads it; writes are dropped."""

            def get(self, key: str) -> Audio | None:
                return cache.get(key)

            def put(self, key: str, audio: Audio) -> None:
                return None

        made.use_store(ReadOnly())
    made.synthesize(data["text"], Voice.make(engine, voice_id, prosody))
    return time.perf_counter() - started


def episode_seconds(root: Path, engine: str, slug: str) -> float:
    """Assembly, mastering, encoding and tagging of one episode from the warm cache, into a
    scratch output folder: the library's per-episode step, timed without the planning,
    cover and sting loading around it."""
    from pangocast.audio.jingles import load_or_make
    from pangocast.audio.pacing import load_pacing
    from pangocast.core.project import Project, load_show
    from pangocast.pipeline.episode import EpisodeDelivery, engine_rate
    from pangocast.pipeline.events import BuildEvents
    from pangocast.pipeline.publishing import publish_cover
    from pangocast.pipeline.schedule import ASSEMBLY_MODULES
    from pangocast.voice.segments import SegmentCache

    for module in ASSEMBLY_MODULES:  # imported, as the build imports them meanwhile
        importlib.import_module(module)
    project = Project(root)
    show = load_show(project)
    (plan,) = [p for p in plans(root, engine) if p.meta.slug == slug]
    cache = SegmentCache(project.cache / "segments")
    with tempfile.TemporaryDirectory() as scratch:
        scratch_project = Project(Path(scratch))  # the show's audio/, a scratch output/
        (scratch_project.root / "audio").symlink_to(project.audio.resolve())
        cover = publish_cover(project, show, scratch_project.output)
        sting = load_or_make(project.audio, "sting", rate=engine_rate(plan, cache))
        delivery = EpisodeDelivery(
            scratch_project, show, cache,
            load_pacing(project), engine, cover, BuildEvents(), None,
            made=set(), missing=set(), failed={}, built={},
        )  # fmt: skip
        started = time.perf_counter()
        delivery.assemble(plan, "0" * 64, 1, sting)
        return time.perf_counter() - started


# -- the one-sentence edit -----------------------------------------------------------------


SENTENCE = re.compile(r"[^。！？]{24,}。")


def edit_one_sentence(root: Path, engine: str, script: Path) -> tuple[Any, str]:
    """Change one long sentence of ``script`` ('。' -> '！'): exactly one new segment.

    Returns the new segment's job and the episode's slug.
    """
    before = {j.key for p in plans(root, engine) for j in p.jobs()}
    text = script.read_text(encoding="utf-8")
    body = text.index("+++", 3)
    for m in SENTENCE.finditer(text, body):
        line_start = text.rfind("\n", 0, m.start()) + 1
        if text[line_start : line_start + 1] in "#>%":
            continue
        edited = text[: m.end() - 1] + "！" + text[m.end() :]
        script.write_text(edited, encoding="utf-8")
        after = plans(root, engine)
        new = [j for p in after for j in p.jobs() if j.key not in before]
        if len({j.key for j in new}) == 1:
            slug = next(p.meta.slug for p in after if new[0] in p.jobs())
            return new[0], slug
        script.write_text(text, encoding="utf-8")
    raise SystemExit(f"no sentence of {script.name} makes exactly one new segment")


# -- report --------------------------------------------------------------------------------


@dataclass
class Edit:
    """One one-sentence edit: the build's wall time, the segments it made, its reference."""

    wall: float
    made: int
    segment: float
    episode: float

    @property
    def ratio(self) -> float:
        return self.wall / (self.segment + self.episode)


@dataclass
class Row:
    name: str
    value: str
    target: str
    ok: bool | None


def _gb(n: int) -> str:
    return f"{n / 1e9:.2f} GB"


def median(xs: Sequence[float]) -> float:
    return statistics.median(xs)


def print_table(rows: Sequence[Row]) -> None:
    w = [max(len(r.name) for r in rows), max(len(r.value) for r in rows)]
    w.append(max(len(r.target) for r in rows))
    head = f"{'metric':{w[0]}}  {'measured':>{w[1]}}  {'target':{w[2]}}  result"
    print(head)
    print("-" * len(head))
    for r in rows:
        verdict = "" if r.ok is None else ("PASS" if r.ok else "MISS")
        print(f"{r.name:{w[0]}}  {r.value:>{w[1]}}  {r.target:{w[2]}}  {verdict}")


@contextlib.contextmanager
def show_copy(keep: Path | None) -> Iterator[Path]:
    if keep is not None:
        shutil.rmtree(keep, ignore_errors=True)
        keep.mkdir(parents=True)
        yield keep
        return
    with tempfile.TemporaryDirectory(prefix="pangocast-bench-") as tmp:
        yield Path(tmp)


def step(label: str) -> Callable[[str], None]:
    print(f"... {label}", file=sys.stderr, flush=True)
    return lambda msg: print(f"    {msg}", file=sys.stderr, flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=None, help="first N scripts only")
    parser.add_argument("--engine", default="neural")
    parser.add_argument("--jobs", type=int, default=None, help="workers (default: cores)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of the short builds")
    parser.add_argument("--skip-serial", action="store_true", help="no --jobs 1 build")
    parser.add_argument("--keep", type=Path, default=None, help="build here and keep it")
    parser.add_argument(
        "--src", type=Path, default=ROOT / "src", help="pangocast sources to measure"
    )
    parser.add_argument(
        "--baseline",
        type=Path,
        default=None,
        help="a checkout of another version (its src/ and its show): its cold build too",
    )
    parser.add_argument("--floor-of", type=Path, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--segment", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    src = args.src.resolve()
    sys.path.insert(0, str(src))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(src), os.environ.get("PYTHONPATH", "")]))
    env.pop("PANGOCAST_NEURAL_THREADS", None)
    workers = args.jobs or os.cpu_count() or 1
    if args.segment is not None:  # the child of one_segment_seconds
        print(json.dumps({"seconds": _segment_child(args.segment)}))
        return 0
    if args.floor_of is not None:  # the child of floor_in_subprocess
        wall, audio = floor(args.engine, unique_jobs(plans(args.floor_of, args.engine)), workers)
        print(json.dumps({"wall": wall, "audio": audio}))
        return 0

    with show_copy(args.keep) as root:
        make_copy(root, args.episodes)
        bench = Bench(root, args.engine, args.jobs, src, env)
        all_plans = plans(root, args.engine)
        jobs = unique_jobs(all_plans)
        chars = sum(len(j.text) for j in jobs)
        print(
            f"show: {len(all_plans)} episodes, {len(jobs)} segments ({chars} characters),"
            f" engine {args.engine}, {workers} workers, {os.cpu_count()} cores; sources {src}"
        )
        # warm the per-user patched model file and the OS file cache for both sides alike
        one_segment_seconds(bench, jobs[0])

        log = step("floor: raw engine time, same jobs, same pool")
        floor_wall, audio, floor_run = floor_in_subprocess(bench, workers)
        log(
            f"{floor_wall:.1f} s for {audio / 3600:.2f} h of audio,"
            f" {floor_run.cpu:.0f} s CPU, peak {_gb(floor_run.peak_rss)}"
        )

        log = step("cold build")
        bench.clean()
        cold = bench.build()
        log(f"{cold.wall:.1f} s wall, {cold.cpu:.0f} s CPU, peak {_gb(cold.peak_rss)}")

        baseline = None
        if args.baseline is not None:
            log = step(f"cold build of the baseline {args.baseline}")
            base_src = (args.baseline / "src").resolve()
            base_env = dict(env, PYTHONPATH=os.pathsep.join([str(base_src), env["PYTHONPATH"]]))
            with show_copy(None) as base_root:
                make_copy(base_root, args.episodes, args.baseline.resolve())
                baseline = Bench(base_root, args.engine, args.jobs, base_src, base_env).build()
            log(f"{baseline.wall:.1f} s wall, {baseline.cpu:.0f} s CPU")

        log = step("no-change rebuilds")
        state = bench.output_state()
        nochange = [bench.build() for _ in range(args.repeat)]
        rewritten = sorted(k for k, v in bench.output_state().items() if state.get(k) != v)
        log(", ".join(f"{r.wall:.2f} s" for r in nochange) + f"; rewrote {rewritten or 'nothing'}")

        log = step(f"one-sentence edits ({args.repeat}, each another sentence)")
        first = sorted((root / "scripts").glob("*.txt"))[0]
        edits: list[Edit] = []
        for _ in range(args.repeat):
            cached = bench.cache_entries()
            job, slug = edit_one_sentence(root, args.engine, first)
            # before the build: the engine finds the cache as the build's worker will
            store = root / ".cache" / "segments"
            seg = median([one_segment_seconds(bench, job, store) for _ in range(args.repeat)])
            wall = bench.build().wall
            made = len(bench.cache_entries() - cached)
            ep = median([episode_seconds(root, args.engine, slug) for _ in range(args.repeat)])
            edits.append(Edit(wall, made, seg, ep))
            log(f"{wall:.2f} s, {made} segment(s) made; segment {seg:.2f} s + episode {ep:.2f} s")

        serial = None
        if not args.skip_serial:
            log = step("cold build, --jobs 1")
            bench.clean()
            serial = bench.build(jobs=1)
            log(f"{serial.wall:.1f} s wall, peak {_gb(serial.peak_rss)}")

        log = step("start-up")
        helps = [
            run_measured([sys.executable, "-m", "pangocast_cli", "--help"], env).wall
            for _ in range(max(5, args.repeat))
        ]
        log(", ".join(f"{h:.2f}" for h in helps))

    nc = median([r.wall for r in nochange])
    edit_ratio = median([e.ratio for e in edits])
    ratio = cold.wall / floor_wall
    rows = [
        Row("floor: engine only, same pool (s)", f"{floor_wall:.1f}", "", None),
        Row("cold build (s)", f"{cold.wall:.1f}", "", None),
        Row("  CPU: cold / floor (s)", f"{cold.cpu:.0f} / {floor_run.cpu:.0f}", "", None),
        Row("  overhead ratio cold / floor", f"{ratio:.3f}", "<= 1.15", ratio <= 1.15),
    ]
    if baseline is not None:
        versus = cold.wall / baseline.wall
        rows += [
            Row("cold build of the baseline (s)", f"{baseline.wall:.1f}", "", None),
            Row("  cold / baseline cold", f"{versus:.3f}", "<= 1.3", versus <= 1.3),
        ]
    rows += [
        Row("no-change rebuild, median (s)", f"{nc:.2f}", "<= 2 s", nc <= 2.0),
        Row(
            "  no-change / cold", f"{100 * nc / cold.wall:.2f} %", "<= 3 %", nc <= 0.03 * cold.wall
        ),
        Row("  output files rewritten", str(len(rewritten)), "0", not rewritten),
        Row(
            "one-sentence edit: segments made",
            ", ".join(str(e.made) for e in edits),
            "1",
            all(e.made == 1 for e in edits),
        ),
        Row("  edit build, median (s)", f"{median([e.wall for e in edits]):.2f}", "", None),
        Row(
            "  reference: segment + episode (s)",
            f"{median([e.segment for e in edits]):.2f} + {median([e.episode for e in edits]):.2f}",
            "",
            None,
        ),
        Row(
            "  edit / reference, each",
            ", ".join(f"{e.ratio:.3f}" for e in edits),
            "",
            None,
        ),
        Row("  edit / reference, median", f"{edit_ratio:.3f}", "<= 1.3", edit_ratio <= 1.3),
    ]
    if serial is not None:
        speedup = serial.wall / cold.wall
        rows += [
            Row("cold build --jobs 1 (s)", f"{serial.wall:.1f}", "", None),
            Row("  parallel speed-up", f"{speedup:.2f}x", ">= 1.6x", speedup >= 1.6),
        ]
    rows += [
        Row(
            "peak memory, cold build (RSS sum)",
            _gb(cold.peak_rss),
            "<= 1.5 GB",
            cold.peak_rss <= 1.5e9,
        ),
        Row("pangocast --help, median (s)", f"{median(helps):.3f}", "", None),
    ]
    print()
    print_table(rows)
    print(
        json.dumps(
            {
                "floor": floor_wall,
                "floor_cpu": floor_run.cpu,
                "floor_peak_rss": floor_run.peak_rss,
                "cold": cold.wall,
                "cold_cpu": cold.cpu,
                "nochange": [r.wall for r in nochange],
                "edits": [asdict(e) for e in edits],
                "serial": serial.wall if serial else None,
                "peak_rss": cold.peak_rss,
                "serial_peak_rss": serial.peak_rss if serial else None,
                "help": helps,
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
