"""Test-set metrics for every kind, seeded and batched; plain floats out.

Keys that :func:`evaluate` returns (images in [0, 1], "per image" = summed over pixels):

- every kind: ``recon_mse`` (per-image mean over pixels, averaged over images), ``recon_bce`` (nats per
  image, sigmoid outputs vs the [0, 1] targets), ``psnr_db`` (mean over images of 10·log10(1/MSE)).
  Reconstructions use ``decode(encode(x))`` (the VAE's mean code).
- vae: ``neg_elbo`` (nats per image: recon + KL with β = 1, Gaussian decoders with their constant),
  ``iw_nll`` and ``iw_samples`` when ``iw_samples`` > 0 (importance-weighted estimate of −log p(x)).
- denoising (the DAE by default; ``denoise=True`` for any kind): for each noise spec, e.g. gaussian:0.5,
  ``noisy_gaussian_0.5_psnr_db`` (corrupted input vs clean) and ``denoise_gaussian_0.5_psnr_db``
  (reconstruction of the corrupted input vs clean); see :func:`noisy_key`, :func:`denoise_key`.
- vqvae: ``perplexity`` and ``codes_used_frac`` of the codes the test set uses; with a learned prior,
  ``prior_nll_bits_per_code``, ``prior_nll_nats_per_image`` and ``nll_bound_nats_per_image`` (prior NLL of the
  code map + ``recon_bce``; :mod:`aeviewer.training.prior` says which terms).
- aae: ``prior_distance`` (sliced Wasserstein-2 between encoded test set and prior samples).
- vae/aae: ``active_units``, the latent dimensions the codes use (see :func:`active_units`).
- vae/aae with ``parzen=True``: ``parzen_ll`` (nats), ``parzen_ll_se``, ``parzen_sigma``, ``parzen_n_test``, ``parzen_validation_ll``
  (Makhzani et al. 2015: 10,000 decoded prior samples, σ chosen on a validation split).
"""
from __future__ import annotations

import math
from typing import Any, Callable, Iterator, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from aeviewer.data.imageset import ImageSet
from aeviewer.data.noise import NoiseSpec, corrupt
from aeviewer.errors import ConfigError
from aeviewer.models.base import Autoencoder
from aeviewer.models.nets import device_of
from aeviewer.models.vqvae import usage_stats

DEFAULT_NOISE_SPECS = ("gaussian:0.3", "gaussian:0.5", "masking:0.25", "masking:0.5", "salt_pepper:0.2")
PARZEN_SIGMAS = tuple(float(s) for s in np.geomspace(0.05, 0.5, 21))
Progress = Callable[[str, int, int], Any]  # (stage, done, total)


