"""What both charts share: fonts, the palette, wrapping text, and turning an image into PNG bytes.

Same data must give the same bytes (tests compare images exactly), so: one shipped font, the basic
layout engine (no raqm, whose presence differs between machines), and a PNG with no metadata.
"""

from __future__ import annotations

import functools
import io
import logging
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont

log = logging.getLogger(__name__)

FONT_DIR = Path(__file__).with_name("fonts")
REGULAR = "DejaVuSans.ttf"
BOLD = "DejaVuSans-Bold.ttf"

# Okabe-Ito: told apart by people with every common kind of colour blindness, and in greyscale
# the blue and the orange still differ in lightness.
BLUE = (0, 114, 178)
ORANGE = (230, 159, 0)
SKY = (86, 180, 233)
GREEN = (0, 158, 115)
VERMILLION = (213, 94, 0)
INK = (25, 25, 25)
MUTED = (90, 90, 90)
RULE = (200, 200, 200)
TRACK = (236, 236, 236)
PAPER = (255, 255, 255)

WIDTH = 1200  # wide enough for a projector; text sizes keep it legible when chat shrinks it to a third
PAD = 48

Font = Any  # FreeTypeFont, or Pillow's bitmap ImageFont when no FreeType is available


@functools.lru_cache(maxsize=32)
def font(size: int, bold: bool = False) -> Font:
    """The shipped DejaVu Sans; if it is missing, Pillow's built-in font. Never raises."""
    path = FONT_DIR / (BOLD if bold else REGULAR)
    # Only the shipped file: given a bare name, FreeType would search the machine's fonts, and a
    # picture would then depend on what happens to be installed.
    try:
        if path.is_file():
            return ImageFont.truetype(str(path), size, layout_engine=ImageFont.Layout.BASIC)
        log.warning("chart font %s missing; using Pillow's built-in font", path.name)
    except OSError as exc:
        log.warning("chart font unreadable (%s); using Pillow's built-in font", exc)
    try:
        return ImageFont.load_default(size)
    except Exception:  # Pillow built without FreeType: the small bitmap font still draws
        return ImageFont.load_default()


def text_width(text: str, face: Font) -> float:
    return float(face.getlength(text))


def line_height(face: Font) -> int:
    _left, top, _right, bottom = face.getbbox("Ágjy")
    return int(bottom - min(top, 0)) + 6


def wrap(text: str, face: Font, width: float) -> list[str]:
    """Every word of `text` on lines no wider than `width`; a word too long for a line is split. Never cuts."""
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        line = ""
        for word in paragraph.split():
            candidate = f"{line} {word}" if line else word
            if text_width(candidate, face) <= width:
                line = candidate
                continue
            if line:
                lines.append(line)
            while text_width(word, face) > width and len(word) > 1:
                cut = len(word) - 1
                while cut > 1 and text_width(word[:cut], face) > width:
                    cut -= 1
                lines.append(word[:cut])
                word = word[cut:]
            line = word
        lines.append(line)
    return lines


def canvas(height: int, width: int = WIDTH) -> tuple[Image.Image, ImageDraw.ImageDraw]:
    image = Image.new("RGB", (width, height), PAPER)
    return image, ImageDraw.Draw(image)


def draw_lines(draw: ImageDraw.ImageDraw, x: float, y: float, lines: list[str], face: Font,
               fill: tuple[int, int, int] = INK) -> float:
    """Draw lines top-down from y; the y below the last one."""
    step = line_height(face)
    for line in lines:
        draw.text((x, y), line, font=face, fill=fill)
        y += step
    return y


def _palette() -> Image.Image:
    colours = [BLUE, ORANGE, SKY, GREEN, VERMILLION, INK, MUTED, RULE, TRACK, PAPER]
    colours += [(v, v, v) for v in range(0, 256, 8)]  # the shades of antialiased text on white
    image = Image.new("P", (1, 1))
    image.putpalette([channel for colour in colours for channel in colour])
    return image


PALETTE = _palette()


def png(image: Image.Image) -> bytes:
    """PNG bytes with no metadata (no time, no text chunks): the same image always gives the same bytes.

    Mapped onto the chart's own palette first (no dithering): a third of the RGB file's size, and
    encoding one byte a pixel instead of three keeps a chart well inside its time budget."""
    out = io.BytesIO()
    image.quantize(palette=PALETTE, dither=Image.Dither.NONE).save(out, format="PNG", compress_level=6)
    return out.getvalue()
