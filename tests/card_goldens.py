"""The golden cards: which passages, and how a render is compared with its golden image."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image, ImageChops, ImageStat

GOLDEN = Path(__file__).parent / "golden"
#: (passage id, theme) of each golden card.
CASES = [
    ("shape-of-attention-7", "light"),
    ("permanent-thing-3", "dark"),
    ("shape-of-attention-afterword", "paper"),
    ("essay-comments-2", "night"),
]


def thumbnail(png: bytes) -> Image.Image:
    """Half size and grey: what is compared (a hinting change moves pixels, not shapes)."""
    image = Image.open(io.BytesIO(png)).convert("L")
    return image.resize((image.width // 2, image.height // 2), Image.Resampling.LANCZOS)


def difference(png: bytes, golden: Path) -> float:
    """Mean absolute difference per pixel, 0-255 (inf when the sizes differ)."""
    current, expected = thumbnail(png), Image.open(golden).convert("L")
    if current.size != expected.size:
        return float("inf")
    return float(ImageStat.Stat(ImageChops.difference(current, expected)).mean[0])
