"""Times as listeners see them: player clocks, chapter stamps, ISO 8601 durations."""

from __future__ import annotations


def _hms(seconds: float) -> tuple[int, int, int]:
    total = max(0, int(seconds))
    h, rest = divmod(total, 3600)
    m, s = divmod(rest, 60)
    return h, m, s


def clock(seconds: float, *, pad_minutes: bool = False) -> str:
    """``seconds`` as a player shows it: ``m:ss``, or ``h:mm:ss`` from an hour on.

    ``pad_minutes`` gives ``mm:ss``, the form podcast apps recognise and link as a chapter
    time in show notes.

    >>> clock(75.4), clock(75.4, pad_minutes=True), clock(3725)
    ('1:15', '01:15', '1:02:05')
    """
    h, m, s = _hms(seconds)
    if h:
        return f"{h}:{m:02d}:{s:02d}"
    return f"{m:02d}:{s:02d}" if pad_minutes else f"{m}:{s:02d}"


def iso_duration(seconds: float) -> str:
    """``seconds`` as an ISO 8601 duration for ``<time datetime>``.

    >>> iso_duration(75.4), iso_duration(3725)
    ('PT1M15S', 'PT1H2M5S')
    """
    h, m, s = _hms(seconds)
    return "PT" + (f"{h}H" if h else "") + (f"{m}M" if m or h else "") + f"{s}S"
