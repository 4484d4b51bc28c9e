"""Checks of the files a feed points to: MP3 (frames, decoded duration, loudness, ID3
chapters), artwork, transcripts and chapters JSON."""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mutagen.id3
import mutagen.mp3
import numpy as np
import numpy.typing as npt
from mutagen import MutagenError

from pangocast.check.findings import Finding
from pangocast.core.errors import PangocastError
from pangocast.core.standards import (
    ART_MAX_PX,
    ART_MIN_PX,
    LUFS_TOLERANCE,
    MAX_CUE_LINE,
    MAX_TRUE_PEAK_DBTP,
    TARGET_LUFS,
    TRANSCRIPT_TYPES,
)
from pangocast.publish.images import image_info

# mutagen's classes are unannotated, which strict mypy rejects call by call.
_id3: Any = mutagen.id3
_mp3: Any = mutagen.mp3

DURATION_TOLERANCE = 1.0
"""Seconds the measured audio may differ from the declared duration."""
CHAPTER_TOLERANCE = 0.5
"""Seconds an ID3 chapter start may differ from the chapters JSON."""


@dataclass(frozen=True)
class Mp3Scan:
    """What walking an MP3's frame headers found."""

    frames: int
    samples: int
    sample_rate: int
    problem: str | None
    """Why the frame stream is damaged (truncated last frame, lost sync), or None."""

    @property
    def duration(self) -> float:
        """Seconds of audio the frames hold (including encoder delay and padding)."""
        return self.samples / self.sample_rate if self.sample_rate else 0.0


