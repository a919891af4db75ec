"""An encoder-only adversarial phase after training, then the CLI's refit; scored like `evaluate --parzen`.

    python docs/aae_encoder_phase.py PATH 'VARIANT;VARIANT...' [THREADS]   (MNIST from $AEVIEWER_DATA; ~40-60 s a variant)

The question: prior samples score ~11 nats below decoded training codes because they land between the
codes (docs/aae-study.md, "what is left"). Would codes that match the prior more closely help? Each VARIANT
(JSON) trains the encoder alone (decoder frozen) and the discriminator, on recon + λ·gen with λ = ``mult`` × the
run's final λ, for ``epochs`` at rate ``lr``, then refits the decoder as `aeviewer refit-decoder` does
(``noise``, ``refit_epochs``). It prints the test Parzen log-likelihood and the validation split's.
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from aae_refit_variants import BATCH, HOLD_OUT, refit  # noqa: E402

from aeviewer.data.loader import load_split  # noqa: E402
from aeviewer.models.ae import reconstruction_loss  # noqa: E402
from aeviewer.models.base import optimizer_step  # noqa: E402
from aeviewer.training.checkpoint import load_checkpoint  # noqa: E402
from aeviewer.training.metrics import parzen_metrics  # noqa: E402


def encoder_phase(model, images, *, mult: float = 1.0, epochs: int = 1, lr: float = 1e-4, seed: int = 0) -> float:
    """Train the encoder and discriminator with the decoder frozen; returns the λ used."""
    model.set_training_progress(1.0)
    lam = model.adversarial_weight_now * mult
    torch.manual_seed(seed)
    model.train()
    model.decoder.requires_grad_(False)
    opt_enc = torch.optim.Adam(model.encoder.parameters(), lr=lr)
    opt_disc = torch.optim.Adam(model.discriminator.parameters(), lr=lr, betas=(0.5, 0.999))
    for _ in range(epochs):
        for index in torch.randperm(len(images)).split(BATCH):
            x = images.float_batch(index)
            z = model.posterior_sample(x)
            recon = reconstruction_loss(model.decoder(z), x, model.config.recon)
            optimizer_step(opt_enc, recon + lam * model.generator_loss(z))
            optimizer_step(opt_disc, model.discriminator_loss(model.prior_samples(len(z)), z.detach()))
    model.decoder.requires_grad_(True)
    return lam


def main(path: str, variants: str, threads: int) -> None:
    torch.set_num_threads(threads)
    train, test = load_split("mnist", "train", None), load_split("mnist", "test", None)
    images, validation = train.subset(slice(0, len(train) - HOLD_OUT)), train.subset(slice(len(train) - HOLD_OUT, None))
    for variant in variants.split(";"):
        v, started = json.loads(variant), time.perf_counter()
        model = load_checkpoint(path).model
        lam = encoder_phase(model, images, **{k: v[k] for k in ("mult", "epochs", "lr", "seed") if k in v})
        refit(model, images, noise=v.get("noise", 0.3), epochs=v.get("refit_epochs", 1))
        m = parzen_metrics(model, test, validation=validation)
        print(json.dumps({"path": path, "variant": v, "lambda": lam, "parzen_ll": round(m["parzen_ll"], 2),
                          "parzen_validation_ll": round(m["parzen_validation_ll"], 2),
                          "seconds": round(time.perf_counter() - started)}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 1)
