"""Latent-space exploration without Qt: encode a set, project to 2-D and back, decode, interpolate.

Everything returns NumPy arrays (float32) so the GUI can hand them straight to pyqtgraph.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import torch

from aeviewer.data.imageset import ImageSet
from aeviewer.errors import ConfigError
from aeviewer.models.base import Autoencoder
from aeviewer.models.nets import device_of
from aeviewer.projections.linear import FULL_SVD_MAX_DIM, LINEAR_KINDS, Projection, make_projection  # noqa: F401 - re-exported

# The linear projections live in aeviewer.projections; re-exported here for the code that imports them from explore.
PROJECTIONS = LINEAR_KINDS


class _EvalMode:
    """Eval mode for the duration of a block, then the model's previous mode (batch norm must not learn here)."""

    def __init__(self, model: torch.nn.Module) -> None:
        self.model, self.was_training = model, model.training
        # train(False) walks every submodule in Python (~0.25 ms for a small VAE): a click's decode skips it
        # when nothing is in training mode, which is the app's case between training runs
        self.switch = any(m.training for m in model.modules())

    def __enter__(self) -> None:
        if self.switch:
            self.model.eval()

    def __exit__(self, *exc: object) -> None:
        if self.switch:
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


def grid_points(projection: Projection, xrange: tuple[float, float], yrange: tuple[float, float], n: int,
                rows: int | None = None) -> np.ndarray:
    """An n×n grid (n across, ``rows`` down when given) over the 2-D view mapped back to latent space, ``(rows*n, L)``.

    Row-major like an image mosaic: point ``i*n + j`` has x = linspace(x0, x1, n)[j] and
    y = linspace(y1, y0, rows)[i], so the first row is the top one (largest y).
    """
    xs = np.linspace(xrange[0], xrange[1], n, dtype=np.float32)
    ys = np.linspace(yrange[1], yrange[0], n if rows is None else rows, dtype=np.float32)
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
    if k == 1:  # a click's nearest example: argmin is a third of argpartition's time
        return np.array([np.argmin(d2)], np.int64)
    idx = np.argpartition(d2, k - 1)[:k]
    return idx[np.argsort(d2[idx], kind="stable")].astype(np.int64)
