"""What LAME's quality setting costs and buys, on real speech from the neural voice.

Run from the repository root: ``python benchmarks/encoder.py [--seconds 180]``.

Synthesizes corpus paragraphs with the offline neural engine (24 kHz) until ``--seconds``
of speech are joined, then encodes them as a build does (mono, 64 kbit/s CBR, resampled to
44.1 kHz by the encoder) at several ``-compression_level`` values. For each it prints the
encoder's CPU seconds (best of three), and how far the decoded MP3 is from the PCM that
went in: the SNR over the whole clip, and the median per-frame SNR in six bands from 0 to
12 kHz (the neural voice has nothing above 12 kHz). Pangocast encodes at
:data:`pangocast.audio.mp3.LAME_QUALITY`; ffmpeg's default for libmp3lame is LAME's 3.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import scipy.signal

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from common import master  # noqa: E402

from pangocast.audio.ffmpeg import LAME_QUALITY, MP3_RATE, decode_file, ffmpeg_exe  # noqa: E402
from pangocast.audio.pcm import Audio  # noqa: E402
from pangocast.voice.engines.base import Voice  # noqa: E402
from pangocast.voice.engines.neural import NeuralEngine  # noqa: E402

CORPUS = ROOT / "tests" / "data" / "chuanshanjia.txt"
BANDS = ((0, 500), (500, 1000), (1000, 2000), (2000, 4000), (4000, 8000), (8000, 12000))


def speech(seconds: float) -> Audio:
    """Corpus paragraphs (80-200 characters) read by the neural voice, joined."""
    engine = NeuralEngine()
    voice = Voice.make("neural", "baker", {})
    pieces, total = [], 0.0
    for line in CORPUS.read_text(encoding="utf-8").splitlines():
        if not 80 <= len(line.strip()) <= 200 or total >= seconds:
            continue
        audio = engine.synthesize(line.strip(), voice)
        pieces.append(audio.samples)
        total += audio.duration
    return Audio(np.concatenate(pieces), 24000)


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def encode(pcm: Path, rate: int, out: Path, quality: int | None) -> float:
    """CPU seconds ffmpeg spends encoding the raw PCM file ``pcm`` to ``out``."""
    level = [] if quality is None else ["-compression_level", str(quality)]
    cmd = [
        ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y",
        "-f", "s16le", "-ar", str(rate), "-ac", "1", "-i", str(pcm),
        "-acodec", "libmp3lame", "-b:a", "64k", *level, "-ac", "1", "-ar", str(MP3_RATE),
        "-f", "mp3", str(out),
    ]  # fmt: skip
    before = _children_cpu()
    subprocess.run(cmd, check=True)
    return _children_cpu() - before


def distance(reference: np.ndarray, decoded: np.ndarray) -> tuple[float, list[float]]:
    """SNR (dB) of ``decoded`` against ``reference``, and the median per-frame SNR of each
    band of :data:`BANDS` over frames with speech."""
    n = min(len(reference), len(decoded))
    x, err = reference[:n], decoded[:n] - reference[:n]
    snr = 10 * np.log10(float((x * x).sum()) / max(float((err * err).sum()), 1e-20))
    freqs, _, spec_x = scipy.signal.stft(x, MP3_RATE, nperseg=1024)
    _, _, spec_e = scipy.signal.stft(err, MP3_RATE, nperseg=1024)
    px, pe = np.abs(spec_x) ** 2, np.abs(spec_e) ** 2
    active = px.sum(axis=0) > 1e-4 * px.sum(axis=0).max()
    bands = []
    for lo, hi in BANDS:
        sel = (freqs >= lo) & (freqs < hi)
        sig = px[sel][:, active].sum(axis=0) + 1e-20
        noise = pe[sel][:, active].sum(axis=0) + 1e-20
        bands.append(float(np.median(10 * np.log10(sig / noise))))
    return snr, bands


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=180.0)
    parser.add_argument("--qualities", default="default,2,5,7,9")
    args = parser.parse_args()

    clip = speech(args.seconds)
    mastered = master(clip)  # at 44.1 kHz: the reference the decoded MP3 is compared with
    print(f"clip: {clip.duration:.1f} s of neural speech; LAME_QUALITY = {LAME_QUALITY}")
    head = f"{'quality':>8}  {'CPU s':>6}  {'x audio':>7}  {'SNR dB':>6}  " + "  ".join(
        f"{lo / 1000:g}-{hi / 1000:g}k".rjust(6) for lo, hi in BANDS
    )
    print(head)
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "in.raw"
        raw.write_bytes(mastered.samples.astype("<i2").tobytes())
        reference = mastered.to_float()
        for q in args.qualities.split(","):
            quality = None if q == "default" else int(q)
            out = Path(tmp) / f"q{q}.mp3"
            cpu = min(encode(raw, mastered.rate, out, quality) for _ in range(3))
            decoded = decode_file(out, MP3_RATE).to_float()
            snr, bands = distance(reference, decoded)
            print(
                f"{q:>8}  {cpu:6.2f}  {mastered.duration / cpu:6.0f}x  {snr:6.2f}  "
                + "  ".join(f"{b:6.1f}" for b in bands)
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
