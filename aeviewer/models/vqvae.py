"""The VQ-VAE (van den Oord et al. 2017): a conv encoder's grid of vectors snapped to the nearest of K codes."""
from __future__ import annotations

from typing import Mapping

import torch
from torch import nn

from aeviewer.errors import ConfigError
from aeviewer.models.ae import reconstruction_loss
from aeviewer.models.base import Autoencoder, optimizer_step
from aeviewer.models.config import ModelConfig
from aeviewer.models.full_precision import fp32_region
from aeviewer.models.nets import stage_widths
from aeviewer.models.priors.base import CodePrior
from aeviewer.models.resnet import resnet_grid_decoder, resnet_grid_encoder

LAPLACE_EPS = 1e-5  # EMA counts: N_i <- (N_i + eps) / (n + K eps) * n, so no code divides by zero
DEAD_COUNT = 0.1  # a code whose EMA usage count (codes per batch) falls below this is restarted
RESTART_COUNT = 0.2  # ...with this count: unused, it is dead again after log(1/2)/log(decay) steps (69 at 0.99)


def downsamplings(image_shape: tuple[int, int, int]) -> int:
    """Stride-2 stages: two for images of 16 px and more (28 -> 7x7 grid), one for small ones (8 -> 4x4)."""
    _, h, w = image_shape
    n_down = 2 if min(h, w) >= 16 else 1
    if h % 2**n_down or w % 2**n_down:
        raise ConfigError(f"vqvae needs image sides divisible by {2**n_down}, got {h}x{w}")
    return n_down


class ResidualBlock(nn.Module):
    """x + conv1x1(relu(conv3x3(relu(x)))), as in the VQ-VAE paper."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.ReLU(), nn.Conv2d(channels, channels // 2, 3, padding=1), nn.ReLU(), nn.Conv2d(channels // 2, channels, 1)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


def grid_stages(config: ModelConfig) -> int:
    """The stride-2 stages from image to code grid: the config's (resnet only), else :func:`downsamplings`."""
    return config.conv_stages or downsamplings(config.image_shape)


def vq_encoder(image_shape: tuple[int, int, int], channels: tuple[int, int], code_dim: int) -> nn.Sequential:
    c1, c2 = channels
    second = nn.Conv2d(c1, c2, 4, 2, 1) if downsamplings(image_shape) == 2 else nn.Conv2d(c1, c2, 3, 1, 1)
    return nn.Sequential(
        nn.Conv2d(image_shape[0], c1, 4, 2, 1), nn.ReLU(), second, ResidualBlock(c2), nn.ReLU(), nn.Conv2d(c2, code_dim, 1)
    )


def vq_decoder(code_dim: int, channels: tuple[int, int], image_shape: tuple[int, int, int]) -> nn.Sequential:
    c1, c2 = channels
    second = nn.ConvTranspose2d(c2, c1, 4, 2, 1) if downsamplings(image_shape) == 2 else nn.Conv2d(c2, c1, 3, 1, 1)
    return nn.Sequential(
        nn.Conv2d(code_dim, c2, 3, 1, 1), ResidualBlock(c2), nn.ReLU(), second, nn.ReLU(),
        nn.ConvTranspose2d(c1, image_shape[0], 4, 2, 1),
    )


def _networks(config: ModelConfig) -> tuple[nn.Sequential, nn.Sequential]:
    """The encoder to the code grid and the decoder from it, as the config's arch builds them."""
    if config.arch == "resnet":
        widths = stage_widths(tuple(config.channels), grid_stages(config))
        return (resnet_grid_encoder(config.image_shape, widths, config.code_dim),
                resnet_grid_decoder(config.code_dim, widths, config.image_shape))
    channels = (config.channels[0], config.channels[-1])
    return vq_encoder(config.image_shape, channels, config.code_dim), vq_decoder(config.code_dim, channels, config.image_shape)


def nearest_codes(flat: torch.Tensor, codebook: torch.Tensor) -> torch.Tensor:
    """argmin_k ||a - e_k||^2 per row of ``flat`` (M, D), using ||a||^2 - 2 a.e + ||e||^2."""
    dist = torch.addmm(codebook.square().sum(1), flat, codebook.t(), alpha=-2.0) + flat.square().sum(1, keepdim=True)
    return dist.argmin(dim=1)


USAGE_KEYS = ("perplexity", "codes_used_frac")  # what usage_stats reports (an epoch's stats, a checkpoint's metrics)


def usage_stats(counts: torch.Tensor) -> dict[str, float]:
    """Perplexity exp(-sum p log p) of code usage counts, and the fraction of codes used at least once."""
    total = counts.sum()
    if total <= 0:
        return {"perplexity": 0.0, "codes_used_frac": 0.0}
    p = counts.double() / total
    entropy = -(p * torch.log(p.clamp_min(1e-30))).sum()
    return {"perplexity": float(entropy.exp()), "codes_used_frac": float((counts > 0).double().mean())}


