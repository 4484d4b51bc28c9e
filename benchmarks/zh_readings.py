"""Whether reading 一 and 地 as people say them (``voice/engines/zh_tones.py``) is heard.

Synthesizes sentences full of 一 and 地 with the Mandarin voice (``baker``) and with Kokoro
reading Mandarin (``jm_kumo``), twice in one run: ``before`` with pypinyin's readings as
they come (``adjust`` made the identity), ``after`` as the engines read them. Prints
Whisper base's character error rate per voice and cast (the judge of
``benchmarks/voices.py``, in ``.venv-bench``: ``make bench-venv``).

Usage: python benchmarks/zh_readings.py [--judge-python .venv-bench/bin/python]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from common import judge as judge_job  # noqa: E402

from pangocast.voice.engines import get_engine, zh_tones  # noqa: E402
from pangocast.voice.engines.base import Voice  # noqa: E402

SENTENCES = (
    "我们一次又一次地测试，终于找到了一样的问题。",
    "他一下子就明白了，这栋楼一共有一百多个房间。",
    "每一天我们都认真地检查一遍所有的日志。",
    "你先看一看这个方案，再慢慢地决定要不要改。",
    "大家一起把系统统一规划了一下，效果一般。",
    "那一年我们一边做产品，一边努力地招人。",
    "一个好的架构师会一步一步地把问题拆开。",
    "这是唯一的办法，我们只能一点一点地迁移。",
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--judge-python", default=str(ROOT / ".venv-bench" / "bin" / "python"))
    args = parser.parse_args()
    judge = Path(args.judge_python)
    if not judge.is_file():
        print(f"no judge venv at {judge} (make bench-venv)")
        return 1
    real = zh_tones.adjust
    segments: list[dict[str, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for cast in ("before", "after"):
            zh_tones.adjust = (lambda han, s: list(s)) if cast == "before" else real
            # a new engine per cast: the neural engine keeps no memo of Mandarin, but be sure
            engine = get_engine("neural")
            for voice in ("baker", "jm_kumo"):
                for n, sentence in enumerate(SENTENCES):
                    audio = engine.synthesize(sentence, Voice.make("neural", voice))
                    wav = Path(tmp) / f"{cast}-{voice}-{n}.wav"
                    wav.write_bytes(audio.to_wav_bytes())
                    segments.append({"cast": f"{cast} {voice}", "wav": str(wav), "text": sentence})
        zh_tones.adjust = real
        verdict = judge_job(judge, {"speakers": {}, "segments": segments})
    if verdict is None:
        return 1
    heard = verdict["heard"]
    totals: dict[str, list[float]] = {}
    for segment, result in zip(segments, heard, strict=True):
        errors = min(1.0, float(result["cer"])) * float(result["chars"])
        e, c = totals.get(segment["cast"], [0.0, 0.0])
        totals[segment["cast"]] = [e + errors, c + float(result["chars"])]
    print(f"{len(SENTENCES)} sentences with 一 and 地; Whisper base CER")
    for cast, (e, c) in totals.items():
        print(f"{cast:<16}{e / c:8.1%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
