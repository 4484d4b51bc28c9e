"""The output folder (``output/``): its lock, its sweep and its pruning.

- lock: :func:`build_lock`, one build writes it at a time (a lock file in the show folder
  naming the building process; a stale lock of a dead process is taken over);
- sweep: :func:`sweep_temporary` removes the temporary files a killed build left (files are
  written to a temporary name and renamed into place by :mod:`pangocast.core.files`, so a
  reader, or a podcast app fetching the feed, sees the old file or the new, never half);
- prune: :func:`prune_unreferenced` removes versioned files (audio, transcripts, chapters,
  art, audiograms: a content hash in their name) no feed or page points at any more, once
  the new feed is in place.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from pangocast.core.errors import BuildError

LOCK_NAME = ".pangocast.lock"
VERSIONED_DIRS = ("audio", "transcripts", "chapters", "images", "audiograms")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextlib.contextmanager
def build_lock(root: Path) -> Iterator[Path]:
    """Hold the show folder's build lock; a lock left by a dead process is taken over.

    Raises:
        BuildError: another build of this show is running.
    """
    lock = root / LOCK_NAME
    for _ in range(2):
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            try:
                pid = int(lock.read_text().strip() or "0")
            except (OSError, ValueError):
                pid = 0
            if pid and _pid_alive(pid):
                raise BuildError(
                    f"another build of this show is running (pid {pid})",
                    path=lock,
                    hint="wait for it to finish, or remove the lock file if that process is gone",
                ) from None
            lock.unlink(missing_ok=True)  # stale: its process is gone
            continue
        with os.fdopen(fd, "w") as f:
            f.write(str(os.getpid()))
        try:
            yield lock
        finally:
            lock.unlink(missing_ok=True)
        return
    raise BuildError("cannot take the build lock", path=lock, hint="remove the lock file")


def _is_temporary(name: str) -> bool:
    """A name this package writes before a rename: ``.tmp-*`` or a hidden ``*.part``."""
    return name.startswith(".tmp-") or (name.startswith(".") and name.endswith(".part"))


def sweep_temporary(output: Path) -> list[Path]:
    """Remove temporary files a killed build left under ``output/``.

    Only call it holding :func:`build_lock`: no other writer of ``output/`` is running then.
    Temporary names are hidden and never referenced, so until this runs they are clutter,
    not damage.
    """
    removed: list[Path] = []
    if not output.is_dir():
        return removed
    for f in output.rglob(".*"):
        if f.is_file() and _is_temporary(f.name):
            with contextlib.suppress(OSError):
                f.unlink()
                removed.append(f)
    return removed


def prune_unreferenced(
    output: Path, referenced: Iterable[str], *, slugs: Iterable[str] | None = None
) -> list[Path]:
    """Remove versioned files (and temp leftovers) no published file refers to.

    Call it only after the new feed is in place: until then the old feed still points at
    the old files. A file that cannot be removed stays (the next build tries again).

    Args:
        output: the ``output/`` folder.
        referenced: paths under ``output/`` to keep.
        slugs: when given, the pages of episodes not in it (``episodes/<slug>/``,
            ``embed/<slug>.html``, ``oembed/<slug>.json``) are removed too: they would link
            to pruned audio.
    """
    keep = {output / r for r in referenced}
    removed: list[Path] = []

    def remove(f: Path) -> None:
        try:
            f.unlink(missing_ok=True)
        except OSError:
            return
        removed.append(f)

    for d in VERSIONED_DIRS:
        folder = output / d
        if not folder.is_dir():
            continue
        for f in folder.iterdir():
            if f.is_file() and f not in keep:
                remove(f)
    if slugs is not None:
        live = set(slugs)
        for name, suffix in (("embed", ".html"), ("oembed", ".json")):
            if (output / name).is_dir():
                for f in (output / name).iterdir():
                    if f.is_file() and f.name.endswith(suffix) and f.stem not in live:
                        remove(f)
        pages = output / "episodes"
        if pages.is_dir():
            for page in pages.iterdir():
                if page.is_dir() and page.name not in live:
                    for f in page.iterdir():
                        if f.is_file():
                            remove(f)
                    with contextlib.suppress(OSError):
                        page.rmdir()
    for tmp in output.rglob(".tmp-*"):
        remove(tmp)
    return removed
