"""What an image file's header says: format, size and colour model (Pillow reads it)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

_FORMATS: dict[str, Literal["png", "jpeg"]] = {"PNG": "png", "JPEG": "jpeg"}
_COLOURS = {
    "RGB": "rgb",
    "RGBA": "rgba",
    "P": "palette",
    "PA": "palette",
    "1": "grey",
    "L": "grey",
    "I": "grey",
    "I;16": "grey",
    "LA": "grey+alpha",
    "CMYK": "cmyk",
}


@dataclass(frozen=True)
class ImageInfo:
    """What an image file's header says."""

    format: Literal["png", "jpeg"]
    width: int
    height: int
    colour: str
    """``rgb``, ``rgba``, ``palette``, ``grey``, ``grey+alpha``, ``cmyk`` or ``unknown``."""


def image_info(data: bytes) -> ImageInfo | None:
    """Format, size and colour model of a PNG or JPEG from its header (nothing is decoded);
    None for anything else, or a header Pillow cannot read."""
    from PIL import Image, UnidentifiedImageError  # only when an image is looked at

    try:
        with Image.open(io.BytesIO(data)) as im:
            fmt = _FORMATS.get(im.format or "")
            if fmt is None:
                return None
            width, height = im.size
            return ImageInfo(fmt, int(width), int(height), _COLOURS.get(im.mode, "unknown"))
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        return None


def image_size(path: Path) -> tuple[int, int] | None:
    """(width, height) of a PNG or JPEG file; None when unreadable or another format."""
    try:
        info = image_info(path.read_bytes())
    except OSError:
        return None
    return None if info is None else (info.width, info.height)
