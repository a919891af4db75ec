"""`aeviewer train` with dropout on the decoder's hidden layers, for the AAE Parzen study.

    python docs/aae_decoder_dropout.py P TRAIN-ARGS...   (e.g. 0.1 --model aae --dataset mnist ... --out M.safetensors)

The question: the runs that fit the training images better (100 epochs, half the learning rate) sampled
worse (README, "The AAE's Parzen figure"), which points at a decoder that over-fits its codes. This runs the
CLI's `train` unchanged except that, while the model is in training mode, each hidden activation of the
decoder is dropped with probability P (``F.dropout``, which rescales the rest by 1/(1-P)). The dropout lives
in forward hooks, not in the layers, so the checkpoint has the usual weights and names: `refit-decoder` and
`evaluate --parzen` read it as any other (and refit without dropout, since the hooks are not saved).
"""
from __future__ import annotations

import sys

import torch
import torch.nn.functional as F
from torch import nn

from aeviewer import cli
from aeviewer.models.base import Autoencoder
from aeviewer.training import trainer


def add_decoder_dropout(model: Autoencoder, p: float) -> int:
    """Hook dropout onto every ReLU of the decoder; returns how many were hooked."""
    def drop(module: nn.Module, _inputs: tuple, output: torch.Tensor) -> torch.Tensor:
        return F.dropout(output, p, module.training)

    relus = [m for m in model.decoder.modules() if isinstance(m, nn.ReLU)]
    for relu in relus:
        relu.register_forward_hook(drop)
    return len(relus)


def main(p: float, train_args: list[str]) -> int:
    if not 0.0 <= p < 1.0:
        raise SystemExit(f"P must be in [0, 1), got {p}")
    build = trainer.seeded_build

    def seeded_build_with_dropout(config, seed):  # cli._train imports seeded_build from trainer at call time
        model = build(config, seed)
        print(f"decoder dropout {p} on {add_decoder_dropout(model, p)} hidden layers", flush=True)
        return model

    trainer.seeded_build = seeded_build_with_dropout
    return cli.main(["train", *train_args])


if __name__ == "__main__":
    sys.exit(main(float(sys.argv[1]), sys.argv[2:]))
