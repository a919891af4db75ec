"""Trains every kind for one epoch on a tiny synthetic set and writes each one's weights: the equality test runs
it as one process (in the test) and as two gloo ranks (two processes with torchrun's environment set)."""
from __future__ import annotations

import sys
from pathlib import Path

import torch
from safetensors.torch import save_file

from aeviewer.data.imageset import ImageSet
from aeviewer.models import KINDS, default_config
from aeviewer.training import distributed
from aeviewer.training.trainer import TrainConfig, Trainer, seeded_build

N_IMAGES = 100
BATCH = 31  # odd: the ranks' shares differ (16 and 15), and the last batch has 7 images
OVERRIDES = {"hidden": (32,), "latent_dim": 3, "channels": (8, 16), "codebook_size": 16, "code_dim": 4,
             "disc_hidden": (16,)}


def tiny_set() -> ImageSet:
    g = torch.Generator().manual_seed(7)
    images = torch.randint(0, 256, (N_IMAGES, 1, 8, 8), generator=g, dtype=torch.uint8)
    labels = torch.randint(0, 10, (N_IMAGES,), generator=g)
    return ImageSet(images, labels, tuple(str(i) for i in range(10)), "tiny")


def config_of(kind: str):  # noqa: ANN201 (a test helper)
    arch = {"arch": "conv"} if kind_class_has_codebook(kind) else {}
    return default_config(kind, image_shape=(1, 8, 8), n_classes=10, **{**OVERRIDES, **arch})


def kind_class_has_codebook(kind: str) -> bool:
    from aeviewer.models import kind_class

    return kind_class(kind).has_codebook


RUNS = [(kind, False) for kind in KINDS] + [(KINDS[0], True)]  # every kind, and one on binarised batches


def run_name(kind: str, binarize: bool) -> str:
    return f"{kind}-binarized" if binarize else kind


def train_all(out: Path, ctx: distributed.DistContext | None) -> None:
    data = tiny_set()
    for kind, binarize in RUNS:
        model = seeded_build(config_of(kind), 3)
        config = TrainConfig(epochs=1, batch_size=BATCH, seed=5, device="cpu", lr=1e-2, binarize=binarize)
        result = Trainer(model, data, config, distributed=ctx).run()
        assert result.status == "finished", result.message
        if ctx is None or ctx.is_main:
            weights = {k: v.detach().contiguous().clone() for k, v in model.state_dict().items()}
            save_file(weights, str(out / f"{run_name(kind, binarize)}.safetensors"))


if __name__ == "__main__":
    torch.set_num_threads(1)
    context = distributed.from_env()
    distributed.init(context)
    train_all(Path(sys.argv[1]), context)
    distributed.close()
