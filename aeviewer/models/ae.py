"""The plain autoencoder (and, with ``config.noise`` set, the denoising one) plus the reconstruction losses."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from aeviewer.models.base import Autoencoder
from aeviewer.models.config import ModelConfig
from aeviewer.models.full_precision import fp32_region
from aeviewer.models.nets import build_decoder, build_encoder


def reconstruction_loss(logits: torch.Tensor, x: torch.Tensor, kind: str) -> torch.Tensor:
    """Batch mean of the per-image sum over pixels (nats per image for "bce").

    bce: -sum_i [x_i log s(l_i) + (1 - x_i) log(1 - s(l_i))];  mse: sum_i (x_i - s(l_i))^2
    """
    n = x.shape[0]
    with fp32_region(logits):  # a sum over every pixel: in fp32 whatever precision the network ran in
        logits, x = logits.float(), x.float()
        if kind == "bce":
            return F.binary_cross_entropy_with_logits(logits, x, reduction="sum") / n
        return F.mse_loss(torch.sigmoid(logits), x, reduction="sum") / n


class AE(Autoencoder):
    """Deterministic encoder and decoder; the DAE is this class trained on corrupted input (the Trainer corrupts)."""

    refittable = True

    def __init__(self, config: ModelConfig) -> None:
        super().__init__(config)
        self.encoder = build_encoder(config, config.latent_dim)
        self.decoder = build_decoder(config)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x)

    def decode_logits(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z)

    def loss(self, x: torch.Tensor, x_input: torch.Tensor, labels: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        # d(x, Dec(Enc(x + eps))) -> min: the target is the clean x, the input may be corrupted.
        recon = reconstruction_loss(self.decoder(self.encoder(x_input)), x, self.config.recon)
        return {"recon": recon, "total": recon}