_L3_BITRATES = {
    1: (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    2: (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
_SAMPLE_RATES = {1: (44100, 48000, 32000), 2: (22050, 24000, 16000), 25: (11025, 12000, 8000)}


def _frame_header(data: bytes, pos: int) -> tuple[int, int, int] | None:
    """(frame length, samples, sample rate) of an MPEG layer III frame at ``pos``, or None."""
    if pos + 4 > len(data):
        return None
    b1, b2, b3 = data[pos + 1], data[pos + 2], data[pos + 3]
    if data[pos] != 0xFF or (b1 & 0xE0) != 0xE0:
        return None
    version = {0b00: 25, 0b10: 2, 0b11: 1}.get((b1 >> 3) & 0b11)
    layer = (b1 >> 1) & 0b11
    bitrate_index = b2 >> 4
    rate_index = (b2 >> 2) & 0b11
    if version is None or layer != 0b01 or bitrate_index in (0, 15) or rate_index == 3:
        return None
    bitrate = _L3_BITRATES[1 if version == 1 else 2][bitrate_index] * 1000
    rate = _SAMPLE_RATES[version][rate_index]
    padding = (b2 >> 1) & 1
    del b3
    if version == 1:
        return 144 * bitrate // rate + padding, 1152, rate
    return 72 * bitrate // rate + padding, 576, rate


def scan_mp3(data: bytes) -> Mp3Scan:
    """Walk the MPEG layer III frames of an MP3 file from its ID3v2 tag to its end.

    A file cut short ends inside a frame: :attr:`Mp3Scan.problem` says so.
    """
    pos = 0
    if data[:3] == b"ID3" and len(data) >= 10:
        size = 0
        for byte in data[6:10]:
            size = (size << 7) | (byte & 0x7F)
        pos = 10 + size + (10 if data[5] & 0x10 else 0)
    end = len(data)
    if end - pos >= 128 and data[end - 128 : end - 125] == b"TAG":
        end -= 128
    frames = samples = rate = 0
    while pos < end:
        header = _frame_header(data, pos)
        if header is None:
            if end - pos < 4 and frames:
                return Mp3Scan(frames, samples, rate, "the file ends inside a frame header")
            what = "no MPEG audio frame" if frames == 0 else "lost frame sync"
            return Mp3Scan(frames, samples, rate, f"{what} at byte {pos}")
        length, frame_samples, rate = header
        if pos + length > end:
            return Mp3Scan(
                frames,
                samples,
                rate,
                f"the last frame is incomplete ({end - pos} of {length} bytes): truncated file",
            )
        pos += length
        frames += 1
        samples += frame_samples
    if frames == 0:
        return Mp3Scan(0, 0, 0, "no MPEG audio frames")
    return Mp3Scan(frames, samples, rate, None)


def true_peak_dbfs(samples: npt.NDArray[np.floating[Any]], oversample: int = 4) -> float:
    """Approximate true peak (dBTP): the peak of the signal oversampled ``oversample`` times.

    Oversampling is band-limited (FFT zero padding) in overlapping blocks.
    """
    n = len(samples)
    if n == 0:
        return -math.inf
    peak = float(np.max(np.abs(samples)))
    block, pad = 1 << 15, 256
    for start in range(0, n, block):
        lo, hi = max(0, start - pad), min(n, start + block + pad)
        segment = samples[lo:hi]
        upsampled = np.fft.irfft(np.fft.rfft(segment), len(segment) * oversample) * oversample
        core = upsampled[(start - lo) * oversample : (min(start + block, n) - lo) * oversample]
        if len(core):
            peak = max(peak, float(np.max(np.abs(core))))
    return 20 * math.log10(peak) if peak > 0 else -math.inf


def measure_loudness(path: Path, rate: int = 44100) -> tuple[float, float, float]:
    """Integrated loudness (LUFS), approximate true peak (dBTP) and decoded duration (s).

    Raises:
        AudioError: the file cannot be decoded.
    """
    import pyloudnorm

    from pangocast.audio.ffmpeg import decode_file

    audio = decode_file(path, rate)
    # float32 halves the memory of a long episode; BS.1770 needs no more precision
    samples = audio.samples.astype(np.float32) / np.float32(32768.0)
    if audio.duration < 0.4:  # shorter than one BS.1770 gating block
        return -math.inf, true_peak_dbfs(samples), audio.duration
    lufs = float(pyloudnorm.Meter(rate).integrated_loudness(samples))
    return lufs, true_peak_dbfs(samples), audio.duration


def check_mp3(
    path: Path,
    *,
    where: str,
    declared_length: int | None,
    declared_duration: float | None,
    expected_duration: float | None,
    loudness: bool = True,
) -> list[Finding]:
    """An enclosure: exists, size as declared, complete frames, duration, loudness.

    Args:
        path: The MP3 file.
        where: How findings name it.
        declared_length: The feed's ``enclosure length``.
        declared_duration: The feed's ``itunes:duration`` in seconds.
        expected_duration: The build manifest's exact duration in seconds.
        loudness: Also decode and measure loudness and true peak.
    """
    out: list[Finding] = []
    if not path.is_file():
        return [Finding("error", where, "enclosure file does not exist")]
    try:
        data = path.read_bytes()
    except OSError as exc:
        return [Finding("error", where, f"cannot read the enclosure: {exc.strerror}")]
    if declared_length is not None and declared_length != len(data):
        out.append(
            Finding(
                "error",
                where,
                f"enclosure length is {declared_length} bytes, the file has {len(data)}",
            )
        )
    scan = scan_mp3(data)
    if scan.problem:
        out.append(Finding("error", where, f"damaged MP3: {scan.problem}"))
    try:
        header_length = float(_mp3.MP3(path).info.length)
    except (MutagenError, OSError) as exc:
        out.append(Finding("error", where, f"not a readable MP3: {exc}"))
        return out
    if declared_duration is not None and abs(header_length - declared_duration) > (
        DURATION_TOLERANCE
    ):
        out.append(
            Finding(
                "error",
                where,
                f"the MP3 lasts {header_length:.1f} s, itunes:duration says "
                f"{declared_duration:.0f} s",
            )
        )
    reference = expected_duration if expected_duration is not None else header_length
    if not scan.problem and abs(scan.duration - reference) > DURATION_TOLERANCE + 0.1:
        out.append(
            Finding(
                "error",
                where,
                f"the MP3 frames hold {scan.duration:.1f} s, expected {reference:.1f} s",
            )
        )
    if not loudness:
        return out
    try:
        lufs, peak, decoded = measure_loudness(path)
    except PangocastError as exc:
        out.append(Finding("error", where, f"cannot decode: {exc.what}"))
        return out
    if abs(decoded - reference) > DURATION_TOLERANCE:
        out.append(
            Finding(
                "error",
                where,
                f"the audio decodes to {decoded:.1f} s, expected {reference:.1f} s"
                " (truncated or damaged file)",
            )
        )
    if not math.isfinite(lufs) or abs(lufs - TARGET_LUFS) > LUFS_TOLERANCE:
        shown = f"{lufs:.1f}" if math.isfinite(lufs) else "silent"
        out.append(
            Finding(
                "warning",
                where,
                f"loudness {shown} LUFS, target {TARGET_LUFS:.0f} ±{LUFS_TOLERANCE:.0f} LUFS",
            )
        )
    if peak > MAX_TRUE_PEAK_DBTP:
        out.append(
            Finding(
                "warning",
                where,
                f"true peak {peak:.1f} dBTP is above {MAX_TRUE_PEAK_DBTP:.0f} dBTP",
            )
        )
    return out


def check_artwork(path: Path, *, where: str) -> list[Finding]:
    """Show or episode art: exists, PNG/JPEG matching its extension, square, 1400-3000 px,
    RGB."""
    if not path.is_file():
        return [Finding("error", where, "artwork file does not exist")]
    try:
        info = image_info(path.read_bytes())
    except OSError as exc:
        return [Finding("error", where, f"cannot read the artwork: {exc.strerror}")]
    if info is None:
        return [Finding("error", where, "artwork is not a PNG or JPEG file")]
    out: list[Finding] = []
    suffix = path.suffix.lower()
    expected = (".png",) if info.format == "png" else (".jpg", ".jpeg")
    if suffix not in expected:
        out.append(
            Finding("error", where, f"the file is a {info.format.upper()} but named '{suffix}'")
        )
    if info.width != info.height:
        out.append(Finding("error", where, f"artwork is {info.width}x{info.height}, not square"))
    if (
        not ART_MIN_PX
        <= min(info.width, info.height)
        <= max(info.width, info.height)
        <= (ART_MAX_PX)
    ):
        out.append(
            Finding(
                "error",
                where,
                f"artwork is {info.width}x{info.height} px, Apple needs "
                f"{ART_MIN_PX}-{ART_MAX_PX} px",
            )
        )
    if info.colour in ("grey", "grey+alpha", "cmyk", "unknown"):
        out.append(Finding("error", where, f"artwork colour model is {info.colour}, not RGB"))
    elif info.colour == "rgba":
        out.append(Finding("warning", where, "artwork has an alpha channel: use plain RGB"))
    return out


_VTT_TIME = r"(?:\d+:)?\d{2}:\d{2}\.\d{3}"
_VTT_CUE = re.compile(rf"^({_VTT_TIME})\s+-->\s+({_VTT_TIME})")
_SRT_CUE = re.compile(r"^(\d+:\d{2}:\d{2},\d{3})\s+-->\s+(\d+:\d{2}:\d{2},\d{3})\s*$")
_TAG = re.compile(r"<[^>]*>")


def stamp_seconds(stamp: str) -> float:
    parts = stamp.replace(",", ".").split(":")
    total = 0.0
    for part in parts:
        total = total * 60 + float(part)
    return total


def check_transcript(
    path: Path, *, where: str, duration: float | None, mime: str | None = None
) -> list[Finding]:
    """A transcript file exists and parses as WebVTT, SRT or Podcasting 2.0 JSON."""
    if not path.is_file():
        return [Finding("error", where, "transcript file does not exist")]
    suffix = path.suffix.lower()
    out: list[Finding] = []
    expected = TRANSCRIPT_TYPES.get(suffix.lstrip("."))
    if mime and expected and mime != expected:
        out.append(Finding("warning", where, f"declared type {mime}, expected {expected}"))
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        return [*out, Finding("error", where, "transcript is not UTF-8 text")]
    except OSError as exc:
        return [*out, Finding("error", where, f"cannot read the transcript: {exc.strerror}")]
    ends: list[float] = []
    if suffix == ".vtt":
        lines = text.splitlines()
        if not lines or not re.match(r"^WEBVTT([ \t].*)?$", lines[0]):
            return [*out, Finding("error", where, "WebVTT must start with 'WEBVTT'")]
        long_lines = 0
        in_cue = False
        voices = False
        for line in lines[1:]:
            match = _VTT_CUE.match(line.strip())
            if match:
                start, end = stamp_seconds(match.group(1)), stamp_seconds(match.group(2))
                if end < start:
                    out.append(Finding("error", where, f"cue ends before it starts: {line}"))
                ends.append(end)
                in_cue = True
            elif not line.strip():
                in_cue = False
            elif in_cue:
                voices = voices or line.lstrip().startswith("<v")
                if len(_TAG.sub("", line)) > MAX_CUE_LINE:
                    long_lines += 1
        if not ends:
            return [*out, Finding("error", where, "WebVTT file has no cues")]
        if long_lines:
            out.append(
                Finding("warning", where, f"{long_lines} cue lines exceed {MAX_CUE_LINE} chars")
            )
        if not voices:
            out.append(Finding("info", where, "no <v Speaker> voice spans"))
    elif suffix == ".srt":
        blocks = [b for b in re.split(r"\n\s*\n", text.strip()) if b.strip()]
        for number, block in enumerate(blocks, start=1):
            lines = block.strip().splitlines()
            match = _SRT_CUE.match(lines[1].strip()) if len(lines) >= 3 else None
            if not lines[0].strip().isdigit() or match is None:
                return [*out, Finding("error", where, f"SRT cue {number} is malformed")]
            ends.append(stamp_seconds(match.group(2)))
        if not ends:
            return [*out, Finding("error", where, "SRT file has no cues")]
    elif suffix == ".json":
        try:
            data = json.loads(text)
            segments = data["segments"]
            if not isinstance(segments, list) or not segments:
                raise ValueError("no segments")
            for seg in segments:
                if not isinstance(seg["body"], str):
                    raise ValueError("a segment body is not text")
                ends.append(float(seg["endTime"]))
                float(seg["startTime"])
        except (ValueError, KeyError, TypeError) as exc:
            return [*out, Finding("error", where, f"not a Podcasting 2.0 JSON transcript: {exc}")]
    else:
        return [*out, Finding("warning", where, f"unknown transcript format '{suffix}'")]
    if duration is not None and ends and max(ends) > duration + DURATION_TOLERANCE:
        out.append(
            Finding(
                "error",
                where,
                f"transcript runs to {max(ends):.1f} s, the audio lasts {duration:.1f} s",
            )
        )
    return out


def read_chapters_json(path: Path) -> list[tuple[float, str]]:
    """(start seconds, title) of a Podcasting 2.0 JSON chapters file.

    Raises:
        ValueError: the file does not parse or is not a chapters file.
        OSError: the file cannot be read.
    """
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not isinstance(data.get("chapters"), list):
        raise ValueError("no 'chapters' list")
    chapters = []
    for chapter in data["chapters"]:
        if not isinstance(chapter, dict) or not isinstance(chapter.get("title"), str):
            raise ValueError("a chapter has no title")
        start = chapter.get("startTime")
        if not isinstance(start, int | float) or isinstance(start, bool) or start < 0:
            raise ValueError(f"chapter '{chapter['title']}' has no valid startTime")
        chapters.append((float(start), chapter["title"]))
    return chapters


def check_chapters_file(path: Path, *, where: str, duration: float | None) -> list[Finding]:
    """A Podcasting 2.0 JSON chapters file exists, parses, and fits the audio."""
    if not path.is_file():
        return [Finding("error", where, "chapters file does not exist")]
    try:
        chapters = read_chapters_json(path)
    except (OSError, ValueError, TypeError) as exc:
        return [Finding("error", where, f"not a JSON chapters file: {exc}")]
    out: list[Finding] = []
    if not chapters:
        out.append(Finding("warning", where, "the chapters list is empty"))
    starts = [s for s, _ in chapters]
    if starts != sorted(starts):
        out.append(Finding("error", where, "chapter start times are not in order"))
    if duration is not None and starts and max(starts) > duration:
        out.append(
            Finding("error", where, f"a chapter starts after the audio ends ({duration:.1f} s)")
        )
    return out


def id3_chapters(path: Path) -> list[tuple[float, str]]:
    """(start seconds, title) of the ID3 CHAP frames of an MP3 (empty when none)."""
    try:
        tags = _id3.ID3(path)
    except (MutagenError, OSError):
        return []
    chapters = []
    for chap in tags.getall("CHAP"):
        title_frame = chap.sub_frames.get("TIT2")
        title = str(title_frame.text[0]) if title_frame and title_frame.text else ""
        chapters.append((chap.start_time / 1000.0, title))
    return sorted(chapters)


def compare_chapters(
    a: list[tuple[float, str]], b: list[tuple[float, str]], *, tolerance: float = CHAPTER_TOLERANCE
) -> str | None:
    """How two chapter lists disagree (count, title or start time), or None if they agree."""
    if len(a) != len(b):
        return f"{len(a)} chapters vs {len(b)}"
    for (sa, ta), (sb, tb) in zip(a, b, strict=True):
        if ta.strip() != tb.strip():
            return f"title '{ta}' vs '{tb}'"
        if abs(sa - sb) > tolerance:
            return f"'{ta}' starts at {sa:.1f} s vs {sb:.1f} s"
    return None
