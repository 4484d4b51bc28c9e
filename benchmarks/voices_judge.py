"""The judges of ``benchmarks/voices.py``, run in the benchmark venv (``make bench-venv``).

Reads a JSON job on stdin: ``{"speakers": {cast: {speaker: [wav, ...]}}, "segments":
[{"cast", "wav", "text"}, ...]}``; writes on stdout ``{"similarity": {cast: {a: {b:
cosine}}}, "heard": [{"heard", "cer", "chars"}, ...]}``: Resemblyzer's cosine between each
two speakers (all of a speaker's audio embedded as one utterance), and what the offline
Whisper base heard in each segment with its character error rate. Not imported by the
project: torch lives only in that venv.
"""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "benchmarks"), str(ROOT / "src")]
warnings.filterwarnings("ignore", category=UserWarning)  # pkg_resources, in webrtcvad

import numpy as np  # noqa: E402
import soundfile  # noqa: E402
from intelligibility import cer, comparable, whisper_dir  # noqa: E402


def _similarity(speakers: dict[str, list[str]]) -> dict[str, dict[str, float]]:
    from resemblyzer import VoiceEncoder, preprocess_wav

    encoder = VoiceEncoder("cpu", verbose=False)
    embeddings = {}
    for name, wavs in speakers.items():
        parts = []
        for wav in wavs:
            samples, rate = soundfile.read(wav, dtype="float32")
            parts.append(preprocess_wav(samples, source_sr=rate))
        embeddings[name] = encoder.embed_utterance(np.concatenate(parts))
    return {
        a: {b: float(np.dot(ea, eb)) for b, eb in embeddings.items()}
        for a, ea in embeddings.items()
    }


def main() -> int:
    job = json.load(sys.stdin)
    from faster_whisper import WhisperModel

    similarity = {cast: _similarity(speakers) for cast, speakers in job["speakers"].items()}
    model = WhisperModel(str(whisper_dir()), device="cpu", compute_type="int8", cpu_threads=2)
    heard = []
    for segment in job["segments"]:
        found, _ = model.transcribe(segment["wav"], language="zh", beam_size=5)
        text = "".join(s.text for s in found)
        reference = segment["text"]
        heard.append(
            {"heard": text, "cer": cer(reference, text), "chars": len(comparable(reference))}
        )
    json.dump({"similarity": similarity, "heard": heard}, sys.stdout, ensure_ascii=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