def usage_text(stats: Mapping[str, float], codebook_size: int, counted_on: str) -> str:
    """``usage_stats``' figures as one phrase that names what the codes were counted on (the test split, an epoch's
    training batches): "test split: 265/512 codes in use, perplexity 127.3". Figures counted on different images
    differ; the phrase says which is which."""
    used = round(stats["codes_used_frac"] * codebook_size)
    return f"{counted_on}: {used}/{codebook_size} codes in use, perplexity {stats['perplexity']:.1f}"


class VQVAE(Autoencoder):
    """Encoder -> (N, D, H', W') -> nearest codes -> decoder logits; straight-through gradient to the encoder."""

    has_codebook = True

    def __init__(self, config: ModelConfig) -> None:
        super().__init__(config)
        self.encoder, self.decoder = _networks(config)
        k, d = config.codebook_size, config.code_dim
        # Zero EMA counts mark every code dead, so the first training step places them on encoder outputs.
        self.embedding = nn.Parameter(torch.empty(k, d).uniform_(-1.0 / k, 1.0 / k), requires_grad=not config.ema)
        self.register_buffer("ema_count", torch.zeros(k))
        if config.ema:
            self.register_buffer("ema_sum", self.embedding.detach().clone())
        self.register_buffer("epoch_counts", torch.zeros(k), persistent=False)
        n_down = grid_stages(config)
        self._grid = (config.image_shape[1] >> n_down, config.image_shape[2] >> n_down)
        self.prior: CodePrior | None = None  # a learned prior over code maps (models/priors), trained afterwards

    # -- the learned prior ------------------------------------------------------------------------
    @property
    def has_prior(self) -> bool:  # type: ignore[override]
        return self.prior is not None

    def attach_prior(self, prior: CodePrior | None) -> None:
        """Make ``prior`` this model's prior over code maps (None removes it); its tensors save under ``prior.``."""
        if prior is not None and (prior.config.codebook_size != self.config.codebook_size
                                  or tuple(prior.config.grid) != self._grid):
            raise ConfigError(f"a prior over {prior.config.grid} maps of {prior.config.codebook_size} codes does not "
                              f"fit this VQ-VAE ({self._grid} maps of {self.config.codebook_size} codes)")
        self.prior = prior

    def sample(self, n: int, generator: torch.Generator | None = None, **options: object) -> torch.Tensor:
        """Latents of ``n`` code maps drawn from the prior (``options``: temperature, top_k, labels, given, keep;
        see :func:`aeviewer.models.priors.iter_sample`); ``decode`` turns them into images."""
        return self.latents_of_codes(self.sample_codes(n, generator=generator, **options))

    def sample_codes(self, n: int, generator: torch.Generator | None = None, **options: object) -> torch.Tensor:
        """``n`` code maps (n, H', W') drawn from the prior."""
        if self.prior is None:
            raise NotImplementedError("this VQ-VAE has no prior: train one with 'aeviewer train-prior'")
        from aeviewer.models.priors import sample_codes

        return sample_codes(self.prior, n, generator=generator, **options)

    # -- the common surface -----------------------------------------------------------------------
    @property
    def latent_size(self) -> int:
        return self.config.code_dim * self._grid[0] * self._grid[1]

    @property
    def code_grid_shape(self) -> tuple[int, int]:
        return self._grid

    @property
    def codebook(self) -> torch.Tensor:
        """The K code vectors, (K, D)."""
        return self.embedding.detach()

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """The quantised grid flattened in (D, H', W') order, (N, latent_size)."""
        return self.latents_of_codes(self.encode_codes(x))

    def latents_of_codes(self, codes: torch.Tensor) -> torch.Tensor:
        """Code maps (N, H', W') -> the flat latents ``encode`` gives for them, (N, latent_size)."""
        return self._lookup(codes).flatten(1)

    def decode_logits(self, z: torch.Tensor) -> torch.Tensor:
        """Any flat vector is snapped to the nearest codes first, so every point decodes to a valid code map."""
        grid = z.reshape(len(z), self.config.code_dim, *self._grid)
        return self.decoder(self._lookup(self._codes_of(grid)))

    def encode_codes(self, x: torch.Tensor) -> torch.Tensor:
        """Code index per grid cell, LongTensor (N, H', W')."""
        return self._codes_of(self.encoder(x))

    def decode_codes(self, codes: torch.Tensor) -> torch.Tensor:
        """Images in [0, 1] from a code map (N, H', W')."""
        return torch.sigmoid(self.decoder(self._lookup(codes)))

    # -- training ---------------------------------------------------------------------------------
    def loss(self, x: torch.Tensor, x_input: torch.Tensor, labels: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        return self._forward(x, x_input)[0]

    def make_optimizers(self, lr: float) -> list[torch.optim.Optimizer]:
        return [torch.optim.Adam([p for p in self.parameters() if p.requires_grad], lr=lr)]

    def train_step(
        self,
        x: torch.Tensor,
        x_input: torch.Tensor,
        optimizers: list[torch.optim.Optimizer],
        labels: torch.Tensor | None = None,
    ) -> dict[str, torch.Tensor]:
        (opt,) = optimizers
        terms, flat, codes = self._forward(x, x_input)
        optimizer_step(opt, terms["total"], self.grad_scaler)
        with torch.no_grad(), fp32_region(flat):
            self.update_codebook(flat.detach(), codes)
        return {k: v.detach() for k, v in terms.items()}

    @torch.no_grad()
    def update_codebook(self, flat: torch.Tensor, codes: torch.Tensor) -> None:
        """After a step: count usage, EMA-update the codes (if config.ema), restart dead codes from ``flat``."""
        onehot_counts = torch.bincount(codes, minlength=self.config.codebook_size).to(flat.dtype)
        share = self.batch_share
        if share is not None:  # the whole batch's counts on every process, so the codebooks never drift apart
            share.all_sum(onehot_counts)
        self.epoch_counts += onehot_counts
        decay = self.config.ema_decay
        self.ema_count.mul_(decay).add_(onehot_counts, alpha=1.0 - decay)  # N_i <- g N_i + (1 - g) n_i
        if self.config.ema:
            sums = torch.zeros_like(self.ema_sum).index_add_(0, codes, flat)
            if share is not None:
                share.all_sum(sums)
            self.ema_sum.mul_(decay).add_(sums, alpha=1.0 - decay)  # m_i <- g m_i + (1 - g) sum_j z_j
            n = self.ema_count.sum()
            smoothed = (self.ema_count + LAPLACE_EPS) / (n + self.config.codebook_size * LAPLACE_EPS) * n
            self.embedding.copy_(self.ema_sum / smoothed[:, None])  # e_i = m_i / N_i
        self._restart_dead(flat)

    def _restart_dead(self, flat: torch.Tensor) -> None:
        # Branch-free (no host sync): every code with a low usage count moves onto a random recent encoder output.
        dead = self.ema_count < DEAD_COUNT
        k, share = self.config.codebook_size, self.batch_share
        if share is None:
            fresh = flat[torch.randint(0, len(flat), (k,), device=flat.device)]
        else:  # rank 0 decides which codes restart; the fresh vectors come from whichever process holds them
            decided = dead.to(flat.dtype)
            share.from_first(decided)
            dead = decided > 0
            fresh = share.random_rows(flat, k)
        self.embedding.copy_(torch.where(dead[:, None], fresh, self.embedding))
        self.ema_count.copy_(torch.where(dead, torch.full_like(self.ema_count, RESTART_COUNT), self.ema_count))
        if self.config.ema:
            self.ema_sum.copy_(torch.where(dead[:, None], RESTART_COUNT * fresh, self.ema_sum))  # so that m_i / N_i = e_i

    def on_epoch_start(self) -> None:
        self.epoch_counts.zero_()

    def epoch_stats(self) -> dict[str, float]:
        """Perplexity and fraction of codes used over the training steps since ``on_epoch_start``."""
        return usage_stats(self.epoch_counts)

    # -- internals --------------------------------------------------------------------------------
    def _forward(self, x: torch.Tensor, x_input: torch.Tensor) -> tuple[dict[str, torch.Tensor], torch.Tensor, torch.Tensor]:
        z_e = self.encoder(x_input).float()  # (N, D, H', W'); the distances and code terms in fp32 under autocast too
        with fp32_region(z_e):
            flat = z_e.permute(0, 2, 3, 1).reshape(-1, self.config.code_dim)
            codes = nearest_codes(flat.detach(), self.embedding.detach())
            z_q = self.embedding[codes].view(len(z_e), *self._grid, -1).permute(0, 3, 1, 2)
            n = len(x)
            # codebook ||sg[z_e] - e||^2 (moves codes); commitment beta ||z_e - sg[e]||^2 (keeps the encoder near them)
            codebook = (z_e.detach() - z_q).square().sum() / n if not self.config.ema else z_e.new_zeros(())
            commitment = self.config.commitment * (z_e - z_q.detach()).square().sum() / n
            z_st = z_e + (z_q - z_e).detach()  # straight-through: forward z_q, backward identity to z_e
        recon = reconstruction_loss(self.decoder(z_st), x, "bce")
        terms = {"recon": recon, "codebook": codebook, "commitment": commitment, "total": recon + codebook + commitment}
        return terms, flat, codes

    def _codes_of(self, grid: torch.Tensor) -> torch.Tensor:
        flat = grid.permute(0, 2, 3, 1).reshape(-1, self.config.code_dim)
        return nearest_codes(flat, self.codebook).view(len(grid), *self._grid)

    def _lookup(self, codes: torch.Tensor) -> torch.Tensor:
        """Code map (N, H', W') -> vectors (N, D, H', W')."""
        return self.codebook[codes].permute(0, 3, 1, 2)
