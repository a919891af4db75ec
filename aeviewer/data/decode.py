"""One image file (or one decoded picture) -> a square RGB uint8 array, as a Preparation asks.

Pillow releases the GIL while it decodes and resizes, so these functions run well in a thread pool.
"""
from __future__ import annotations

import io
import os
import warnings
from typing import Callable

import numpy as np
from PIL import Image, UnidentifiedImageError

DEFAULT_MAX_PIXELS = 50_000_000  # the decompression-bomb guard: a bigger picture is not decoded in full

# Modes whose pixels are grey values; "I" and "I;16*" hold 16-bit grey (PNG, TIFF), "F" floats.
SIXTEEN_BIT = ("I;16", "I;16B", "I;16L", "I;16N", "I")


# Pillow warns (on stderr, two lines) when it opens a picture over 89 MP; the loader checks the pixel count
# itself before decoding and skips or reduces the picture with a reason, so the warning would only be noise.
warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)


class BadImage(Exception):
    """A file that is skipped: the message is the reason shown in the skip report."""


def decode_file(path: str | os.PathLike, size: int, fit: str, background: int,
                max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """The first frame of the image at ``path`` as (size, size, 3) uint8 RGB (raises BadImage).

    Over ``max_pixels`` a JPEG is decoded at a reduced scale (libjpeg's DCT scaling: the memory and time
    of the small picture); any other format is skipped, because it can only be decoded in full
    (a 50-megapixel RGBA picture takes 200 MB per worker).
    """
    return _decode(path, lambda: os.path.getsize(path), size, fit, background, max_pixels)


def decode_bytes(data: bytes, size: int, fit: str, background: int, max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """An encoded image held in memory (a Parquet row's bytes), as :func:`decode_file` decodes a file."""
    return _decode(io.BytesIO(data), lambda: len(data), size, fit, background, max_pixels)


def _decode(source: str | os.PathLike | io.BytesIO, n_bytes: Callable[[], int], size: int, fit: str, background: int,
            max_pixels: int) -> np.ndarray:
    try:
        if n_bytes() == 0:
            raise BadImage("empty file (0 bytes)")
        with Image.open(source) as im:
            if im.width * im.height > max_pixels:
                _reduce_or_refuse(im, size, max_pixels)
            im.seek(0)  # GIF, TIFF, WebP: the first frame
            im.load()
            return square_rgb(im, size, fit, background)
    except BadImage:
        raise
    except UnidentifiedImageError:
        raise BadImage("not an image Pillow can read") from None
    except Image.DecompressionBombError:
        raise BadImage(f"over the {max_pixels / 1e6:g}-megapixel limit") from None
    except (OSError, SyntaxError, ValueError, EOFError, MemoryError, IndexError, TypeError) as err:
        # Pillow reports truncated and corrupt data as OSError ("image file is truncated"), SyntaxError
        # (broken headers of some formats) or ValueError.
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise BadImage(f"cannot decode ({reason[:80]})") from None


def _reduce_or_refuse(im: Image.Image, size: int, max_pixels: int) -> None:
    megapixels = im.width * im.height / 1e6
    if im.format == "JPEG":
        im.draft("RGB", (max(size, 1), max(size, 1)))  # picks a scale of 1/2, 1/4 or 1/8 that still covers size
        if im.width * im.height <= max_pixels:
            return
    raise BadImage(f"{im.width}x{im.height} ({megapixels:.0f} MP) is over the {max_pixels / 1e6:g}-megapixel limit")


def square_rgb(im: Image.Image, size: int, fit: str, background: int) -> np.ndarray:
    """A decoded picture as (size, size, 3) uint8: alpha composited on the background, resized with
    antialiasing keeping its aspect ratio, then centre-cropped ("crop") or padded ("pad") to the square."""
    rgb = to_rgb(im, background)
    w, h = rgb.size
    scale = size / (min(w, h) if fit == "crop" else max(w, h))
    new = (max(1, round(w * scale)), max(1, round(h * scale)))
    if new != (w, h):
        rgb = rgb.resize(new, Image.Resampling.LANCZOS, reducing_gap=3.0)
    if fit == "crop":
        left, top = (new[0] - size) // 2, (new[1] - size) // 2
        if (left, top) != (0, 0) or new != (size, size):
            rgb = rgb.crop((left, top, left + size, top + size))
    elif new != (size, size):
        canvas = Image.new("RGB", (size, size), (background,) * 3)
        canvas.paste(rgb, ((size - new[0]) // 2, (size - new[1]) // 2))
        rgb = canvas
    return np.asarray(rgb, dtype=np.uint8)


def to_rgb(im: Image.Image, background: int) -> Image.Image:
    """Any Pillow mode as RGB: 16-bit grey scaled to 8 bits (not clipped), alpha (RGBA, LA, a palette's
    transparency) composited on a grey ``background`` level, CMYK and YCbCr converted."""
    mode = im.mode
    if mode in SIXTEEN_BIT or mode == "F":
        values = np.asarray(im, dtype=np.float64)
        scale = 255.0 if mode == "F" else 257.0  # F: assume 0..255 floats; 16-bit: 65535 -> 255
        grey = np.clip(np.rint(values / scale if mode != "F" else values), 0, 255).astype(np.uint8)
        return Image.fromarray(grey, "L").convert("RGB")
    has_alpha = mode in ("RGBA", "LA", "PA", "La", "RGBa") or (mode == "P" and "transparency" in im.info)
    if has_alpha:
        rgba = im.convert("RGBA")
        canvas = Image.new("RGBA", rgba.size, (background, background, background, 255))
        return Image.alpha_composite(canvas, rgba).convert("RGB")
    return im if mode == "RGB" else im.convert("RGB")


def is_grey(rgb: np.ndarray) -> bool:
    """Whether an (..., 3) RGB array holds no colour: R == G == B everywhere."""
    return bool(np.array_equal(rgb[..., 0], rgb[..., 1]) and np.array_equal(rgb[..., 1], rgb[..., 2]))


def luma(rgb: np.ndarray) -> np.ndarray:
    """(..., 3) uint8 RGB -> (...) uint8 grey by ITU-R 601 (Pillow's convert("L") weights)."""
    weighted = rgb[..., 0].astype(np.uint32) * 299 + rgb[..., 1].astype(np.uint32) * 587 + rgb[..., 2].astype(np.uint32) * 114
    return ((weighted + 500) // 1000).astype(np.uint8)


def resize_array(image: np.ndarray, size: int, fit: str, background: int) -> np.ndarray:
    """An (H, W, 3) uint8 array resized like a file would be (for .npz/.npy/CIFAR sources)."""
    return square_rgb(Image.fromarray(image, "RGB"), size, fit, background)

