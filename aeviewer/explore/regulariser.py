"""What the regulariser did, without Qt: a VAE's KL per latent dimension (posterior collapse) and an AAE's
prior density on the map (prior match), the pictures tutorials draw by hand.

- :func:`kl_per_dimension`: KL_j = mean over images of 1/2 (mu_j^2 + sigma_j^2 - log sigma_j^2 - 1), the
  VAE's KL term split by dimension (the terms sum to the KL the loss reports), with each dimension marked
  active as ``metrics.active_units`` counts it (its code mu_j varies over the images with variance > 0.01).
- :func:`prior_density`: the density of the AAE's prior on a grid of the latent plane of dims 0 and 1 (the
  plane its 2-D priors live in), in closed form: N(0, I); the ten-Gaussian mixture; the swiss roll as its
  curve blurred by its noise, integrated along the curve. A conditional prior's classes are taken as equally
  likely (the marginal over labels).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from aeviewer.data.imageset import ImageSet
from aeviewer.errors import ConfigError
from aeviewer.models import aae, kind_class
from aeviewer.models.base import Autoencoder
from aeviewer.models.config import ModelConfig
from aeviewer.models.nets import device_of
from aeviewer.training.metrics import active_unit_mask

SWISSROLL_CURVE_POINTS = 1000  # nodes along the roll (length ~19): 0.02 apart at the outer turn, under half the 0.05 noise


@dataclass(frozen=True)
class KLPerDimension:
    """``kl[j]``: nats per image in dimension j; ``active[j]``: whether the codes use dimension j."""

    kl: np.ndarray  # (L,) float64
    active: np.ndarray  # (L,) bool
    code_variance: np.ndarray  # (L,) float64, the variance of mu_j over the images

    @property
    def total(self) -> float:
        return float(self.kl.sum())

    @property
    def n_active(self) -> int:
        return int(self.active.sum())


def has_gaussian_posterior(model: Autoencoder) -> bool:
    """Whether the model's encoder gives (mu, log sigma²) per image, so its KL to N(0, I) can be split by dimension."""
    return model.gaussian_posterior


@torch.inference_mode()
def kl_per_dimension(model: Autoencoder, images: ImageSet, *, batch_size: int = 500) -> KLPerDimension:
    """The KL of q(z|x) to N(0, I) per latent dimension, averaged over ``images``, and the active units."""
    if not has_gaussian_posterior(model):
        raise ConfigError(f"a {model.config.kind} has no Gaussian posterior to take the KL of; a VAE has")
    device = device_of(model)
    was_training = model.training
    model.eval()
    try:
        kl_sum = torch.zeros(model.config.latent_dim, dtype=torch.float64, device=device)
        codes = []
        for start in range(0, len(images), batch_size):
            mu, logvar = model.encode_stats(images.float_batch(slice(start, start + batch_size), device))
            mu, logvar = mu.double(), logvar.double()
            kl_sum += 0.5 * (mu.square() + logvar.exp() - logvar - 1.0).sum(0)
            codes.append(mu)
    finally:
        model.train(was_training)
    mu_all = torch.cat(codes)
    if len(mu_all) < 2:
        raise ConfigError("the KL per dimension and the active units need at least 2 images")
    return KLPerDimension((kl_sum / max(1, len(images))).cpu().numpy(), active_unit_mask(mu_all).cpu().numpy(),
                          mu_all.var(dim=0).cpu().numpy())


# -- the AAE's prior --------------------------------------------------------------------------------
def prior_density(config: ModelConfig, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """p(z0 = x, z1 = y) of the config's prior (a VAE's is N(0, I)) on the grid ``xs`` x ``ys``: (len(ys), len(xs)), row i at ys[i]
    (the marginal of dims 0-1; the other dims of a wider latent are independent N(0, 1) draws)."""
    if config.latent_dim < 2:
        raise ConfigError(f"a {config.latent_dim}-dim latent space has no plane to draw the prior on")
    gx, gy = np.meshgrid(np.asarray(xs, np.float64), np.asarray(ys, np.float64))
    points = np.stack([gx, gy], axis=-1)  # (ny, nx, 2)
    if kind_class(config.kind).prior_name(config) == "gaussian":
        return _isotropic_normal(points, np.zeros((1, 2)), 1.0)
    if config.prior == "mixture10":
        angle = 2.0 * math.pi * np.arange(aae.MIXTURE_COMPONENTS) / aae.MIXTURE_COMPONENTS
        centres = aae.MIXTURE_RADIUS * np.stack([np.cos(angle), np.sin(angle)], axis=1)
        return _isotropic_normal(points, centres, aae.MIXTURE_STD)
    if config.prior == "swissroll":
        # u ~ U[0, 1): t = 1.5 pi (1 + 2u), centre (1 + 2u)(cos t, sin t), plus N(0, noise^2 I): the density is
        # the mean over u of the noise's density around the centre (midpoint rule in u).
        u = (np.arange(SWISSROLL_CURVE_POINTS) + 0.5) / SWISSROLL_CURVE_POINTS
        t = 1.5 * math.pi * (1.0 + 2.0 * u)
        centres = (1.0 + 2.0 * u)[:, None] * np.stack([np.cos(t), np.sin(t)], axis=1)
        return _isotropic_normal(points, centres, aae.SWISSROLL_NOISE)
    raise ConfigError(f"unknown prior {config.prior!r}; choose one of {', '.join(aae.PRIORS)}")


def _isotropic_normal(points: np.ndarray, centres: np.ndarray, std: float) -> np.ndarray:
    """The mean over centres of N(point; centre_k, std^2 I) in 2-D, for every point: shape ``points.shape[:-1]``.

    |p - c|^2 = |p|^2 + |c|^2 - 2 p.c, a matrix product, in blocks of points to keep memory small."""
    flat = points.reshape(-1, 2)
    out = np.empty(len(flat), np.float64)
    norm = 1.0 / (2.0 * math.pi * std * std * len(centres))
    c2 = (centres ** 2).sum(1)
    block = max(1, 2_000_000 // len(centres))
    for start in range(0, len(flat), block):
        p = flat[start:start + block]
        d2 = np.maximum((p ** 2).sum(1)[:, None] + c2[None, :] - 2.0 * p @ centres.T, 0.0)
        out[start:start + block] = norm * np.exp(-0.5 * d2 / (std * std)).sum(1)
    return out.reshape(points.shape[:-1])


def prior_contour_grid(config: ModelConfig, xrange: tuple[float, float], yrange: tuple[float, float],
                       n: int = 120) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(xs, ys, density) over a region, ready for a contour plot of the prior under the codes' scatter."""
    xs = np.linspace(xrange[0], xrange[1], n)
    ys = np.linspace(yrange[0], yrange[1], n)
    return xs, ys, prior_density(config, xs, ys)


CONTOUR_MASSES = (0.5, 0.9, 0.99)


def mass_levels(density: np.ndarray, cell_area: float, masses: tuple[float, ...] = CONTOUR_MASSES) -> list[float]:
    """For each mass p, the density level whose contour encloses the densest region holding p of the
    probability on the grid (highest-density regions: N(0, I)'s level for p is (1 - p) / 2 pi)."""
    values = np.sort(np.asarray(density, np.float64).ravel())[::-1]
    cumulative = np.cumsum(values) * cell_area
    return [float(values[min(np.searchsorted(cumulative, p), len(values) - 1)]) for p in masses]
