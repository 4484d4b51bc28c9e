"""One hierarchy for every error Pangocast raises on purpose.

Each error carries *what* went wrong, *where* (file and line when known) and *what to do*,
so the command line can print a single line: ``error: <what>, <where>: <what to do>``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


class PangocastError(Exception):
    """Base class of every error the tool raises deliberately."""

    def __init__(
        self,
        what: str,
        *,
        path: Path | str | None = None,
        line: int | None = None,
        hint: str | None = None,
    ) -> None:
        self.what = what
        self.path = Path(path) if path is not None else None
        self.line = line
        self.hint = hint
        super().__init__(self.one_line())

    def __reduce__(self) -> tuple[object, ...]:
        # Keep what/where/hint intact across process pools (pickle).
        return (_rebuild, (type(self), self.what, self.path, self.line, self.hint))

    @property
    def where(self) -> str | None:
        """``file:line`` (or just the file) the error is about, if known."""
        if self.path is None:
            return None
        return f"{self.path}:{self.line}" if self.line is not None else str(self.path)

    def one_line(self) -> str:
        """The error as one line: what, where, and what to do."""
        return _one_line(self.what, self.path, self.line, self.hint)


class InputError(PangocastError):
    """A script, article or configuration file the user wrote is wrong."""


class ScriptError(InputError):
    """An episode script is malformed (metadata, labels, body)."""


class ConfigError(InputError):
    """A file under ``voices/`` or ``feeds/`` is missing or malformed."""


class EngineError(PangocastError):
    """A speech engine cannot be used or failed to synthesize."""


class EngineUnavailableError(EngineError):
    """An engine's prerequisites (package, model, network) are missing."""


class SynthesisError(EngineError):
    """One segment could not be synthesized (recoverable: other episodes may go on)."""


class AudioError(PangocastError):
    """Decoding, processing or encoding audio failed."""


class BuildError(PangocastError):
    """The build as a whole could not proceed (lock held, nothing to build...)."""


@dataclass(frozen=True)
class Notice:
    """A problem the user should know of that does not stop the work (a warning).

    Every warning reaches the user this one way: carried by the events of the work that
    found it (:meth:`pangocast.pipeline.events.BuildEvents.warning`) or in its report, and
    printed by the command line as ``warning: <what> (<where>): <what to do>``.
    """

    what: str
    path: Path | str | None = None
    line: int | None = None
    hint: str | None = None

    def one_line(self) -> str:
        """The warning as one line: what, where, and what to do."""
        return _one_line(self.what, self.path, self.line, self.hint)


def _one_line(what: str, path: Path | str | None, line: int | None, hint: str | None) -> str:
    text = what
    if path is not None:
        text += f" ({path}:{line})" if line is not None else f" ({path})"
    if hint:
        text += f": {hint}"
    return " ".join(text.split("\n"))


def _rebuild(
    cls: type[PangocastError], what: str, path: Path | None, line: int | None, hint: str | None
) -> PangocastError:
    return cls(what, path=path, line=line, hint=hint)
