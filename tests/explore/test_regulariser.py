"""What the regulariser did: a VAE's KL per dimension with its active units, an AAE's prior density."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import integrate, stats

from aeviewer.explore import regulariser
from aeviewer.data.imageset import ImageSet
from aeviewer.errors import ConfigError
from aeviewer.models import build_model, default_config
from aeviewer.models.aae import sample_prior
from aeviewer.models.vae import kl_to_standard_normal
from aeviewer.training.metrics import active_units


def tiny_set(n: int = 64) -> ImageSet:
    g = torch.Generator().manual_seed(0)
    return ImageSet((torch.rand((n, 1, 8, 8), generator=g) * 255).to(torch.uint8), torch.arange(n) % 4,
                    tuple("abcd"), "tiny")


def tiny_vae(latent_dim: int = 5):
    torch.manual_seed(0)
    return build_model(default_config("vae", image_shape=(1, 8, 8), latent_dim=latent_dim))


def collapse_dimension(model, dim: int) -> None:
    """Make dimension ``dim`` carry nothing: mu_j = 0 and log sigma_j^2 = 0 for every image (KL_j = 0)."""
    head = [m for m in model.encoder.modules() if isinstance(m, torch.nn.Linear)][-1]  # the (mu, log sigma²) head
    with torch.no_grad():
        for row in (dim, model.config.latent_dim + dim):  # mu_j and log sigma_j^2 come from these rows
            head.weight[row] = 0.0
            head.bias[row] = 0.0


def test_kl_per_dimension_matches_the_closed_form_and_sums_to_the_losss_kl() -> None:
    model, images = tiny_vae(), tiny_set()
    report = regulariser.kl_per_dimension(model, images, batch_size=10)
    x = images.float_batch(slice(None))
    with torch.no_grad():
        mu, logvar = (t.double().numpy() for t in model.encode_stats(x))
    sigma2 = np.exp(logvar)
    assert np.allclose(report.kl, (0.5 * (mu ** 2 + sigma2 - logvar - 1)).mean(0), rtol=1e-6)
    with torch.no_grad():
        loss_kl = float(kl_to_standard_normal(*model.encode_stats(x)).mean())
    assert report.total == pytest.approx(loss_kl, rel=1e-5)


def test_the_closed_form_is_the_kl_integral() -> None:
    """KL(N(m, s^2) || N(0, 1)) = integral of q log(q/p), by scipy's quadrature, averaged over two images."""
    model, images = tiny_vae(), tiny_set(2)
    report = regulariser.kl_per_dimension(model, images)
    with torch.no_grad():
        mu, logvar = (t.double().numpy() for t in model.encode_stats(images.float_batch(slice(None))))
    for dim, kl in enumerate(report.kl):
        values = []
        for m, lv in zip(mu[:, dim], logvar[:, dim]):
            q = stats.norm(m, math.exp(0.5 * lv))
            values.append(integrate.quad(lambda z, q=q: q.pdf(z) * (q.logpdf(z) - stats.norm.logpdf(z)), m - 12, m + 12)[0])
        assert kl == pytest.approx(np.mean(values), rel=1e-5, abs=1e-8)


def test_one_image_is_too_few_for_active_units() -> None:
    with pytest.raises(ConfigError, match="at least 2 images"):
        regulariser.kl_per_dimension(tiny_vae(), tiny_set(1))


def test_a_collapsed_dimension_has_no_kl_and_is_not_active() -> None:
    model, images = tiny_vae(), tiny_set()
    collapse_dimension(model, 2)
    report = regulariser.kl_per_dimension(model, images)
    assert report.kl[2] == pytest.approx(0.0, abs=1e-12)
    assert not report.active[2]
    assert report.n_active == active_units(model, images)  # the count the metrics report


