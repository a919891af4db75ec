"""Selections on the map that stay (no Qt): which points a lasso or a rectangle encloses, named selections,
and their exports — the images as PNGs, a CSV/NPZ of indices, codes and labels, and an ``.npz`` image set
that opens as a data set (``data/arrays.py``'s format: ``images``, ``labels``, ``class_names``).
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from aeviewer.explore.export import ExportError, write_image_folder, write_latents
from aeviewer.util import atomic


@dataclass
class NamedSelection:
    name: str
    indices: list[int]  # test-image indices, sorted, each once


def points_in_rect(xy: np.ndarray, corners: np.ndarray) -> np.ndarray:
    """Indices of the points inside the rectangle spanned by two corners (2, 2)."""
    (x0, y0), (x1, y1) = np.sort(np.asarray(corners, np.float64).reshape(2, 2), axis=0)
    inside = (xy[:, 0] >= x0) & (xy[:, 0] <= x1) & (xy[:, 1] >= y0) & (xy[:, 1] <= y1)
    return np.flatnonzero(inside)


def points_in_lasso(xy: np.ndarray, polygon: np.ndarray) -> np.ndarray:
    """Indices of the points inside a closed outline (M, 2), by the even-odd rule: a ray to the right of a
    point crosses the outline an odd number of times when the point is inside."""
    poly = np.asarray(polygon, np.float64).reshape(-1, 2)
    if len(poly) < 3:
        return np.zeros(0, np.int64)
    x, y = np.asarray(xy[:, 0], np.float64), np.asarray(xy[:, 1], np.float64)
    inside = np.zeros(len(xy), bool)
    for (ax, ay), (bx, by) in zip(poly, np.roll(poly, -1, axis=0)):
        spans = (ay > y) != (by > y)
        with np.errstate(divide="ignore", invalid="ignore"):
            cross_x = ax + (y - ay) * (bx - ax) / (by - ay)
        inside ^= spans & (x < cross_x)
    return np.flatnonzero(inside)


def unique_name(wanted: str, taken: Sequence[str]) -> str:
    """``wanted``, or ``wanted (2)``, ``(3)``... when a selection of that name exists."""
    name, k = wanted.strip() or "Selection", 2
    base = name
    while name in taken:
        name, k = f"{base} ({k})", k + 1
    return name


def write_selection_images(folder: str | Path, images: Any, indices: Sequence[int]) -> list[Path]:
    """The selected images as ``folder/<index>.png`` at their own size."""
    idx = _indices(indices)
    return write_image_folder(folder, images[idx], idx)  # torch or numpy: both take an index array


def write_selection_table(path: str | Path, indices: Sequence[int], latents: np.ndarray, labels: np.ndarray,
                          class_names: Sequence[str], coords: np.ndarray) -> Path:
    """One row per selected image (CSV or NPZ by suffix): its index in the set, label, class, code and map point."""
    idx = _indices(indices)
    return write_latents(path, np.asarray(latents)[idx], np.asarray(labels)[idx], class_names,
                         np.asarray(coords)[idx], indices=idx)


def write_selection_set(path: str | Path, images: Any, labels: np.ndarray, class_names: Sequence[str],
                        indices: Sequence[int]) -> Path:
    """The selected images as an ``.npz`` image set (uint8 N×C×H×W, labels, class names, and the indices they
    had), which ``aeviewer`` opens as a data set."""
    path = Path(path)
    if path.suffix.lower() != ".npz":
        raise ExportError(f"{path}: an image set is saved as .npz")
    idx = _indices(indices)
    chosen = images[idx]
    chosen = chosen.numpy() if hasattr(chosen, "numpy") else np.asarray(chosen)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, images=np.ascontiguousarray(chosen, np.uint8), labels=np.asarray(labels)[idx].astype(np.int64),
                        class_names=np.array(list(class_names), dtype=str), index=idx)
    return atomic.write_bytes(path, buffer.getvalue())


def _indices(indices: Sequence[int]) -> np.ndarray:
    idx = np.asarray(list(indices), np.int64).reshape(-1)
    if not len(idx):
        raise ExportError("the selection is empty")
    return idx
