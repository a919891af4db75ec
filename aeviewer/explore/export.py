"""Exports for slides and notebooks, without Qt: animations (GIF, MP4), pictures (PNG), latents (CSV, NPZ),
a folder of images. Every file is written atomically (temp file beside it, then a rename); folders are made.

Images come in any layout :func:`aeviewer.util.images.as_display_batch` takes — (N, C, H, W) floats in [0, 1]
from a decoder, (N, H, W) grey, (N, H, W, 3) colour — and are written as round(255 x) uint8. Small images
are upscaled by nearest neighbour (crisp pixels) so their shorter side is at least 128 px, unless a
``scale`` is given (1 keeps them as they are).

GIF is written with Pillow (a dependency of imageio). MP4 needs imageio's ffmpeg plugin (the
imageio-ffmpeg package, which ships an ffmpeg binary in its wheel); without it an MP4 export fails with
one line naming ``pip install imageio-ffmpeg`` and GIF still works.
"""
from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from aeviewer.util import atomic
from aeviewer.errors import AeviewerError
from aeviewer.util.images import slide_scale, tile, to_uint8, upscale

ANIMATION_SUFFIXES = (".gif", ".mp4")
LATENT_SUFFIXES = (".csv", ".npz")
DEFAULT_FPS = 10.0
MP4_NEEDS_FFMPEG = "writing MP4 needs imageio's ffmpeg plugin: pip install imageio-ffmpeg (GIF works without it)"


class ExportError(AeviewerError):
    """An export cannot be written: a bad name or format, a missing plugin, an unwritable place."""


def slide_frames(images: Any, scale: int | None = None) -> np.ndarray:
    """uint8 (N, H', W') or (N, H', W', 3), upscaled ``scale`` times (default: to at least 128 px a side)."""
    frames = to_uint8(images)
    if scale is None:
        scale = slide_scale(*frames.shape[1:3])
    if scale < 1:
        raise ExportError(f"--scale must be a whole number of at least 1, got {scale}")
    return upscale(frames, scale)


def check_target(path: Path, allowed: Sequence[str], what: str) -> str:
    """The suffix of ``path`` if it is one of ``allowed`` (and, for .mp4, the ffmpeg plugin is here), else one line."""
    suffix = path.suffix.lower()
    if suffix not in allowed:
        choices = " or ".join([", ".join(allowed[:-1]), allowed[-1]] if len(allowed) > 1 else allowed)
        raise ExportError(f"{path}: {what} are written as {choices}; give a name ending in one of them")
    if suffix == ".mp4" and not ffmpeg_available():
        raise ExportError(f"{path}: {MP4_NEEDS_FFMPEG}")
    if path.is_dir():
        raise ExportError(f"{path}: is a directory; give a file name")
    return suffix


# -- animations ------------------------------------------------------------------------------------
def write_animation(path: str | Path, images: Any, *, fps: float = DEFAULT_FPS, scale: int | None = None) -> Path:
    """One frame per image, in order, as an animated GIF (looping) or an MP4 (H.264), chosen by the suffix."""
    path = Path(path)
    suffix = check_target(path, ANIMATION_SUFFIXES, "animations")
    if not fps > 0:
        raise ExportError(f"the frame rate must be positive, got {fps}")
    frames = slide_frames(images, scale)
    if len(frames) == 0:
        raise ExportError(f"{path}: no frames to write")
    if suffix == ".gif":
        return atomic.write_bytes(path, gif_bytes(frames, fps))
    with atomic.replacing(path) as tmp:
        _write_mp4(tmp, frames, fps)
    return path


