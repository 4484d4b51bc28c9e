"""The generated show cover: square RGB PNG, CJK text, never tofu."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from pangocast.core.errors import ConfigError
from pangocast.publish.artwork import (
    FONT_ENV,
    cover_info,
    find_cjk_font,
    missing_glyphs,
    render_cover,
)

TITLE = "穿山甲专访 音频版：开源、云原生与SOFAStack"


@pytest.fixture(scope="module")
def font_available() -> None:
    try:
        find_cjk_font()
    except ConfigError as exc:
        pytest.skip(f"no CJK font installed: {exc}")


@pytest.mark.parametrize("size", [1400, 3000])
def test_cover_is_a_square_rgb_png_of_the_size_asked(
    tmp_path: Path, size: int, font_available: None
) -> None:
    path = render_cover(TITLE, "InfoQ 采访", tmp_path / "cover.png", size)
    assert cover_info(path) == (size, size, "RGB", "PNG")
    # text was drawn: the title area holds near-white pixels, the corners do not
    pixels = np.asarray(Image.open(path))
    title_band = pixels[round(size * 0.44) : round(size * 0.75), round(size * 0.1) :]
    assert (title_band.min(axis=2) > 230).mean() > 0.02
    assert pixels[:20, :20].min(axis=2).max() < 120


def test_cover_is_deterministic(tmp_path: Path, font_available: None) -> None:
    a = render_cover(TITLE, "副标题", tmp_path / "a.png")
    b = render_cover(TITLE, "副标题", tmp_path / "b.png")
    assert a.read_bytes() == b.read_bytes()
    c = render_cover(TITLE + "二", "副标题", tmp_path / "c.png")
    assert c.read_bytes() != a.read_bytes()


def test_missing_glyphs_fail_loudly(tmp_path: Path, font_available: None) -> None:
    from PIL import ImageFont

    cjk = find_cjk_font()
    face = ImageFont.truetype(str(cjk.path), 40, index=cjk.index)
    assert missing_glyphs(face, "穿山甲 ABC 123，。") == []
    assert missing_glyphs(face, "甲\U000f0001乙\u0378") == ["\U000f0001", "\u0378"]
    with pytest.raises(ConfigError, match="no glyph"):
        render_cover("节目\U000f0001", "", tmp_path / "x.png")
    assert not (tmp_path / "x.png").exists()


def test_no_font_names_the_package_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(FONT_ENV, str(tmp_path / "nope.ttf"))
    with pytest.raises(ConfigError, match="not found") as info:
        render_cover("节目", "", tmp_path / "x.png")
    assert "noto-cjk-sans-otc" in str(info.value)
    monkeypatch.delenv(FONT_ENV)
    monkeypatch.setattr("pangocast.publish.artwork._noto_package_font", lambda: None)
    monkeypatch.setattr("pangocast.publish.artwork.DEBIAN_FONTS", ())
    with pytest.raises(ConfigError, match="Chinese glyphs") as info:
        render_cover("节目", "", tmp_path / "x.png")
    assert "fonts-noto-cjk" in str(info.value)


def test_size_out_of_range(tmp_path: Path) -> None:
    for size in (1000, 3001):
        with pytest.raises(ConfigError, match="out of range"):
            render_cover("节目", "", tmp_path / "x.png", size)


def test_cover_info_of_a_non_image(tmp_path: Path) -> None:
    bad = tmp_path / "x.png"
    bad.write_text("not a picture")
    with pytest.raises(ConfigError):
        cover_info(bad)