def psnr(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Per-image PSNR in dB for images in [0, 1]: 10·log10(1 / MSE), (N,); capped at 100 dB (MSE 1e-10)."""
    mse = (x - y).square().flatten(1).mean(1)
    return 10.0 * torch.log10(1.0 / mse.clamp_min(1e-10))


def noisy_key(spec: NoiseSpec | str) -> str:
    return f"noisy_{_spec(spec).slug}_psnr_db"


def denoise_key(spec: NoiseSpec | str) -> str:
    return f"denoise_{_spec(spec).slug}_psnr_db"


def _spec(spec: NoiseSpec | str) -> NoiseSpec:
    return spec if isinstance(spec, NoiseSpec) else NoiseSpec.parse(spec)


def _batches(images: ImageSet, batch_size: int, device: torch.device, binarize_gen: torch.Generator | None = None
             ) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    for start in range(0, len(images), batch_size):
        x = images.float_batch(slice(start, start + batch_size), device)
        if binarize_gen is not None:  # dynamic binarisation, fixed by the seed: x ~ Bernoulli(pixel)
            x = torch.bernoulli(x, generator=binarize_gen)
        yield x, images.labels[start:start + batch_size].to(device)


# -- the whole report ---------------------------------------------------------------------------------
def evaluate(
    model: Autoencoder,
    test_set: ImageSet,
    *,
    iw_samples: int = 0,
    seed: int = 0,
    device: str | torch.device = "cpu",
    progress: Progress | None = None,
    binarize: bool = False,
    denoise: bool | None = None,
    noise_specs: Sequence[str] = DEFAULT_NOISE_SPECS,
    parzen: bool = False,
    parzen_validation: ImageSet | None = None,
    batch_size: int = 500,
) -> dict[str, float]:
    """Every metric that applies to ``model``'s kind on ``test_set`` (keys in the module docstring).

    Seeded (binarisation, sampling, noise) and leaves the global RNG, the model's device and its
    train/eval mode as they were.
    """
    from aeviewer.training.trainer import resolve_device

    if tuple(test_set.image_shape) != tuple(model.config.image_shape):
        raise ConfigError(f"the {test_set.name} images are {_shape_text(test_set.image_shape)}, "
                          f"the model takes {_shape_text(model.config.image_shape)}")
    target = resolve_device(str(device))[0]
    home, was_training = device_of(model), model.training
    model.to(target).eval()
    try:
        with torch.random.fork_rng(devices=[target] if target.type == "cuda" else []), torch.inference_mode():
            torch.manual_seed(seed)
            data = test_set
            if binarize:  # the Parzen sigma is then chosen on binary images too, like those it scores
                gen = torch.Generator(device=target).manual_seed(seed)
                data = _binarized(test_set, gen, target)
                if parzen_validation is not None:
                    parzen_validation = _binarized(parzen_validation, gen, target)
            return _evaluate(model, data, target, iw_samples, seed, progress, denoise, noise_specs,
                             parzen, parzen_validation, batch_size)
    finally:
        model.to(home).train(was_training)


def _binarized(images: ImageSet, gen: torch.Generator, device: torch.device) -> ImageSet:
    """Each pixel drawn as x ~ Bernoulli(pixel) (Tensor.bernoulli_() would draw Bernoulli(0.5) noise instead)."""
    binary = torch.bernoulli(images.float_batch(slice(None), device), generator=gen)
    return ImageSet((binary * 255).to(torch.uint8), images.labels, images.class_names, images.name)


def _shape_text(shape: Sequence[int]) -> str:
    return "x".join(map(str, shape))


def _evaluate(model: Autoencoder, data: ImageSet, device: torch.device, iw_samples: int, seed: int,
              progress: Progress | None, denoise: bool | None, noise_specs: Sequence[str], parzen: bool,
              parzen_validation: ImageSet | None, batch_size: int) -> dict[str, float]:
    metrics = reconstruction_metrics(model, data, batch_size=batch_size, device=device)
    if model.regulariser == "kl":  # a KL term to N(0, I): the loss is an ELBO
        metrics["neg_elbo"] = negative_elbo(model, data, batch_size=batch_size, device=device)
        if iw_samples > 0:
            metrics["iw_nll"] = iw_nll(model, data, iw_samples, seed=seed, device=device, progress=progress)
            metrics["iw_samples"] = float(iw_samples)
    trained_noise = [] if model.config.noise in ("", "none") else [model.config.noise]
    if denoise or (denoise is None and trained_noise):
        for text in dict.fromkeys([*noise_specs, *trained_noise]):  # the noise it was trained on is always in
            noisy, denoised = denoise_psnr(model, data, text, seed=seed, batch_size=batch_size, device=device)
            metrics[noisy_key(text)], metrics[denoise_key(text)] = noisy, denoised
    if model.has_codebook:
        metrics.update(code_usage(model, data, batch_size=batch_size, device=device))
        if model.has_prior:  # a learned prior over the code maps: its NLL and the bound (training/prior.py)
            from aeviewer.training.prior import prior_metrics

            metrics.update(prior_metrics(model, data, metrics["recon_bce"], batch_size=batch_size, device=device))
    if model.regulariser == "prior":
        metrics["prior_distance"] = prior_distance(model, data, seed=seed, batch_size=batch_size, device=device)
    if model.regulariser is not None:
        metrics["active_units"] = active_units(model, data, batch_size=batch_size, device=device)
    if parzen and model.has_prior:
        metrics.update(parzen_metrics(model, data, validation=parzen_validation, seed=seed, progress=progress))
    return metrics


# -- reconstruction -----------------------------------------------------------------------------------
@torch.inference_mode()
def reconstruction_metrics(model: Autoencoder, images: ImageSet, *, batch_size: int = 500,
                           device: str | torch.device = "cpu") -> dict[str, float]:
    """recon_mse, recon_bce (nats per image) and psnr_db of decode(encode(x)), averaged over images."""
    sums = {"recon_mse": 0.0, "recon_bce": 0.0, "psnr_db": 0.0}
    for x, _ in _batches(images, batch_size, torch.device(device)):
        logits = model.decode_logits(model.encode(x))
        x_hat = torch.sigmoid(logits)
        sums["recon_mse"] += float((x_hat - x).square().flatten(1).mean(1).sum())
        sums["recon_bce"] += float(F.binary_cross_entropy_with_logits(logits, x, reduction="sum"))
        sums["psnr_db"] += float(psnr(x_hat, x).sum())
    return {k: v / len(images) for k, v in sums.items()}


# -- VAE ----------------------------------------------------------------------------------------------
@torch.inference_mode()
def negative_elbo(model: Autoencoder, images: ImageSet, *, batch_size: int = 500,
                  device: str | torch.device = "cpu") -> float:
    """−ELBO in nats per image: E_q[−log p(x|z)] + KL(q(z|x) ‖ p(z)), one z per image (seed the RNG first).

    Uses the model's own loss terms with β = 1; a Gaussian decoder's constant D/2·log(2πc) is added so
    the figure is a bound on −log p(x) like ``iw_nll``.
    """
    config = model.config
    constant = 0.0
    if config.recon == "gaussian":
        constant = 0.5 * math.prod(config.image_shape) * math.log(2.0 * math.pi * config.c)
    total = 0.0
    for x, labels in _batches(images, batch_size, torch.device(device)):
        terms = model.loss(x, x, labels)
        total += float(terms["recon"] + terms["kl"]) * len(x)
    return total / len(images) + constant


def iw_nll(model: Autoencoder, images: ImageSet, k: int, *, seed: int = 0, device: str | torch.device = "cpu",
           progress: Progress | None = None, chunk_images: int = 200) -> float:
    """−mean log p(x) by importance weighting with ``k`` samples per image (Burda et al.), nats per image."""
    device = torch.device(device)
    gen = torch.Generator(device=device).manual_seed(seed)
    total = 0.0
    for start in range(0, len(images), chunk_images):
        x = images.float_batch(slice(start, start + chunk_images), device)
        with torch.inference_mode():
            total -= float(model.iw_log_likelihood(x, k, generator=gen).double().sum())
        if progress is not None:
            progress("iw_nll", min(start + chunk_images, len(images)), len(images))
    return total / len(images)


# -- denoising ----------------------------------------------------------------------------------------
@torch.inference_mode()
def denoise_psnr(model: Autoencoder, images: ImageSet, spec: NoiseSpec | str, *, seed: int = 0,
                 batch_size: int = 500, device: str | torch.device = "cpu") -> tuple[float, float]:
    """(PSNR of the corrupted input, PSNR of decode(encode(corrupted))) against the clean images, mean dB."""
    spec, device = _spec(spec), torch.device(device)
    gen = torch.Generator(device=device).manual_seed(seed)
    noisy_sum = denoised_sum = 0.0
    for x, _ in _batches(images, batch_size, device):
        noisy = corrupt(x, spec, gen)
        noisy_sum += float(psnr(noisy, x).sum())
        denoised_sum += float(psnr(model.decode(model.encode(noisy)), x).sum())
    return noisy_sum / len(images), denoised_sum / len(images)


# -- latent use -----------------------------------------------------------------------------------------
ACTIVE_UNIT_VARIANCE = 0.01


@torch.inference_mode()
def active_units(model: Autoencoder, images: ImageSet, *, batch_size: int = 500,
                 device: str | torch.device = "cpu") -> float:
    """How many latent dimensions the codes use: those whose code (the posterior's mean) varies over the
    images with variance above 0.01 (Burda et al. 2016, "active units"). A prior-matching term can make a
    dimension carry nothing: mean 0 for every image, its spread all posterior noise."""
    device = torch.device(device)
    codes = torch.cat([model.encode(x) for x, _ in _batches(images, batch_size, device)])
    return float(active_unit_mask(codes).sum())


def active_unit_mask(codes: torch.Tensor) -> torch.Tensor:
    """Which latent dimensions of codes (N, L) are active: variance over the images above 0.01, (L,) bool."""
    return codes.double().var(dim=0) > ACTIVE_UNIT_VARIANCE


# -- VQ-VAE -------------------------------------------------------------------------------------------
@torch.inference_mode()
def code_usage(model: Autoencoder, images: ImageSet, *, batch_size: int = 500,
               device: str | torch.device = "cpu") -> dict[str, float]:
    """Perplexity exp(−Σ p_k log p_k) of the codes the set uses and the fraction of the K codes used."""
    counts = torch.zeros(model.config.codebook_size, dtype=torch.float64, device=torch.device(device))
    for x, _ in _batches(images, batch_size, torch.device(device)):
        counts += torch.bincount(model.encode_codes(x).flatten(), minlength=len(counts)).double()
    return usage_stats(counts)


# -- AAE ------------------------------------------------------------------------------------------------
def sliced_wasserstein(a: torch.Tensor, b: torch.Tensor, n_directions: int = 256,
                       generator: torch.Generator | None = None) -> float:
    """Sliced Wasserstein-2 between two equal-size clouds (N, L): sqrt(mean_θ mean_i (sort(aθ)_i − sort(bθ)_i)²)."""
    if a.shape != b.shape:
        raise ValueError(f"clouds must have the same shape, got {tuple(a.shape)} and {tuple(b.shape)}")
    theta = torch.randn(a.shape[1], n_directions, generator=generator, device=generator.device if generator else None)
    theta = (theta / theta.norm(dim=0, keepdim=True)).to(a.device, a.dtype)
    pa, _ = torch.sort(a @ theta, dim=0)
    pb, _ = torch.sort(b @ theta, dim=0)
    return float((pa - pb).square().mean().sqrt())


@torch.inference_mode()
def prior_distance(model: Autoencoder, images: ImageSet, *, seed: int = 0, batch_size: int = 500,
                   device: str | torch.device = "cpu") -> float:
    """Sliced Wasserstein-2 between the encoded set and as many prior draws (class-matched if conditional)."""
    device = torch.device(device)
    codes = torch.cat([model.encode(x) for x, _ in _batches(images, batch_size, device)])
    gen = torch.Generator().manual_seed(seed)
    labels = images.labels.to(device) if model.config.conditional_prior else None
    prior = model.prior_samples(len(codes), labels=labels, generator=gen).to(codes.dtype)
    return sliced_wasserstein(codes, prior, generator=gen)


# -- Parzen window (Makhzani et al. 2015) ---------------------------------------------------------------
def _squared_distances(test: torch.Tensor, samples: torch.Tensor, samples_sq: torch.Tensor) -> torch.Tensor:
    """‖x − s‖² = ‖x‖² + ‖s‖² − 2 x·s for every pair, (n_test, n_samples), clamped at 0."""
    d2 = torch.addmm(samples_sq.unsqueeze(0), test, samples.t(), alpha=-2.0)
    return d2.add_(test.square().sum(1, keepdim=True)).clamp_min_(0.0)


@torch.inference_mode()
def parzen_log_likelihood(samples: torch.Tensor, test: torch.Tensor, sigma: float, *, chunk: int = 500,
                          progress: Progress | None = None) -> torch.Tensor:
    """Per-test-point log-density (nats) under a Gaussian Parzen window on ``samples`` (M, D), (N,).

    log p(x) = logsumexp_i(−‖x − s_i‖² / 2σ²) − log M − D/2 · log(2πσ²)
    """
    samples, test = samples.flatten(1).float(), test.flatten(1).float()
    m, d = samples.shape
    samples_sq = samples.square().sum(1)
    out = []
    for start in range(0, len(test), chunk):
        d2 = _squared_distances(test[start:start + chunk], samples, samples_sq)
        out.append(torch.logsumexp(-d2 / (2 * sigma**2), dim=1))
        if progress is not None:
            progress("parzen", min(start + chunk, len(test)), len(test))
    return torch.cat(out).double() - math.log(m) - 0.5 * d * math.log(2 * math.pi * sigma**2)


@torch.inference_mode()
def choose_parzen_sigma(samples: torch.Tensor, validation: torch.Tensor,
                        sigmas: Sequence[float] = PARZEN_SIGMAS, chunk: int = 500) -> tuple[float, dict[float, float]]:
    """The σ of ``sigmas`` with the highest mean Parzen log-likelihood on ``validation``; also every σ's mean."""
    samples, validation = samples.flatten(1).float(), validation.flatten(1).float()
    m, d = samples.shape
    samples_sq = samples.square().sum(1)
    totals = dict.fromkeys(sigmas, 0.0)
    for start in range(0, len(validation), chunk):  # distances once per chunk, reused for every σ
        d2 = _squared_distances(validation[start:start + chunk], samples, samples_sq)
        for sigma in sigmas:
            ll = torch.logsumexp(-d2 / (2 * sigma**2), dim=1) - math.log(m) - 0.5 * d * math.log(2 * math.pi * sigma**2)
            totals[sigma] += float(ll.double().sum())
    means = {s: t / len(validation) for s, t in totals.items()}
    return max(means, key=means.__getitem__), means


def parzen_metrics(model: Autoencoder, test_set: ImageSet, *, validation: ImageSet | None = None,
                   n_samples: int = 10_000, n_validation: int = 1000, seed: int = 0,
                   progress: Progress | None = None) -> dict[str, float]:
    """Parzen log-likelihood of ``test_set`` under ``n_samples`` decoded prior samples.

    σ is chosen on ``validation`` (Makhzani: held-out training images); without one, on the first
    ``n_validation`` images (at most half) of a seeded shuffle of the test set, and the rest are scored
    (``parzen_n_test`` says how many).
    """
    device = device_of(model)
    gen = torch.Generator().manual_seed(seed)
    with torch.inference_mode():
        samples = torch.cat([model.decode(model.sample(min(1000, n_samples - i), generator=gen)).flatten(1)
                             for i in range(0, n_samples, 1000)])
    test = test_set
    if validation is None:
        order = torch.randperm(len(test_set), generator=gen)
        n_val = min(n_validation, len(test_set) // 2)  # a small set still keeps half to score
        validation, test = test_set.subset(order[:n_val]), test_set.subset(order[n_val:])
    elif len(validation) > n_validation:
        validation = validation.subset(torch.randperm(len(validation), generator=gen)[:n_validation])
    sigma, validation_means = choose_parzen_sigma(samples, validation.float_batch(slice(None), device))
    ll = parzen_log_likelihood(samples, test.float_batch(slice(None), device), sigma, progress=progress)
    # The validation figure lets a user compare settings without looking at the test split.
    return {"parzen_ll": float(ll.mean()), "parzen_ll_se": float(ll.std() / math.sqrt(len(ll))),
            "parzen_sigma": sigma, "parzen_n_test": float(len(ll)), "parzen_validation_ll": validation_means[sigma]}
