"""The one Autoencoder interface every kind implements, so the GUI never asks "which kind?"."""
from __future__ import annotations

import torch
from torch import nn

from aeviewer.models.config import ModelConfig
from aeviewer.models.nets import set_output_bias


def cpu_state_dict(model: nn.Module) -> dict[str, torch.Tensor]:
    """A CPU copy of the weights that the optimizer can no longer touch."""
    return {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}


def optimizer_step(optimizer: torch.optim.Optimizer, loss: torch.Tensor,
                   scaler: torch.amp.GradScaler | None = None) -> None:
    """One gradient step of ``optimizer`` on ``loss`` (gradients cleared first); with an fp16 run's ``scaler``,
    on the scaled loss (a step whose gradients overflowed is skipped and the scale lowered)."""
    optimizer.zero_grad(set_to_none=True)
    if scaler is None:
        loss.backward()
        optimizer.step()
        return
    scaler.scale(loss).backward()
    scaler.step(optimizer)
    scaler.update()


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
    #: The fp16 run's gradient scaler, which the Trainer sets for the run (None: plain steps).
    grad_scaler: torch.amp.GradScaler | None = None
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

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config

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
        optimizer_step(opt, terms["total"], self.grad_scaler)
        return {k: v.detach() for k, v in terms.items()}

    def on_epoch_start(self) -> None:
        """Reset per-epoch statistics (the VQ-VAE counts code usage here)."""

    def set_training_progress(self, fraction: float) -> None:
        """Called by the Trainer before each step with the fraction of the run done, in [0, 1)
        (the AAE grows its adversarial weight with it)."""

    def epoch_stats(self) -> dict[str, float]:
        """Extra per-epoch figures for the training log (VQ-VAE: perplexity, codes used)."""
        return {}
