"""What a Kokoro worker keeps in memory after long pieces, with and without arena shrinkage.

onnxruntime keeps the working memory of a run in its arena for the next run, so one long
piece (about 1.5 MB per phoneme) kept a build's worker at its largest for the rest of the
build. The engine now asks each run to give it back when it ends. For each way (``before``
= arena kept, ``after`` = the engine as shipped), a fresh process reads long Mandarin
sentences with ``jm_kumo`` (the neural engine's second source) and long English sentences
with the English engine, then short English terms (what most Kokoro runs of a build are);
it prints the peak memory, the memory held after the long pieces and after the short
ones, and the time, and checks that both ways give the same samples.

Usage: python benchmarks/kokoro_memory.py
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

MANDARIN = (
    "我们在二零一八年决定把整个存储层重新写一遍，因为原来的设计已经撑不住每天几十亿次的"
    "写入，而且每次扩容都要停机好几个小时，客户的抱怨越来越多。",
    "开源社区最宝贵的不是代码本身，而是围绕代码形成的那群人，他们愿意在下班以后花时间回答"
    "陌生人的问题，帮新来的贡献者审查第一份补丁。",
)
ENGLISH = (
    "When we started the project, nobody on the team had ever run a database in production, "
    "so we spent the first six months reading papers, breaking things on purpose, and "
    "writing down everything that went wrong before we let a single customer near it.",
)
TERMS = ("Kubernetes", "GitHub", "API", "Service Mesh", "v2.1", "PostgreSQL")


def _memory(field: str) -> int:
    return next(
        int(line.split()[1]) * 1024
        for line in Path("/proc/self/status").read_text().splitlines()
        if line.startswith(field)
    )


def child(way: str) -> None:
    """Read everything one way; print the figures and a digest of the samples as JSON."""
    from pangocast.voice.engines import get_engine, kokoro
    from pangocast.voice.engines.base import Voice

    neural, english = get_engine("neural"), get_engine("kokoro")
    man, eng = Voice.make("neural", "jm_kumo"), Voice.make("kokoro", "jm_kumo")
    neural.synthesize("\u4f60\u597d\u3002", man)  # loads the model
    if way == "before":
        with kokoro._LOCK:
            model = kokoro._load()
            model.run_options = None
    digest = hashlib.sha256()
    started = time.perf_counter()
    for text in MANDARIN:
        digest.update(neural.synthesize(text, man).samples.tobytes())
    for text in ENGLISH:
        digest.update(english.synthesize(text, eng).samples.tobytes())
    after_long = _memory("VmRSS")
    for text in TERMS:
        digest.update(english.synthesize(text, eng).samples.tobytes())
    seconds = time.perf_counter() - started
    figures = {"seconds": seconds, "peak": _memory("VmHWM"), "after_long": after_long,
               "after_short": _memory("VmRSS"), "digest": digest.hexdigest()}  # fmt: skip
    print(json.dumps(figures))


def main() -> int:
    if sys.argv[1:2] == ["--child"]:
        child(sys.argv[2])
        return 0
    runs = {}
    for way in ("before", "after"):
        done = subprocess.run(
            [sys.executable, __file__, "--child", way], capture_output=True, text=True, check=True
        )
        runs[way] = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"{len(MANDARIN)} long Mandarin sentences (jm_kumo), {len(ENGLISH)} long English one, "
          f"then {len(TERMS)} terms; one process each")  # fmt: skip
    print(f"{'arena':<8}{'peak':>9}{'held after long':>17}{'held after terms':>18}{'time':>8}")
    for way, r in runs.items():
        print(
            f"{way:<8}{r['peak'] / 2**20:>6.0f} MB{r['after_long'] / 2**20:>14.0f} MB"
            f"{r['after_short'] / 2**20:>15.0f} MB{r['seconds']:>7.1f}s"
        )
    same = runs["before"]["digest"] == runs["after"]["digest"]
    print("same samples both ways:", "yes" if same else "NO")
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