def gif_bytes(frames: np.ndarray, fps: float) -> bytes:
    """An animated GIF with exactly one frame per entry of ``frames`` (uint8, grey or RGB), looping forever.

    Pillow's own multi-frame writer drops a frame identical to the one before it (adding its time to the
    previous one), so a walk that stands still for a while would come out with fewer frames than steps.
    Each frame is therefore encoded alone by Pillow and the frames are joined here, each with its palette
    as a local colour table and a graphic-control block giving its delay."""
    from PIL import Image

    delay = max(1, round(100.0 / fps))  # GIF delays are in hundredths of a second
    parts = [_gif_image_block(_single_gif(Image.fromarray(f)), delay) for f in frames]
    h, w = frames.shape[1:3]
    screen = b"GIF89a" + w.to_bytes(2, "little") + h.to_bytes(2, "little") + b"\x00\x00\x00"  # no global table
    loop = b"\x21\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00"  # application extension: loop forever
    return screen + loop + b"".join(parts) + b"\x3b"


def _single_gif(image: Any) -> bytes:
    from PIL import Image

    if image.mode == "RGB":  # 256 colours chosen for this frame (a grey frame keeps its exact levels)
        image = image.convert("P", palette=Image.Palette.ADAPTIVE, colors=256)
    buffer = io.BytesIO()
    image.save(buffer, format="GIF")
    return buffer.getvalue()


def _gif_image_block(data: bytes, delay: int) -> bytes:
    """A one-frame GIF's image as a frame of a longer one: graphic control (delay, keep the frame) + image
    descriptor with the file's global colour table moved in as a local one + its LZW data."""
    flags = data[10]
    table_size = 3 * 2 ** ((flags & 0x07) + 1) if flags & 0x80 else 0
    table = data[13:13 + table_size]
    pos = 13 + table_size
    while data[pos] == 0x21:  # skip the frame's own extensions (Pillow may write a comment or a control block)
        pos += 2
        while data[pos]:
            pos += data[pos] + 1
        pos += 1
    if data[pos] != 0x2C:
        raise ExportError("Pillow wrote a GIF frame this exporter does not understand")
    descriptor = bytearray(data[pos:pos + 10])
    local_flags = descriptor[9]
    local_size = 3 * 2 ** ((local_flags & 0x07) + 1) if local_flags & 0x80 else 0
    if local_size:  # the frame brought its own table: keep it
        table, size_bits = data[pos + 10:pos + 10 + local_size], local_flags & 0x07
    else:
        size_bits = flags & 0x07
    descriptor[9] = (local_flags & 0x40) | ((0x80 | size_bits) if table else 0)  # interlace kept
    image_data = data[pos + 10 + local_size:]
    image_data = image_data[:-1] if image_data.endswith(b"\x3b") else image_data  # the one-frame file's trailer
    control = b"\x21\xf9\x04\x04" + delay.to_bytes(2, "little") + b"\x00\x00"  # disposal 1: leave the frame
    return control + bytes(descriptor) + table + image_data


def ffmpeg_available() -> bool:
    """Whether imageio's ffmpeg plugin and its binary are here (MP4 export needs them)."""
    try:
        import imageio_ffmpeg

        imageio_ffmpeg.get_ffmpeg_exe()
    except (ImportError, RuntimeError, OSError):
        return False
    return True


def _write_mp4(path: Path, frames: np.ndarray, fps: float) -> None:
    import imageio.v2 as imageio

    if frames.ndim == 3:  # H.264 in yuv420p takes colour frames
        frames = np.repeat(frames[..., None], 3, axis=3)
    # yuv420p halves the chroma resolution: both sides must be even (edge pixels repeated, never resampled)
    h, w = frames.shape[1:3]
    frames = np.pad(frames, ((0, 0), (0, h % 2), (0, w % 2), (0, 0)), mode="edge")
    with imageio.get_writer(path, format="FFMPEG", mode="I", fps=fps, codec="libx264", quality=8,
                            pixelformat="yuv420p", macro_block_size=1) as writer:
        for frame in frames:
            writer.append_data(frame)