def test_active_units_follow_the_code_variance_threshold() -> None:
    model, images = tiny_vae(), tiny_set()
    report = regulariser.kl_per_dimension(model, images)
    assert np.array_equal(report.active, report.code_variance > 0.01)
    assert report.n_active == active_units(model, images)


def test_models_without_a_gaussian_posterior_are_refused() -> None:
    ae = build_model(default_config("ae", image_shape=(1, 8, 8), latent_dim=2))
    with pytest.raises(ConfigError, match="no Gaussian posterior"):
        regulariser.kl_per_dimension(ae, tiny_set())


@pytest.mark.parametrize("prior", ["gaussian", "mixture10", "swissroll"])
def test_prior_density_integrates_to_one_over_a_wide_grid(prior: str) -> None:
    config = default_config("aae", image_shape=(1, 8, 8), latent_dim=2, prior=prior)
    xs = ys = np.linspace(-8, 8, 241)  # the trapezoid rule is exact to ~1e-5 for Gaussians this finely sampled
    density = regulariser.prior_density(config, xs, ys)
    assert density.shape == (241, 241) and (density >= 0).all()
    assert integrate.trapezoid(integrate.trapezoid(density, xs, axis=1), ys) == pytest.approx(1.0, abs=1e-3)


def histogram_gap(config, samples: np.ndarray, bins: int = 24, sub: int = 10) -> float:
    """Sum over bins of |P_density(bin) - P_samples(bin)| on [-6, 6]^2: 0 when they agree, up to 2."""
    edges = np.linspace(-6, 6, bins + 1)
    width = edges[1] - edges[0]
    counts, _, _ = np.histogram2d(samples[:, 1], samples[:, 0], bins=[edges, edges])  # rows are y, as the density's
    fine = edges[0] + (np.arange(bins * sub) + 0.5) * width / sub  # sub x sub points per bin, 0.05 apart
    density = regulariser.prior_density(config, fine, fine).reshape(bins, sub, bins, sub).mean((1, 3))
    return float(np.abs(density * width ** 2 - counts / len(samples)).sum())


@pytest.mark.parametrize("prior, other", [("gaussian", "swissroll"), ("mixture10", "gaussian"), ("swissroll", "mixture10")])
def test_prior_density_matches_a_histogram_of_the_models_own_prior_samples(prior: str, other: str) -> None:
    config = default_config("aae", image_shape=(1, 8, 8), latent_dim=3, prior=prior)
    z = sample_prior(config, 200_000, None, torch.Generator().manual_seed(0), torch.device("cpu"))[:, :2].numpy()
    assert histogram_gap(config, z) < 0.06  # sampling noise of 200,000 draws in 576 bins: 0.02-0.03 measured
    assert histogram_gap(default_config("aae", image_shape=(1, 8, 8), latent_dim=3, prior=other), z) > 1.0


def test_prior_density_rows_are_y_and_columns_x() -> None:
    config = default_config("aae", image_shape=(1, 8, 8), latent_dim=2, prior="mixture10")
    density = regulariser.prior_density(config, np.array([4.0, 0.0]), np.array([0.0]))
    assert density.shape == (1, 2)
    assert density[0, 0] > 1000 * density[0, 1]  # (4, 0) is component 0's centre; (0, 0) is 8 std from every one


def test_contour_levels_enclose_the_asked_mass_of_a_standard_normal() -> None:
    config = default_config("vae", image_shape=(1, 8, 8), latent_dim=2)  # a VAE's prior: N(0, I)
    xs = np.linspace(-7, 7, 561)
    density = regulariser.prior_density(config, xs, xs)
    levels = regulariser.mass_levels(density, (xs[1] - xs[0]) ** 2, (0.5, 0.9, 0.99))
    # the region r < R holds 1 - exp(-R^2 / 2) of N(0, I), and the density at its edge is exp(-R^2 / 2) / 2 pi
    assert levels == pytest.approx([(1 - p) / (2 * math.pi) for p in (0.5, 0.9, 0.99)], rel=0.01)
