"""Replacing a file so that readers see the old content or the new, never a part of it."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def replace_file(
    path: Path,
    data: bytes,
    *,
    prefix: str = ".tmp-",
    suffix: str = ".part",
    durable: bool = True,
    mode: int = 0o644,
) -> None:
    """Write ``data`` to a temporary file beside ``path`` and rename it over ``path``.

    The temporary name starts with ``prefix`` and ends with ``suffix``, so whoever sweeps
    what a killed process left can recognise it. ``durable`` flushes the data to disk
    before the rename (a file other files or a feed will point at); ``mode`` replaces the
    private 0600 of the temporary file (published files must be readable by a web server).

    Raises:
        OSError: the folder or the file could not be written; nothing is left behind.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=prefix, suffix=suffix)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            if durable:
                f.flush()
                os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
