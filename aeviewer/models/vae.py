"""The variational autoencoder: Gaussian q(z|x), N(0, I) prior, Bernoulli or Gaussian decoder."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from aeviewer.models.ae import reconstruction_loss
from aeviewer.models.base import Autoencoder
from aeviewer.models.config import ModelConfig
from aeviewer.models.nets import build_decoder, build_encoder, device_of



def standard_normal(shape: tuple[int, ...], generator: torch.Generator | None, device: torch.device) -> torch.Tensor:
    """N(0, I) draws on ``device``; drawn on the generator's own device so a CPU generator works for a GPU model."""
    if generator is None:
        return torch.randn(shape, device=device)
    return torch.randn(shape, generator=generator, device=generator.device).to(device)


def kl_to_standard_normal(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """Per-row KL(N(mu, diag sigma^2) || N(0, I)) = 1/2 sum_j (mu_j^2 + sigma_j^2 - log sigma_j^2 - 1)."""
    return 0.5 * (mu.square() + logvar.exp() - logvar - 1.0).sum(dim=1)


def gaussian_head(head: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(mu, log sigma^2) from an encoder's one linear head of 2 * latent_dim outputs, mu first."""
    mu, logvar = head.chunk(2, dim=1)
    return mu, logvar


def reparametrise(mu: torch.Tensor, logvar: torch.Tensor, noise: torch.Tensor | None = None) -> torch.Tensor:
    """z = mu + sigma * u with u ~ N(0, I) (``noise`` when given): a sample of N(mu, sigma^2) that gradients flow
    through to mu and sigma."""
    return mu + torch.exp(0.5 * logvar) * (torch.randn_like(mu) if noise is None else noise)


def gaussian_recon(logits: torch.Tensor, x: torch.Tensor, c: float) -> torch.Tensor:
    """Per-image ||x - f(z)||^2 / (2c) with f(z) = sigmoid(logits): -log N(x | f(z), cI) without its constant."""
    return (x - torch.sigmoid(logits)).square().flatten(1).sum(dim=1) / (2.0 * c)


class VAE(Autoencoder):
    """Encoder gives (mu, log sigma^2); z = mu + sigma * u, u ~ N(0, I); loss = recon + beta * KL (nats per image)."""

    has_prior = True
    regulariser = "kl"

    @property
    def gaussian_posterior(self) -> bool:
        return True

    def __init__(self, config: ModelConfig) -> None:
        super().__init__(config)
        # One linear head for both mu and log sigma^2 (cheaper than two); split by chunk().
        self.encoder = build_encoder(config, 2 * config.latent_dim)
        self.decoder = build_decoder(config)

    def encode_stats(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(mu, log sigma^2) of q(z|x), each (N, latent_dim)."""
        return gaussian_head(self.encoder(x))

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.encode_stats(x)[0]

    def decode_logits(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z)

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """n draws from the prior N(0, I)."""
        return standard_normal((n, self.config.latent_dim), generator, device_of(self))

    def loss(self, x: torch.Tensor, x_input: torch.Tensor, labels: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        mu, logvar = self.encode_stats(x_input)
        logits = self.decoder(reparametrise(mu, logvar, self.batch_noise(mu)))
        if self.config.recon == "gaussian":
            recon = gaussian_recon(logits, x, self.config.c).mean()
        else:
            recon = reconstruction_loss(logits, x, "bce")
        kl = kl_to_standard_normal(mu, logvar).mean()
        return {"recon": recon, "kl": kl, "total": recon + self.config.beta * kl}

    def log_px_given_z(self, logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """Per-row log p(x|z) with every constant: Bernoulli, or -||x-f||^2/(2c) - D/2 log(2 pi c)."""
        if self.config.recon == "gaussian":
            d = x[0].numel()
            return -gaussian_recon(logits, x, self.config.c) - 0.5 * d * math.log(2.0 * math.pi * self.config.c)
        return -F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).sum(dim=1)

    @torch.no_grad()
    def iw_log_likelihood(
        self, x: torch.Tensor, k: int, generator: torch.Generator | None = None, chunk: int = 16384
    ) -> torch.Tensor:
        """Importance-weighted log p(x) per image (nats), (N,).

        log p(x) ~ logsumexp_k [log p(x|z_k) + log p(z_k) - log q(z_k|x)] - log k,  z_k ~ q(z|x).
        At most ``chunk`` decoder rows are alive at once, so k=1000 on 10,000 images fits in memory.
        """
        if k < 1:
            raise ValueError("k must be at least 1")
        per_batch = max(1, chunk // k)
        return torch.cat([self._iw_batch(x[i : i + per_batch], k, generator, chunk) for i in range(0, len(x), per_batch)])

    def _iw_batch(self, x: torch.Tensor, k: int, generator: torch.Generator | None, chunk: int) -> torch.Tensor:
        mu, logvar = self.encode_stats(x)
        std = torch.exp(0.5 * logvar)
        n, d = mu.shape
        step = max(1, chunk // n)
        log_w = []
        for start in range(0, k, step):
            m = min(step, k - start)
            u = standard_normal((m, n, d), generator, mu.device)
            z = mu + std * u  # (m, n, d)
            logits = self.decoder(z.reshape(m * n, d))
            log_px = self.log_px_given_z(logits, x.repeat(m, *([1] * (x.ndim - 1)))).view(m, n)
            # log p(z) - log q(z|x) = -1/2||z||^2 + 1/2||u||^2 + 1/2 sum log sigma^2  (the 2 pi terms cancel)
            log_pz_over_qz = 0.5 * (u.square().sum(-1) - z.square().sum(-1) + logvar.sum(-1))
            log_w.append(log_px + log_pz_over_qz)
        return torch.logsumexp(torch.cat(log_w), dim=0) - math.log(k)
