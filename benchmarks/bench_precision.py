"""Mixed precision and channels-last against fp32, interleaved in one run: training speed, and with --quality the
reconstruction quality they end at.

Speed: the shipped emoji conv VAE (32-dim, Gaussian c = 0.01) and VQ-VAE (K = 128), 64x64 RGB, batch 32, each
trained for ``--steps`` steps by the core Trainer with ``precision="fp32", channels_last=False`` (the baseline:
the trainer before issue 33) and with ``precision="auto"`` and channels-last where it helps (CUDA, a CPU with AMX)
(target >= 1.8x). The MNIST MLP VAE (20-dim, batch 128) with auto against fp32 (target: not slower, >= 0.95).
Rounds alternate which setting goes first, so load from other programs hits both alike; the ratio is the median
candidate rate over the median baseline rate, per wall second (the Trainer's own samples/s) and per CPU second of
this process. One torch thread by default: on a loaded machine two threads spin-wait on each other, which costs
the run with more kernels (bf16's casts) most and says nothing about the arithmetic.

Quality (``--quality EPOCHS``): the same two emoji models and the MNIST VAE trained from the same seed for EPOCHS
epochs in fp32 and in auto; test-split PSNR (emoji, target |diff| <= 0.2 dB) and -ELBO (MNIST, <= 0.5 nats).

    nice -n 10 python benchmarks/bench_precision.py --quick           # seconds: digits-sized synthetic runs (CI smoke)
    nice -n 10 python benchmarks/bench_precision.py                   # the speed figures (3 rounds)
    nice -n 10 python benchmarks/bench_precision.py --quality 2 --no-speed
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from typing import Any

import torch

from common import header, load_average, verdict

from aeviewer.data.imageset import ImageSet
from aeviewer.errors import AeviewerError
from aeviewer.training.precision import channels_last_helps, resolve_precision
from aeviewer.training.trainer import TrainConfig, Trainer, seeded_build

SPEED_TARGET, MLP_TARGET = 1.8, 0.95
PSNR_TOLERANCE_DB, ELBO_TOLERANCE_NATS = 0.2, 0.5
BASELINE = {"precision": "fp32", "channels_last": False}
CANDIDATE = {"precision": "auto", "channels_last": None}  # None: channels-last where it helps (CUDA, AMX)


def emoji_splits(quick: bool) -> tuple[ImageSet, ImageSet]:
    """The emoji folder as the shipped models saw it (64 px RGB, seeded 80/20), or random images of that shape."""
    if not quick:
        try:
            from aeviewer.data.loader import load_source
            from aeviewer.data.preparation import Preparation

            loaded = load_source("emoji", Preparation(image_size=64, channels="3"))
            if not loaded.note:
                return loaded.train, loaded.test
            print(f"note: {loaded.note}; using random images", file=sys.stderr)
        except AeviewerError as err:
            print(f"note: {err}; using random images", file=sys.stderr)
    return _random(256, (3, 64, 64)), _random(64, (3, 64, 64))


def mnist_splits(quick: bool) -> tuple[ImageSet, ImageSet]:
    if not quick:
        try:
            from aeviewer.data.loader import load_split

            return load_split("mnist", "train"), load_split("mnist", "test")
        except AeviewerError as err:
            print(f"note: {err}; using random images", file=sys.stderr)
    return _random(1024, (1, 28, 28)), _random(256, (1, 28, 28))


def _random(n: int, shape: tuple[int, int, int]) -> ImageSet:
    gen = torch.Generator().manual_seed(n)
    return ImageSet(torch.randint(0, 256, (n, *shape), generator=gen, dtype=torch.uint8),
                    torch.zeros(n, dtype=torch.long), ("x",), "random")


def model_configs(image_shape: tuple[int, int, int]) -> dict[str, Any]:
    from aeviewer.models import default_config

    return {
        "emoji conv VAE": default_config("vae", image_shape, arch="conv", latent_dim=32, recon="gaussian", c=0.01),
        "emoji VQ-VAE": default_config("vqvae", image_shape, codebook_size=128),
    }


def train(config: Any, data: ImageSet, settings: dict[str, Any], *, epochs: int = 1, batch_size: int = 32,
          seed: int = 0, lr_schedule: str = "constant") -> tuple[Trainer, float, float]:
    """A fresh seeded model trained on ``data``; (trainer, samples per wall second over its epochs, samples per
    CPU second of this process over the run: steadier where other programs load the machine)."""
    model = seeded_build(config, seed)
    trainer = Trainer(model, data, TrainConfig(epochs=epochs, batch_size=batch_size, seed=seed, device="cpu",
                                               start_at_mean=True, lr_schedule=lr_schedule, **settings))
    cpu_started = time.process_time()
    result = trainer.run()
    cpu_seconds = time.process_time() - cpu_started
    if result.status != "finished":
        raise SystemExit(f"training did not finish: {result.message}")
    seconds = sum(row["seconds"] for row in trainer.history)
    return trainer, len(data) * epochs / seconds, len(data) * epochs / cpu_seconds


def interleaved(config: Any, data: ImageSet, rounds: int, batch_size: int, candidate: dict[str, Any]) -> tuple[float, float]:
    """Median candidate rate / median baseline rate over ``rounds`` alternating rounds, per wall second and per
    CPU second; prints each round's rates."""
    rates: dict[str, list[float]] = {"base": [], "cand": []}
    cpu_rates: dict[str, list[float]] = {"base": [], "cand": []}
    for settings in (BASELINE, candidate):  # untimed: oneDNN builds its kernels for each layout and dtype once
        train(config, data.subset(slice(0, 2 * batch_size)), settings, batch_size=batch_size)
    for r in range(rounds):
        order = [("base", BASELINE), ("cand", candidate)]
        for name, settings in order if r % 2 == 0 else order[::-1]:
            _, wall, cpu = train(config, data, settings, batch_size=batch_size)
            rates[name].append(wall)
            cpu_rates[name].append(cpu)
        print(f"  round {r + 1}: fp32 {rates['base'][-1]:7.1f}  candidate {rates['cand'][-1]:7.1f} samples/s; per CPU "
              f"second {cpu_rates['base'][-1]:7.1f} / {cpu_rates['cand'][-1]:7.1f}  ({load_average()})", flush=True)
    return (statistics.median(rates["cand"]) / statistics.median(rates["base"]),
            statistics.median(cpu_rates["cand"]) / statistics.median(cpu_rates["base"]))


