"""Reconstructions of emoji test images by the shipped conv models beside the residual (``--arch resnet``) ones (issue 33).

    AEVIEWER_DATA=../shared/data python docs/make_resnet_comparison.py OUT.png VAE_RESNET VQVAE_RESNET

VAE_RESNET and VQVAE_RESNET are checkpoints trained with the commands in docs/measurements.md (issue 33's quality
table). Rows, top to bottom: the test images, the conv VAE, the resnet VAE, the conv VQ-VAE, the resnet VQ-VAE; one
image of each of the 9 classes, and 3 more. Prints each model's test PSNR over the whole emoji test split (the seeded
80/20 split the models were trained on).
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from aeviewer.data.loader import load_split
from aeviewer.data.preparation import Preparation
from aeviewer.training.checkpoint import load_checkpoint
from aeviewer.training.metrics import psnr
from aeviewer.util.paths import shipped_dir

SCALE = 2  # 64 px images drawn at 128 px
GAP = 4


def reconstruct(model: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    with torch.inference_mode():
        return model.reconstruct(x).float().clamp(0, 1)


def picks(labels: torch.Tensor, n_extra: int = 3) -> torch.Tensor:
    """The first test image of each class, then the next ``n_extra`` images."""
    first = [int(torch.nonzero(labels == k)[0]) for k in torch.unique(labels)]
    extra = [i for i in range(len(labels)) if i not in first][:n_extra]
    return torch.tensor(first + extra)


def sheet(rows: list[torch.Tensor]) -> Image.Image:
    n, _c, h, w = rows[0].shape
    out = np.full((len(rows) * (h + GAP), n * (w + GAP), 3), 255, np.uint8)
    for r, images in enumerate(rows):
        for i, image in enumerate(images):
            out[r * (h + GAP):r * (h + GAP) + h, i * (w + GAP):i * (w + GAP) + w] = (
                image.permute(1, 2, 0).numpy() * 255 + 0.5).astype(np.uint8)
    return Image.fromarray(out).resize((out.shape[1] * SCALE, out.shape[0] * SCALE), Image.NEAREST)


def main(out: Path, vae_resnet: Path, vq_resnet: Path) -> None:
    test = load_split("emoji", "test", preparation=Preparation(image_size=64, channels="3"))
    x = test.float_batch(slice(None))
    chosen = picks(test.labels)
    rows = [x[chosen]]
    for name, path in (("conv VAE", shipped_dir("trained") / "vae-emoji-32d.safetensors"), ("resnet VAE", vae_resnet),
                       ("conv VQ-VAE", shipped_dir("trained") / "vqvae-emoji.safetensors"),
                       ("resnet VQ-VAE", vq_resnet)):
        model = load_checkpoint(path).model.eval()
        recon = torch.cat([reconstruct(model, x[i:i + 64]) for i in range(0, len(x), 64)])
        print(f"{name:>14}: test PSNR {float(psnr(recon, x).mean()):.2f} dB over {len(x)} images ({path.name})")
        rows.append(recon[chosen])
    sheet(rows).save(out)
    print(f"saved {out}")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]))
