"""Encoding the 10,000-image test set for the scatter (latent_space.encode_set), per model kind.

What the GUI does when a model opens and on every live weight snapshot during training. Each kind
gets its default 28x28 config (mlp 784-512-256-2; the VQ-VAE is conv and shown for information,
with two repeats).
Times are the median and worst of several repeats after one warm-up call.

    python benchmarks/bench_encode.py --quick     # seconds: 1,000 images, 2 repeats (CI smoke)
    python benchmarks/bench_encode.py             # the figure: 10,000 MNIST test images (target <= 0.5 s per mlp kind)
    python benchmarks/bench_encode.py --threads 2 # as the GUI runs (torch's default thread count)
"""
from __future__ import annotations

import argparse

import torch

from common import build, header, load_set, median, time_repeats, verdict

MLP_KINDS = ("ae", "dae", "vae", "aae")
TARGET_S = 0.5


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,000 images, 2 repeats")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (the shared machine wants 1)")
    parser.add_argument("--batch-size", type=int, default=1000, help="encode_set's batch size")
    parser.add_argument("--no-vqvae", action="store_true", help="skip the conv VQ-VAE row (always skipped by --quick)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    limit, repeats = (1000, 2) if args.quick else (None, args.repeats)
    test_set, name = load_set("mnist", "test", limit)

    from aeviewer.explore import latent_space

    header(f"latent_space.encode_set on {len(test_set):,} {name} test images, batch {args.batch_size}, {repeats} repeats")
    rows, worst_mlp = [], 0.0
    kinds = MLP_KINDS + (() if args.no_vqvae or args.quick else ("vqvae",))
    for kind in kinds:
        model = build(kind)
        n = repeats if kind in MLP_KINDS else min(repeats, 2)  # the conv VQ-VAE takes seconds per call
        times = time_repeats(lambda: latent_space.encode_set(model, test_set, batch_size=args.batch_size), n)
        mid = median(times)
        if kind in MLP_KINDS:
            worst_mlp = max(worst_mlp, mid)
        arch = model.config.arch
        rows.append((kind, arch, model.latent_size, f"{mid * 1000:.1f}", f"{max(times) * 1000:.1f}",
                     f"{len(test_set) / mid:,.0f}", verdict(mid * 10_000 / len(test_set), TARGET_S) if kind in MLP_KINDS else "(info)"))
    print(f"{'kind':>6}  {'arch':>5}  {'latent':>7}  {'median ms':>10}  {'worst ms':>9}  {'images/s':>10}  verdict (per 10k)")
    for row in rows:
        print(f"{row[0]:>6}  {row[1]:>5}  {row[2]:>7}  {row[3]:>10}  {row[4]:>9}  {row[5]:>10}  {row[6]}")
    per_10k = worst_mlp * 10_000 / len(test_set)
    print(f"figure: slowest mlp kind encodes 10,000 images in {per_10k:.3f} s (target <= {TARGET_S} s): "
          f"{verdict(per_10k, TARGET_S)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
