"""Drawing a frame as a JPEG with Pillow, as the thumbnail service does with its FITS-to-image tools.

The frame's pixels are scaled from the sky level (the median, when asked) to a
percentile of the brightest, flipped so north is up, resized to fit the width
and height asked for, optionally labelled in the lower left; three frames taken
through red, visual and blue filters make a colour picture.
"""
from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageDraw

from ..lco_archive.fitsfiles import image
from ..lco_archive.frames import Frame


def _scaled(pixels: np.ndarray, median: bool, percentile: float) -> np.ndarray:
    low = float(np.median(pixels)) if median else float(pixels.min())
    high = float(np.percentile(pixels, percentile))
    if high <= low:
        high = low + 1.0
    return (np.clip((pixels - low) / (high - low), 0, 1) * 255).astype(np.uint8)[::-1]


def jpeg(frames: list[Frame], width: int, height: int, label: str | None, median: bool, percentile: float,
         quality: int) -> bytes:
    """One frame in grey, or three (red, visual, blue) in colour, as JPEG bytes."""
    layers = [Image.fromarray(_scaled(image(f), median, percentile)) for f in frames]
    picture = layers[0] if len(layers) == 1 else Image.merge("RGB", layers).convert("RGB")
    picture = picture.resize(_fit(picture.size, width, height), Image.Resampling.LANCZOS)
    if label:
        ImageDraw.Draw(picture).text((4, picture.size[1] - 14), label, fill=255 if len(layers) == 1 else (255, 255, 255))
    buffer = io.BytesIO()
    picture.convert("RGB" if len(layers) > 1 else "L").save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def _fit(size: tuple[int, int], width: int, height: int) -> tuple[int, int]:
    scale = min(width / size[0], height / size[1])
    return max(1, round(size[0] * scale)), max(1, round(size[1] * scale))
