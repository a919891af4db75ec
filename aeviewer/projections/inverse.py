"""From a place on a nonlinear map (UMAP, t-SNE) back to a latent vector, fast enough for every click.

UMAP's own ``inverse_transform`` took 11 s a point here. This interpolates among the codes whose map
positions surround the place instead:

- inside the convex hull of the embedded points: barycentric weights in the Delaunay triangle that holds
  the place (scipy's ``Delaunay.find_simplex``), so the decode moves continuously and linearly between
  neighbouring points;
- outside the hull: inverse-distance weights of the ``k`` nearest embedded points (``cKDTree``);
- exactly on an embedded point: that point's own code, bit for bit.

Each answer comes with a "far" score: the distance to the nearest embedded point over the map's
typical nearest-neighbour spacing (the 90th percentile). Past :data:`FAR_FACTOR` nothing was embedded near the place and
the decode is a guess; :meth:`MapInverse.far_mask` draws those places as a low-resolution image.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

FAR_FACTOR = 3.0  # farther than this many typical spacings from every embedded point: the decode is a guess
SPACING_PERCENTILE = 90  # a map's typical spacing: this percentile of its nearest-neighbour distances
# (the median is set by the densest clumps, which left holes in every t-SNE cluster)
IDW_NEIGHBOURS = 8  # neighbours blended outside the hull
IDW_POWER = 2.0


@dataclass(frozen=True)
class Located:
    """The answer for a batch of places: ``z`` (M, L) float32, ``far_score`` (M,) float32 (distance to the
    nearest embedded point in typical spacings) and ``far`` (M,) bool (``far_score > FAR_FACTOR``)."""

    z: np.ndarray
    far_score: np.ndarray
    far: np.ndarray


class MapInverse:
    """Interpolation from map positions ``coords`` (N, 2) back to the codes ``latents`` (N, L) they came from."""

    def __init__(self, coords: np.ndarray, latents: np.ndarray, far_factor: float = FAR_FACTOR) -> None:
        self.coords = np.ascontiguousarray(coords, np.float64).reshape(-1, 2)
        self.latents = np.ascontiguousarray(latents, np.float32).reshape(len(self.coords), -1)
        if not len(self.coords):
            raise ValueError("a map needs at least one embedded point to invert")
        self.far_factor = float(far_factor)
        self._tree: Any = None
        self._spacing = 0.0
        self._triangles: Any = False  # False: not built yet; None: there are none
        # False while a thread builds the triangulation (prepare): clicks meanwhile blend the nearest codes
        # instead of waiting (the Delaunay of 60,000 points took 3-15 s on the loaded 2-core machine)
        self.triangulate_on_demand = True

    def prepare(self) -> None:
        """Build the search tree and the triangulation now (e.g. in a thread) rather than on the first click."""
        self.tree  # noqa: B018  (the properties build them)
        self.triangles  # noqa: B018

    # Built on first use: a layout that is still forming is replaced before anyone clicks most of them.
    @property
    def tree(self) -> Any:
        if self._tree is None:
            from scipy.spatial import cKDTree

            self._tree = cKDTree(self.coords)
            self._spacing = _typical_spacing(self._tree, self.coords)
        return self._tree

    @property
    def spacing(self) -> float:
        """A map's typical distance from an embedded point to its nearest neighbour (see _typical_spacing)."""
        self.tree  # noqa: B018  (building the tree measures the spacing)
        return self._spacing

    @property
    def triangles(self) -> Any:
        if self._triangles is False:
            self._triangles = _delaunay_or_none(self.coords)
        return self._triangles

    def locate(self, places: np.ndarray) -> Located:
        """Latent vectors and far scores for map positions ``places`` (M, 2)."""
        p = np.asarray(places, np.float64).reshape(-1, 2)
        k = min(IDW_NEIGHBOURS, len(self.coords))
        dist, idx = self.tree.query(p, k=k)
        dist, idx = dist.reshape(len(p), k), idx.reshape(len(p), k)
        z = self._inverse_distance(dist, idx)
        if self._triangles is not False or self.triangulate_on_demand:
            if self.triangles is not None:
                self._barycentric_into(p, z)
        exact = dist[:, 0] == 0.0  # on an embedded point: its own code, not a blend that rounds
        z[exact] = self.latents[idx[exact, 0]]
        score = (dist[:, 0] / self.spacing).astype(np.float32)
        return Located(z.astype(np.float32, copy=False), score, score > self.far_factor)

    def from_2d(self, places: np.ndarray) -> np.ndarray:
        return self.locate(places).z

    def far_mask(self, xrange: tuple[float, float], yrange: tuple[float, float], shape: tuple[int, int] = (96, 96)) -> np.ndarray:
        """Which cells of a ``shape`` (rows, cols) grid over the bounds are far from every embedded point,
        (rows, cols) bool, row 0 at the top (largest y) like an image; cell centres are tested."""
        rows, cols = shape
        xs = np.linspace(xrange[0], xrange[1], cols, endpoint=False) + (xrange[1] - xrange[0]) / (2 * cols)
        ys = np.linspace(yrange[1], yrange[0], rows, endpoint=False) - (yrange[1] - yrange[0]) / (2 * rows)
        gx, gy = np.meshgrid(xs, ys)
        limit = self.far_factor * self.spacing  # the search stops there: far cells cost little
        dist, _ = self.tree.query(np.stack([gx.ravel(), gy.ravel()], 1), k=1, distance_upper_bound=limit)
        return (dist > limit).reshape(rows, cols)

    # -- internals ----------------------------------------------------------------------------------
    def _inverse_distance(self, dist: np.ndarray, idx: np.ndarray) -> np.ndarray:
        weights = 1.0 / np.maximum(dist, 1e-12) ** IDW_POWER
        weights /= weights.sum(1, keepdims=True)
        return np.einsum("mk,mkl->ml", weights, self.latents[idx], dtype=np.float64)

    def _barycentric_into(self, p: np.ndarray, z: np.ndarray) -> None:
        """Overwrite ``z`` where a place lies in a Delaunay triangle with the triangle's barycentric blend."""
        tri = self.triangles
        simplex = tri.find_simplex(p)
        inside = simplex >= 0
        if inside.any():
            s = simplex[inside]
            transform = tri.transform[s]  # (m, 3, 2): affine map to the first two barycentric coordinates
            b = np.einsum("mij,mj->mi", transform[:, :2], p[inside] - transform[:, 2])
            weights = np.column_stack([b, 1.0 - b.sum(1)])
            z[inside] = np.einsum("mk,mkl->ml", weights, self.latents[tri.simplices[s]], dtype=np.float64)


def _typical_spacing(tree: object, coords: np.ndarray) -> float:
    """The :data:`SPACING_PERCENTILE` percentile of the distances from an embedded point to its nearest other point."""
    if len(coords) < 2:
        return 1.0
    sample = coords if len(coords) <= 20_000 else coords[np.random.default_rng(0).choice(len(coords), 20_000, replace=False)]
    dist, _ = tree.query(sample, k=2)
    positive = dist[:, 1][dist[:, 1] > 0]
    return float(np.percentile(positive, SPACING_PERCENTILE)) if len(positive) else 1.0


def _delaunay_or_none(coords: np.ndarray) -> object | None:
    """The Delaunay triangulation, or None where there is none (under 3 points, all on one line)."""
    from scipy.spatial import Delaunay, QhullError

    if len(coords) < 3:
        return None
    try:
        return Delaunay(coords)
    except (QhullError, ValueError):
        return None
