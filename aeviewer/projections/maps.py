"""Nonlinear maps (UMAP, t-SNE): fitting them with intermediate layouts, and the finished map as a projection.

:func:`fit_map` runs in the worker process (see :mod:`aeviewer.projections.worker`): it imports umap-learn or
openTSNE (numba threads stay out of the GUI's process), reduces wide codes to :data:`PCA_DIMS` first, and
calls ``report(stage, fraction, layout)`` as the layout forms. :class:`MapProjection` is what the views
use once a map exists: the same ``to_2d``/``from_2d`` surface as the linear projections, ``from_2d``
interpolating among the embedded codes (:class:`~aeviewer.projections.inverse.MapInverse`).
"""
from __future__ import annotations

import warnings

from typing import Any, Callable, Mapping

import numpy as np

from aeviewer.projections.inverse import Located, MapInverse
from aeviewer.projections.registry import checked_params, kind_of, require_module

PCA_DIMS = 50  # wider codes are reduced to this many principal components before UMAP / t-SNE
REPORT_EVERY_S = 0.4  # at most this often an intermediate layout goes to the GUI (it redraws each one)
TSNE_EARLY_ITERS, TSNE_ITERS = 250, 500  # openTSNE's defaults: early exaggeration, then the normal phase
SEED = 0

Report = Callable[[str, float, "np.ndarray | None"], None]  # (stage, fraction done 0..1, layout (N, 2) or None)


class MapProjection:
    """A finished UMAP / t-SNE map of ``latents`` (N, L) at ``coords`` (N, 2), as a projection.

    ``to_2d`` places codes by inverse-distance weights of their nearest embedded codes in latent space
    (an embedded code lands exactly on its own position; the worker's ``transform`` places new points
    properly, in the background). ``from_2d`` interpolates among the codes around a map position.
    """

    def __init__(self, kind: str, latents: np.ndarray, coords: np.ndarray, params: Mapping[str, Any]) -> None:
        self.kind = kind
        self.params = dict(params)
        self.latents = np.ascontiguousarray(latents, np.float32)
        self.coords = np.ascontiguousarray(coords, np.float32)
        self.latent_size = self.latents.shape[1]
        self.dims = (0, 1)
        self.inverse = MapInverse(self.coords, self.latents)
        self._latent_tree: Any = None  # built on the first to_2d of codes that are not the embedded ones

    def with_coords(self, coords: np.ndarray) -> "MapProjection":
        """The same codes at new positions (the next layout of a forming map), sharing the latent search tree."""
        other = MapProjection(self.kind, self.latents, coords, self.params)
        other._latent_tree = self._latent_tree
        return other

    @property
    def axis_labels(self) -> tuple[str, str]:
        label = kind_of(self.kind).label
        return (f"{label} 1", f"{label} 2")

    def locate(self, p: np.ndarray) -> Located:
        """Latent vectors with their far-from-data scores for map positions ``p`` (M, 2)."""
        return self.inverse.locate(p)

    def from_2d(self, p: np.ndarray, base: np.ndarray | None = None) -> np.ndarray:
        return self.inverse.from_2d(p)

    def to_2d(self, z: np.ndarray) -> np.ndarray:
        z = np.asarray(z, np.float32).reshape(-1, self.latent_size)
        if z.shape == self.latents.shape and np.array_equal(z, self.latents):
            return self.coords.copy()
        if self._latent_tree is None:
            from scipy.spatial import cKDTree

            self._latent_tree = cKDTree(self.latents)
        k = min(8, len(self.latents))
        dist, idx = self._latent_tree.query(z, k=k)
        dist, idx = dist.reshape(len(z), k), idx.reshape(len(z), k)
        weights = 1.0 / np.maximum(dist, 1e-12) ** 2
        weights /= weights.sum(1, keepdims=True)
        out = np.einsum("mk,mkd->md", weights, self.coords[idx].astype(np.float64))
        exact = dist[:, 0] == 0.0
        out[exact] = self.coords[idx[exact, 0]]
        return out.astype(np.float32)

    def far_mask(self, xrange: tuple[float, float], yrange: tuple[float, float], shape: tuple[int, int] = (96, 96)) -> np.ndarray:
        return self.inverse.far_mask(xrange, yrange, shape)


# -- fitting (in the worker process) ------------------------------------------------------------------------
class FittedMap:
    """A fitted map with what ``transform`` needs: the PCA reduction (or None) and the fitted estimator."""

    def __init__(self, kind: str, coords: np.ndarray, reducer: Any, estimator: Any) -> None:
        self.kind, self.coords, self.reducer, self.estimator = kind, coords, reducer, estimator

    def transform(self, z: np.ndarray) -> np.ndarray:
        """Map positions (M, 2) of new codes ``z`` (M, L) by the estimator's own ``transform``."""
        x = _reduce(self.reducer, np.asarray(z, np.float32).reshape(len(z), -1))
        return np.asarray(self.estimator.transform(x), np.float32).reshape(-1, 2)


def fit_map(kind: str, latents: np.ndarray, params: Mapping[str, Any] | None = None,
            report: Report | None = None, n_jobs: int = 1) -> FittedMap:
    """Fit a ``kind`` ("umap" | "tsne") map of ``latents`` (N, L), reporting layouts as they form."""
    require_module(kind)
    checked = checked_params(kind, params)
    say: Report = report or (lambda stage, fraction, layout: None)
    latents = np.ascontiguousarray(latents, np.float32)
    say("reducing", 0.0, None)
    reducer = _fit_reducer(latents)
    x = _reduce(reducer, latents)
    fit = _fit_umap if kind == "umap" else _fit_tsne
    coords, estimator = fit(x, checked, _throttled(say), n_jobs)
    coords = np.ascontiguousarray(coords, np.float32)
    say("done", 1.0, coords)
    return FittedMap(kind, coords, reducer, estimator)


