"""What podcast apps and directories require of a show, declared once.

The build aims at these numbers (mastering, cover art, captions) and ``pangocast check``
checks the output against the same numbers; see ``../shared/notes/podcast-standards.md``
in the project's history for the sources (Apple Podcasts' delivery spec, Podcasting 2.0).
"""

from __future__ import annotations

TARGET_LUFS = -16.0
"""Integrated loudness of a delivered episode (ITU-R BS.1770; Apple's spec)."""
LUFS_TOLERANCE = 1.0
"""How far (LU) a delivered episode may be from :data:`TARGET_LUFS`."""
MAX_TRUE_PEAK_DBTP = -1.0
"""True-peak ceiling of a delivered episode, measured on the decoded MP3."""

ART_MIN_PX = 1400
ART_MAX_PX = 3000
"""Cover art is square, between these sizes in pixels, RGB PNG or JPEG."""

MAX_CUE_LINE = 65
"""Characters a caption line may hold (WebVTT cue lines)."""

AUDIO_TYPE = "audio/mpeg"
CHAPTERS_TYPE = "application/json+chapters"
"""Podcasting 2.0 JSON chapters."""
TRANSCRIPT_TYPES = {
    "vtt": "text/vtt",
    "srt": "application/x-subrip",
    "json": "application/json",
}
"""Transcript kind (its file suffix and manifest key) to its MIME type, in the order the
feed lists them."""
