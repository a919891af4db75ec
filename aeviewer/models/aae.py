"""The adversarial autoencoder (Makhzani et al. 2015): a discriminator on z pulls the code distribution to a prior."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from aeviewer.errors import ConfigError
from aeviewer.models.ae import reconstruction_loss
from aeviewer.models.base import Autoencoder, optimizer_step
from aeviewer.models.config import ModelConfig
from aeviewer.models.nets import build_decoder, build_encoder, device_of, mlp
from aeviewer.models.vae import gaussian_head, reparametrise, standard_normal

MIXTURE_COMPONENTS = 10
MIXTURE_RADIUS = 4.0  # component k centred at R (cos 2 pi k/10, sin 2 pi k/10)
MIXTURE_STD = 0.5
SWISSROLL_NOISE = 0.05
ADVERSARIAL_WEIGHT_28X28 = 10.0


def default_adversarial_weight(image_shape: tuple[int, int, int]) -> float:
    """λ = 10 for a 28x28 image, scaled with the pixel count: the reconstruction term is a sum over
    pixels and the adversarial term one number per image, so a fixed λ would let the adversary drown
    the reconstruction of small images (8x8 digits at λ = 10: nothing learnt; at 0.82: PSNR 14.9 dB)."""
    c, h, w = image_shape
    return round(ADVERSARIAL_WEIGHT_28X28 * c * h * w / (28 * 28), 2)  # 2 decimals, as the GUI field shows


def _components(n: int, n_components: int, labels: torch.Tensor | None, generator: torch.Generator | None) -> torch.Tensor:
    """Which component each draw comes from: the label (conditional prior) or uniform."""
    if labels is not None:
        return labels.long().cpu() if generator is None else labels.long().to(generator.device)
    device = generator.device if generator is not None else torch.device("cpu")
    return torch.randint(0, n_components, (n,), generator=generator, device=device)


def mixture10_2d(n: int, labels: torch.Tensor | None, generator: torch.Generator | None) -> torch.Tensor:
    """10 isotropic Gaussians (std 0.5) on a circle of radius 4; component k = label k when given."""
    k = _components(n, MIXTURE_COMPONENTS, labels, generator)
    angle = 2.0 * math.pi * k.float() / MIXTURE_COMPONENTS
    centre = MIXTURE_RADIUS * torch.stack([angle.cos(), angle.sin()], dim=1)
    return centre + MIXTURE_STD * standard_normal((len(k), 2), generator, centre.device)


def swissroll_2d(n: int, labels: torch.Tensor | None, n_classes: int, generator: torch.Generator | None) -> torch.Tensor:
    """A swiss roll: u in [0, 1), t = 1.5 pi (1 + 2u), z = (1 + 2u)(cos t, sin t) + noise; class k takes u in [k/n, (k+1)/n)."""
    dev = generator.device if generator is not None else torch.device("cpu")
    count = n if labels is None else len(labels)
    u = torch.rand(count, generator=generator, device=dev)
    if labels is not None:
        u = (_components(count, n_classes, labels, generator).float() + u) / n_classes
    t = 1.5 * math.pi * (1.0 + 2.0 * u)
    radius = 1.0 + 2.0 * u  # = t / (1.5 pi): radius grows along the roll from 1 to 3
    return radius[:, None] * torch.stack([t.cos(), t.sin()], dim=1) + SWISSROLL_NOISE * standard_normal((count, 2), generator, dev)


def sample_prior(
    config: ModelConfig, n: int, labels: torch.Tensor | None, generator: torch.Generator | None, device: torch.device
) -> torch.Tensor:
    """(n, latent_dim) draws from the config's prior; for latent_dim > 2 the 2-D priors fill dims 0-1, the rest N(0, 1)."""
    if config.prior == "gaussian":
        return standard_normal((n if labels is None else len(labels), config.latent_dim), generator, device)
    if config.prior == "mixture10":
        plane = mixture10_2d(n, labels, generator)
    else:
        plane = swissroll_2d(n, labels, config.n_classes, generator)
    rest = standard_normal((len(plane), config.latent_dim - 2), generator, plane.device)
    return torch.cat([plane, rest], dim=1).to(device)


