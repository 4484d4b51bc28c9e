"""What an audiogram shows besides its waveform: the still frame behind it (the cover and
the episode title, drawn with Pillow once per video) and the captions with the speaker's
name, as an ASS subtitle file that libass burns in over every frame.

Both sizes share one design (:class:`Layout`): the cover at the top, the title beneath it,
then the speaker's name, the waveform band and the captions. Caption lines are broken with
the font's real widths (libass itself only breaks at spaces, which Chinese has none of).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pangocast.core.errors import ConfigError
from pangocast.publish.artwork import (
    ACCENT,
    SUBTEXT,
    TEXT,
    CjkFont,
    gradient,
    load_font,
    wrap_lines,
)
from pangocast.publish.transcripts import Cue, timestamp

__all__ = ["LAYOUTS", "Layout", "captions_ass", "font_family", "still_frame"]


@dataclass(frozen=True)
class Layout:
    """Where everything goes in one size of video (pixels from the top left)."""

    width: int
    height: int
    cover_side: int
    cover_y: int
    title_y: int
    title_px: int
    name_y: int
    name_px: int
    wave_y: int
    wave_height: int
    caption_y: int
    caption_px: int
    margin: int = 80

    @property
    def text_width(self) -> int:
        return self.width - 2 * self.margin


LAYOUTS: dict[str, Layout] = {
    "square": Layout(1080, 1080, 440, 50, 512, 34, 590, 44, 650, 150, 830, 52),
    "vertical": Layout(1080, 1920, 760, 180, 980, 44, 1120, 56, 1210, 260, 1540, 64),
}
"""The two sizes: 1080x1080 for feeds, 1080x1920 for stories and short-video apps."""


def still_frame(layout: Layout, cover: Path | None, title: str, font: CjkFont, out: Path) -> Path:
    """Draw the frame behind the moving parts: the covers' gradient, ``cover`` (an image
    file; None: none) centred at the top and ``title`` beneath it, at most two lines.

    Raises:
        ConfigError: the cover cannot be read, or the font cannot be loaded.
    """
    from PIL import Image, ImageDraw, UnidentifiedImageError

    image = gradient(layout.width, layout.height)
    if cover is not None:
        try:
            with Image.open(cover) as art:
                side = layout.cover_side
                thumb = art.convert("RGB").resize((side, side), Image.Resampling.LANCZOS)
        except (OSError, UnidentifiedImageError) as exc:
            raise ConfigError(f"cannot read the cover image: {exc}", path=cover) from exc
        image.paste(thumb, ((layout.width - side) // 2, layout.cover_y))
    draw = ImageDraw.Draw(image)
    face = load_font(font, layout.title_px)
    y = float(layout.title_y)
    for line in wrap_lines(title, face, layout.text_width)[:2]:
        x = (layout.width - face.getlength(line)) / 2
        draw.text((x, y), line, font=face, fill=SUBTEXT)
        y += layout.title_px * 1.25
    image.save(out, format="PNG", optimize=False)
    return out


def font_family(font: CjkFont) -> str:
    """The family name libass looks the font up by (``Noto Sans CJK SC``).

    Raises:
        ConfigError: the font file cannot be loaded.
    """
    family, _style = load_font(font, 12).getname()
    return family or "sans-serif"


def _colour(rgb: tuple[int, int, int]) -> str:
    """An ASS colour: ``&HAABBGGRR`` (alpha 0 is opaque)."""
    r, g, b = rgb
    return f"&H00{b:02X}{g:02X}{r:02X}"


def _stamp(seconds: float) -> str:
    """An ASS time: ``H:MM:SS.cc`` (libass reads the fraction as centiseconds)."""
    return timestamp(round(max(0.0, seconds), 2), ".")[:-1]


def _escape(text: str) -> str:
    """Text an ASS event shows as written: braces open override blocks and a backslash
    starts a command, so they become their full-width forms; newlines become spaces."""
    text = " ".join(text.split())
    return text.replace("\\", "\uff3c").replace("{", "\uff5b").replace("}", "\uff5d")


_STYLE_FORMAT = (
    "Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour,"
    " BackColour, Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle,"
    " BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, MarginV, Encoding"
)


def _style(name: str, family: str, px: int, colour: str, bold: int, margin: int, y: int) -> str:
    # alignment 8: top centre, so captions of more lines grow downwards from ``y``
    return (
        f"Style: {name},{family},{px},{colour},{colour},&H00000000,&H80000000,"
        f"{bold},0,0,0,100,100,0,0,1,{max(2, px // 18)},0,8,{margin},{margin},{y},1"
    )


def captions_ass(cues: Sequence[Cue], layout: Layout, font: CjkFont) -> str:
    """An ASS subtitle file showing each cue (times relative to the clip) in the caption
    area, and its speaker's name above the waveform.

    Raises:
        ConfigError: the font cannot be loaded.
    """
    family = font_family(font)
    face = load_font(font, layout.caption_px)
    lines = [
        "[Script Info]",
        "ScriptType: v4.00+",
        f"PlayResX: {layout.width}",
        f"PlayResY: {layout.height}",
        "WrapStyle: 2",  # lines break only where a cue's text says \N
        "ScaledBorderAndShadow: yes",
        "",
        "[V4+ Styles]",
        _STYLE_FORMAT,
        _style("Caption", family, layout.caption_px, _colour(TEXT), 0, layout.margin,
               layout.caption_y),
        _style("Name", family, layout.name_px, _colour(ACCENT), 1, layout.margin,
               layout.name_y),
        "",
        "[Events]",
        "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text",
    ]  # fmt: skip
    for cue in cues:
        when = f"{_stamp(cue.start)},{_stamp(cue.end)}"
        text = "\\N".join(_escape(t) for t in wrap_lines(cue.text, face, layout.text_width))
        lines.append(f"Dialogue: 0,{when},Caption,,0,0,0,,{text}")
        lines.append(f"Dialogue: 0,{when},Name,,0,0,0,,{_escape(cue.speaker)}")
    return "\n".join(lines) + "\n"
