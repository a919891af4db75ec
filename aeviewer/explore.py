"""Latent-space exploration without Qt: encode a set, project to 2-D and back, decode, interpolate.

Everything returns NumPy arrays (float32) so the GUI can hand them straight to pyqtgraph.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Literal, Sequence

import numpy as np
import torch

from aeviewer.data.imageset import ImageSet
from aeviewer.errors import ConfigError
from aeviewer.models.base import Autoencoder
from aeviewer.models.nets import device_of

PROJECTIONS = ("identity", "pair", "pca")


class _EvalMode:
    """Eval mode for the duration of a block, then the model's previous mode (batch norm must not learn here)."""

    def __init__(self, model: torch.nn.Module) -> None:
        self.model, self.was_training = model, model.training

    def __enter__(self) -> None:
        self.model.eval()

    def __exit__(self, *exc: object) -> None:
        self.model.train(self.was_training)


def encode_set(model: Autoencoder, images: ImageSet, batch_size: int = 1000) -> np.ndarray:
    """``encode`` every image of the set, in batches: ``(N, latent_size)`` float32."""
    out = np.empty((len(images), model.latent_size), np.float32)
    return _over_batches(model, images, batch_size, lambda x: model.encode(x).float(), out)


def encode_codes_set(model: Autoencoder, images: ImageSet, batch_size: int = 1000) -> np.ndarray:
    """A VQ-VAE's code map of every image of the set, in batches: ``(N, H', W')`` int64."""
    out = np.empty((len(images), *model.code_grid_shape), np.int64)
    return _over_batches(model, images, batch_size, model.encode_codes, out)


def _over_batches(model: Autoencoder, images: ImageSet, batch_size: int,
                  fn: Callable[[torch.Tensor], torch.Tensor], out: np.ndarray) -> np.ndarray:
    """``out[i] = fn(image i)`` for every image, a batch at a time on the model's device, in eval mode."""
    device = device_of(model)
    with torch.inference_mode(), _EvalMode(model):
        for start in range(0, len(images), batch_size):
            x = images.float_batch(slice(start, start + batch_size), device)
            out[start:start + len(x)] = fn(x).cpu().numpy()
    return out


def decode_points(model: Autoencoder, z: np.ndarray, batch_size: int = 1000) -> np.ndarray:
    """Decode latent points ``(N, L)`` to images ``(N, H, W)`` (one channel) or ``(N, H, W, C)``, float32 in [0, 1]."""
    z = np.asarray(z, np.float32).reshape(-1, model.latent_size)
    device = device_of(model)
    c, h, w = model.config.image_shape
    out = np.empty((len(z), h, w, c), np.float32)
    with torch.inference_mode(), _EvalMode(model):
        for start in range(0, len(z), batch_size):
            images = model.decode(torch.from_numpy(z[start:start + batch_size]).to(device))
            out[start:start + len(images)] = images.float().permute(0, 2, 3, 1).cpu().numpy()
    return out[..., 0] if c == 1 else out


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
    raise ConfigError(f"unknown projection {kind!r}; choose one of {', '.join(PROJECTIONS)}")


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


def interpolate(a: np.ndarray, b: np.ndarray, steps: int, mode: str = "lerp") -> np.ndarray:
    """``steps`` points from ``a`` to ``b`` (both ends included), ``(steps, L)`` float32.

    lerp: (1 - t) a + t b.  slerp: the direction moves along the great circle,
    sin((1-t)Ω)/sin Ω â + sin(tΩ)/sin Ω b̂ with cos Ω = â·b̂, and the norm is lerped, so equal-norm
    ends keep their norm all along. Near-parallel (or zero) vectors fall back to lerp.
    """
    a = np.asarray(a, np.float64).reshape(-1)
    b = np.asarray(b, np.float64).reshape(-1)
    t = np.linspace(0.0, 1.0, steps)[:, None]
    if mode == "lerp":
        return ((1 - t) * a + t * b).astype(np.float32)
    if mode != "slerp":
        raise ConfigError(f"unknown interpolation {mode!r}; choose lerp or slerp")
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    if na < 1e-12 or nb < 1e-12:
        return interpolate(a, b, steps, "lerp")
    ua, ub = a / na, b / nb
    omega = np.arccos(np.clip(ua @ ub, -1.0, 1.0))
    if np.sin(omega) < 1e-6:  # parallel or opposite: the great circle is undefined or numerically unstable
        return interpolate(a, b, steps, "lerp")
    direction = (np.sin((1 - t) * omega) * ua + np.sin(t * omega) * ub) / np.sin(omega)
    return (direction * ((1 - t) * na + t * nb)).astype(np.float32)


def grid_points(projection: Projection, xrange: tuple[float, float], yrange: tuple[float, float], n: int) -> np.ndarray:
    """An n×n grid over the 2-D view mapped back to latent space, ``(n*n, L)``.

    Row-major like an image mosaic: point ``i*n + j`` has x = linspace(x0, x1, n)[j] and
    y = linspace(y1, y0, n)[i], so the first row is the top one (largest y).
    """
    xs = np.linspace(xrange[0], xrange[1], n, dtype=np.float32)
    ys = np.linspace(yrange[1], yrange[0], n, dtype=np.float32)
    gx, gy = np.meshgrid(xs, ys)
    return projection.from_2d(np.stack([gx.ravel(), gy.ravel()], axis=1))


def nearest_examples(latents: np.ndarray, point: np.ndarray, k: int = 1) -> np.ndarray:
    """Indices of the ``k`` rows of ``latents`` closest (Euclidean) to ``point``, nearest first."""
    latents = np.asarray(latents, np.float32)
    point = np.asarray(point, np.float32).reshape(1, -1)
    d2 = ((latents - point) ** 2).sum(1)
    k = min(k, len(d2))
    if k <= 0:
        return np.zeros(0, np.int64)
    idx = np.argpartition(d2, k - 1)[:k]
    return idx[np.argsort(d2[idx], kind="stable")].astype(np.int64)
