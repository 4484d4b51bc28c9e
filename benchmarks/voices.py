"""How many people the one neural voice makes: speaker similarity, intelligibility, cost.

Builds a short interview (a narrator, a host, three guests; three turns each, about 20 s
of speech per speaker, with plain, mixed Latin and long sentences) with the default engine
twice, in one run:

* ``before``: the rubberband cast (pitch in semitones shifting the whole sentence, the
  English clips included, formants moving with the pitch), as the engine did until the
  conversion stage;
* ``world-1``: the WORLD cast of ``voices/casting.toml`` with the aperiodicity analysed on
  every frame (the conversion until world-3);
* ``after``: the WORLD cast of ``voices/casting.toml`` (each voice converted on its
  Mandarin before the English clips go in), as the engine does it.

The episode is cast by the project's own casting (``cast_episode``) and synthesized one
sentence (one segment) at a time, as a build does. It prints, for each cast, Resemblyzer's
speaker-similarity matrix (read below 0.75 as different people, above 0.85 as the same;
the narrator against itself on other texts is printed as the yardstick), Whisper base's
character error rate on sentences without Latin words, with them (and how many English
terms it wrote down), and on long sentences (a sentence counts at most 100 %: Whisper
sometimes loops on mush), and the conversion's cost as a ratio of the
synthesis time.

The judges need torch, which the project never installs: ``make bench-venv`` puts them in
``.venv-bench`` (or name another with ``--judge-python``); this script calls
``benchmarks/voices_judge.py`` there. Without it, the script prints the cost and says so.

Usage: python benchmarks/voices.py [--judge-python .venv-bench/bin/python] [--keep DIR]
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from common import judge as judge_job  # noqa: E402

from pangocast.audio.ffmpeg import run_ffmpeg_filter  # noqa: E402
from pangocast.audio.pcm import Audio  # noqa: E402
from pangocast.script.format import parse_script  # noqa: E402
from pangocast.voice import convert as convert_module  # noqa: E402
from pangocast.voice.casting import EngineCasting, cast_episode, load_casting  # noqa: E402
from pangocast.voice.engines import get_engine  # noqa: E402
from pangocast.voice.engines import neural as neural_module  # noqa: E402
from pangocast.voice.engines.base import Engine, Voice  # noqa: E402

# Three turns per speaker: two plain sentences, one with Latin words, one long (> 40 hanzi).
TURNS = {
    "旁白": (
        "今天的节目来自一场关于开源的长谈。这场对话发生在上海的一个下午。",
        "几位嘉宾都在 GitHub 上维护着自己的项目。",
        "从最早的邮件列表到今天遍布全球的协作平台，开源社区的组织方式已经发生了很大的变化，"
        "参与的人也越来越多。",
    ),
    "老王": (
        "欢迎各位来到我们的节目。先请大家简单介绍一下自己吧。",
        "你们团队为什么选择 Kubernetes 作为基础平台？",
        "很多听众都关心一个问题，就是一家公司在决定把内部多年积累的核心代码开源出去之前，"
        "到底需要做哪些准备工作？",
    ),
    "杨镭": (
        "我最早是做运维的，后来慢慢转到了网络研发。那几年几乎每天都在机房里度过。",
        "我们的存储服务后来全部迁移到了 Ceph 上。",
        "当时我们花了差不多两个月的时间，把两个机房之间的网络彻底打通，"
        "又一点一点地把线上的业务迁移过去，中间没有出过一次大的事故。",
    ),
    "叶理灯": (
        "我负责实验室的工作，主要做容器和虚拟化。我们的团队不大，但是很能干。",
        "去年我们把监控系统换成了 Prometheus 。",
        "我觉得技术人员最重要的能力不是记住多少知识，而是遇到一个从来没有见过的问题时，"
        "能够冷静地把它拆开，一步一步地找到原因。",
    ),
    "余淮": (
        "我在中间件团队，负责开发框架的开源工作。每周我们都会和社区开一次会。",
        "现在 SOFAStack 已经有一百多位贡献者了。",
        "开源并不是把代码放到网上就结束了，后面还有文档、社区运营、版本发布和安全响应，"
        "每一件事情都需要有人长期投入。",
    ),
}

SCRIPT_HEADER = """+++
title = "开源长谈"
slug = "voices-bench"
date = 2020-01-01
host = "老王"
guests = ["杨镭", "叶理灯", "余淮"]
+++
"""

# The neural cast until the conversion stage (pitch: semitones by rubberband, whole sentence).
RUBBERBAND_HOST = {"pitch": -5.0, "speed": 0.97}
RUBBERBAND_GUESTS = (
    {"pitch": -3.0, "speed": 1.05},
    {"pitch": 2.5, "speed": 1.0},
    {"pitch": -7.0, "speed": 1.0},
)
RUBBERBAND_PEOPLE = {"杨镭": {"pitch": -3.0, "speed": 1.05}}

LATIN = re.compile(r"[A-Za-z][A-Za-z0-9]*")


def script_text() -> str:
    """The episode: each speaker's turns interleaved, narrator first."""
    rounds = []
    for i in range(3):
        for speaker, turns in TURNS.items():
            rounds.append(f"{speaker}:{turns[i]}")
    return SCRIPT_HEADER + "\n" + "\n\n".join(rounds) + "\n"


