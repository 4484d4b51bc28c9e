"""Content-addressed segment cache: one WAV per synthesized sentence.

A segment's key covers everything that changes its sound: the text the engine receives
(after lexicon and normalisation), the engine and its model version, the voice and its
prosody. One interface, :class:`SegmentStore`, has two implementations: a local folder
(:class:`SegmentCache`) and a bucket (:class:`pangocast.voice.s3cache.S3SegmentCache`),
chosen by :func:`open_cache`. Both keep the same keys.

Every entry carries the SHA-256 of its WAV bytes (a ``<key>.sha256`` file beside the WAV,
or the object's metadata in a bucket) and is checked against it on read: a damaged entry
(a flipped bit, a truncated file) is never assembled into an episode; it is removed,
reported, and synthesized again. Entries are written whole (a temporary name renamed, or a
single PUT), so an interrupted build never leaves a half-written one.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import wave
from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from pangocast.audio.pcm import Audio
from pangocast.core.errors import AudioError, BuildError, ConfigError
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


def checksum(data: bytes) -> str:
    """What an entry's integrity is checked with: the hex SHA-256 of its WAV bytes."""
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class CacheStats:
    """Size of the cache."""

    entries: int
    bytes: int


class SegmentStore(ABC):
    """Where synthesized segments are kept, by key; every read is checked (see module)."""

    shared: bool = False
    """True when workers on other machines reach the store (they then write to it
    directly; otherwise they send their audio back to the build)."""

    @property
    @abstractmethod
    def location(self) -> str:
        """The folder or URL, for messages."""

    @abstractmethod
    def has(self, key: str) -> bool:
        """True when an entry exists for ``key`` (a cheap check; :meth:`get` verifies)."""

    def present(self, keys: Iterable[str]) -> set[str]:
        """The ``keys`` that have an entry (one listing where that is cheaper)."""
        return {k for k in keys if self.has(k)}

    @abstractmethod
    def put(self, key: str, audio: Audio) -> None:
        """Store ``audio`` under ``key``, whole or not at all, with its checksum.

        Raises:
            BuildError: the entry cannot be written.
        """

    @abstractmethod
    def _load(self, key: str) -> tuple[bytes, str | None] | None:
        """The entry's bytes and stored checksum (None: none stored), or None if absent."""

    @abstractmethod
    def _remove(self, key: str) -> None:
        """Delete the entry (and its checksum)."""

    @abstractmethod
    def _adopt(self, key: str, digest: str) -> None:
        """Record the checksum of an entry written before checksums were kept."""

    @abstractmethod
    def keys(self) -> list[str]:
        """Every stored key."""

    @abstractmethod
    def stats(self) -> CacheStats:
        """Number of entries and their bytes."""

    @abstractmethod
    def prune(self, keep: Iterable[str]) -> CacheStats:
        """Remove every entry not in ``keep``; returns what went."""

    def get(self, key: str) -> Audio | None:
        """The cached audio, or None when absent or damaged (a damaged entry is removed)."""
        audio = self._read(key)
        return audio if isinstance(audio, Audio) else None

    def verify(self, keys: Iterable[str]) -> list[str]:
        """Read and check the entries of ``keys``; the damaged ones are removed and
        returned (absent ones are not), so that they are synthesized again."""
        return [k for k in keys if self._read(k) is False]

    def _read(self, key: str) -> Audio | bool | None:
        # None: absent; False: damaged (and removed)
        loaded = self._load(key)
        if loaded is None:
            return None
        data, stored = loaded
        digest = checksum(data)
        audio = _decode_whole(data) if stored in (None, digest) else None
        if audio is None:
            self._remove(key)
            return False
        if stored is None:
            # Written before checksums were kept: it passed the structural check, and from
            # now on any change to it is caught.
            self._adopt(key, digest)
        return audio


def _decode_whole(data: bytes) -> Audio | None:
    """The WAV's audio when its header and its data agree (not truncated), else None."""
    try:
        audio = Audio.from_wav_bytes(data)
        with wave.open(io.BytesIO(data), "rb") as w:
            frames = w.getnframes()
    except (AudioError, wave.Error, EOFError):
        return None
    return audio if len(audio.samples) == frames > 0 else None


class SegmentCache(SegmentStore):
    """Segments stored as ``<root>/<key[:2]>/<key>.wav``, the checksum in ``<key>.sha256``."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @property
    def location(self) -> str:
        return str(self.root)

    def path(self, key: str) -> Path:
        """Where the entry for ``key`` lives."""
        return self.root / key[:2] / f"{key}.wav"

    def _sum_path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.sha256"

    def has(self, key: str) -> bool:
        """True when a complete entry exists (cheap check of the header and size)."""
        p = self.path(key)
        try:
            with wave.open(str(p), "rb") as w:
                expected = w.getnframes() * w.getsampwidth() * w.getnchannels()
            return p.stat().st_size >= expected + 44 and expected > 0
        except (OSError, wave.Error, EOFError):
            return False

    def _load(self, key: str) -> tuple[bytes, str | None] | None:
        try:
            data = self.path(key).read_bytes()
        except OSError:
            return None
        try:
            stored: str | None = self._sum_path(key).read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError):
            stored = None
        return data, stored

    def _remove(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)
        self._sum_path(key).unlink(missing_ok=True)

    def _adopt(self, key: str, digest: str) -> None:
        # on failure: checked again, and adopted, on the next read
        with contextlib.suppress(OSError):
            replace_file(self._sum_path(key), digest.encode("ascii"), durable=False)

    def put(self, key: str, audio: Audio) -> None:
        """Store ``audio`` under ``key`` atomically, then its checksum.

        The temporary files end in ``.part``, so one left by a killed process is never
        listed as an entry; :meth:`prune` removes it. An entry whose checksum a kill kept
        from being written is adopted on its next read (see :meth:`SegmentStore.get`).

        Raises:
            BuildError: the entry cannot be written (disk full, permissions).
        """
        data = audio.to_wav_bytes()
        try:
            # not flushed to disk: a segment lost to a crash fails its check on read and
            # is synthesized again
            replace_file(self.path(key), data, durable=False)
            replace_file(self._sum_path(key), checksum(data).encode("ascii"), durable=False)
        except OSError as exc:
            raise BuildError(
                f"cannot write to the segment cache: {exc.strerror or exc}",
                path=self.path(key),
                hint="check free space and permissions of the .cache/ folder",
            ) from exc

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
        for f in self.root.glob("??/*"):
            if f.name.split(".")[0] not in wanted:
                if f.suffix == ".wav":
                    size += f.stat().st_size
                    n += 1
                f.unlink(missing_ok=True)
        return CacheStats(n, size)


def open_cache(spec: str | None, default: Path) -> SegmentStore:
    """The segment cache ``spec`` names: ``s3://BUCKET/PREFIX`` (credentials and endpoint
    from the standard ``AWS_*`` variables), a folder, or None for ``default``.

    Raises:
        ConfigError: a URL of another kind, or an S3 URL without a bucket.
    """
    if not spec:
        return SegmentCache(default)
    if spec.startswith("s3://"):
        from pangocast.voice.s3cache import S3SegmentCache

        return S3SegmentCache(spec)
    if "://" in spec:
        raise ConfigError(
            f"unsupported segment cache '{spec}'",
            hint="give s3://BUCKET/PREFIX or a folder",
        )
    return SegmentCache(Path(spec).expanduser())
