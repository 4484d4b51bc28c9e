"""MP3 delivery: encode a mastered episode and tag it (ID3v2 text, cover art and chapters).

Encoding runs imageio-ffmpeg's ffmpeg (libmp3lame, constant bit rate), fed the PCM through
a pipe: no temporary WAV file and no copy of the episode on the way. Tags are written
afterwards with mutagen (ffmpeg would turn comments into TXXX frames and cannot write
chapters). The file appears under its final name only once it is complete.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import os
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mutagen.id3
import mutagen.mp3
from mutagen import MutagenError
from mutagen.id3 import ID3NoHeaderError

from pangocast.audio.ffmpeg import run_lame_encoder
from pangocast.audio.pcm import PCM, Audio
from pangocast.core.errors import AudioError
from pangocast.core.files import commit_file
from pangocast.core.models import Chapter

# mutagen's frame classes and ID3 methods are unannotated, which strict mypy rejects call by
# call: they are used through these two Any-typed module handles.
_id3: Any = mutagen.id3
_mp3: Any = mutagen.mp3


BITRATES = ("64k", "80k", "96k", "112k", "128k")
"""Constant bit rates offered: 64k mono suits speech, Apple recommends 96-128k."""

TOC_ID = "toc"
ID3_VERSION = 3
"""ID3v2.3: read by every podcast client and desktop player (v2.4 is not, everywhere). The
tag is converted to v2.3 frames before it is saved (TDRC becomes TYER/TDAT), since mutagen
writes whatever frames it holds; it reads them back as TDRC."""


class _ChaptersInTimeOrder(_id3.ID3):  # type: ignore[misc]
    """An ID3 tag that stores its frames in the order they were added, with the cover last
    and the CHAP frames by start time. mutagen sorts frames it has no rank for by size, and
    FFmpeg-based players list chapters in the order their frames are stored."""

    def _write(self, config: Any) -> bytearray:
        from mutagen.id3 import _tags

        save_frame: Any = _tags.save_frame  # what ID3._write itself uses
        frames = list(self.values())
        chapters = sorted((f for f in frames if f.FrameID == "CHAP"), key=lambda f: f.start_time)
        others = [f for f in frames if f.FrameID not in ("CHAP", "APIC")]
        covers = [f for f in frames if f.FrameID == "APIC"]
        return bytearray().join(save_frame(f, config=config) for f in others + chapters + covers)


_ISO639_2 = {
    "ar": "ara", "cs": "cze", "da": "dan", "de": "ger", "el": "gre", "en": "eng", "es": "spa",
    "fa": "per", "fi": "fin", "fr": "fre", "he": "heb", "hi": "hin", "hu": "hun", "id": "ind",
    "it": "ita", "ja": "jpn", "ko": "kor", "ms": "may", "nl": "dut", "no": "nor", "pl": "pol",
    "pt": "por", "ro": "rum", "ru": "rus", "sv": "swe", "th": "tha", "tr": "tur", "uk": "ukr",
    "vi": "vie", "yue": "chi", "zh": "chi",
}  # fmt: skip


def iso639_2(language: str) -> str:
    """The ISO 639-2 code of a BCP 47 language tag (``zh-cn`` -> ``chi``, ``en-US`` ->
    ``eng``); a tag that already is a three-letter code is kept; ``und`` when unknown."""
    primary = language.strip().lower().replace("_", "-").split("-", 1)[0]
    if primary in _ISO639_2:
        return _ISO639_2[primary]
    return primary if len(primary) == 3 and primary.isalpha() else "und"


@dataclass(frozen=True)
class Id3Tags:
    """The ID3 text and art of one episode.

    Attributes:
        title: episode title (TIT2).
        artist: host or show author (TPE1).
        album: show title (TALB).
        date: recording/publication date (TDRC), a date or ISO text ("2024", "2024-05-01").
        comment: short description (COMM).
        cover: a JPEG or PNG file embedded as the front cover (APIC), or None.
        language: the show's language (``feeds/show.toml``), a BCP 47 tag such as ``zh-cn``
            or ``en``; the comment's ISO 639-2 code is taken from it.
    """

    title: str
    artist: str
    album: str
    date: dt.date | str | None = None
    comment: str = ""
    cover: Path | None = None
    language: str = "und"

    @property
    def comment_language(self) -> str:
        """The ISO 639-2 (bibliographic) code ID3 wants for COMM: ``und`` when unknown."""
        return iso639_2(self.language)


@dataclass(frozen=True)
class Mp3Info:
    """What a player sees of an MP3 file's stream."""

    duration: float
    bitrate: int
    """Bits per second."""
    sample_rate: int
    channels: int
    cbr: bool
    """True when the stream declares a constant bit rate."""


