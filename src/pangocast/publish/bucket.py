"""Publishing ``output/`` to an S3-compatible bucket, as safely as the build writes a folder.

A podcast app, a browser and a CDN serve the show straight from the bucket, so:

- every object gets its ``Content-Type`` (text types in UTF-8), and a ``Cache-Control``:
  content-addressed files (audio, transcripts, chapters, images, the search index's
  ``.pf_*`` files: a hash in their name) ``public, max-age=31536000, immutable``; pages,
  the manifest and the feed a short max-age;
- the order is the commit protocol: content-addressed objects first, then pages and the
  manifest, ``feed.xml`` last (written only if the feed in the bucket is still the one
  this publish started from). A publish that dies leaves the old feed, which names only
  objects that are complete (a single PUT is atomic);
- only changed objects are uploaded (the object's ETag is the MD5 of a single PUT);
- objects the new feed no longer needs are deleted after it, once unreferenced for a grace
  period (apps and CDNs keep the old feed for a while): when each was first seen
  unreferenced is kept in ``.pangocast/unreferenced.json`` in the bucket;
- two publishes cannot interleave: ``.pangocast/publish.lock`` is created with
  ``If-None-Match: *``; a lock older than :data:`STALE_LOCK` (a publish that died) is taken
  over with ``If-Match`` on its ETag.

obstore (the Rust object_store crate) is the client; the endpoint and credentials come from
the standard ``AWS_*`` variables (``AWS_ENDPOINT_URL`` included).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pangocast.core.errors import BuildError
from pangocast.publish.output import VERSIONED_DIRS
from pangocast.publish.search import is_content_addressed, is_entry
from pangocast.publish.serve import content_type
from pangocast.voice.s3cache import open_store

if TYPE_CHECKING:
    from obstore.store import S3Store

__all__ = [
    "IMMUTABLE",
    "SHORT",
    "BucketPublishReport",
    "cache_control",
    "publish_to_bucket",
]

IMMUTABLE = "public, max-age=31536000, immutable"
SHORT = "public, max-age=300"
FEED_CACHE = "public, max-age=60"
STATE_DIR = ".pangocast"
LOCK_KEY = f"{STATE_DIR}/publish.lock"
UNREFERENCED_KEY = f"{STATE_DIR}/unreferenced.json"
STALE_LOCK = dt.timedelta(hours=1)
DEFAULT_GRACE = dt.timedelta(days=1)
_TEXT_PREFIXES = ("text/", "application/json", "application/xml", "application/rss+xml")
_FEED = "feed.xml"
_MANIFEST = "manifest.json"


@dataclass
class BucketPublishReport:
    """What a publish did.

    Attributes:
        target: the bucket URL.
        uploaded: keys written (relative to the prefix), in upload order.
        unchanged: keys already holding the same bytes.
        deleted: keys removed (unreferenced for longer than the grace period).
        waiting: unreferenced keys kept until their grace period ends.
    """

    target: str
    uploaded: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)


def cache_control(rel: str) -> str:
    """The ``Cache-Control`` of an object: long and immutable for content-addressed files."""
    if rel == _FEED:
        return FEED_CACHE
    if rel.split("/", 1)[0] in VERSIONED_DIRS or is_content_addressed(rel):
        return IMMUTABLE
    return SHORT


def _attributes(rel: str) -> dict[str, str]:
    kind = content_type(rel)
    if kind.startswith(_TEXT_PREFIXES):
        kind += "; charset=utf-8"
    return {"Content-Type": kind, "Cache-Control": cache_control(rel)}


def _md5(path: Path) -> str:
    h = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _local_files(output: Path) -> dict[str, Path]:
    files: dict[str, Path] = {}
    for path in sorted(output.rglob("*")):
        rel = path.relative_to(output).as_posix()
        if path.is_file() and not any(part.startswith(".") for part in rel.split("/")):
            files[rel] = path
    return files


def _order(rels: list[str]) -> list[str]:
    """Content-addressed files first, then pages, the search index's entry file (after
    the index files it names), the manifest, the feed last."""

    def rank(rel: str) -> tuple[int, str]:
        if rel == _FEED:
            return (4, rel)
        if rel == _MANIFEST:
            return (3, rel)
        if is_entry(rel):
            return (2, rel)
        content = rel.split("/", 1)[0] in VERSIONED_DIRS or is_content_addressed(rel)
        return (0 if content else 1, rel)

    return sorted(rels, key=rank)


class _Bucket:
    """The few operations a publish needs, with errors turned into one-line ones."""

    def __init__(self, store: S3Store, url: str) -> None:
        self.store = store
        self.url = url

    def fail(self, exc: Exception, what: str) -> BuildError:
        text = str(exc).split("\n", 1)[0][:200]
        return BuildError(
            f"cannot {what} in {self.url}: {type(exc).__name__}: {text}",
            hint="check AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY and the bucket",
        )

    def listing(self) -> dict[str, Mapping[str, Any]]:
        import obstore

        try:
            return {m["path"]: m for batch in obstore.list(self.store) for m in batch}
        except Exception as exc:  # obstore raises its own exception types
            raise self.fail(exc, "list the objects") from exc

    def read(self, key: str) -> tuple[bytes, Mapping[str, Any]] | None:
        """The object's bytes and metadata (its ETag), or None when there is none."""
        import obstore
        from obstore.exceptions import NotFoundError

        try:
            got = obstore.get(self.store, key)
            return bytes(got.bytes()), got.meta
        except (NotFoundError, FileNotFoundError):  # obstore raises either for a 404
            return None
        except Exception as exc:
            raise self.fail(exc, f"read {key}") from exc

    def put(self, key: str, data: bytes | Path, mode: Any = None, **attrs: str) -> str | None:
        import obstore

        body = data.read_bytes() if isinstance(data, Path) else data
        result = obstore.put(
            self.store, key, body, attributes=attrs or None, mode=mode, use_multipart=False
        )
        return result.get("e_tag")

    def delete(self, keys: list[str]) -> None:
        import obstore

        try:
            if keys:
                obstore.delete(self.store, keys)
        except Exception as exc:
            raise self.fail(exc, "delete unreferenced objects") from exc