class AAE(Autoencoder):
    """Deterministic, fixed-spread or learned Gaussian encoder; an autoencoder phase (recon + λ·gen) and a
    discriminator phase alternate in ``train_step``."""

    has_prior = True
    regulariser = "prior"
    refittable = True

    @property
    def gaussian_posterior(self) -> bool:
        return self.config.learned_posterior

    @classmethod
    def prior_name(cls, config: ModelConfig) -> str:
        return config.prior

    def __init__(self, config: ModelConfig) -> None:
        super().__init__(config)
        # A learned posterior's encoder gives mu and log sigma² from one linear head, as the VAE's does.
        self.encoder = build_encoder(config, config.latent_dim * (2 if config.learned_posterior else 1))
        self.decoder = build_decoder(config)
        # Conditional prior: the discriminator also sees the one-hot label, so class k must match component k.
        n_in = config.latent_dim + (config.n_classes if config.conditional_prior else 0)
        self.discriminator = mlp((n_in, *config.disc_hidden, 1))
        self.training_progress = 0.0  # fraction of the current run done; sets λ (adversarial_weight_now)

    def set_training_progress(self, fraction: float) -> None:
        """λ grows linearly from ``adversarial_weight`` to ``adversarial_growth`` times it over the run
        (a continued run grows it again: the progress is the run's). Why: docs/aae-study.md."""
        self.training_progress = fraction

    @property
    def adversarial_weight_now(self) -> float:
        """λ at the current training progress."""
        growth = self.config.adversarial_growth - 1.0
        return self.config.adversarial_weight * (1.0 + growth * self.training_progress)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """The code of x: the posterior's mean."""
        return self.encode_stats(x)[0] if self.config.learned_posterior else self.encoder(x)

    def encode_stats(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(mu, log sigma²) of a learned posterior q(z|x)."""
        return gaussian_head(self.encoder(x))

    def decode_logits(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z)

    def prior_samples(
        self, n: int, labels: torch.Tensor | None = None, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """n draws from the prior (len(labels) draws, class k from component k, when labels are given)."""
        return sample_prior(self.config, n, labels, generator, device_of(self))

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        return self.prior_samples(n, None, generator)

    def discriminate(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """Logit that z came from the prior, (N,)."""
        if self.config.conditional_prior:
            z = torch.cat([z, F.one_hot(self._need_labels(labels), self.config.n_classes).to(z.dtype)], dim=1)
        return self.discriminator(z).squeeze(1)

    def discriminator_loss(self, z_prior: torch.Tensor, z_code: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """-E[log D(z_prior)] - E[log(1 - D(z_code))]: prior samples are "real", codes "fake"."""
        real = self.discriminate(z_prior, labels)
        fake = self.discriminate(z_code, labels)
        return (F.binary_cross_entropy_with_logits(real, torch.ones_like(real))
                + F.binary_cross_entropy_with_logits(fake, torch.zeros_like(fake)))

    def generator_loss(self, z_code: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """-E[log D(z_code)]: the encoder is rewarded when its codes pass for prior samples."""
        fake = self.discriminate(z_code, labels)
        return F.binary_cross_entropy_with_logits(fake, torch.ones_like(fake))

    def posterior_sample(self, x_input: torch.Tensor) -> torch.Tensor:
        """z ~ q(z|x) = N(encoder(x), s²I) with s = ``posterior_std`` (the code itself when s = 0), or
        N(μ(x), diag σ²(x)) with ``learned_posterior``. What each did: docs/aae-study.md."""
        if self.config.learned_posterior:
            mu, logvar = self.encode_stats(x_input)
            return reparametrise(mu, logvar, self.batch_noise(mu))
        z = self.encoder(x_input)
        if self.config.posterior_std > 0:
            z = z + self.config.posterior_std * self.batch_noise(z)
        return z

    def _autoencoder_terms(
        self, x: torch.Tensor, x_input: torch.Tensor, labels: torch.Tensor | None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """(z, recon, gen, total) with total = recon + λ · gen at the current λ: what the autoencoder minimises."""
        z = self.posterior_sample(x_input)
        recon = reconstruction_loss(self.decoder(z), x, self.config.recon)
        gen = self.generator_loss(z, labels)
        return z, recon, gen, recon + self.adversarial_weight_now * gen

    def loss(self, x: torch.Tensor, x_input: torch.Tensor, labels: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """All three terms at the current weights."""
        z, recon, gen, total = self._autoencoder_terms(x, x_input, labels)
        disc = self.discriminator_loss(self._prior_like(z, labels), z.detach(), labels)
        return {"recon": recon, "disc": disc, "gen": gen, "total": total}

    def make_optimizers(self, lr: float) -> list[torch.optim.Optimizer]:
        """[autoencoder (encoder + decoder), discriminator]."""
        autoencoder = list(self.encoder.parameters()) + list(self.decoder.parameters())
        return [
            torch.optim.Adam(autoencoder, lr=lr),
            torch.optim.Adam(self.discriminator.parameters(), lr=lr, betas=(0.5, 0.999)),
        ]

    def train_step(
        self,
        x: torch.Tensor,
        x_input: torch.Tensor,
        optimizers: list[torch.optim.Optimizer],
        labels: torch.Tensor | None = None,
    ) -> dict[str, torch.Tensor]:
        """One Adam step on recon + λ·gen for the autoencoder, then one for the discriminator (why one
        step and not the paper's two phases: docs/aae-study.md)."""
        opt_ae, opt_disc = optimizers
        z, recon, gen, total = self._autoencoder_terms(x, x_input, labels)
        optimizer_step(opt_ae, total)  # the discriminator's gradients from gen are cleared by opt_disc below

        disc = self.discriminator_loss(self._prior_like(z, labels), z.detach(), labels)
        optimizer_step(opt_disc, disc)
        return {"recon": recon.detach(), "disc": disc.detach(), "gen": gen.detach(), "total": total.detach()}

    def _prior_like(self, z: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        share = self.batch_share  # data-parallel: drawn for the whole batch, as one process would, then sliced
        labels = share.labels if share is not None else labels
        labels = self._need_labels(labels) if self.config.conditional_prior else None
        draws = sample_prior(self.config, len(z) if share is None else share.total, labels, None, z.device)
        return draws if share is None else share.rows(draws)

    def _need_labels(self, labels: torch.Tensor | None) -> torch.Tensor:
        if labels is None:
            raise ConfigError("an AAE with a conditional prior needs the labels of its training images")
        return labels