def speed(args: argparse.Namespace) -> None:
    emoji, _ = emoji_splits(args.quick)
    steps_images = emoji.subset(slice(0, min(len(emoji), args.steps * 32)))
    cpu = torch.device("cpu")
    used, layout = resolve_precision("auto", cpu).name, "on" if channels_last_helps(cpu) else "off"
    header(f"training speed: auto (= {used} here, channels-last {layout}) vs fp32, {len(steps_images)} images, batch 32")
    for name, config in model_configs(emoji.image_shape).items():
        ratio, cpu_ratio = interleaved(config, steps_images, args.rounds, 32, CANDIDATE)
        print(f"{name}: {ratio:.2f}x per wall second, {cpu_ratio:.2f}x per CPU second  "
              f"{verdict(ratio, SPEED_TARGET, higher_is_better=True)}", flush=True)
    mnist, _ = mnist_splits(args.quick)
    mnist = mnist.subset(slice(0, min(len(mnist), args.mlp_images)))
    from aeviewer.models import default_config

    config = default_config("vae", mnist.image_shape, latent_dim=20, hidden=(400,))
    header(f"MNIST MLP VAE 784-400-20, {len(mnist)} images, batch 128: auto vs fp32")
    ratio, cpu_ratio = interleaved(config, mnist, args.rounds, 128, {"precision": "auto"})
    print(f"MNIST MLP VAE: {ratio:.2f}x per wall second, {cpu_ratio:.2f}x per CPU second  "
          f"{verdict(ratio, MLP_TARGET, higher_is_better=True)}", flush=True)


def quality(args: argparse.Namespace) -> None:
    from aeviewer.models import default_config
    from aeviewer.training.metrics import negative_elbo, reconstruction_metrics

    emoji_train, emoji_test = emoji_splits(args.quick)
    header(f"quality after {args.quality} epochs, seed 0, cosine schedule: fp32 vs auto")
    for name, config in model_configs(emoji_train.image_shape).items():
        psnrs = []
        for settings in (BASELINE, CANDIDATE):
            started = time.perf_counter()
            trainer, *_ = train(config, emoji_train, settings, epochs=args.quality, lr_schedule="cosine")
            psnrs.append(reconstruction_metrics(trainer.model.cpu().eval(), emoji_test)["psnr_db"])
            print(f"  {name} {settings['precision']}: psnr {psnrs[-1]:.2f} dB  ({time.perf_counter() - started:.0f} s)",
                  flush=True)
        diff = psnrs[1] - psnrs[0]
        print(f"{name}: auto - fp32 = {diff:+.2f} dB  {verdict(abs(diff), PSNR_TOLERANCE_DB)}", flush=True)
    mnist_train, mnist_test = mnist_splits(args.quick)
    config = default_config("vae", mnist_train.image_shape, latent_dim=20)
    elbos = []
    for settings in (BASELINE, CANDIDATE):
        trainer, *_ = train(config, mnist_train, settings, epochs=args.quality, batch_size=128, lr_schedule="cosine")
        elbos.append(negative_elbo(trainer.model.cpu().eval(), mnist_test))
        print(f"  MNIST VAE 20-dim {settings['precision']}: -ELBO {elbos[-1]:.2f} nats", flush=True)
    diff = elbos[1] - elbos[0]
    print(f"MNIST VAE: auto - fp32 = {diff:+.2f} nats  {verdict(abs(diff), ELBO_TOLERANCE_NATS)}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="random images, few steps, one round (CI smoke)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=60, help="training steps of batch 32 per emoji run")
    parser.add_argument("--mlp-images", type=int, default=19_200, help="MNIST images per MLP run")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads (1: on a shared machine two threads spin-wait on each other)")
    parser.add_argument("--quality", type=int, default=0, metavar="EPOCHS", help="also train EPOCHS epochs and compare")
    parser.add_argument("--no-speed", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.steps, args.mlp_images = 1, 4, 512
    torch.set_num_threads(args.threads)
    if not args.no_speed:
        speed(args)
    if args.quality:
        quality(args)


if __name__ == "__main__":
    main()
