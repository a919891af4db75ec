"""Fitting the scatter's PCA (latent_space.make_projection) on wide latents, against the full SVD it replaced.

What the GUI does on the GUI thread when a model whose latent is wider than 2 opens, and on every live
snapshot while it trains. The widest is the VQ-VAE's: its 7x7 grid of 64-dim codes is a 3,136-dim latent.
This encodes the MNIST test images with the pretrained VQ-VAE (trained/vqvae-mnist.safetensors) and times,
in one run, the projection as aeviewer fits it (ARPACK's two leading singular triplets) and the baseline
(numpy's full SVD in float64, what explore did before), and checks that both give the same axes.

    python benchmarks/bench_projection.py            # 10,000 test images, 3 repeats
    python benchmarks/bench_projection.py --quick    # 1,000 images, 1 repeat (CI smoke)
"""
from __future__ import annotations

import argparse

import numpy as np
import torch

from common import REPO, header, load_set, median, time_repeats

from aeviewer.explore import latent_space
from aeviewer.training.checkpoint import load_checkpoint


def full_svd_axes(latents: np.ndarray) -> np.ndarray:
    """The baseline: the two leading right singular vectors from the full float64 SVD, signs as explore fixes them."""
    centred = (latents - latents.mean(0)).astype(np.float64)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    return vt[:2] * np.sign(vt[np.arange(2), np.abs(vt[:2]).argmax(1)])[:, None]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,000 images, 1 repeat")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (numpy's BLAS follows OMP_NUM_THREADS)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    limit, repeats = (1000, 1) if args.quick else (None, args.repeats)
    test_set, name = load_set("mnist", "test", limit)
    model = load_checkpoint(REPO / "trained" / "vqvae-mnist.safetensors").model
    latents = np.asarray(latent_space.encode_set(model, test_set), np.float32)
    header(f"PCA of {latents.shape[0]:,} x {latents.shape[1]:,} VQ-VAE latents ({name} test), {repeats} repeats")
    ours = time_repeats(lambda: latent_space.make_projection("pca", latents), repeats, warmup=0)
    baseline = time_repeats(lambda: full_svd_axes(latents), repeats, warmup=0)
    gap = float(np.abs(latent_space.make_projection("pca", latents).components - full_svd_axes(latents)).max())
    print(f"make_projection('pca'): median {median(ours):.3f} s   full SVD (before): median {median(baseline):.3f} s   "
          f"largest difference between their axes: {gap:.1e}")
    print(f"ratio full SVD / make_projection: {median(baseline) / median(ours):.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