@dataclass(frozen=True)
class PcmStream:
    """Mono 16-bit PCM made piece by piece while it is encoded (never held whole)."""

    rate: int
    length: int
    """Samples in all."""
    pieces: Callable[[], Iterator[PCM]]
    """A new iterator over the pieces, in order."""

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return self.length / self.rate


def encode_mp3(
    audio: Audio | PcmStream,
    path: Path,
    tags: Id3Tags,
    *,
    bitrate: str = "64k",
    chapters: Sequence[Chapter] = (),
) -> int:
    """Encode ``audio`` to a mono 44.1 kHz CBR MP3 at ``path``, tagged, atomically.

    The MP3 is written to a temporary name in the same folder, tagged (see
    :func:`write_id3`), then renamed over ``path``: a failed or interrupted build never
    leaves a truncated episode where the feed points.

    Args:
        audio: the mastered episode, or a stream of it encoded as it is made, at any
            rate: the encoder resamples it to 44.1 kHz on the way in (no separate pass).
        path: where the MP3 goes; its folder must exist.
        tags: ID3 text and cover.
        bitrate: one of :data:`BITRATES`.
        chapters: chapters to write as CHAP/CTOC frames.

    Returns:
        The file's size in bytes (the feed's enclosure length).

    Raises:
        AudioError: bad bit rate, empty audio, ffmpeg failed (its last line is in the
            message), or the file or cover could not be written or read.
    """
    if bitrate not in BITRATES:
        raise AudioError(f"unsupported MP3 bit rate '{bitrate}'", hint=f"use one of {BITRATES}")
    if isinstance(audio, PcmStream):
        pieces, duration = audio.pieces(), audio.duration
    else:
        pieces, duration = iter([audio.samples]), audio.duration
    if duration == 0:
        raise AudioError("refusing to encode empty audio", path=path)
    # not mkstemp: its files are private (0600) and would stay so after the rename, which
    # a web server running as another user cannot read; "x" mode still refuses to clobber
    tmp = path.with_name(f".{path.stem}-{os.getpid()}-{uuid.uuid4().hex[:8]}.mp3.part")
    try:
        tmp.open("xb").close()
    except OSError as exc:
        raise AudioError(f"cannot write the MP3: {exc}", path=path) from exc
    try:
        try:
            run_lame_encoder(pieces, audio.rate, tmp, bitrate)
        except AudioError as exc:
            raise AudioError(exc.what, path=path) from exc
        write_id3(tmp, tags, chapters, duration=duration)
        commit_file(tmp, path, durable=False)  # the build flushes it before the feed points at it
        return path.stat().st_size
    except OSError as exc:
        raise AudioError(f"cannot write the MP3: {exc}", path=path) from exc
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def _cover_mime(cover: Path) -> str:
    head = cover.read_bytes()[:8]
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    raise AudioError("cover art must be a PNG or JPEG file", path=cover)


