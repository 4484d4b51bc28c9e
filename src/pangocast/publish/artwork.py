"""Show artwork: a square RGB PNG cover rendered with Pillow and a CJK font.

Apple wants 1400-3000 px square JPEG or PNG in RGB. The title is Chinese, so the font must
have CJK glyphs: one is looked for in the ``noto-cjk-sans-otc`` package (PyPI, SIL OFL),
then Debian's ``fonts-noto-cjk`` and ``fonts-wqy-microhei``/``fonts-wqy-zenhei``. Every
character is checked against the font first: a missing glyph is an error, never a silent
tofu box.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import NamedTuple

from PIL import Image, ImageDraw, ImageFont, UnidentifiedImageError

from pangocast.core.errors import ConfigError
from pangocast.core.standards import ART_MAX_PX, ART_MIN_PX

MIN_SIZE, MAX_SIZE = ART_MIN_PX, ART_MAX_PX
FONT_ENV = "PANGOCAST_CJK_FONT"
"""Environment variable naming a font file to use instead of the ones searched for."""

FONT_HINT = (
    "pip install noto-cjk-sans-otc (or apt-get install fonts-noto-cjk), "
    f"or set {FONT_ENV} to a font file with Chinese glyphs"
)
DEBIAN_FONTS = (
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc"),
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
    Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),
    Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),
)

# deep ink blue to teal, with a warm accent: reads well small, in a podcast app's grid
TOP = (16, 32, 64)
BOTTOM = (10, 96, 110)
ACCENT = (246, 178, 84)
TEXT = (250, 248, 240)
SUBTEXT = (205, 225, 228)


class CoverInfo(NamedTuple):
    """What a feed validator checks of a cover image."""

    width: int
    height: int
    mode: str
    format: str


@dataclass(frozen=True)
class CjkFont:
    """A font file (and face index inside a collection) with Chinese glyphs."""

    path: Path
    index: int = 0


def _noto_package_font() -> Path | None:
    # located as a resource, not imported: the package is only a font file
    try:
        path = Path(str(resources.files("noto_cjk_sans_otc") / "NotoSansCJK-Regular.ttc"))
    except (ModuleNotFoundError, TypeError):
        return None
    return path if path.is_file() else None


def _simplified_face(path: Path) -> int:
    """The Simplified Chinese face of a collection (Noto's "… CJK SC"), else the first."""
    for index in range(16):
        try:
            family, _style = ImageFont.truetype(str(path), 12, index=index).getname()
        except OSError:
            break
        if family and family.endswith(" SC"):
            return index
    return 0


def find_cjk_font(explicit: Path | None = None) -> CjkFont:
    """The font covers are drawn with.

    Looked for in order: ``explicit``, ``$PANGOCAST_CJK_FONT``, the ``noto-cjk-sans-otc``
    package, then Debian's Noto CJK and WenQuanYi fonts.

    Raises:
        ConfigError: no CJK font is installed, or the one named does not exist.
    """
    named = explicit or (Path(os.environ[FONT_ENV]) if os.environ.get(FONT_ENV) else None)
    if named is not None:
        if not named.is_file():
            raise ConfigError("cover font not found", path=named, hint=FONT_HINT)
        candidates: list[Path] = [named]
    else:
        packaged = _noto_package_font()
        candidates = [p for p in (packaged, *DEBIAN_FONTS) if p is not None and p.is_file()]
    if not candidates:
        raise ConfigError("no font with Chinese glyphs is installed for the cover", hint=FONT_HINT)
    path = candidates[0]
    return CjkFont(path, _simplified_face(path) if path.suffix.lower() in (".ttc", ".otc") else 0)


def load_font(font: CjkFont, size: int) -> ImageFont.FreeTypeFont:
    """``font`` at ``size`` px.

    Raises:
        ConfigError: the font file cannot be loaded.
    """
    try:
        return ImageFont.truetype(str(font.path), size, index=font.index)
    except OSError as exc:
        raise ConfigError(f"cannot load the cover font: {exc}", path=font.path) from exc


def missing_glyphs(font: ImageFont.FreeTypeFont, text: str) -> list[str]:
    """Characters of ``text`` the font has no glyph for (they would draw as tofu boxes).

    A missing glyph renders as the font's ``.notdef`` box, so each character's bitmap is
    compared with that of a code point no font maps (a private-use plane character).
    """
    notdef = font.getmask("\U000fffd0")
    notdef_key = (notdef.size, bytes(notdef))
    out = []
    for ch in dict.fromkeys(text):
        if ch.isspace():
            continue
        mask = font.getmask(ch)
        if (mask.size, bytes(mask)) == notdef_key:
            out.append(ch)
    return out


def wrap_lines(text: str, font: ImageFont.FreeTypeFont, width: float) -> list[str]:
    """Lines no wider than ``width``: break between any two CJK characters, but keep Latin
    words and numbers whole, and never start a line with closing punctuation."""
    tokens: list[str] = []
    for ch in text:
        last = tokens[-1][-1:] if tokens else ""
        if ch.isascii() and ch.isalnum() and last.isascii() and last.isalnum():
            tokens[-1] += ch
            continue
        if tokens and ch in "，。、；：！？）》」』”’,.;:!?)" and tokens[-1]:
            tokens[-1] += ch
            continue
        tokens.append(ch)
    lines: list[str] = []
    line = ""
    for token in tokens:
        trial = line + token
        if line and font.getlength(trial.strip()) > width:
            lines.append(line.strip())
            line = token.lstrip()
        else:
            line = trial
    if line.strip():
        lines.append(line.strip())
    return lines


def _fit(
    text: str, font: CjkFont, width: float, max_px: int, min_px: int, max_lines: int
) -> tuple[ImageFont.FreeTypeFont, list[str]]:
    """The largest font size (from ``max_px`` down) at which ``text`` fits in the lines."""
    px = max_px
    while True:
        face = load_font(font, px)
        lines = wrap_lines(text, face, width)
        if len(lines) <= max_lines or px <= min_px:
            return face, lines[:max_lines]
        px = max(min_px, int(px * 0.9))


def _waves(size: int) -> Iterator[tuple[float, float, float]]:
    """Bars of a stylised sound wave: (x, half height, width), deterministic."""
    count = 48
    step = size * 0.8 / count
    for i in range(count):
        x = size * 0.1 + (i + 0.5) * step
        amp = 0.5 + 0.5 * math.sin(i * 0.45) * math.cos(i * 0.17)
        amp *= math.sin(math.pi * (i + 0.5) / count) ** 0.6
        yield x, size * 0.012 + size * 0.07 * amp, step * 0.5


def gradient(width: int, height: int) -> Image.Image:
    """An RGB image of the covers' background: ink blue at the top to teal at the bottom."""
    image = Image.new("RGB", (width, height))
    draw = ImageDraw.Draw(image)
    for row in range(height):  # vertical gradient, one line per row
        k = row / (height - 1)
        colour = tuple(round(a + (b - a) * k) for a, b in zip(TOP, BOTTOM, strict=True))
        draw.line([(0, row), (width, row)], fill=colour)
    return image


def render_cover(
    title: str, subtitle: str, path: Path, size: int = MIN_SIZE, *, font: Path | None = None
) -> Path:
    """Draw a square cover: the title large, the subtitle beneath, a sound wave above.

    Identical input gives an identical PNG (no timestamps, fixed drawing, no randomness).

    Args:
        title: the show's title (wrapped onto up to three lines).
        subtitle: a second line (the author or a tagline); may be empty.
        path: the PNG to write (its folder must exist).
        size: width and height in px, 1400-3000.
        font: a font file to use instead of the ones searched for.

    Returns:
        ``path``.

    Raises:
        ConfigError: the size is out of range, no CJK font is available, the font lacks a
            glyph of the text, or the file cannot be written.
    """
    if not MIN_SIZE <= size <= MAX_SIZE:
        raise ConfigError(
            f"cover size {size} px is out of range", hint=f"use {MIN_SIZE}-{MAX_SIZE} px"
        )
    cjk = find_cjk_font(font)
    probe = load_font(cjk, 48)
    missing = missing_glyphs(probe, title + subtitle)
    if missing:
        raise ConfigError(
            f"the cover font has no glyph for {''.join(missing[:10])!r}",
            path=cjk.path,
            hint=FONT_HINT,
        )

    image = gradient(size, size)
    draw = ImageDraw.Draw(image)

    wave_y = size * 0.27
    for x, half, width in _waves(size):
        draw.rounded_rectangle(
            [x - width / 2, wave_y - half, x + width / 2, wave_y + half],
            radius=width / 2,
            fill=ACCENT,
        )

    margin = size * 0.1
    text_width = size - 2 * margin
    title_font, title_lines = _fit(
        title, cjk, text_width, round(size * 0.13), round(size * 0.05), 3
    )
    y: float = size * 0.44
    for line in title_lines:
        draw.text((margin, y), line, font=title_font, fill=TEXT)
        y += title_font.size * 1.22
    draw.rectangle([margin, y + size * 0.035, margin + size * 0.12, y + size * 0.043], fill=ACCENT)
    if subtitle.strip():
        sub_font, sub_lines = _fit(
            subtitle.strip(), cjk, text_width, round(size * 0.05), round(size * 0.03), 2
        )
        y += size * 0.08
        for line in sub_lines:
            draw.text((margin, y), line, font=sub_font, fill=SUBTEXT)
            y += sub_font.size * 1.3
    try:
        image.save(path, format="PNG", optimize=False)
    except OSError as exc:
        raise ConfigError(f"cannot write the cover: {exc}", path=path) from exc
    return path


def cover_info(path: Path) -> CoverInfo:
    """Width, height, colour mode and format of an image file.

    Raises:
        ConfigError: the file is missing or not an image.
    """
    try:
        with Image.open(path) as image:
            return CoverInfo(image.width, image.height, image.mode, image.format or "")
    except (OSError, UnidentifiedImageError) as exc:
        raise ConfigError(f"cannot read the cover image: {exc}", path=path) from exc