# -- pictures ----------------------------------------------------------------------------------------
def png_bytes(image: np.ndarray) -> bytes:
    """One uint8 image (H, W) or (H, W, 3) as PNG."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(image)).save(buffer, format="PNG")
    return buffer.getvalue()


def write_picture(path: str | Path, image: Any, *, scale: int | None = None) -> Path:
    """One image (a grid or strip already tiled, or a single decode) as PNG."""
    path = Path(path)
    check_target(path, (".png",), "pictures")
    return atomic.write_bytes(path, png_bytes(slide_frames(np.asarray(image)[None], scale)[0]))


def write_grid(path: str | Path, images: Any, ncols: int, *, scale: int | None = None, pad: int = 1) -> Path:
    """Images laid out ``ncols`` to a row, ``pad`` px of white between them, as PNG; each image is upscaled
    as it would be alone (default: to at least 128 px a side)."""
    frames = slide_frames(images, scale)
    return write_picture(path, tile(frames, ncols=ncols, pad=pad), scale=1)


def write_strip(path: str | Path, images: Any, *, scale: int | None = None) -> Path:
    """Images side by side in one row, as PNG (an interpolation or a path)."""
    return write_grid(path, images, ncols=max(1, len(images)), scale=scale)


def write_image_folder(folder: str | Path, images: Any, indices: Sequence[int], *, scale: int | None = 1) -> list[Path]:
    """Image k as ``folder/{indices[k]:05d}.png`` (the folder made if missing); the paths written."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise ExportError(f"{folder}: is a file, not a folder")
    frames = slide_frames(images, scale)
    if len(frames) != len(indices):
        raise ExportError(f"{len(frames)} images but {len(indices)} indices")
    return [atomic.write_bytes(folder / f"{int(i):05d}.png", png_bytes(f)) for i, f in zip(indices, frames)]


# -- latents -----------------------------------------------------------------------------------------
def latent_columns(latent_size: int) -> list[str]:
    """The CSV header: index, label, class, z0..z{D-1}, x, y."""
    return ["index", "label", "class", *(f"z{d}" for d in range(latent_size)), "x", "y"]


def write_latents(path: str | Path, latents: np.ndarray, labels: np.ndarray, class_names: Sequence[str],
                  coords: np.ndarray) -> Path:
    """One row per image: its index, label, class name, code and map coordinates, as CSV or NPZ (by suffix).

    The NPZ holds ``index``, ``label`` (int64), ``class`` (unicode per image), ``class_names`` (unicode),
    ``z`` (N, D) and ``xy`` (N, 2) float32: no object arrays, so ``np.load`` needs no ``allow_pickle``."""
    path = Path(path)
    suffix = check_target(path, LATENT_SUFFIXES, "latents")
    latents = np.asarray(latents, np.float32)
    labels = np.asarray(labels, np.int64).reshape(-1)
    coords = np.asarray(coords, np.float32)
    if not len(latents) == len(labels) == len(coords):
        raise ExportError(f"{len(latents)} codes, {len(labels)} labels and {len(coords)} map points: one each per image")
    names = np.array([_class_name(class_names, k) for k in labels], dtype=str)
    if suffix == ".npz":
        buffer = io.BytesIO()
        np.savez_compressed(buffer, index=np.arange(len(latents), dtype=np.int64), label=labels,
                            **{"class": names}, class_names=np.array(list(class_names), dtype=str), z=latents, xy=coords)
        return atomic.write_bytes(path, buffer.getvalue())
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(latent_columns(latents.shape[1]))
    for i in range(len(latents)):  # %.9g: float32 values read back exactly
        writer.writerow([i, int(labels[i]), names[i], *(f"{v:.9g}" for v in latents[i]),
                         f"{coords[i, 0]:.9g}", f"{coords[i, 1]:.9g}"])
    return atomic.write_bytes(path, text.getvalue().encode("utf-8"))


def _class_name(class_names: Sequence[str], label: int) -> str:
    return class_names[label] if 0 <= label < len(class_names) else str(label)
