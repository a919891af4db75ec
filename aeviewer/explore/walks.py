"""Latent walks without Qt: between two test images' codes, along a polyline drawn on the map, and traversals.

Each returns the latent points ``(steps, L)`` float32; decoding them (``latent_space.decode_points``) gives the
frames of a strip or an animation, so the GUI and ``aeviewer export`` show the same walk.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch

from aeviewer.explore import latent_space
from aeviewer.data.imageset import ImageSet
from aeviewer.errors import ConfigError
from aeviewer.models.base import Autoencoder

MAP_REGION_PERCENT = 1.0  # the traversal grid spans the central 98% of the map, as the GUI's does without a view


def check_indices(indices: Sequence[int], images: ImageSet) -> list[int]:
    """The indices as ints, or one line naming the first that is not a test image."""
    n = len(images)
    for i in indices:
        if not 0 <= int(i) < n:
            what = f"the {images.name} test split" if images.name else "the test split"
            raise ConfigError(f"there is no test image {i}: {what} has {n} images (0 to {n - 1})")
    return [int(i) for i in indices]


def codes_of(model: Autoencoder, images: ImageSet, indices: Sequence[int]) -> np.ndarray:
    """The codes ``encode`` gives test images ``indices``, ``(k, L)`` float32, in that order."""
    chosen = torch.as_tensor(check_indices(indices, images), dtype=torch.long)
    return latent_space.encode_set(model, images.subset(chosen))


def between_images(model: Autoencoder, images: ImageSet, i: int, j: int, steps: int, mode: str = "lerp") -> np.ndarray:
    """``steps`` points from test image i's code to test image j's, both ends included (lerp or slerp)."""
    if steps < 2:
        raise ConfigError(f"an interpolation needs at least 2 steps, got {steps}")
    a, b = codes_of(model, images, [i, j])
    return latent_space.interpolate(a, b, steps, mode)


def along_polyline(points: np.ndarray, steps: int) -> np.ndarray:
    """``steps`` 2-D points on the polyline through ``points`` (K, 2), equally spaced by arc length,
    the first and last vertices included: point k sits at arc length k/(steps-1) of the whole."""
    points = np.asarray(points, np.float64).reshape(-1, 2)
    if len(points) < 2 or steps < 2:
        raise ConfigError(f"a path needs at least 2 points and 2 steps, got {len(points)} points and {steps} steps")
    seg = np.linalg.norm(np.diff(points, axis=0), axis=1)
    keep = np.concatenate([[True], seg > 0])  # repeated vertices would give np.interp a flat stretch
    points, seg = points[keep], seg[seg > 0]
    if len(points) == 1:  # every vertex the same: the walk stands still
        return np.repeat(points.astype(np.float32), steps, axis=0)
    s = np.concatenate([[0.0], np.cumsum(seg)])  # arc length at each vertex
    t = np.linspace(0.0, s[-1], steps)
    return np.stack([np.interp(t, s, points[:, 0]), np.interp(t, s, points[:, 1])], axis=1).astype(np.float32)


def along_map_path(projection: latent_space.Projection, points: np.ndarray, steps: int) -> np.ndarray:
    """Latent points for a polyline drawn on the map: equally spaced on the map, through the projection's inverse."""
    return projection.from_2d(along_polyline(points, steps))


def dimension_sweep(base: np.ndarray, dim: int, lo: float, hi: float, steps: int) -> np.ndarray:
    """``steps`` copies of ``base`` with latent dimension ``dim`` going from ``lo`` to ``hi`` (a one-axis traversal)."""
    base = np.asarray(base, np.float32).reshape(-1)
    if not 0 <= dim < len(base):
        raise ConfigError(f"there is no latent dimension {dim}: this model has {len(base)} (0 to {len(base) - 1})")
    if steps < 2:
        raise ConfigError(f"a traversal needs at least 2 steps, got {steps}")
    z = np.repeat(base[None], steps, axis=0)
    z[:, dim] = np.linspace(lo, hi, steps, dtype=np.float32)
    return z


def sweep_over_codes(latents: np.ndarray, dim: int, steps: int, percent: float = MAP_REGION_PERCENT) -> np.ndarray:
    """A traversal of ``dim`` over the central (100 - 2·percent)% of the codes' values, the other dims at their mean."""
    latents = np.asarray(latents, np.float32)
    base = latents.mean(0)
    if not 0 <= dim < len(base):
        return dimension_sweep(base, dim, 0.0, 0.0, steps)  # says which dims there are
    lo, hi = np.percentile(latents[:, dim], [percent, 100.0 - percent])
    return dimension_sweep(base, dim, float(lo), float(hi), steps)


def map_region(coords: np.ndarray, percent: float = MAP_REGION_PERCENT) -> tuple[tuple[float, float], tuple[float, float]]:
    """((x0, x1), (y0, y1)): the central (100 - 2·percent)% of the map's points along each axis."""
    lo, hi = np.percentile(np.asarray(coords), [percent, 100.0 - percent], axis=0)
    return (float(lo[0]), float(hi[0])), (float(lo[1]), float(hi[1]))


def traversal_grid(projection: latent_space.Projection, coords: np.ndarray, n: int) -> np.ndarray:
    """An n×n grid over the map's central region, mapped back to latents, top row first (``latent_space.grid_points``)."""
    if n < 1:
        raise ConfigError(f"a traversal grid needs at least 1 point per side, got {n}")
    xrange, yrange = map_region(coords)
    return latent_space.grid_points(projection, xrange, yrange, n)
