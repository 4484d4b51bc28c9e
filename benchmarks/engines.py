"""Speed of the offline engines on a ~300-character corpus paragraph.

Prints: model load time (cold = patching the FastSpeech2 file into an empty cache, warm =
from the cache), the real-time factor (synthesis time / audio time) of the neural engine
with 1 and 2 LiteRT threads and of espeak-ng, and what normalisation and the Latin-run
handling (espeak-ng clips, resampling, level matching, splicing) add on top of the raw
model time (FastSpeech2 + vocoder) for the same text.

Usage: python benchmarks/engines.py [--repeat N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from pangocast.voice.engines import espeak, litert_model, neural  # noqa: E402
from pangocast.voice.engines.base import Voice  # noqa: E402
from pangocast.voice.engines.espeak import EspeakEngine  # noqa: E402
from pangocast.voice.engines.neural import NeuralEngine  # noqa: E402
from pangocast.voice.normalize import normalize_for_speech  # noqa: E402

CORPUS = ROOT / "tests" / "data" / "chuanshanjia.txt"


def paragraph() -> str:
    """The first corpus paragraph of 250-360 characters with several Latin words."""
    for line in CORPUS.read_text(encoding="utf-8").splitlines():
        if 250 <= len(line) <= 360 and sum(c.isascii() and c.isalpha() for c in line) > 30:
            return line.strip()
    raise SystemExit("no suitable paragraph in the corpus")


class Stopwatch:
    """Accumulates the time spent inside wrapped functions."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    def wrap(self, owner: Any, attr: str, label: str) -> None:
        original: Callable[..., Any] = getattr(owner, attr)

        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.seconds[label] = self.seconds.get(label, 0.0) + time.perf_counter() - started

        setattr(owner, attr, timed)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    text = paragraph()
    latin_words = sum(1 for w in normalize_for_speech(text).split() if w.isascii())
    print(f"paragraph: {len(text)} characters, about {latin_words} Latin runs")
    print(f"  {text[:70]}...")

    with tempfile.TemporaryDirectory() as tmp:
        os.environ["PANGOCAST_CACHE"] = tmp
        started = time.perf_counter()
        NeuralEngine().load()
        cold = time.perf_counter() - started
    del os.environ["PANGOCAST_CACHE"]
    NeuralEngine().load()  # make sure the user cache holds the patched file
    warm = []
    for _ in range(args.repeat):
        started = time.perf_counter()
        NeuralEngine().load()
        warm.append(time.perf_counter() - started)
    print(
        f"neural load: cold {cold * 1000:.0f} ms (patch + cache write), "
        f"warm {min(warm) * 1000:.0f} ms"
    )

    watch = Stopwatch()
    watch.wrap(litert_model.Models, "acoustic", "model")
    watch.wrap(litert_model.Models, "vocode", "model")
    watch.wrap(neural, "normalize_for_speech", "normalise")
    watch.wrap(neural.NeuralEngine, "_latin_clip", "latin")
    watch.wrap(neural, "_splice", "latin")
    voice = Voice.make("neural", "baker")
    for threads in (1, 2):
        engine = NeuralEngine(num_threads=threads)
        engine.synthesize("预热。", voice)
        runs = []
        for _ in range(args.repeat):
            watch.seconds.clear()
            started = time.perf_counter()
            audio = engine.synthesize(text, voice)
            runs.append((time.perf_counter() - started, dict(watch.seconds)))
        total, parts = min(runs, key=lambda r: r[0])
        print(
            f"neural {threads} thread{'s' if threads > 1 else ''}: {audio.duration:.1f} s of audio "
            f"in {total:.2f} s, RTF {total / audio.duration:.3f} "
            f"(median {statistics.median(r[0] for r in runs) / audio.duration:.3f})"
        )
        model = parts.get("model", 0.0)
        norm, latin = parts.get("normalise", 0.0), parts.get("latin", 0.0)
        print(
            f"  raw model {model:.2f} s; normalisation {norm * 1000:.1f} ms, "
            f"Latin runs {latin * 1000:.0f} ms: +{(norm + latin) / model:.1%} of model time"
        )

    engine_e = EspeakEngine()
    runs_e = []
    for _ in range(args.repeat):
        started = time.perf_counter()
        audio = engine_e.synthesize(text, Voice.make("espeak", "cmn"))
        runs_e.append(time.perf_counter() - started)
    print(
        f"espeak-ng {espeak.espeak_version()}: {audio.duration:.1f} s of audio in "
        f"{min(runs_e):.3f} s, RTF {min(runs_e) / audio.duration:.4f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
