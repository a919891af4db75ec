"""The VAE's maths against independent computations (torch.distributions, Monte Carlo)."""
import math

import pytest
import torch
from torch.distributions import Bernoulli, Normal, kl_divergence

from aeviewer.models import build_model, default_config
from aeviewer.models.vae import gaussian_recon, kl_to_standard_normal, reparametrise

torch.set_num_threads(1)


def _stats(n: int = 6, d: int = 4, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, d, generator=g), torch.randn(n, d, generator=g)


def _vae(recon: str = "bce", **kw):
    torch.manual_seed(0)
    return build_model(default_config("vae", (1, 8, 8), hidden=(32,), latent_dim=3, recon=recon, **kw))


def _images(n: int = 5, binary: bool = False) -> torch.Tensor:
    x = torch.rand(n, 1, 8, 8, generator=torch.Generator().manual_seed(1))
    return (x > 0.5).float() if binary else x


def test_closed_form_kl_equals_torch_distributions():
    mu, logvar = _stats()
    expected = kl_divergence(Normal(mu, torch.exp(0.5 * logvar)), Normal(0.0, 1.0)).sum(dim=1)
    torch.testing.assert_close(kl_to_standard_normal(mu, logvar), expected)


def test_closed_form_kl_equals_monte_carlo_estimate():
    mu, logvar = _stats(n=3, d=2)
    q = Normal(mu, torch.exp(0.5 * logvar))
    z = q.sample((200_000,))  # KL = E_q[log q(z) - log p(z)]
    samples = (q.log_prob(z) - Normal(0.0, 1.0).log_prob(z)).sum(-1)
    stderr = samples.std(0) / math.sqrt(len(samples))
    assert torch.all((samples.mean(0) - kl_to_standard_normal(mu, logvar)).abs() < 4 * stderr + 1e-3)


def test_reparametrised_samples_have_the_right_moments():
    mu = torch.tensor([1.0, -2.0]).expand(200_000, 2)
    logvar = torch.tensor([0.25, 4.0]).log().expand(200_000, 2)
    torch.manual_seed(0)
    z = reparametrise(mu, logvar)
    torch.testing.assert_close(z.mean(0), torch.tensor([1.0, -2.0]), atol=0.02, rtol=0)
    torch.testing.assert_close(z.var(0), torch.tensor([0.25, 4.0]), atol=0.04, rtol=0)


def test_reparametrised_samples_pass_gradients_to_mu_and_sigma():
    mu = torch.tensor([[0.5, -1.0]], requires_grad=True)
    logvar = torch.tensor([[0.3, -0.7]], requires_grad=True)
    z = reparametrise(mu, logvar)
    z.sum().backward()
    u = ((z - mu) / torch.exp(0.5 * logvar)).detach()
    torch.testing.assert_close(mu.grad, torch.ones_like(mu))  # dz/dmu = 1
    torch.testing.assert_close(logvar.grad, 0.5 * torch.exp(0.5 * logvar.detach()) * u)  # dz/dlogvar = sigma u / 2
    assert logvar.grad.abs().min() > 0


def test_loss_kl_term_is_the_closed_form_of_the_encoder_statistics():
    model, x = _vae(), _images()
    mu, logvar = model.encode_stats(x)
    expected = kl_divergence(Normal(mu, torch.exp(0.5 * logvar)), Normal(0.0, 1.0)).sum(1).mean()
    torch.testing.assert_close(model.loss(x, x)["kl"], expected)


@pytest.mark.parametrize("recon", ["bce", "gaussian"])
def test_loss_recon_is_the_negative_log_likelihood_of_the_sampled_z(recon):
    model, x = _vae(recon, c=0.3), _images(binary=recon == "bce")
    torch.manual_seed(5)
    terms = model.loss(x, x)
    torch.manual_seed(5)
    mu, logvar = model.encode_stats(x)
    logits = model.decode_logits(mu + torch.exp(0.5 * logvar) * torch.randn_like(mu))
    if recon == "bce":
        expected = -Bernoulli(logits=logits).log_prob(x).flatten(1).sum(1)
    else:  # ||x - f(z)||^2 / (2c) = -log N(x | f(z), cI) - D/2 log(2 pi c)
        expected = -Normal(torch.sigmoid(logits), math.sqrt(0.3)).log_prob(x).flatten(1).sum(1) - 32 * math.log(2 * math.pi * 0.3)
    torch.testing.assert_close(terms["recon"], expected.mean())
    torch.testing.assert_close(terms["total"], terms["recon"] + terms["kl"])