def sentences(turn: str) -> list[str]:
    """A turn's sentences (a build's segments)."""
    return [s for s in re.findall(r"[^。？！]+[。？！]?", turn) if s.strip()]


def kind(sentence: str) -> str:
    if LATIN.search(sentence):
        return "latin"
    return "long" if len(re.findall(r"[\u4e00-\u9fff]", sentence)) > 40 else "plain"


def rubberband_rules() -> EngineCasting:
    def voice(prosody: dict[str, float]) -> Voice:
        return Voice.make("neural", "baker", prosody)

    return EngineCasting(
        engine="neural",
        narrator=voice({}),
        host=voice(RUBBERBAND_HOST),
        guests=tuple(voice(g) for g in RUBBERBAND_GUESTS),
        people={k: voice(v) for k, v in RUBBERBAND_PEOPLE.items()},
    )


@dataclass
class Timer:
    """Wall-clock seconds of synthesis and of conversion, for the converted voices."""

    synthesis: float = 0.0
    conversion: float = 0.0
    audio: float = 0.0
    calls: list[float] = field(default_factory=list)


def rubberband_synthesize(engine: Engine, timer: Timer) -> Callable[[str, Voice], Audio]:
    """The old engine path: synthesize unshifted, then rubberband the whole sentence."""

    def synthesize(text: str, voice: Voice) -> Audio:
        prosody = dict(voice.prosody)
        semitones = float(prosody.pop("pitch", 0.0))
        started = time.perf_counter()
        audio = engine.synthesize(text, Voice.make("neural", voice.id, prosody))
        middle = time.perf_counter()
        if semitones:
            audio = run_ffmpeg_filter(audio, f"rubberband=pitch={2 ** (semitones / 12):.6f}")
            timer.synthesis += middle - started
            timer.conversion += time.perf_counter() - middle
            timer.audio += audio.duration
        return audio

    return synthesize


def world_synthesize(
    engine: Engine, timer: Timer, aperiodicity_step: int | None = None
) -> Callable[[str, Voice], Audio]:
    """The engine as it is, with its conversion stage timed (and, with
    ``aperiodicity_step``, the aperiodicity analysed every that many frames)."""
    real = convert_module.convert
    options = {} if aperiodicity_step is None else {"aperiodicity_step": aperiodicity_step}

    def timed(*args, **kwargs):  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        try:
            return real(*args, **kwargs, **options)
        finally:
            timer.calls.append(time.perf_counter() - started)

    neural_module.convert = timed  # type: ignore[assignment]

    def synthesize(text: str, voice: Voice) -> Audio:
        timer.calls.clear()
        started = time.perf_counter()
        audio = engine.synthesize(text, voice)
        total = time.perf_counter() - started
        if any(k in dict(voice.prosody) for k in ("f0_ratio", "formant_ratio", "pitch")):
            timer.conversion += sum(timer.calls)
            timer.synthesis += total - sum(timer.calls)
            timer.audio += audio.duration
        return audio

    return synthesize


def voice_cast(
    name: str,
    rules: EngineCasting,
    synthesize: Callable[[str, Voice], Audio],
    folder: Path,
) -> tuple[dict[str, list[str]], list[dict[str, str]]]:
    """Synthesize the episode with ``rules``; the WAVs of each speaker and each segment."""
    episode = parse_script(script_text())
    cast = cast_episode(episode, rules)
    speakers: dict[str, list[str]] = {}
    segments: list[dict[str, str]] = []
    for t, turn in enumerate(x for x in episode.turns if x.spoken):
        voice = cast[turn.speaker].voice
        for s, sentence in enumerate(sentences(turn.text)):
            audio = synthesize(sentence, voice)
            wav = folder / f"{name}-{t:02d}-{s}.wav"
            wav.write_bytes(audio.to_wav_bytes())
            speakers.setdefault(turn.speaker, []).append(str(wav))
            segments.append({"cast": name, "wav": str(wav), "text": sentence})
    # The yardstick: the narrator's audio split in two (other texts, the same voice).
    if name == "after":
        narration = speakers["旁白"]
        half = len(narration) // 2
        speakers["旁白 (1)"], speakers["旁白 (2)"] = narration[:half], narration[half:]
    print(f"{name}: " + ", ".join(f"{c.speaker} {c.voice.label()}" for c in cast.values()))
    return speakers, segments


