"""Variants of `aeviewer refit-decoder` on one AAE checkpoint, each scored like `evaluate --parzen`.

    python docs/aae_refit_variants.py PATH [VARIANT ...]   (data from $AEVIEWER_DATA, MNIST; 1.5-4 min a variant)

Each VARIANT is a JSON object of keyword arguments to ``refit`` below; ``{}`` is exactly the CLI's refit
(noise 0.3, one epoch, lr 1e-4, the same seeds, so the same weights) and ``none`` scores the checkpoint as it is.
The keys:

- ``schedule``: ``"constant"`` (the CLI) or ``"cosine"``, the rate falling to zero over the refit;
- ``prior_share``: the fraction of each batch whose codes are prior draws instead of codes + noise, their
  targets the training image whose code is nearest (``temperature`` 0) or one drawn with probability
  ∝ N(z; code, temperature²) (the posterior of "which image" under codes blurred by the encoder's noise);
- ``ema``: decay of an exponential moving average of the decoder's weights, which replaces the decoder at the end;
- ``recon``: ``"mse"`` to refit on the squared error the Parzen window measures instead of the model's loss;
- ``noise_max``: each code's noise std drawn uniformly from [0, noise_max] (near and far neighbours in one
  refit) instead of the fixed ``noise``;
- ``cycle``: the weight of a latent cycle term on as many prior draws as the batch has images,
  ‖enc(dec(z)) − z‖² with the encoder frozen: the decoder is asked for images that its own encoder places
  where they were drawn, which is where prior samples land between the codes.

It prints one JSON line a variant: the test Parzen log-likelihood, the held-out validation split's
(``parzen_validation_ll``, to compare variants without the test split) and σ.
"""
from __future__ import annotations

import copy
import json
import math
import sys
import time

import torch

from aeviewer.data.imageset import ImageSet
from aeviewer.data.loader import load_split
from aeviewer.models.ae import reconstruction_loss
from aeviewer.models.base import Autoencoder
from aeviewer.training.checkpoint import load_checkpoint
from aeviewer.training.metrics import parzen_metrics
from aeviewer.training.refit import frozen_codes

HOLD_OUT = 1000  # the validation split the models were trained without (train --hold-out 1000)
BATCH = 100


def refit(model: Autoencoder, images: ImageSet, *, noise: float = 0.3, epochs: int = 1, lr: float = 1e-4,
          schedule: str = "constant", prior_share: float = 0.0, temperature: float = 0.0, ema: float = 0.0,
          recon: str | None = None, seed: int = 0, noise_max: float = 0.0, cycle: float = 0.0) -> None:
    """The CLI's refit loop with the variant's changes; the defaults draw the same numbers as the CLI."""
    if schedule not in ("constant", "cosine"):  # a typo would otherwise run (and report) the constant rate
        raise SystemExit(f"schedule must be 'constant' or 'cosine', got {schedule!r}")
    model.eval()
    model.encoder.requires_grad_(False)  # frozen: the cycle term still flows through it, to the decoder only
    shuffle_gen, noise_gen = torch.Generator().manual_seed(seed), torch.Generator().manual_seed(seed + 1)
    codes = frozen_codes(model, images, "cpu")
    optimizer = torch.optim.Adam(model.decoder.parameters(), lr=lr)
    average = copy.deepcopy(model.decoder) if ema else None
    model.decoder.train()
    total_steps, step = epochs * -(-len(images) // BATCH), 0
    for _ in range(epochs):
        for index in torch.randperm(len(images), generator=shuffle_gen).split(BATCH):
            if schedule == "cosine":
                optimizer.param_groups[0]["lr"] = lr * 0.5 * (1 + math.cos(math.pi * step / total_steps))
            x = images.float_batch(index)
            eps = torch.randn(len(index), codes.shape[1], generator=noise_gen)
            scale = noise_max * torch.rand(len(index), 1, generator=noise_gen) if noise_max else noise
            z = codes[index] + scale * eps
            if prior_share:
                z, x = _with_prior_draws(z, x, codes, images, prior_share, temperature, noise_gen)
            loss = reconstruction_loss(model.decode_logits(z), x, recon or model.config.recon)
            if cycle:
                drawn = torch.randn(len(index), codes.shape[1], generator=noise_gen)
                loss = loss + cycle * (model.encode(model.decode(drawn)) - drawn).square().sum(1).mean()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            step += 1
            if average is not None:
                with torch.no_grad():
                    for a, p in zip(average.parameters(), model.decoder.parameters()):
                        a.lerp_(p, 1 - ema)
    if average is not None:
        model.decoder = average
    model.eval()


def _with_prior_draws(z: torch.Tensor, x: torch.Tensor, codes: torch.Tensor, images: ImageSet, share: float,
                      temperature: float, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """The batch with its last ``share`` replaced by prior draws and the images whose codes explain them."""
    n = int(round(share * len(z)))
    draws = torch.randn(n, codes.shape[1], generator=gen)
    d2 = torch.addmm(codes.square().sum(1).unsqueeze(0), draws, codes.t(), alpha=-2.0)
    if temperature > 0:
        pick = torch.multinomial(torch.softmax(-d2 / (2 * temperature**2), 1), 1, generator=gen).squeeze(1)
    else:
        pick = d2.argmin(1)
    return torch.cat([z[n:], draws]), torch.cat([x[n:], images.float_batch(pick)])


def main(path: str, variants: list[str]) -> None:
    torch.set_num_threads(1)
    train, test = load_split("mnist", "train", None), load_split("mnist", "test", None)
    images, validation = train.subset(slice(0, len(train) - HOLD_OUT)), train.subset(slice(len(train) - HOLD_OUT, None))
    for variant in variants or ["{}"]:
        model, started = load_checkpoint(path).model, time.perf_counter()
        if variant != "none":
            refit(model, images, **json.loads(variant))
        m = parzen_metrics(model, test, validation=validation)
        print(json.dumps({"path": path, "variant": variant, "parzen_ll": round(m["parzen_ll"], 2),
                          "parzen_validation_ll": round(m["parzen_validation_ll"], 2),
                          "parzen_sigma": round(m["parzen_sigma"], 4), "seconds": round(time.perf_counter() - started)}),
              flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
