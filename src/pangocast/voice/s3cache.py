"""The segment cache in an S3 bucket, shared by every machine that builds the show.

Objects are ``<prefix>/<key[:2]>/<key>.wav`` (the local folder's layout), each with the
SHA-256 of its bytes in the object's metadata (``x-amz-meta-sha256``). The client is
obstore; the endpoint, credentials and region come from the standard variables
(``AWS_ENDPOINT_URL``, ``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``, ``AWS_REGION`` or
``AWS_DEFAULT_REGION``), read again wherever the cache is unpickled, so a worker uses its
own machine's credentials and none travel with the tasks. An ``http://`` endpoint (a test
server, a store inside a private network) is allowed.

A process keeps a copy of each object it downloads in a temporary folder (removed at exit),
checked against the checksum on every read like a download: a build verifies a segment
and reads it again for its episode with one download.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from pangocast.audio.pcm import Audio
from pangocast.core.errors import BuildError, ConfigError
from pangocast.voice.segments import CacheStats, SegmentStore, checksum

if TYPE_CHECKING:
    from obstore import ObjectMeta
    from obstore.store import S3Store

T = TypeVar("T")

PRUNE_GRACE = timedelta(hours=1)
"""Objects younger than this are never pruned: a build on another machine may be writing
segments that this machine's scripts do not know yet (the build lock is only local)."""

CONNECT_TIMEOUT = "5s"
REQUEST_TIMEOUT = "60s"
RETRY_TIMEOUT = timedelta(seconds=20)

_HINT = (
    "check AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY and AWS_REGION,"
    " and that the bucket exists"
)


class S3SegmentCache(SegmentStore):
    """Segments in ``s3://BUCKET/PREFIX`` (see module)."""

    shared = True

    def __init__(self, url: str) -> None:
        """Raises: ConfigError: not an ``s3://BUCKET[/PREFIX]`` URL."""
        bucket, prefix = parse_bucket_url(url)
        self.url = url
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self._store = _make_store(bucket, self.prefix)
        self._mirror: Path | None = None
        """A folder of this process's copies of the objects it read, so that checking a
        segment and then reading it costs one download (made on first use, removed at
        exit)."""

    def __reduce__(self) -> tuple[Callable[[str], S3SegmentCache], tuple[str]]:
        return (S3SegmentCache, (self.url,))  # rebuilt from the environment where it lands

    @property
    def location(self) -> str:
        return self.url

    @staticmethod
    def _path(key: str) -> str:
        return f"{key[:2]}/{key}.wav"

    def _call(self, what: str, fn: Callable[[], T]) -> T:
        from obstore.exceptions import BaseError

        try:
            return fn()
        except (BaseError, OSError) as exc:
            if isinstance(exc, FileNotFoundError):
                raise
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise BuildError(
                f"segment cache {self.url}: cannot {what}: {first[:200]}", hint=_HINT
            ) from exc

    def has(self, key: str) -> bool:
        import obstore

        try:
            meta = self._call("read", lambda: obstore.head(self._store, self._path(key)))
        except FileNotFoundError:
            return False
        return meta["size"] > 44

    def present(self, keys: Iterable[str]) -> set[str]:
        """One listing of the bucket instead of a request per key."""
        stored = {_key_of(m["path"]) for m in self._listing() if m["size"] > 44}
        return {k for k in keys if k in stored}

    def _listing(self) -> Iterator[ObjectMeta]:
        import obstore

        def pages() -> list[Sequence[ObjectMeta]]:
            return list(obstore.list(self._store, chunk_size=1000))

        for page in self._call("list", pages):
            for meta in page:
                if meta["path"].endswith(".wav"):
                    yield meta

    def _load(self, key: str) -> tuple[bytes, str | None] | None:
        import obstore

        kept = self._kept(key)
        if kept is not None:
            return kept

        def fetch() -> tuple[bytes, str | None]:
            got = obstore.get(self._store, self._path(key))
            stored = got.attributes.get("sha256")
            return bytes(got.bytes()), stored

        try:
            data, stored = self._call("read", fetch)
        except FileNotFoundError:
            return None
        if stored is not None:
            self._keep(key, data, stored)
        return data, stored

    def _kept(self, key: str) -> tuple[bytes, str] | None:
        """This process's copy of the object, if it read it before (it is checked against
        its checksum like a download)."""
        if self._mirror is None:
            return None
        try:
            data = (self._mirror / f"{key}.wav").read_bytes()
            stored = (self._mirror / f"{key}.sha256").read_text(encoding="ascii")
        except (OSError, UnicodeDecodeError):
            return None
        return data, stored

    def _keep(self, key: str, data: bytes, stored: str) -> None:
        if self._mirror is None:
            self._mirror = Path(tempfile.mkdtemp(prefix="pangocast-s3-segments-"))
            atexit.register(shutil.rmtree, self._mirror, ignore_errors=True)
        with contextlib.suppress(OSError):  # no copy: the next read downloads again
            (self._mirror / f"{key}.wav").write_bytes(data)
            (self._mirror / f"{key}.sha256").write_text(stored, encoding="ascii")

    def _forget(self, key: str) -> None:
        if self._mirror is not None:
            for suffix in (".wav", ".sha256"):
                (self._mirror / f"{key}{suffix}").unlink(missing_ok=True)

    def _remove(self, key: str) -> None:
        import obstore

        self._forget(key)

        with contextlib.suppress(FileNotFoundError):
            self._call("delete", lambda: obstore.delete(self._store, self._path(key)))

    def _adopt(self, key: str, digest: str) -> None:
        pass  # every object this cache writes has its checksum

    def put(self, key: str, audio: Audio) -> None:
        """One PUT (atomic: readers see the old object or the whole new one).

        Raises:
            BuildError: the bucket refused it or cannot be reached.
        """
        import obstore

        data = audio.to_wav_bytes()
        attributes: dict[str, str] = {"Content-Type": "audio/wav", "sha256": checksum(data)}
        self._call(
            "write",
            lambda: obstore.put(self._store, self._path(key), data, attributes=attributes),
        )

    def keys(self) -> list[str]:
        return [_key_of(m["path"]) for m in self._listing()]

    def stats(self) -> CacheStats:
        sizes = [m["size"] for m in self._listing()]
        return CacheStats(len(sizes), sum(sizes))

    def prune(self, keep: Iterable[str]) -> CacheStats:
        """Remove every object not in ``keep`` that is older than :data:`PRUNE_GRACE`."""

        wanted = set(keep)
        cutoff = datetime.now(UTC) - PRUNE_GRACE
        gone = [
            m
            for m in self._listing()
            if _key_of(m["path"]) not in wanted and m["last_modified"] < cutoff
        ]
        paths = [m["path"] for m in gone]
        for start in range(0, len(paths), 1000):  # S3's batch delete takes 1000 at most
            self._delete(paths[start : start + 1000])
        return CacheStats(len(gone), sum(m["size"] for m in gone))

    def _delete(self, paths: list[str]) -> None:
        import obstore

        self._call("delete", lambda: obstore.delete(self._store, paths))


