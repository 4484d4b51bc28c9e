"""Cutting text into pieces that fit a limit: the caption lines of a transcript and the
requests of an online engine are both made by joining short pieces while they fit."""

from __future__ import annotations

from collections.abc import Callable, Iterable


def pack(parts: Iterable[str], fits: Callable[[str], bool]) -> list[str]:
    """Join consecutive ``parts`` while the joined text still ``fits``.

    A part that does not fit on its own stays a piece of its own: cutting it is the
    caller's business.

    >>> pack(["ab", "c", "de", "f"], lambda s: len(s) <= 3)
    ['abc', 'def']
    """
    out: list[str] = []
    for part in parts:
        if out and fits(out[-1] + part):
            out[-1] += part
        else:
            out.append(part)
    return out
