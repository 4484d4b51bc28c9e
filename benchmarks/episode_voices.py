"""Who a listener hears, and how much is understood, in whole episodes of any article.

For each article given (any format ``pangocast import`` reads), in a new show made by
``pangocast init`` (default engine, the language's default casting), and once more for each
``--casting`` file given (a ``voices/casting.toml`` to compare with): import, build, then
cut the delivered MP3 at the sentence timings the build records (the WebVTT cues) and judge
them with ``benchmarks/voices_judge.py`` in the benchmark venv (``make bench-venv``):

* Resemblyzer's speaker similarity between every two speakers of the episode (each
  speaker's sentences embedded as one utterance; read below 0.75 as different people,
  above 0.85 as the same), with their roles;
* Whisper base's character error rate over the whole episode, and over sentences without
  and with Latin words (a sentence counts at most 100 %).

Everything is measured on the MP3 a listener downloads: sting, mastering and encoding
included. Usage::

    python benchmarks/episode_voices.py ARTICLE [ARTICLE ...] [--casting FILE ...]
        [--language zh] [--judge-python .venv-bench/bin/python] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile

ROOT = Path(__file__).resolve().parent.parent

LATIN = re.compile(r"[A-Za-z]{2,}")
MIN_SECONDS = 0.4
TITLES = {"zh": "\u8bbf\u8c08\u96c6", "en": "Interviews"}
"""The show's title (the intro speaks it), per language."""


def _run(*args: str, cwd: Path) -> float:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "pangocast_cli", "-q", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
    )
    if done.returncode:
        sys.exit(f"pangocast {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return time.perf_counter() - started


def build_show(article: Path, language: str, casting: Path | None, where: Path) -> float:
    """A new show holding ``article``, built; returns the build's wall time."""
    _run("init", str(where), "--language", language, "--title", TITLES[language], cwd=ROOT)
    if casting is not None:
        shutil.copy(casting, where / "voices" / "casting.toml")
    _run("-p", str(where), "import", str(article), cwd=ROOT)
    return _run("-p", str(where), "build", cwd=ROOT)


def cut_sentences(show: Path, into: Path) -> list[dict[str, object]]:
    """Each spoken sentence of the show's episodes as a WAV: speaker, role, text, path."""
    manifest = json.loads((show / "output" / "manifest.json").read_text(encoding="utf-8"))
    out: list[dict[str, object]] = []
    for episode in manifest["episodes"]:
        samples, rate = soundfile.read(show / "output" / episode["audio"], dtype="float32")
        if samples.ndim > 1:
            samples = samples.mean(axis=1)
        for i, s in enumerate(episode["sentences"]):
            if s["end"] - s["start"] < MIN_SECONDS:
                continue
            clip = samples[round(s["start"] * rate) : round(s["end"] * rate)]
            path = into / f"{episode['slug']}-{i:04d}.wav"
            soundfile.write(path, np.asarray(clip, dtype=np.float32), rate)
            out.append({**s, "wav": str(path)})
        # The whole episode as one recording, judged against everything it says.
        whole = into / f"{episode['slug']}.wav"
        soundfile.write(whole, samples, rate)
        spoken = "".join(s["text"] for s in episode["sentences"])
        out.append({"speaker": "", "role": "episode", "text": spoken, "wav": str(whole)})
    return out


def judge(judge_python: str, cast: str, sentences: list[dict[str, object]]) -> dict[str, object]:
    speakers: dict[str, list[str]] = {}
    for s in sentences:
        if s["role"] == "episode":
            continue
        speakers.setdefault(f"{s['speaker']} ({s['role']})", []).append(str(s["wav"]))
    job = {
        "speakers": {cast: speakers},
        "segments": [{"cast": cast, "wav": s["wav"], "text": s["text"]} for s in sentences],
    }
    done = subprocess.run(
        [judge_python, str(ROOT / "benchmarks" / "voices_judge.py")],
        input=json.dumps(job),
        capture_output=True,
        text=True,
    )
    if done.returncode:
        sys.exit(f"the judge failed:\n{done.stderr[-2000:]}")
    result: dict[str, object] = json.loads(done.stdout)
    return result


def _role(speaker: str) -> str:
    return speaker.rsplit("(", 1)[-1].rstrip(")")


def report(cast: str, sentences: list[dict[str, object]], judged: dict[str, object]) -> None:
    similarity = judged["similarity"][cast]  # type: ignore[index]
    names = list(similarity)
    print(f"\n## {cast}: speaker similarity (cosine)\n")
    print("| | " + " | ".join(names) + " |")
    print("|---" * (len(names) + 1) + "|")
    for a in names:
        print(f"| {a} | " + " | ".join(f"{similarity[a][b]:.2f}" for b in names) + " |")
    pairs = [(a, b, similarity[a][b]) for i, a in enumerate(names) for b in names[i + 1 :]]
    host_guest = [v for a, b, v in pairs if {_role(a), _role(b)} == {"host", "guest"}]
    print(
        f"\nmost alike pair {max(v for *_, v in pairs):.2f}"
        + (f"; host vs guests at most {max(host_guest):.2f}" if host_guest else "")
    )
    totals: dict[str, list[float]] = {
        "whole episode, one pass": [0, 0],
        "sentences, one by one": [0, 0],
        "sentences without Latin words": [0, 0],
        "sentences with Latin words": [0, 0],
    }
    for s, heard in zip(sentences, judged["heard"], strict=True):  # type: ignore[call-overload]
        if s["role"] == "episode":
            totals["whole episode, one pass"][0] += float(heard["cer"]) * heard["chars"]
            totals["whole episode, one pass"][1] += heard["chars"]
            continue
        latin = bool(LATIN.search(str(s["text"])))
        kind = f"sentences {'with' if latin else 'without'} Latin words"
        errors = min(1.0, float(heard["cer"])) * heard["chars"]
        by_speaker = f"sentences of {s['speaker']} ({s['role']})"
        totals.setdefault(by_speaker, [0, 0])
        for key in ("sentences, one by one", kind, by_speaker):
            totals[key][0] += errors
            totals[key][1] += heard["chars"]
    print("\n| sentences | characters | CER |\n|---|---|---|")
    for key, (errors, chars) in totals.items():
        print(f"| {key} | {chars:.0f} | {100 * errors / max(chars, 1):.1f} % |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("articles", nargs="+", type=Path)
    parser.add_argument("--casting", type=Path, action="append", default=[])
    parser.add_argument("--language", default="zh")
    parser.add_argument("--judge-python", default=str(ROOT / ".venv-bench" / "bin" / "python"))
    parser.add_argument("--keep", type=Path, default=None)
    args = parser.parse_args()
    if not Path(args.judge_python).exists():
        sys.exit(f"no judge venv at {args.judge_python}: run make bench-venv")
    work = args.keep or Path(tempfile.mkdtemp(prefix="pangocast-episode-voices-"))
    casts: list[tuple[str, Path | None]] = [("default", None)]
    casts += [(c.stem, c.resolve()) for c in args.casting]
    for article in args.articles:
        for name, casting in casts:
            cast = f"{article.name} / {name} casting"
            show = work / f"{article.stem}-{name}"
            if show.exists():
                shutil.rmtree(show)
            seconds = build_show(article.resolve(), args.language, casting, show)
            clips = show / "clips"
            clips.mkdir()
            sentences = cut_sentences(show, clips)
            print(f"\n# {cast}: built in {seconds:.0f} s, {len(sentences)} sentences")
            report(cast, sentences, judge(args.judge_python, cast, sentences))
    if args.keep is None:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
