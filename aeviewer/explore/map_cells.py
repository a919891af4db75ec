"""Which points show their image on the map, and where the decoded manifold's tiles lie (no Qt).

Thumbnails: the visible region is cut into a grid of square cells of a fixed size on screen; each occupied
cell shows one image, that of its point nearest the cell's centre. The grid is anchored at the view's
origin, not at the region's corner, so that a pan keeps the same picks; zooming in makes the cells smaller
in view units, so more of them are occupied, until every point has a cell of its own.

Manifold: square tiles on a lattice whose side is a power of two in view units, the smallest one that is
at least ``min_px`` screen pixels wide (so a tile is between ``min_px`` and ``2 * min_px`` px on screen);
a pan reuses the tiles already decoded, and only a zoom past a factor of two changes the level.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

Region = tuple[tuple[float, float], tuple[float, float]]  # ((x0, x1), (y0, y1)) in view units


@dataclass(frozen=True)
class CellGrid:
    """Square cells of side ``cell`` view units, by (x, y) view units per screen pixel (non-square pixels:
    the cells are squares on screen, so the side differs per axis)."""

    cell_x: float
    cell_y: float

    @classmethod
    def from_pixels(cls, cell_px: float, pixel_size: tuple[float, float]) -> CellGrid:
        return cls(cell_px * float(pixel_size[0]), cell_px * float(pixel_size[1]))

    def cell_of(self, xy: np.ndarray) -> np.ndarray:
        """The integer (i, j) cell of each point, shape (N, 2) (in float32, as ``pick_thumbnails`` finds it)."""
        xy = np.asarray(xy, np.float32).reshape(-1, 2)
        return np.stack([np.floor(xy[:, 0] / np.float32(self.cell_x)),
                         np.floor(xy[:, 1] / np.float32(self.cell_y))], axis=1).astype(np.int64)

    def centre_of(self, ij: np.ndarray) -> np.ndarray:
        return (ij + 0.5) * np.array([self.cell_x, self.cell_y])


def in_region(xy: np.ndarray, region: Region, margin: float = 0.0) -> np.ndarray:
    """Indices of the points inside the region, widened by ``margin`` of its size on each side."""
    (x0, x1), (y0, y1) = region
    mx, my = margin * (x1 - x0), margin * (y1 - y0)
    inside = (xy[:, 0] >= x0 - mx) & (xy[:, 0] <= x1 + mx) & (xy[:, 1] >= y0 - my) & (xy[:, 1] <= y1 + my)
    return np.flatnonzero(inside)


def pick_thumbnails(xy: np.ndarray, region: Region, grid: CellGrid, hidden: np.ndarray | None = None) -> np.ndarray:
    """One point per occupied cell of the region, the one nearest the cell's centre (ties: the lower index).

    ``hidden``: a boolean mask of points that may not be picked (a hidden class). Returns sorted indices.
    """
    candidates = in_region(xy, region)
    if hidden is not None and len(candidates):
        candidates = candidates[~hidden[candidates]]
    if not len(candidates):
        return np.zeros(0, np.int64)
    # in cell units (float32, one pass per axis: 60,000 points in a frame on a loaded 2-core machine)
    fx = xy[candidates, 0] / np.float32(grid.cell_x)
    fy = xy[candidates, 1] / np.float32(grid.cell_y)
    i, j = np.floor(fx), np.floor(fy)
    # the squared distance to the cell's centre on screen, in cells: the axes' units do not matter
    dist = (fx - i - 0.5) ** 2 + (fy - j - 0.5) ** 2
    # the region's cells as one dense array: a minimum per cell without sorting 60,000 points
    i, j = (i - i.min()).astype(np.int64), (j - j.min()).astype(np.int64)
    flat = i * (int(j.max()) + 1) + j
    best = np.full(int(flat.max()) + 1, np.inf, np.float32)
    np.minimum.at(best, flat, dist)
    nearest = np.flatnonzero(dist == best[flat])  # ascending: a tie keeps the lower index below
    _, first = np.unique(flat[nearest], return_index=True)
    return np.sort(candidates[nearest[first]])


def thumbnail_rects(points: np.ndarray, grid: CellGrid, inset: float = 0.06) -> np.ndarray:
    """Where each picked point's image goes, (N, 4) rows (x0, y0, x1, y1) in view units: a square of the cell's
    size less a gap, centred on the point, moved into its cell where it would stick out (so two never overlap)."""
    points = np.asarray(points, np.float64).reshape(-1, 2)
    size = np.array([grid.cell_x, grid.cell_y])
    low = grid.cell_of(points) * size  # the cell's lower corner
    side = size * (1 - 2 * inset)
    start = np.clip(points - side / 2, low + size * inset, low + size * (1 - inset) - side)
    return np.hstack([start, start + side])


@dataclass(frozen=True)
class TileLevel:
    """The manifold's lattice at one zoom: tile (i, j) covers [i*side, (i+1)*side) x [j*side_y, ...)."""

    level_x: int
    level_y: int

    @property
    def side_x(self) -> float:
        return 2.0 ** self.level_x

    @property
    def side_y(self) -> float:
        return 2.0 ** self.level_y

    @classmethod
    def for_pixels(cls, min_px: float, pixel_size: tuple[float, float]) -> TileLevel:
        """The smallest power-of-two side that is at least ``min_px`` on screen on each axis."""
        return cls(*(math.ceil(math.log2(max(min_px * float(p), 1e-30))) for p in pixel_size))

    def tiles_in(self, region: Region) -> list[tuple[int, int]]:
        """The (i, j) of every tile that meets the region, from the centre out (the middle decodes first)."""
        (x0, x1), (y0, y1) = region
        i0, i1 = math.floor(x0 / self.side_x), math.floor(x1 / self.side_x)
        j0, j1 = math.floor(y0 / self.side_y), math.floor(y1 / self.side_y)
        ci, cj = (i0 + i1) / 2, (j0 + j1) / 2
        tiles = [(i, j) for i in range(i0, i1 + 1) for j in range(j0, j1 + 1)]
        return sorted(tiles, key=lambda t: (t[0] - ci) ** 2 + (t[1] - cj) ** 2)

    def centre(self, tile: tuple[int, int]) -> tuple[float, float]:
        return (tile[0] + 0.5) * self.side_x, (tile[1] + 0.5) * self.side_y

    def rect(self, tile: tuple[int, int]) -> tuple[float, float, float, float]:
        return tile[0] * self.side_x, tile[1] * self.side_y, (tile[0] + 1) * self.side_x, (tile[1] + 1) * self.side_y


def tile_latents(projection: Any, level: TileLevel, tiles: list[tuple[int, int]]) -> np.ndarray:
    """The latent code under each tile's centre, through the projection's way back (``from_2d``): exact for
    PCA and a pair, the map's inverse for UMAP/t-SNE."""
    centres = np.array([level.centre(t) for t in tiles], np.float32).reshape(-1, 2)
    return np.asarray(projection.from_2d(centres), np.float32).reshape(len(tiles), -1)
