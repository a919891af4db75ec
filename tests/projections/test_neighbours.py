"""Exact neighbours for UMAP (projections/neighbours.py) against SciPy's KD-tree, and a UMAP fitted on them that
still places new codes with its own transform."""
from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial import cKDTree

from aeviewer.projections import neighbours
from aeviewer.projections.neighbours import ExactIndex, exact_knn, precomputed_knn


def test_exact_neighbours_match_a_kd_tree_in_blocks(monkeypatch):
    rng = np.random.default_rng(0)
    data = rng.normal(size=(700, 12)).astype(np.float32)
    queries = rng.normal(size=(90, 12)).astype(np.float32)
    monkeypatch.setattr(neighbours, "BLOCK_BYTES", 4 * 700 * 16)  # 16 rows a block: many blocks and a short one
    indices, distances = exact_knn(queries, data, 7)
    want_d, want_i = cKDTree(data.astype(np.float64)).query(queries.astype(np.float64), k=7)
    np.testing.assert_array_equal(indices, want_i)
    np.testing.assert_allclose(distances, want_d, rtol=1e-4, atol=1e-4)
    assert indices.dtype == np.int64 and distances.dtype == np.float32


def test_each_point_is_its_own_nearest_neighbour_and_the_index_answers_the_same():
    data = np.random.default_rng(1).normal(size=(200, 5)).astype(np.float32)
    indices, distances, index = precomputed_knn(data, 15)
    np.testing.assert_array_equal(indices[:, 0], np.arange(200))
    assert np.all(distances[:, 0] < 1e-3) and np.all(np.diff(distances, axis=1) >= 0)
    again, _ = index.query(data[:10], 15, epsilon=0.12)
    np.testing.assert_array_equal(again, indices[:10])


def test_too_many_points_for_an_exact_search_leave_it_to_pynndescent(monkeypatch):
    monkeypatch.setattr(neighbours, "EXACT_MAX", 50)
    assert precomputed_knn(np.zeros((51, 3), np.float32), 5) is None


def test_k_at_least_the_number_of_points_returns_them_all_sorted():
    data = np.array([[0.0], [3.0], [1.0]], np.float32)
    indices, distances = exact_knn(data[:1], data, 5)
    np.testing.assert_array_equal(indices, [[0, 2, 1]])
    np.testing.assert_allclose(distances, [[0.0, 1.0, 3.0]])


@pytest.mark.slow
def test_a_umap_on_exact_neighbours_places_new_codes_by_its_own_transform():
    pytest.importorskip("umap")  # the maps extra: pip install -e ".[maps]"
    from aeviewer.projections.maps import fit_map

    rng = np.random.default_rng(2)
    centres = np.array([[0.0] * 8, [10.0] * 8, [-10.0] + [10.0] * 7], np.float32)
    labels = np.repeat(np.arange(3), 100)
    codes = (centres[labels] + rng.normal(scale=0.5, size=(300, 8))).astype(np.float32)
    fitted = fit_map("umap", codes)
    assert isinstance(fitted.estimator._knn_search_index, ExactIndex)
    fresh = (centres[[0, 1, 2]] + rng.normal(scale=0.5, size=(3, 8))).astype(np.float32)
    placed = fitted.transform(fresh)
    cluster_centres = np.stack([fitted.coords[labels == c].mean(axis=0) for c in range(3)])
    nearest = np.argmin(((placed[:, None, :] - cluster_centres[None]) ** 2).sum(-1), axis=1)
    np.testing.assert_array_equal(nearest, [0, 1, 2])
