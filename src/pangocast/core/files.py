"""Files: replacing one so that readers see the old content or the new, never a part of it,
and reading the text files a user wrote."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from pangocast.core.errors import BuildError, PangocastError, ScriptError

_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


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
        commit_file(Path(tmp), path, durable=durable, mode=mode)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def commit_file(tmp: Path, path: Path, *, durable: bool = True, mode: int = 0o644) -> None:
    """Rename the complete temporary file ``tmp`` (written by us or by a program such as
    the MP3 encoder) over ``path``: flushed to disk first when ``durable``, and readable by
    a web server (``mode``) once in place.

    Raises:
        OSError: the file could not be flushed, its mode set, or renamed.
    """
    if durable:
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def write_atomic(
    path: Path,
    data: bytes | str,
    *,
    error: type[PangocastError] = BuildError,
    what: str = "file",
    hint: str | None = None,
) -> Path:
    """Write ``data`` (text is written as UTF-8) to ``path`` through :func:`replace_file`.

    Raises:
        PangocastError: ``error`` (a build error unless the caller names another), naming
            ``path``: the text holds a character UTF-8 cannot carry, or the file could not
            be written.
    """
    try:
        raw = data.encode("utf-8") if isinstance(data, str) else data
    except UnicodeEncodeError as exc:  # a lone surrogate: no UTF-8 file can hold it
        raise error(
            f"cannot write {what}: text holds an invalid character ({exc.reason})",
            path=path,
            hint="remove the character from the script or show metadata",
        ) from exc
    try:
        replace_file(path, raw, suffix=path.suffix)
    except OSError as exc:
        raise error(f"cannot write {what}: {exc.strerror or exc}", path=path, hint=hint) from exc
    return path


def read_text(path: Path, *, error: type[PangocastError] = ScriptError) -> str:
    """Read a file the user wrote: UTF-8, a BOM accepted, CR and CRLF line ends normalised.

    A file in another encoding is refused with the ``iconv`` command that converts it, not
    decoded by guessing: GB18030 decodes almost any bytes, so a wrong guess would publish
    garbled text.

    Raises:
        PangocastError: ``error`` (a script error unless the caller names another): the
            file is missing, unreadable or not UTF-8.
    """
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise error(f"cannot read {exc.strerror or exc}", path=path) from exc
    if raw.startswith(_UTF16_BOMS):
        raise error(
            "file is UTF-16, not UTF-8",
            path=path,
            line=1,
            hint=f"re-save it as UTF-8: iconv -f UTF-16 -t UTF-8 '{path.name}' > utf8.txt",
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        # Refused, not guessed: GB18030 decodes almost any bytes, so a wrong guess would
        # publish mojibake in the feed. Converting the file once is one command.
        line = raw[: exc.start].count(b"\n") + 1
        try:
            raw.decode("gb18030")
        except UnicodeDecodeError:
            what = "file is not UTF-8"
            source = "its encoding"
        else:
            what = "file is not UTF-8 (it looks like GBK/GB18030)"
            source = "GB18030"
        raise error(
            what,
            path=path,
            line=line,
            hint=(
                f"re-save it as UTF-8, e.g. iconv -f {source} -t UTF-8 '{path.name}' > utf8.txt"
                f" and replace the file with utf8.txt"
            ),
        ) from exc
    return text.replace("\r\n", "\n").replace("\r", "\n")
