"""Content-addressed segment cache: one WAV per synthesized sentence.

A segment's key covers everything that changes its sound: the text the engine receives
(after lexicon and normalisation), the engine and its model version, the voice and its
prosody. Entries are written to a temporary name and renamed, so an interrupted build never
leaves a half-written entry; a corrupt entry (bad header, truncated data) is detected on
read, removed and synthesized again.
"""

from __future__ import annotations

import hashlib
import json
import wave
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from pangocast.audio.pcm import Audio
from pangocast.core.errors import AudioError, BuildError
from pangocast.core.files import replace_file
from pangocast.voice.engines.base import Voice

KEY_VERSION = "1"


def segment_key(engine: str, engine_version: str, voice: Voice, text: str) -> str:
    """The cache key of one segment (hex SHA-256)."""
    payload = json.dumps(
        [KEY_VERSION, engine, engine_version, voice.engine, voice.id, list(voice.prosody), text],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class CacheStats:
    """Size of the cache."""

    entries: int
    bytes: int


class SegmentCache:
    """Segments stored as ``<root>/<key[:2]>/<key>.wav``."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, key: str) -> Path:
        """Where the entry for ``key`` lives."""
        return self.root / key[:2] / f"{key}.wav"

    def has(self, key: str) -> bool:
        """True when a complete entry exists (cheap check of the header and size)."""
        p = self.path(key)
        try:
            with wave.open(str(p), "rb") as w:
                expected = w.getnframes() * w.getsampwidth() * w.getnchannels()
            return p.stat().st_size >= expected + 44 and expected > 0
        except (OSError, wave.Error, EOFError):
            return False

    def get(self, key: str) -> Audio | None:
        """The cached audio, or None when absent or corrupt (a corrupt entry is removed)."""
        p = self.path(key)
        try:
            data = p.read_bytes()
        except OSError:
            return None
        try:
            audio = Audio.from_wav_bytes(data)
            with wave.open(str(p), "rb") as w:
                complete = len(audio.samples) == w.getnframes() and w.getnframes() > 0
        except (AudioError, wave.Error, EOFError):
            complete = False
        if not complete:
            p.unlink(missing_ok=True)
            return None
        return audio

    def put(self, key: str, audio: Audio) -> Path:
        """Store ``audio`` under ``key`` atomically.

        The temporary file ends in ``.part``, so one left by a killed process is never
        listed as an entry; :meth:`prune` removes it.

        Raises:
            BuildError: the entry cannot be written (disk full, permissions).
        """
        p = self.path(key)
        try:
            # not flushed to disk: a segment lost to a crash reads back as corrupt (see
            # get()) and is synthesized again
            replace_file(p, audio.to_wav_bytes(), durable=False)
        except OSError as exc:
            raise BuildError(
                f"cannot write to the segment cache: {exc.strerror or exc}",
                path=p,
                hint="check free space and permissions of the .cache/ folder",
            ) from exc
        return p

    def keys(self) -> list[str]:
        """Every stored key."""
        if not self.root.is_dir():
            return []
        return [p.stem for p in self.root.glob("??/*.wav")]

    def stats(self) -> CacheStats:
        """Number of entries and bytes on disk."""
        files = list(self.root.glob("??/*.wav")) if self.root.is_dir() else []
        return CacheStats(len(files), sum(f.stat().st_size for f in files))

    def prune(self, keep: Iterable[str]) -> CacheStats:
        """Remove every entry not in ``keep`` (and leftover temp files); returns what went."""
        wanted = set(keep)
        n = size = 0
        if not self.root.is_dir():
            return CacheStats(0, 0)
        for f in [*self.root.glob("??/*.wav"), *self.root.glob("??/.tmp-*")]:
            if f.stem not in wanted:
                size += f.stat().st_size
                f.unlink(missing_ok=True)
                n += 1
        return CacheStats(n, size)
