"""The one Autoencoder interface every kind implements, so the GUI never asks "which kind?"."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
from torch import nn

from aeviewer.models.config import ModelConfig
from aeviewer.models.nets import set_output_bias


def cpu_state_dict(model: nn.Module) -> dict[str, torch.Tensor]:
    """A CPU copy of the weights that the optimizer can no longer touch."""
    return {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}


def optimizer_step(optimizer: torch.optim.Optimizer, loss: torch.Tensor) -> None:
    """One gradient step of ``optimizer`` on ``loss`` (gradients cleared first)."""
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()


def _in_place_nothing(tensor: torch.Tensor) -> None:
    """A single process holds the whole batch: there is nothing to sum or copy."""


@dataclass
class BatchShare:
    """The images ``[start, stop)`` of a global batch of ``total`` that this process trains on (data-parallel runs).

    Random draws are made for the whole batch and sliced, so that each process's draws are the ones a single
    process would make for the same images: with the same seed, N processes end with one process's weights.
    ``all_sum`` and ``from_first`` are the in-place collectives of the run (sum over processes, copy of rank 0's).
    """

    start: int
    stop: int
    total: int
    labels: torch.Tensor | None = None  # the whole batch's labels (a conditional prior draws by class)
    all_sum: Callable[[torch.Tensor], None] = _in_place_nothing
    from_first: Callable[[torch.Tensor], None] = _in_place_nothing

    def rows(self, whole: torch.Tensor) -> torch.Tensor:
        """This process's rows of a tensor drawn for the whole batch."""
        return whole[self.start:self.stop]

    def noise_like(self, like: torch.Tensor) -> torch.Tensor:
        """N(0, 1) draws shaped like ``like`` (one row per image of this share)."""
        return self.rows(torch.randn((self.total, *like.shape[1:]), dtype=like.dtype, device=like.device))

    def random_rows(self, rows: torch.Tensor, k: int) -> torch.Tensor:
        """``k`` rows drawn uniformly from the whole batch's ``rows`` (each image gives the same number of
        rows): each process fills in the draws that fall on its images, and a sum over processes completes them."""
        per_image = len(rows) // max(1, self.stop - self.start)
        local = torch.randint(0, self.total * per_image, (k,), device=rows.device) - self.start * per_image
        mine = (local >= 0) & (local < len(rows))
        picked = rows.new_zeros(k, rows.shape[1])
        picked[mine] = rows[local[mine]]
        self.all_sum(picked)
        return picked


class Autoencoder(nn.Module):
    """Base class of the five kinds.

    - ``encode(x) -> z``: the latent point used for plotting, shape ``(N, latent_size)``
      (VAE: the mean; VQ-VAE: the quantised grid flattened).
    - ``decode(z) -> x_hat``: images in [0, 1], shape ``(N, C, H, W)``.
    - ``loss(x, x_input) -> dict``: ``"total"`` plus every named part, each a scalar mean per image.
    - ``sample(n) -> z`` where the kind has a prior (``has_prior``).

    Capability flags, which the views read instead of asking "which kind?" (a foreign model sets its own):
    ``has_prior`` (``sample``), ``has_codebook`` (``encode_codes``, ``decode_codes``, ``latents_of_codes``,
    ``codebook``) and ``trainable`` (the Trainer can train it: ``make_optimizers``, ``train_step``).
    The regulariser's flags are below; metrics, the regulariser view and the CLI read them.
    """

    has_prior: bool = False
    has_codebook: bool = False
    trainable: bool = True
    #: What pulls the codes toward a prior, which the regulariser dock draws: ``"kl"`` (a KL term to N(0, I),
    #: so an ELBO, importance-weighted NLL and a KL chart exist), ``"prior"`` (codes matched to a chosen prior,
    #: drawn as the codes over its contours, with a prior distance), or None (no regulariser, no picture).
    regulariser: str | None = None
    #: Whether the encoder gives one code per image, so the decoder can be refitted on noisy codes
    #: (not a VAE, whose decoder fits its posterior N(mu, sigma²), nor a VQ-VAE, whose fits codebook vectors).
    refittable: bool = False

    @property
    def gaussian_posterior(self) -> bool:
        """Whether ``encode_stats(x)`` gives (mu, log sigma²) per image, so the KL to N(0, I) splits by dimension."""
        return False

    @classmethod
    def prior_name(cls, config: ModelConfig) -> str:
        """The prior the codes of a model of ``config`` are pulled toward (an AAE chooses; others N(0, I))."""
        return "gaussian"

    #: Set by a data-parallel Trainer around each step; None: this process holds the whole batch.
    batch_share: BatchShare | None = None

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config

    def batch_noise(self, like: torch.Tensor) -> torch.Tensor:
        """N(0, 1) noise shaped like ``like``, drawn as a single process would draw it for this batch."""
        return torch.randn_like(like) if self.batch_share is None else self.batch_share.noise_like(like)

    # -- the surface the GUI, CLI and tests use -------------------------------------------------
    @property
    def latent_size(self) -> int:
        """Length of the vector ``encode`` returns (``latent_dim`` except for the VQ-VAE)."""
        return self.config.latent_dim

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def decode_logits(self, z: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.decode_logits(z))

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))

    def loss(self, x: torch.Tensor, x_input: torch.Tensor, labels: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        raise NotImplementedError

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        raise NotImplementedError(f"{self.config.kind} has no prior to sample from")

    # -- training hooks (the Trainer calls these; kinds override what they need) ---------------
    def start_at_mean(self, mean_image: torch.Tensor) -> None:
        """Make a fresh model decode every code to about ``mean_image`` (C, H, W) in [0, 1]."""
        set_output_bias(self.decoder, mean_image)

    def make_optimizers(self, lr: float) -> list[torch.optim.Optimizer]:
        return [torch.optim.Adam(self.parameters(), lr=lr)]

    def train_step(
        self,
        x: torch.Tensor,
        x_input: torch.Tensor,
        optimizers: list[torch.optim.Optimizer],
        labels: torch.Tensor | None = None,
    ) -> dict[str, torch.Tensor]:
        """One optimisation step; returns the detached loss terms."""
        (opt,) = optimizers
        terms = self.loss(x, x_input, labels)
        optimizer_step(opt, terms["total"])
        return {k: v.detach() for k, v in terms.items()}

    def on_epoch_start(self) -> None:
        """Reset per-epoch statistics (the VQ-VAE counts code usage here)."""

    def set_training_progress(self, fraction: float) -> None:
        """Called by the Trainer before each step with the fraction of the run done, in [0, 1)
        (the AAE grows its adversarial weight with it)."""

    def epoch_stats(self) -> dict[str, float]:
        """Extra per-epoch figures for the training log (VQ-VAE: perplexity, codes used)."""
        return {}
