"""What both fakes check about an uploaded image: a real PNG, of a size chat clients preview.

Real Slack and Discord accept any bytes under a name ending in .png and then show a broken preview;
a strict fake refuses them instead, so a test fails where a member would see nothing.
"""

from __future__ import annotations

import struct

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
MAX_SIDE = 4096  # past this, both clients scale the preview down to an unreadable thumbnail
MAX_BYTES = 8 * 1024 * 1024  # a chart has no reason to come near the platforms' own file limits


def png_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from the IHDR chunk, which must come first; None when `data` is not a PNG."""
    if len(data) < 33 or not data.startswith(PNG_MAGIC) or data[12:16] != b"IHDR":
        return None
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def image_problems(filename: str, data: bytes) -> list[str]:
    """Why an upload named like a PNG would not show as one; empty when it is fine (or is not an image)."""
    if not filename.lower().endswith(".png"):
        return []
    size = png_size(data)
    if size is None:
        return [f"{filename}: not a PNG (magic or IHDR missing)"]
    problems = []
    width, height = size
    if not (0 < width <= MAX_SIDE and 0 < height <= MAX_SIDE):
        problems.append(f"{filename}: {width}x{height} is outside 1..{MAX_SIDE} pixels a side")
    if len(data) > MAX_BYTES:
        problems.append(f"{filename}: {len(data)} bytes is more than {MAX_BYTES}")
    if not data.endswith(b"IEND\xaeB`\x82"):
        problems.append(f"{filename}: truncated (no IEND chunk)")
    return problems
