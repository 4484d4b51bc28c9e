"""What a check found: one :class:`Finding` per problem, data the command line prints."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning", "info"]


@dataclass(frozen=True)
class Finding:
    """One result of a check.

    Attributes:
        severity: ``error`` (apps will reject or mishandle it), ``warning`` (against a
            recommendation) or ``info``.
        where: What the finding is about: ``feed.xml``, a file under ``output/``, an item.
        message: One line saying what is wrong and, when useful, what to do.
    """

    severity: Severity
    where: str
    message: str


def has_errors(findings: Iterable[Finding]) -> bool:
    """Whether any finding is an error (``pangocast check`` then exits non-zero)."""
    return any(f.severity == "error" for f in findings)
