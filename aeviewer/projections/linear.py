"""The linear 2-D views of a latent space, each with its exact inverse: the latent's own axes, a pair of
dims, PCA. Torch-free and Qt-free (the GUI, CLI and tests fit them the same way).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Sequence

import numpy as np

from aeviewer.errors import ConfigError

LINEAR_KINDS = ("identity", "pair", "pca")


@dataclass(frozen=True, eq=False)  # arrays inside: compare by identity
class Projection:
    """A linear map between latent space (L dims) and the 2-D view.

    identity: L == 2, the point itself. pair: two chosen dims; ``from_2d`` fills the other dims from
    ``base`` (the latents' mean unless given). pca: ``to_2d(z) = (z - mean) @ components.T``;
    ``from_2d(p) = mean + p @ components`` — the exact inverse on the plane through the mean that the
    two leading principal components span.
    """

    kind: Literal["identity", "pair", "pca"]
    latent_size: int
    dims: tuple[int, int] = (0, 1)
    mean: np.ndarray | None = None  # (L,) pca centre, or the base point of "pair"
    components: np.ndarray | None = None  # (2, L) orthonormal rows (pca)
    explained: tuple[float, float] = (0.0, 0.0)  # pca: fraction of the variance along each axis

    def to_2d(self, z: np.ndarray) -> np.ndarray:
        z = np.asarray(z, np.float32).reshape(-1, self.latent_size)
        if self.kind == "pca":
            return ((z - self.mean) @ self.components.T).astype(np.float32)
        return z[:, list(self.dims)].copy()

    def from_2d(self, p: np.ndarray, base: np.ndarray | None = None) -> np.ndarray:
        """Full latent vectors ``(N, L)`` for 2-D points ``(N, 2)``; ``base`` overrides the pair's other dims."""
        p = np.asarray(p, np.float32).reshape(-1, 2)
        if self.kind == "pca":
            return (self.mean + p @ self.components).astype(np.float32)
        origin = self.mean if base is None else np.asarray(base, np.float32).reshape(self.latent_size)
        z = np.repeat(origin.reshape(1, -1), len(p), axis=0).astype(np.float32)
        z[:, list(self.dims)] = p
        return z

    @property
    def axis_labels(self) -> tuple[str, str]:
        if self.kind == "pca":
            return (f"PC1 ({self.explained[0]:.0%})", f"PC2 ({self.explained[1]:.0%})")
        return (f"z{self.dims[0]}", f"z{self.dims[1]}")


def make_projection(kind: str, latents: np.ndarray, dims: Sequence[int] = (0, 1)) -> Projection:
    """``kind`` in identity | pair | pca | auto (identity when L == 2, else pca), fitted on ``latents`` (N, L)."""
    latents = np.asarray(latents, np.float32)
    n, size = latents.shape
    if size < 2:
        raise ConfigError(f"a {size}-dim latent space cannot be shown in 2-D")
    if kind == "auto":
        kind = "identity" if size == 2 else "pca"
    if kind == "identity":
        if size != 2:
            raise ConfigError(f"identity projection needs a 2-dim latent space, this one has {size}; use pair or pca")
        return Projection("identity", 2, (0, 1), np.zeros(2, np.float32))
    mean = latents.mean(0) if n else np.zeros(size, np.float32)
    if kind == "pair":
        i, j = int(dims[0]), int(dims[1])
        if i == j or not (0 <= i < size and 0 <= j < size):
            raise ConfigError(f"pair projection needs two different dims in 0..{size - 1}, got {i} and {j}")
        return Projection("pair", size, (i, j), mean.astype(np.float32))
    if kind == "pca":
        components, explained = _principal_axes(latents - mean)
        return Projection("pca", size, (0, 1), mean.astype(np.float32), components, explained)
    raise ConfigError(f"unknown projection {kind!r}; choose one of {', '.join(LINEAR_KINDS)}")


FULL_SVD_MAX_DIM = 256  # up to this many latent dims (or points) the exact full SVD costs milliseconds


def _principal_axes(centred: np.ndarray) -> tuple[np.ndarray, tuple[float, float]]:
    """The two leading right singular vectors of the centred data (signs fixed), and their variance shares."""
    size = centred.shape[1]
    if len(centred) < 2:
        return np.eye(2, size, dtype=np.float32), (0.0, 0.0)
    # centred = U S Vt; rows of Vt are the principal directions, S^2 their variances (up to 1/(N-1)).
    total = float(np.square(centred, dtype=np.float64).sum())
    if min(centred.shape) <= FULL_SVD_MAX_DIM or total == 0.0:
        _, s, vt = np.linalg.svd(centred.astype(np.float64), full_matrices=False)
    else:  # e.g. a VQ-VAE's 3136-dim codes: the full SVD took over a minute, the two leading triplets ~0.3 s
        s, vt = _leading_singular_pairs(centred)
    axes = vt[:2]
    signs = np.sign(axes[np.arange(2), np.abs(axes).argmax(1)])  # largest entry positive: a stable orientation
    axes = axes * signs[:, None]
    total = total or 1.0
    return axes.astype(np.float32), (float(s[0] ** 2 / total), float(s[1] ** 2 / total))


def _leading_singular_pairs(centred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The two largest singular values and right vectors (descending), by ARPACK's Lanczos iteration to
    machine precision (``tol=0``) from a fixed start vector, so the same data always gives the same axes."""
    from scipy.sparse.linalg import svds

    a = np.asarray(centred, np.float32)
    start = np.random.default_rng(0).standard_normal(min(a.shape)).astype(np.float32)
    _, s, vt = svds(a, k=2, tol=0, v0=start)
    order = np.argsort(-s)
    return s[order].astype(np.float64), vt[order].astype(np.float64)
