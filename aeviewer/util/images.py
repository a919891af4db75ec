"""Image arrays without Qt: any layout to display floats or uint8 HWC, tiling into mosaics, crisp upscaling.

The GUI shows these arrays and the exporters write them, so a saved grid is the picture on screen.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

SLIDE_MIN_SIDE = 128  # px: a 28x28 digit is a smudge on a projected slide; nearest-upscale to at least this


def as_display(image: Any) -> np.ndarray:
    """Any one image — torch or numpy, (H,W), (C,H,W) or (H,W,C), uint8 or float in [0,1] —
    as float32 (H,W) for grey or (H,W,3) for colour, values clipped to [0,1]."""
    if hasattr(image, "detach"):
        image = image.detach().cpu().numpy()
    a = np.asarray(image)
    a = a.astype(np.float32) / 255.0 if a.dtype == np.uint8 else a.astype(np.float32, copy=False)
    if a.ndim == 3 and a.shape[0] in (1, 3) and a.shape[-1] not in (1, 3):
        a = np.moveaxis(a, 0, -1)  # (C,H,W) -> (H,W,C)
    if a.ndim == 3 and a.shape[-1] == 1:
        a = a[..., 0]
    if a.ndim not in (2, 3):
        raise ValueError(f"not an image: shape {a.shape}")
    return np.clip(a, 0.0, 1.0)


def as_display_batch(images: Any) -> np.ndarray:
    """A batch (N,C,H,W), (N,H,W) or (N,H,W,C) as (N,H,W) or (N,H,W,3) float32 in [0,1]."""
    if hasattr(images, "detach"):
        images = images.detach().cpu().numpy()
    a = np.asarray(images)
    if a.ndim == 2:
        a = a[None]
    return np.stack([as_display(x) for x in a]) if len(a) else np.zeros((0, 1, 1), np.float32)


def to_uint8(images: Any) -> np.ndarray:
    """Display floats (any layout :func:`as_display_batch` takes) as uint8, round(255 x): (N,H,W) or (N,H,W,3)."""
    return np.round(as_display_batch(images) * 255.0).astype(np.uint8)


def tile(images: Any, ncols: int | None = None, pad: int = 1, pad_value: float = 1.0) -> np.ndarray:
    """Lay ``N`` images on a grid of ``ncols`` columns (default: square-ish), ``pad`` px apart.
    Returns (rows*(H+pad)-pad, cols*(W+pad)-pad[, 3]) float32."""
    batch = as_display_batch(images)
    n = len(batch)
    if n == 0:
        return np.full((1, 1), pad_value, np.float32)
    ncols = max(1, ncols or int(np.ceil(np.sqrt(n))))
    nrows = int(np.ceil(n / ncols))
    h, w = batch.shape[1:3]
    shape = (nrows * (h + pad) - pad, ncols * (w + pad) - pad) + batch.shape[3:]
    out = np.full(shape, pad_value, np.float32)
    for i, img in enumerate(batch):
        r, c = divmod(i, ncols)
        out[r * (h + pad): r * (h + pad) + h, c * (w + pad): c * (w + pad) + w] = img
    return out


def slide_scale(height: int, width: int, min_side: int = SLIDE_MIN_SIDE) -> int:
    """The smallest whole factor that makes the shorter side at least ``min_side`` px (1 if it already is)."""
    return max(1, math.ceil(min_side / max(1, min(height, width))))


def upscale(images: np.ndarray, scale: int) -> np.ndarray:
    """Nearest-neighbour upscaling of (N,H,W[,C]) by a whole factor: every pixel becomes a scale x scale block."""
    if scale < 1:
        raise ValueError(f"scale must be a whole number of at least 1, got {scale}")
    if scale == 1:
        return images
    return np.repeat(np.repeat(images, scale, axis=1), scale, axis=2)
