"""The grid-of-cells pick of the Images layer and the manifold's tile lattice (issue 34), without Qt."""
from __future__ import annotations

import numpy as np

from aeviewer.explore.map_cells import CellGrid, TileLevel, pick_thumbnails, thumbnail_rects, tile_latents
from aeviewer.explore.latent_space import make_projection


def test_one_pick_per_occupied_cell_nearest_its_centre():
    grid = CellGrid(1.0, 2.0)
    xy = np.array([[0.1, 0.1], [0.5, 1.1], [0.45, 0.9], [1.5, 0.2], [5, 5]], np.float32)
    # cell (0,0) centre (0.5, 1): point 1 is 0.05 cells off in y, point 2 0.05 off in x and 0.05 in y
    assert pick_thumbnails(xy, ((0, 2), (0, 2)), grid).tolist() == [1, 3]
    hidden = np.array([False, True, False, False, False])
    assert pick_thumbnails(xy, ((0, 2), (0, 2)), grid, hidden).tolist() == [2, 3]


def test_thumbnail_rects_never_overlap_even_for_points_at_cell_edges():
    rng = np.random.default_rng(0)
    grid = CellGrid(0.3, 0.7)
    xy = rng.uniform(-3, 3, (2000, 2)).astype(np.float32)
    picked = pick_thumbnails(xy, ((-3, 3), (-3, 3)), grid)
    r = thumbnail_rects(xy[picked], grid)
    overlap_x = (r[:, None, 0] < r[None, :, 2]) & (r[None, :, 0] < r[:, None, 2])
    overlap_y = (r[:, None, 1] < r[None, :, 3]) & (r[None, :, 1] < r[:, None, 3])
    both = overlap_x & overlap_y
    np.fill_diagonal(both, False)
    assert not both.any()


def test_tiles_are_at_least_min_px_and_centre_first():
    level = TileLevel.for_pixels(56, (0.01, 0.02))
    assert 56 <= level.side_x / 0.01 < 112 and 56 <= level.side_y / 0.02 < 112
    tiles = level.tiles_in(((-1, 1), (-2, 2)))
    assert tiles[0] in [(-1, -1), (-1, 0), (0, -1), (0, 0)]


def test_tile_latents_go_through_the_projections_inverse():
    rng = np.random.default_rng(1)
    projection = make_projection("pca", rng.normal(size=(200, 5)).astype(np.float32))
    level = TileLevel(0, 0)
    z = tile_latents(projection, level, [(0, 0), (2, -1)])
    np.testing.assert_allclose(projection.to_2d(z), [[0.5, 0.5], [2.5, -0.5]], atol=1e-5)
