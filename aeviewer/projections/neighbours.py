"""Exact nearest neighbours for UMAP, computed with NumPy instead of pynndescent.

umap-learn finds its neighbours with pynndescent, whose search functions compile for ~35 s in a new process
(its NNDescent's, which numba's cache does not hold): most of a cold UMAP's time to its first view. Without it
pynndescent is not even imported (:mod:`aeviewer.projections.umap_import`). Up to EXACT_MAX points an
exact search by blocked matrix products takes 2-3 s for 10,000 codes of 20-50 dims on one core and gives the
same graph pynndescent approximates. :class:`ExactIndex` stands in for the search index umap-learn keeps for
``transform`` (it calls ``query`` and reads ``_angular_trees``)."""
from __future__ import annotations

import numpy as np

EXACT_MAX = 30_000  # above this the N x N distances cost more than pynndescent's compile
BLOCK_BYTES = 64 * 2**20  # one block of the distance matrix


def exact_knn(queries: np.ndarray, data: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices (M, k) int64 and Euclidean distances (M, k) float32 of each query's ``k`` nearest rows of
    ``data``, nearest first (a query that is a row of ``data`` finds itself at distance 0)."""
    q = np.ascontiguousarray(queries, np.float32)
    x = np.ascontiguousarray(data, np.float32)
    k = min(k, len(x))
    sq = np.einsum("ij,ij->i", x, x)
    indices = np.empty((len(q), k), np.int64)
    distances = np.empty((len(q), k), np.float32)
    rows = max(1, BLOCK_BYTES // (4 * max(1, len(x))))
    for start in range(0, len(q), rows):
        block = q[start:start + rows]
        d2 = np.einsum("ij,ij->i", block, block)[:, None] - 2.0 * (block @ x.T) + sq[None, :]
        np.maximum(d2, 0.0, out=d2)
        near = np.argpartition(d2, k - 1, axis=1)[:, :k] if k < len(x) else np.tile(np.arange(len(x)), (len(block), 1))
        # the k chosen distances again from the differences: the expansion above loses ~1e-3 to cancellation
        near_d = np.linalg.norm(block[:, None, :] - x[near], axis=2)
        order = np.argsort(near_d, axis=1, kind="stable")
        indices[start:start + len(block)] = np.take_along_axis(near, order, axis=1)
        distances[start:start + len(block)] = np.take_along_axis(near_d, order, axis=1)
    return indices, distances


class ExactIndex:
    """The part of pynndescent's NNDescent that ``umap.UMAP.transform`` uses, answered exactly."""

    _angular_trees = False  # Euclidean: umap-learn picks its search epsilon from this

    def __init__(self, data: np.ndarray) -> None:
        self._raw_data = np.ascontiguousarray(data, np.float32)

    def query(self, queries: np.ndarray, k: int = 10, epsilon: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
        return exact_knn(queries, self._raw_data, k)


def precomputed_knn(x: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, ExactIndex] | None:
    """umap-learn's ``precomputed_knn`` for ``x``, or None where ``x`` is too large for an exact search."""
    if len(x) > EXACT_MAX:
        return None
    indices, distances = exact_knn(x, x, k)
    return indices, distances, ExactIndex(x)