def print_matrix(name: str, matrix: dict[str, dict[str, float]]) -> None:
    names = [n for n in matrix if not n.startswith("旁白 (")]
    print(f"\nspeaker similarity, {name} (Resemblyzer cosine)")
    print(" " * 8 + "".join(f"{n:>8}" for n in names))
    for a in names:
        cells = "".join(f"{'':>8}" if b == a else f"{matrix[a][b]:8.2f}" for b in names)
        print(f"{a:<8}{cells}")
    if "旁白 (1)" in matrix:
        same = matrix["旁白 (1)"]["旁白 (2)"]
        print(f"yardstick: narrator vs narrator on other texts {same:.2f}")


def print_cer(segments: list[dict[str, str]], heard: list[dict[str, object]]) -> None:
    print("\nWhisper base CER (characters), by cast and sentence kind")
    print(f"{'cast':<8}{'plain':>9}{'latin':>9}{'long':>9}{'all':>9}   English terms heard")
    for name in dict.fromkeys(s["cast"] for s in segments):
        totals: dict[str, list[float]] = {}
        found = terms = 0
        for segment, result in zip(segments, heard, strict=True):
            if segment["cast"] != name:
                continue
            chars = float(result["chars"])  # type: ignore[arg-type]
            # at most every character wrong: a recogniser that loops on mush counts once
            errors = min(1.0, float(result["cer"])) * chars  # type: ignore[arg-type]
            for k in (kind(segment["text"]), "all"):
                e, c = totals.get(k, [0.0, 0.0])
                totals[k] = [e + errors, c + chars]
            for term in LATIN.findall(segment["text"]):
                terms += 1
                found += term.lower() in str(result["heard"]).lower().replace(" ", "")
        cells = "".join(
            f"{totals[k][0] / totals[k][1]:9.1%}" if k in totals else f"{'-':>9}"
            for k in ("plain", "latin", "long", "all")
        )
        print(f"{name:<8}{cells}   {found}/{terms}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--judge-python", default=str(ROOT / ".venv-bench" / "bin" / "python"))
    parser.add_argument("--keep", type=Path, default=None, help="keep the WAVs in this folder")
    args = parser.parse_args()
    engine = get_engine("neural")
    engine.synthesize("你好。", Voice.make("neural", "baker"))  # load the model first
    timers = {"before": Timer(), "world-1": Timer(), "after": Timer()}
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        before = voice_cast(
            "before", rubberband_rules(), rubberband_synthesize(engine, timers["before"]), folder
        )
        rules = load_casting(ROOT / "voices").for_engine("neural")
        full = voice_cast("world-1", rules, world_synthesize(engine, timers["world-1"], 1), folder)
        after = voice_cast("after", rules, world_synthesize(engine, timers["after"]), folder)
        print("\nconversion cost (converted voices only; wall-clock seconds)")
        for name, t in timers.items():
            method = "rubberband" if name == "before" else "WORLD"
            if name == "world-1":
                method = "WORLD ap/1"
            print(
                f"{name:<8}{method:<11} conversion {t.conversion:6.2f} s / synthesis "
                f"{t.synthesis:6.2f} s = {t.conversion / max(t.synthesis, 1e-9):.2f}x "
                f"({t.audio:.0f} s of audio)"
            )
        judge = Path(args.judge_python)
        if not judge.is_file():
            print(f"\nskipped similarity and CER: no judge venv at {judge} (make bench-venv)")
            return 0
        job = {
            "speakers": {"before": before[0], "world-1": full[0], "after": after[0]},
            "segments": before[1] + full[1] + after[1],
        }
        verdict = judge_job(judge, job)
        if verdict is None:
            return 1
        result = verdict
    for name in ("before", "world-1", "after"):
        print_matrix(name, result["similarity"][name])
    print_cer(job["segments"], result["heard"])  # type: ignore[arg-type]
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