def _etag(meta: Mapping[str, Any] | None) -> str:
    return str((meta or {}).get("e_tag") or "").strip('"')


def _lock(bucket: _Bucket, now: dt.datetime) -> str | None:
    """Take the publish lock; returns its ETag.

    Raises:
        BuildError: another publish holds a fresh lock.
    """
    from obstore.exceptions import AlreadyExistsError, PreconditionError

    body = json.dumps(
        {"host": socket.gethostname(), "pid": os.getpid(), "since": now.isoformat()}
    ).encode()
    try:
        return bucket.put(LOCK_KEY, body, mode="create")
    except AlreadyExistsError:
        pass
    except Exception as exc:
        raise bucket.fail(exc, "take the publish lock") from exc
    got = bucket.read(LOCK_KEY)
    raw, held = got if got is not None else (b"{}", None)
    try:
        info = json.loads(raw)
        since = dt.datetime.fromisoformat(str(info["since"]))
    except (ValueError, KeyError, TypeError):
        info, since = {}, now - STALE_LOCK - dt.timedelta(seconds=1)
    if now - since < STALE_LOCK:
        raise BuildError(
            f"another publish to {bucket.url} is running "
            f"(since {since:%Y-%m-%d %H:%M} UTC, "
            f"{info.get('host', '?')} pid {info.get('pid', '?')})",
            hint="wait for it to finish; a lock older than an hour is taken over",
        )
    try:  # a stale lock: take it over, unless someone else just did
        return bucket.put(LOCK_KEY, body, mode={"e_tag": (held or {}).get("e_tag")})
    except PreconditionError:
        raise BuildError(
            f"another publish to {bucket.url} just took over a stale lock",
            hint="wait for it to finish",
        ) from None


def publish_to_bucket(
    output: Path,
    url: str,
    *,
    grace: dt.timedelta = DEFAULT_GRACE,
    now: dt.datetime | None = None,
    progress: Callable[[str], None] | None = None,
) -> BucketPublishReport:
    """Upload the built show in ``output`` to the bucket ``url`` (see the module docstring).

    Raises:
        BuildError: nothing is built, the bucket cannot be reached, another publish is
            running, or the bucket's feed changed during this publish.
        ConfigError: a bad URL.
    """
    from obstore.exceptions import AlreadyExistsError, PreconditionError

    if not (output / _FEED).is_file() or not (output / _MANIFEST).is_file():
        raise BuildError(
            f"nothing to publish: {output} holds no built show",
            path=output,
            hint="run 'pangocast build' first",
        )
    now = now or dt.datetime.now(dt.UTC)
    bucket = _Bucket(open_store(url), url)
    report = BucketPublishReport(url)
    _lock(bucket, now)
    try:
        remote = bucket.listing()
        local = _local_files(output)
        feed_tag = (remote.get(_FEED) or {}).get("e_tag")
        for rel in _order(list(local)):
            path = local[rel]
            if rel in remote and _etag(remote[rel]) == _md5(path):
                report.unchanged.append(rel)
                continue
            mode: Any = None
            if rel == _FEED:
                mode = {"e_tag": feed_tag} if feed_tag else "create"
            try:
                bucket.put(rel, path, mode, **_attributes(rel))
            except (PreconditionError, AlreadyExistsError):
                raise BuildError(
                    f"the feed in {url} changed during this publish; it was left as it is",
                    hint="publish again: every object it names is complete",
                ) from None
            except Exception as exc:
                raise bucket.fail(exc, f"upload {rel}") from exc
            report.uploaded.append(rel)
            if progress is not None:
                progress(rel)
        _prune(bucket, remote, set(local), grace, now, report)
    finally:
        with contextlib.suppress(BuildError):  # a lock left behind goes stale, is taken over
            bucket.delete([LOCK_KEY])
    return report


def _prune(
    bucket: _Bucket,
    remote: Mapping[str, Mapping[str, Any]],
    published: set[str],
    grace: dt.timedelta,
    now: dt.datetime,
    report: BucketPublishReport,
) -> None:
    """Delete what the new feed no longer needs, once unreferenced for ``grace``."""
    got = bucket.read(UNREFERENCED_KEY)
    try:
        seen: dict[str, str] = dict(json.loads(got[0])) if got else {}
    except (ValueError, TypeError):
        seen = {}
    stale = [k for k in remote if k not in published and not k.startswith(f"{STATE_DIR}/")]
    keep: dict[str, str] = {}
    gone: list[str] = []
    for key in sorted(stale):
        first = _when(seen.get(key)) or now
        if now - first >= grace:
            gone.append(key)
        else:
            keep[key] = first.isoformat()
    bucket.delete(gone)
    report.deleted.extend(gone)
    report.waiting.extend(keep)
    bucket.put(
        UNREFERENCED_KEY,
        json.dumps(keep, indent=1, sort_keys=True).encode(),
        None,
        **{"Content-Type": "application/json", "Cache-Control": "no-store"},
    )


def _when(text: str | None) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(text) if text else None
    except ValueError:
        return None
