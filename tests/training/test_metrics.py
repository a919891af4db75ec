"""Metrics: hand-checked formulas, per-kind reports, seeding, Parzen and IW estimates."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from aeviewer.data.imageset import ImageSet
from aeviewer.models import build_model, default_config
from aeviewer.training import metrics
from aeviewer.training.metrics import (
    choose_parzen_sigma,
    denoise_key,
    evaluate,
    noisy_key,
    parzen_log_likelihood,
    psnr,
    sliced_wasserstein,
)


def model_of(kind: str, seed: int = 0, **overrides):
    torch.manual_seed(seed)
    options = dict(hidden=(32,), latent_dim=3, codebook_size=16, code_dim=4, channels=(8, 8))
    options.update(overrides)
    return build_model(default_config(kind, image_shape=(1, 8, 8), **options))


def random_set(n: int = 60, seed: int = 0) -> ImageSet:
    g = torch.Generator().manual_seed(seed)
    images = torch.randint(0, 256, (n, 1, 8, 8), generator=g, dtype=torch.uint8)
    return ImageSet(images, torch.arange(n) % 10, tuple(str(i) for i in range(10)), "random")


def test_psnr_matches_hand_computation():
    x = torch.zeros(3, 1, 2, 2)
    y = torch.stack([torch.full((1, 2, 2), 0.1), torch.full((1, 2, 2), 0.5), torch.tensor([[[1.0, 0], [0, 0]]])])
    # MSE 0.01 -> 20 dB; 0.25 -> 6.02 dB; 1/4 of the pixels off by 1 -> MSE 0.25 -> 6.02 dB.
    expected = torch.tensor([20.0, 10 * math.log10(4), 10 * math.log10(4)])
    torch.testing.assert_close(psnr(x, y), expected, rtol=1e-5, atol=1e-5)
    assert psnr(x, x).tolist() == pytest.approx([100.0] * 3)  # identical images are capped, not infinite


def test_reconstruction_metrics_match_hand_computation():
    model = model_of("ae").eval()
    data = random_set(7)
    got = metrics.reconstruction_metrics(model, data, batch_size=3)
    x = data.float_batch(slice(None))
    with torch.no_grad():
        logits = model.decode_logits(model.encode(x))
    x_hat = torch.sigmoid(logits)
    per_image_mse = ((x_hat - x) ** 2).mean(dim=(1, 2, 3))
    assert got["recon_mse"] == pytest.approx(float(per_image_mse.mean()), rel=1e-5)
    bce = -(x * torch.log(x_hat) + (1 - x) * torch.log(1 - x_hat)).sum(dim=(1, 2, 3))
    assert got["recon_bce"] == pytest.approx(float(bce.mean()), rel=1e-4)
    assert got["psnr_db"] == pytest.approx(float((10 * torch.log10(1 / per_image_mse)).mean()), rel=1e-5)


def test_neg_elbo_is_recon_plus_kl_whatever_beta():
    data = random_set(40)
    model = model_of("vae", beta=4.0).eval()
    torch.manual_seed(0)
    got = metrics.negative_elbo(model, data, batch_size=40)
    torch.manual_seed(0)
    with torch.no_grad():
        terms = model.loss(data.float_batch(slice(None)), data.float_batch(slice(None)))
    assert got == pytest.approx(float(terms["recon"] + terms["kl"]), rel=1e-5)
    assert got < float(terms["total"])  # the β-weighted training loss is not the ELBO


def test_iw_nll_is_a_tighter_bound_than_neg_elbo_and_reports_progress():
    data = random_set(40)
    model = model_of("vae")
    seen = []
    report = evaluate(model, data, iw_samples=200, progress=lambda stage, done, total: seen.append((stage, done, total)))
    assert report["iw_samples"] == 200
    assert report["iw_nll"] <= report["neg_elbo"] + 0.5
    assert report["iw_nll"] > 0
    assert seen[-1] == ("iw_nll", 40, 40)


def test_evaluate_is_seeded_and_leaves_the_model_and_global_rng_alone():
    data = random_set()
    model = model_of("vae").train()
    torch.manual_seed(123)
    expected_next = torch.rand(1)
    torch.manual_seed(123)
    first = evaluate(model, data, iw_samples=5, seed=3)
    assert torch.equal(torch.rand(1), expected_next)
    assert model.training
    assert evaluate(model, data, iw_samples=5, seed=3) == first
    assert evaluate(model, data, iw_samples=5, seed=4)["neg_elbo"] != first["neg_elbo"]


@pytest.mark.parametrize("kind, expected", [
    ("ae", {"recon_mse", "recon_bce", "psnr_db"}),
    ("vae", {"recon_mse", "recon_bce", "psnr_db", "neg_elbo", "active_units"}),
    ("vqvae", {"recon_mse", "recon_bce", "psnr_db", "perplexity", "codes_used_frac"}),
    ("aae", {"recon_mse", "recon_bce", "psnr_db", "prior_distance", "active_units"}),
])
def test_every_kind_reports_its_own_metrics(kind, expected):
    report = evaluate(model_of(kind), random_set())
    assert set(report) == expected
    assert all(isinstance(v, float) and math.isfinite(v) for v in report.values())


@pytest.mark.parametrize("kind", ["vae", "aae"])
def test_active_units_count_the_code_dimensions_that_vary_over_the_images(kind):
    """Independently: the per-dimension variance of the mean codes, computed in numpy, against 0.01.
    Dimension 0's code is made constant and dimension 1's scaled to a variance just below 0.01."""
    import numpy as np

    model = model_of(kind, latent_dim=4, **({"learned_posterior": True} if kind == "aae" else {}))
    data = random_set(200)
    head = [m for m in model.encoder.modules() if isinstance(m, torch.nn.Linear)][-1]
    with torch.no_grad():
        head.weight[0] = 0.0
        codes = model.encode(data.float_batch(slice(None))).numpy()
        head.weight[1] *= 0.09 / codes[:, 1].std(ddof=1)
        head.weight[2] *= 0.11 / codes[:, 2].std(ddof=1)
        head.weight[3] *= 2.0 / codes[:, 3].std(ddof=1)
        codes = model.encode(data.float_batch(slice(None))).numpy()
    expected = int((np.var(codes.astype(np.float64), axis=0, ddof=1) > 0.01).sum())
    assert expected == 2  # dimensions 2 and 3
    assert evaluate(model, data)["active_units"] == expected


def test_dae_reports_noisy_and_denoised_psnr_for_each_noise():
    model = model_of("dae")
    report = evaluate(model, random_set(), noise_specs=("gaussian:0.5", "masking:0.25"))
    assert {noisy_key("gaussian:0.5"), denoise_key("gaussian:0.5"), noisy_key("masking:0.25"),
            denoise_key("masking:0.25")} <= set(report)
    assert noisy_key("gaussian:0.5") == "noisy_gaussian_0.5_psnr_db"
    assert denoise_key("gaussian:0.5") == "denoise_gaussian_0.5_psnr_db"
    # A σ = 0.5 corruption clipped to [0, 1] on uniform images: well below 10 dB, above 5 dB.
    assert 5 < report["noisy_gaussian_0.5_psnr_db"] < 10


def test_denoise_psnr_matches_hand_computation_for_masking():
    data = ImageSet(torch.full((50, 1, 8, 8), 255, dtype=torch.uint8), torch.zeros(50, dtype=torch.long), ("x",))
    noisy, _ = metrics.denoise_psnr(model_of("ae"), data, "masking:0.25")
    # A fraction f of white pixels zeroed: MSE = f, PSNR = 10·log10(1/f) ≈ 6.02 dB for f = 1/4.
    assert noisy == pytest.approx(10 * math.log10(4), abs=0.4)


def test_code_usage_matches_a_hand_count():
    model = model_of("vqvae").eval()
    data = random_set(30)
    with torch.no_grad():
        codes = model.encode_codes(data.float_batch(slice(None))).flatten()
    counts = torch.bincount(codes, minlength=16).double()
    p = counts[counts > 0] / counts.sum()
    report = metrics.code_usage(model, data, batch_size=7)
    assert report["codes_used_frac"] == pytest.approx(float((counts > 0).double().mean()))
    assert report["perplexity"] == pytest.approx(float(torch.exp(-(p * p.log()).sum())), rel=1e-6)


def test_sliced_wasserstein_is_zero_for_the_same_cloud_and_grows_with_a_shift():
    g = torch.Generator().manual_seed(0)
    a = torch.randn(2000, 4, generator=g)
    assert sliced_wasserstein(a, a[torch.randperm(2000, generator=g)], generator=g) == pytest.approx(0.0, abs=1e-6)
    shift = torch.tensor([2.0, 0.0, 0.0, 0.0])
    # Each direction θ sees the shift θ·c; E[(θ·c)²] = ‖c‖²/L for θ uniform on the sphere.
    expected = 2.0 / math.sqrt(4)
    assert sliced_wasserstein(a, a + shift, n_directions=2000, generator=g) == pytest.approx(expected, rel=0.1)


def test_parzen_log_likelihood_matches_a_gaussian_mixture():
    g = torch.Generator().manual_seed(0)
    samples, test = torch.rand(300, 5, generator=g), torch.rand(40, 5, generator=g)
    sigma = 0.2
    mixture = torch.distributions.MixtureSameFamily(
        torch.distributions.Categorical(torch.ones(300)),
        torch.distributions.Independent(torch.distributions.Normal(samples.double(), sigma), 1))
    expected = mixture.log_prob(test.double())
    torch.testing.assert_close(parzen_log_likelihood(samples, test, sigma, chunk=7), expected, rtol=1e-4, atol=1e-3)


def test_choose_parzen_sigma_picks_the_best_mean_log_likelihood():
    g = torch.Generator().manual_seed(0)
    samples, validation = torch.randn(500, 3, generator=g), torch.randn(200, 3, generator=g)
    sigmas = (0.05, 0.3, 0.6, 3.0)
    best, means = choose_parzen_sigma(samples, validation, sigmas, chunk=64)
    for s in sigmas:
        assert means[s] == pytest.approx(float(parzen_log_likelihood(samples, validation, s).mean()), rel=1e-4)
    assert best == max(means, key=means.get)
    assert best in (0.3, 0.6)  # too narrow and too wide both lose on N(0, I) data


def test_parzen_metrics_through_evaluate():
    report = evaluate(model_of("aae"), random_set(300), parzen=True)
    assert report["parzen_n_test"] == 150  # half of a small set chooses sigma, the other half is scored
    assert math.isfinite(report["parzen_ll"]) and report["parzen_ll_se"] > 0
    assert report["parzen_sigma"] in metrics.PARZEN_SIGMAS


def test_parzen_validation_ll_is_the_validation_images_score_at_the_chosen_sigma():
    model, validation = model_of("aae"), random_set(120, seed=5)
    report = metrics.parzen_metrics(model, random_set(200), validation=validation, n_samples=500)
    with torch.inference_mode():  # the same seeded draws parzen_metrics makes
        samples = model.decode(model.sample(500, generator=torch.Generator().manual_seed(0))).flatten(1)
    expected = parzen_log_likelihood(samples, validation.float_batch(slice(None)).flatten(1), report["parzen_sigma"]).mean()
    assert report["parzen_validation_ll"] == pytest.approx(float(expected), rel=1e-4)


def test_binarised_parzen_chooses_sigma_on_binary_validation_images_too():
    """With --binarize the test images are 0/1; sigma must be chosen on 0/1 validation images as well, not on
    grey ones (a window tuned for grey images is too wide for binary ones)."""
    model, test, validation = model_of("aae"), random_set(200), random_set(120, seed=5)
    report = evaluate(model, test, parzen=True, parzen_validation=validation, binarize=True)
    gen = torch.Generator().manual_seed(0)  # evaluate's seed: the test images are drawn first, then the validation's
    binary = [ImageSet((torch.bernoulli(s.float_batch(slice(None)), generator=gen) * 255).to(torch.uint8),
                       s.labels, s.class_names, s.name) for s in (test, validation)]
    expected = metrics.parzen_metrics(model, binary[0], validation=binary[1])
    assert set(np.unique(binary[1].images.numpy())) == {0, 255}
    for key in ("parzen_ll", "parzen_sigma", "parzen_validation_ll"):
        assert report[key] == pytest.approx(expected[key], rel=1e-6)


def test_binarised_evaluation_uses_zero_one_images():
    model = model_of("vae")
    plain = evaluate(model, random_set())
    binary = evaluate(model, random_set(), binarize=True)
    assert binary["recon_mse"] != plain["recon_mse"]
    assert binary == evaluate(model, random_set(), binarize=True)



def test_binarisation_draws_each_pixel_from_its_own_grey_level():
    """x ~ Bernoulli(pixel): black and white pixels stay as they are, grey ones average to their level."""
    model = model_of("ae")
    g = torch.Generator().manual_seed(1)
    black_white = (torch.randint(0, 2, (64, 1, 8, 8), generator=g) * 255).to(torch.uint8)
    crisp = ImageSet(black_white, torch.zeros(64, dtype=torch.long), tuple("0123456789"), "bw")
    assert evaluate(model, crisp, binarize=True) == evaluate(model, crisp)
    grey = ImageSet(torch.full((400, 1, 8, 8), 64, dtype=torch.uint8), torch.zeros(400, dtype=torch.long),
                    tuple("0123456789"), "grey")
    seen = {}
    real = metrics._evaluate

    def spy(model, data, *args):
        seen["mean"] = data.images.float().div(255).mean().item()
        seen["values"] = set(data.images.unique().tolist())
        return real(model, data, *args)

    import unittest.mock
    with unittest.mock.patch.object(metrics, "_evaluate", spy):
        evaluate(model, grey, binarize=True)
    assert seen["values"] == {0, 255}
    assert abs(seen["mean"] - 64 / 255) < 0.01