def _fit_reducer(latents: np.ndarray) -> Any:
    """A PCA to :data:`PCA_DIMS` components for wider codes (a VQ-VAE's 3,136 dims), else None."""
    if latents.shape[1] <= PCA_DIMS or len(latents) <= PCA_DIMS:
        return None
    from sklearn.decomposition import PCA

    return PCA(n_components=PCA_DIMS, svd_solver="randomized", random_state=SEED).fit(latents)


def _reduce(reducer: Any, z: np.ndarray) -> np.ndarray:
    return z if reducer is None else np.asarray(reducer.transform(z), np.float32)


def _throttled(report: Report) -> Report:
    """``report`` that drops layouts arriving within :data:`REPORT_EVERY_S` of the last one sent."""
    import time

    last = [0.0]

    def throttled(stage: str, fraction: float, layout: np.ndarray | None) -> None:
        now = time.perf_counter()
        if layout is not None and now - last[0] < REPORT_EVERY_S:
            layout = None
        if layout is not None:
            last[0] = now
        report(stage, fraction, layout)

    return throttled


def _fit_umap(x: np.ndarray, params: Mapping[str, Any], report: Report, n_jobs: int) -> tuple[np.ndarray, Any]:
    from aeviewer.projections.neighbours import precomputed_knn
    from aeviewer.projections.umap_import import import_umap, use_pynndescent

    umap = import_umap()
    n_neighbors = int(min(params["n_neighbors"], max(2, len(x) - 1)))
    report("neighbours", 0.02, None)
    knn = precomputed_knn(x, n_neighbors)  # exact, and no pynndescent compile (see neighbours.py)
    if knn is None:
        use_pynndescent()
    estimator = umap.UMAP(n_neighbors=n_neighbors, min_dist=float(params["min_dist"]), n_components=2,
                          random_state=SEED if n_jobs == 1 else None, n_jobs=n_jobs,
                          precomputed_knn=knn if knn is not None else (None, None, None))
    report("neighbours", 0.05, None)
    original = umap.umap_.optimize_layout_euclidean

    def streaming(head_embedding: np.ndarray, *args: Any, **kwargs: Any) -> Any:
        # umap-learn optimises the layout in place, one epoch per step of its tqdm loop: watching that
        # loop is the one way to see the layout form (its n_epochs list only returns at the end).
        saved = umap.layouts.tqdm

        def epochs(iterable: Any, **_: Any) -> Any:
            steps = list(iterable)
            # the spectral start is already a map: shown before the epoch function compiles (on a first
            # run with an empty numba cache that compile is most of the wait)
            report("layout", 0.1, head_embedding.copy())
            for n in steps:
                yield n
                report("layout", 0.1 + 0.9 * (n + 1) / len(steps), head_embedding.copy())

        umap.layouts.tqdm = epochs
        try:
            return original(head_embedding, *args, **kwargs)
        finally:
            umap.layouts.tqdm = saved

    umap.umap_.optimize_layout_euclidean = streaming
    try:
        with warnings.catch_warnings():
            # "not an NNDescent object: transform will be unavailable": ExactIndex answers transform's query
            warnings.filterwarnings("ignore", message=r"precomputed_knn\[2\]", category=UserWarning)
            # pynndescent's search uses globals numba cannot cache (umap_import turns caching on): it compiles as before
            warnings.filterwarnings("ignore", message=r"(?s).*Cannot cache compiled function")
            coords = estimator.fit_transform(x)
    finally:
        umap.umap_.optimize_layout_euclidean = original
    return coords, estimator


def _fit_tsne(x: np.ndarray, params: Mapping[str, Any], report: Report, n_jobs: int) -> tuple[np.ndarray, Any]:
    import openTSNE

    total = TSNE_EARLY_ITERS + TSNE_ITERS
    every = 10
    done = [0]

    def callback(iteration: int, error: float, embedding: Any) -> bool:
        done[0] += every
        report("layout", 0.1 + 0.9 * min(1.0, done[0] / total), np.asarray(embedding, np.float32).copy())
        return False  # never stop early

    perplexity = float(min(params["perplexity"], max(1.0, (len(x) - 1) / 3.0)))
    tsne = openTSNE.TSNE(perplexity=perplexity, n_jobs=n_jobs, random_state=SEED, callbacks=callback,
                         callbacks_every_iters=every, early_exaggeration_iter=TSNE_EARLY_ITERS, n_iter=TSNE_ITERS)
    report("neighbours", 0.05, None)
    embedding = tsne.fit(x, affinities=_tsne_affinities(x, perplexity, n_jobs))
    return np.asarray(embedding, np.float32), embedding


def _tsne_affinities(x: np.ndarray, perplexity: float, n_jobs: int) -> Any:
    """openTSNE's default affinities (its "auto" neighbours: exact below 1,000 points, else Annoy), built here
    because openTSNE's own choice imports pynndescent just to see that it is installed (17 s of compiling in a
    process with an empty numba cache; see :mod:`aeviewer.projections.umap_import`)."""
    from openTSNE import affinity, nearest_neighbors

    index_kind = nearest_neighbors.Sklearn if len(x) < 1000 else nearest_neighbors.Annoy
    index = index_kind(data=x, k=min(len(x) - 1, int(3 * perplexity)), metric="euclidean", n_jobs=n_jobs,
                       random_state=SEED)
    return affinity.MultiscaleMixture(perplexities=perplexity, knn_index=index, n_jobs=n_jobs, random_state=SEED)