def _key_of(path: str) -> str:
    return path.rsplit("/", 1)[-1].removesuffix(".wav")


def parse_bucket_url(url: str) -> tuple[str, str]:
    """``s3://BUCKET/PREFIX`` as (bucket, prefix without slashes at its ends).

    Raises:
        ConfigError: not an ``s3://`` URL with a bucket name.
    """
    bucket, _, prefix = url.removeprefix("s3://").partition("/")
    if not url.startswith("s3://") or not bucket:
        raise ConfigError(
            f"not a bucket URL: '{url}'",
            hint="give s3://BUCKET or s3://BUCKET/PREFIX (endpoint and keys from AWS_*)",
        )
    return bucket, prefix.strip("/")


def open_store(url: str) -> S3Store:
    """An obstore client for ``s3://BUCKET/PREFIX``, configured from the AWS variables.

    Raises:
        ConfigError: not an ``s3://`` URL with a bucket name.
    """
    return _make_store(*parse_bucket_url(url))


def _make_store(bucket: str, prefix: str) -> S3Store:
    """An obstore client configured from the standard AWS variables."""
    from obstore.store import S3Store

    endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
    config: dict[str, Any] = {}
    if endpoint:
        config["endpoint"] = endpoint
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    if region:
        config["region"] = region
    return S3Store(
        bucket,
        prefix=prefix or None,
        config=config,  # type: ignore[arg-type]
        client_options={
            "allow_http": bool(endpoint and endpoint.startswith("http://")),
            "connect_timeout": CONNECT_TIMEOUT,
            "timeout": REQUEST_TIMEOUT,
        },
        retry_config={"max_retries": 3, "retry_timeout": RETRY_TIMEOUT},
    )
