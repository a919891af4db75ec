"""aeviewer.projections: the registry of kinds, the map inverse (exact on points, blends between them, far
flag), the map cache, and MapProjection's forward placement."""
from __future__ import annotations

import numpy as np
import pytest

from aeviewer.explore import latent_space
from aeviewer.errors import ConfigError
from aeviewer.projections import KINDS, MAP_KINDS, cache, checked_params, default_params
from aeviewer.projections.inverse import FAR_FACTOR, MapInverse
from aeviewer.projections.maps import MapProjection
from aeviewer.projections.registry import MAPS_EXTRA_HINT, require_module


def scattered(n: int = 400, latent: int = 6, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Random map positions and unrelated random codes (so an interpolated code cannot pass by accident)."""
    rng = np.random.default_rng(seed)
    return rng.uniform(-5, 5, (n, 2)).astype(np.float32), rng.normal(size=(n, latent)).astype(np.float32)


# -- registry -----------------------------------------------------------------------------------------------
def test_registry_lists_every_kind_with_its_parameters_and_defaults():
    assert list(KINDS) == ["identity", "pair", "pca", "umap", "tsne"]
    assert MAP_KINDS == ("umap", "tsne")
    assert default_params("umap") == {"n_neighbors": 15, "min_dist": 0.1}
    assert default_params("tsne") == {"perplexity": 30}
    assert default_params("pca") == {}


def test_checked_params_overrides_defaults_and_rejects_bad_values_in_one_line():
    assert checked_params("umap", {"min_dist": 0.5}) == {"n_neighbors": 15, "min_dist": 0.5}
    with pytest.raises(ConfigError, match="n_neighbors must be in 2..200"):
        checked_params("umap", {"n_neighbors": 1})
    with pytest.raises(ConfigError, match="whole number"):
        checked_params("umap", {"n_neighbors": 2.5})
    with pytest.raises(ConfigError, match="no parameter 'perplexity'"):
        checked_params("umap", {"perplexity": 30})
    with pytest.raises(ConfigError, match="unknown projection 'mds'"):
        checked_params("mds")


def test_a_missing_map_package_names_the_extra_to_install(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "umap" else real(name, *a))
    with pytest.raises(ConfigError) as err:
        require_module("umap")
    assert MAPS_EXTRA_HINT in str(err.value) and "\n" not in str(err.value)
    require_module("pca")  # the linear kinds need nothing


def test_explore_still_exports_the_linear_projections():
    z = np.random.default_rng(0).normal(size=(50, 4)).astype(np.float32)
    assert latent_space.make_projection("pca", z).kind == "pca"
    assert latent_space.Projection is latent_space.make_projection("pair", z).__class__


# -- the inverse ------------------------------------------------------------------------------------------
def test_a_place_exactly_on_an_embedded_point_gives_that_points_own_code():
    coords, codes = scattered()
    found = MapInverse(coords, codes).locate(coords)
    np.testing.assert_array_equal(found.z, codes)
    assert not found.far.any()


def test_a_place_between_two_neighbouring_points_blends_their_codes():
    coords, codes = scattered()
    inverse = MapInverse(coords, codes)
    _, nearest = inverse.tree.query(coords[:20], k=2)  # a point and its nearest neighbour share a Delaunay edge
    for a, b in nearest:
        for t in (0.25, 0.5, 0.8):
            z = inverse.from_2d((1 - t) * coords[a] + t * coords[b])[0]
            np.testing.assert_allclose(z, (1 - t) * codes[a] + t * codes[b], atol=1e-4)


def test_inside_a_triangle_the_code_is_a_convex_blend_of_its_corners():
    coords = np.array([[0, 0], [4, 0], [0, 4]], np.float32)
    codes = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1]], np.float32)
    z = MapInverse(coords, codes).from_2d(np.array([[1.0, 1.0]]))[0]
    np.testing.assert_allclose(z, [0.5, 0.25, 0.25], atol=1e-6)


def test_outside_the_hull_and_on_a_line_the_nearest_codes_are_weighted_by_distance():
    coords = np.array([[0, 0], [1, 0], [2, 0]], np.float32)  # collinear: no triangles at all
    codes = np.array([[0.0], [1.0], [2.0]], np.float32)
    inverse = MapInverse(coords, codes)
    assert inverse.triangles is None
    np.testing.assert_array_equal(inverse.from_2d(coords), codes)
    near_last = inverse.from_2d(np.array([[2.1, 0.0]]))[0, 0]
    assert 1.5 < near_last < 2.0


def test_places_far_from_every_point_are_flagged_and_masked():
    coords, codes = scattered()
    inverse = MapInverse(coords, codes)
    far_away = np.array([[40.0, 40.0], [0.0, 0.0]])
    found = inverse.locate(far_away)
    assert found.far.tolist() == [True, False]
    assert found.far_score[0] > FAR_FACTOR > found.far_score[1]
    mask = inverse.far_mask((-10, 10), (-10, 10), shape=(20, 20))
    assert mask.shape == (20, 20)
    assert mask[0, 0] and mask[-1, -1] and mask[0, -1]  # corners: outside the [-5, 5] square of points
    assert not mask[10, 10]  # the middle is among the points
    assert mask.mean() == pytest.approx(0.75, abs=0.15)  # the points cover the middle quarter


def test_the_far_mask_puts_the_top_of_the_map_in_row_zero():
    coords = np.array([[0, 9], [1, 9], [0, 10], [1, 10]], np.float32)  # points only at the top
    mask = MapInverse(coords, np.zeros((4, 1), np.float32)).far_mask((0, 1), (0, 10), shape=(10, 2))
    assert not mask[0].any() and mask[-1].all()


# -- MapProjection --------------------------------------------------------------------------------------------
def test_a_map_projection_places_its_own_codes_on_their_positions_and_inverts_them():
    coords, codes = scattered()
    projection = MapProjection("umap", codes, coords, default_params("umap"))
    np.testing.assert_array_equal(projection.to_2d(codes), coords)
    np.testing.assert_array_equal(projection.to_2d(codes[5:7]), coords[5:7])  # looked up, not compared whole
    np.testing.assert_array_equal(projection.from_2d(coords[:3]), codes[:3])
    assert projection.axis_labels == ("UMAP 1", "UMAP 2")
    moved = projection.to_2d(codes[5] + 1e-3)
    assert np.linalg.norm(moved - coords[5]) < np.linalg.norm(coords[5] - coords).mean()


# -- cache ---------------------------------------------------------------------------------------------------
def test_a_saved_map_loads_under_the_same_key_and_misses_under_another(tmp_path):
    coords, codes = scattered()
    key = cache.map_key("umap", codes, {"n_neighbors": 15, "min_dist": 0.1})
    assert cache.load_map(key, len(codes), tmp_path) is None
    cache.save_map(key, coords, tmp_path)
    np.testing.assert_array_equal(cache.load_map(key, len(codes), tmp_path), coords)
    assert [p.name for p in tmp_path.iterdir()] == [f"{key}.npz"]  # no temp file left behind
    assert cache.map_key("umap", codes, {"n_neighbors": 16, "min_dist": 0.1}) != key
    assert cache.map_key("tsne", codes, {"n_neighbors": 15, "min_dist": 0.1}) != key
    other = codes.copy()
    other[0, 0] += 1e-6
    assert cache.map_key("umap", other, {"n_neighbors": 15, "min_dist": 0.1}) != key
    assert cache.load_map(key, len(codes) + 1, tmp_path) is None  # the wrong size is a miss
    assert cache.map_key("tsne", codes, {"perplexity": 30}) == cache.map_key("tsne", codes, {"perplexity": 30.0})


def test_a_damaged_cache_file_is_a_miss(tmp_path):
    (tmp_path / "abc.npz").write_bytes(b"not a zip")
    assert cache.load_map("abc", 3, tmp_path) is None


def test_the_cache_lives_in_the_user_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("AEVIEWER_USER_DIR", str(tmp_path))
    assert cache.cache_dir() == tmp_path / "maps"


def test_while_the_triangulation_is_not_built_a_click_blends_the_nearest_codes_without_waiting():
    coords, codes = scattered()
    inverse = MapInverse(coords, codes)
    inverse.triangulate_on_demand = False
    midpoint = (coords[0] + coords[1]) / 2
    before = inverse.from_2d(midpoint)
    assert inverse._triangles is False  # nothing was triangulated on the click
    np.testing.assert_array_equal(inverse.from_2d(coords[:5]), codes[:5])  # still exact on the points
    inverse.prepare()
    assert inverse.triangles is not None
    assert not np.allclose(inverse.from_2d(midpoint), before)  # now the triangle's blend