def write_id3(
    path: Path,
    tags: Id3Tags,
    chapters: Sequence[Chapter] = (),
    *,
    duration: float | None = None,
) -> None:
    """Replace the ID3v2 tag of the MP3 at ``path`` with ``tags`` and ``chapters``.

    Writes TIT2, TPE1, TALB, TDRC, COMM, APIC (front cover) and, when there are chapters,
    one CHAP frame per chapter (ids ``chp0``, ``chp1``..., start and end in ms, a TIT2
    subframe with the title) listed in order by a top-level CTOC frame. Each chapter ends
    where the next begins; the last at the end of the audio: ``duration`` seconds when
    given (the PCM that was encoded), else the MP3's length as mutagen reads it.

    Raises:
        AudioError: the file is not a readable MP3, the chapters are not in increasing
            order inside the audio, or the cover is missing or not PNG/JPEG.
    """
    try:
        length = _mp3.MP3(path).info.length if duration is None else duration
    except (MutagenError, OSError) as exc:
        raise AudioError(f"not a readable MP3: {exc}", path=path) from exc
    length_ms = round(length * 1000)
    starts = [round(c.start * 1000) for c in chapters]
    if any(b <= a for a, b in itertools.pairwise(starts)):
        raise AudioError("chapter starts must increase", path=path)
    if starts and (starts[0] < 0 or starts[-1] >= length_ms):
        raise AudioError(
            f"chapter at {starts[-1] / 1000:.3f}s lies outside the audio ({length_ms / 1000:.3f}s)",
            path=path,
        )

    id3 = _ChaptersInTimeOrder()
    id3.add(_id3.TIT2(encoding=3, text=[tags.title]))
    id3.add(_id3.TPE1(encoding=3, text=[tags.artist]))
    id3.add(_id3.TALB(encoding=3, text=[tags.album]))
    if tags.date:
        date = tags.date.isoformat() if isinstance(tags.date, dt.date) else tags.date
        id3.add(_id3.TDRC(encoding=3, text=[date]))
    if tags.comment:
        id3.add(_id3.COMM(encoding=3, lang=tags.comment_language, desc="", text=[tags.comment]))
    if tags.cover is not None:
        try:
            mime = _cover_mime(tags.cover)
            data = tags.cover.read_bytes()
        except OSError as exc:
            raise AudioError(f"cannot read the cover art: {exc}", path=tags.cover) from exc
        id3.add(_id3.APIC(encoding=3, mime=mime, type=3, desc="Cover", data=data))
    if chapters:
        ids = [f"chp{i}" for i in range(len(chapters))]
        ends = [*starts[1:], length_ms]
        id3.add(
            _id3.CTOC(
                element_id=TOC_ID,
                flags=_id3.CTOCFlags.TOP_LEVEL | _id3.CTOCFlags.ORDERED,
                child_element_ids=ids,
                sub_frames=[_id3.TIT2(encoding=3, text=["Chapters"])],
            )
        )
        for eid, chapter, start, end in zip(ids, chapters, starts, ends, strict=True):
            id3.add(
                _id3.CHAP(
                    element_id=eid,
                    start_time=start,
                    end_time=end,
                    # 0xFFFFFFFF: "no byte offset", clients seek by time
                    start_offset=0xFFFFFFFF,
                    end_offset=0xFFFFFFFF,
                    sub_frames=[_id3.TIT2(encoding=3, text=[chapter.title])],
                )
            )
    id3.update_to_v23()  # TDRC (v2.4 only) becomes TYER/TDAT
    try:
        id3.save(path, v2_version=ID3_VERSION)
    except (MutagenError, OSError) as exc:
        raise AudioError(f"cannot write ID3 tags: {exc}", path=path) from exc


def read_chapters(path: Path) -> list[Chapter]:
    """The chapters of an MP3's ID3 tag, in the top-level CTOC's order (else by start).

    Raises:
        AudioError: the file is missing or its tag unreadable.
    """
    try:
        id3 = _id3.ID3(path)
    except ID3NoHeaderError:
        return []
    except (MutagenError, OSError) as exc:
        raise AudioError(f"cannot read ID3 tags: {exc}", path=path) from exc
    chaps = {f.element_id: f for f in id3.getall("CHAP")}
    order: list[str] = []
    for toc in id3.getall("CTOC"):
        if toc.flags & _id3.CTOCFlags.TOP_LEVEL:
            order = [eid for eid in toc.child_element_ids if eid in chaps]
            break
    if not order:
        order = sorted(chaps, key=lambda eid: chaps[eid].start_time)
    out = []
    for eid in order:
        frame = chaps[eid]
        titles = frame.sub_frames.getall("TIT2")
        title = str(titles[0].text[0]) if titles and titles[0].text else eid
        out.append(Chapter(start=frame.start_time / 1000.0, title=title))
    return out


def mp3_info(path: Path) -> Mp3Info:
    """Duration, bit rate, sample rate, channels and CBR flag of an MP3 file.

    Raises:
        AudioError: the file is missing or not an MP3.
    """
    try:
        info = _mp3.MP3(path).info
    except (MutagenError, OSError) as exc:
        raise AudioError(f"not a readable MP3: {exc}", path=path) from exc
    return Mp3Info(
        duration=float(info.length),
        bitrate=int(info.bitrate),
        sample_rate=int(info.sample_rate),
        channels=int(info.channels),
        cbr=info.bitrate_mode == _mp3.BitrateMode.CBR,
    )