def test_beta_weights_the_kl_term():
    model, x = _vae(beta=4.0), _images()
    terms = model.loss(x, x)
    torch.testing.assert_close(terms["total"], terms["recon"] + 4.0 * terms["kl"])


def test_gaussian_recon_is_negative_log_density_minus_its_constant():
    logits, x = torch.randn(4, 1, 8, 8), torch.rand(4, 1, 8, 8)
    nll = -Normal(torch.sigmoid(logits), math.sqrt(2.5)).log_prob(x).flatten(1).sum(1)
    torch.testing.assert_close(gaussian_recon(logits, x, 2.5), nll - 32 * math.log(2 * math.pi * 2.5))


@pytest.mark.parametrize("recon", ["bce", "gaussian"])
def test_iw_with_one_sample_is_the_log_weight_of_that_sample(recon):
    model, x = _vae(recon, c=0.5), _images(binary=True)
    ll = model.iw_log_likelihood(x, 1, generator=torch.Generator().manual_seed(3))
    u = torch.randn((1, len(x), 3), generator=torch.Generator().manual_seed(3))[0]
    with torch.no_grad():
        mu, logvar = model.encode_stats(x)
        q = Normal(mu, torch.exp(0.5 * logvar))
        z = mu + q.scale * u
        logits = model.decode_logits(z)
    px = Bernoulli(logits=logits) if recon == "bce" else Normal(torch.sigmoid(logits), math.sqrt(0.5))
    expected = px.log_prob(x).flatten(1).sum(1) + Normal(0.0, 1.0).log_prob(z).sum(1) - q.log_prob(z).sum(1)
    torch.testing.assert_close(ll, expected)


def test_iw_with_one_sample_is_the_negative_loss_in_expectation():
    model, x = _vae(), _images(n=4, binary=True)
    repeats = 400
    g = torch.Generator().manual_seed(0)
    iw = torch.stack([model.iw_log_likelihood(x, 1, generator=g) for _ in range(repeats)]).mean(0).mean()
    torch.manual_seed(0)
    with torch.no_grad():
        neg_elbo = torch.stack([model.loss(x, x)["total"] for _ in range(repeats)])
    assert abs(float(iw + neg_elbo.mean())) < 4 * float(neg_elbo.std()) / math.sqrt(repeats) + 0.05


def test_iw_estimate_increases_with_k_and_chunking_does_not_change_it():
    model, x = _vae(), _images(n=6, binary=True)
    g = torch.Generator().manual_seed(0)
    estimates = [float(model.iw_log_likelihood(x, k, generator=g).mean()) for k in (1, 10, 200)]
    assert estimates[0] < estimates[1] < estimates[2]
    small_chunks = float(model.iw_log_likelihood(x, 200, generator=g, chunk=7).mean())  # 1 image, 7 samples a piece
    assert small_chunks == pytest.approx(estimates[2], abs=0.3)
    assert model.iw_log_likelihood(x, 3, chunk=2).shape == (6,)


def test_sample_draws_from_the_standard_normal_prior():
    model = _vae()
    z = model.sample(50_000, generator=torch.Generator().manual_seed(0))
    assert z.shape == (50_000, 3)
    torch.testing.assert_close(z.mean(0), torch.zeros(3), atol=0.03, rtol=0)
    torch.testing.assert_close(z.std(0), torch.ones(3), atol=0.03, rtol=0)
    same = model.sample(5, generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(same, model.sample(5, generator=torch.Generator().manual_seed(1)))


def test_encode_is_the_posterior_mean():
    model, x = _vae(), _images()
    torch.testing.assert_close(model.encode(x), model.encode_stats(x)[0])
    assert model.encode_stats(x)[1].shape == (5, 3)
