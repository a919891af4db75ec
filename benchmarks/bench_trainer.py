"""Trainer throughput against a bare PyTorch loop on the same model and data, measured in the same run.

The model is the classic 784-400-20 VAE (pytorch/examples). Both loops keep the uint8 images in memory,
draw a random permutation per epoch and step Adam; the Trainer adds its callbacks, NaN guard and loss
bookkeeping. Rounds interleave the two (alternating which goes first) so drift in the machine's speed
hits both alike; the ratio is the median Trainer rate over the median bare rate. Rates are given per
wall-clock second and per CPU second of this process: on a shared machine the CPU-time figure is the
steadier one (another program's load stretches wall time, not our CPU time).

    python benchmarks/bench_trainer.py --quick            # seconds, random data (CI smoke)
    python benchmarks/bench_trainer.py --dataset mnist    # the real figure (target ratio >= 0.97)
"""
from __future__ import annotations

import argparse
import copy
import statistics
import sys
import time

import torch

from aeviewer.data.imageset import ImageSet
from aeviewer.errors import AeviewerError
from aeviewer.models import build_model, default_config
from aeviewer.training.trainer import StepInfo, TrainConfig, Trainer


def load_images(dataset: str, limit: int | None) -> tuple[ImageSet, str]:
    """MNIST's training split, or random 28x28 images of the same size when asked or when MNIST is missing."""
    if dataset == "mnist":
        try:
            from aeviewer.data.loader import load_split

            data = load_split("mnist", "train")
        except AeviewerError as err:
            print(f"note: {err}; using random images instead", file=sys.stderr)
            dataset = "random"
    if dataset == "random":
        n = 60_000
        images = torch.randint(0, 256, (n, 1, 28, 28), generator=torch.Generator().manual_seed(0), dtype=torch.uint8)
        data = ImageSet(images, torch.zeros(n, dtype=torch.long), ("x",), "random")
    if limit:
        data = data.subset(slice(0, limit))
    return data, dataset


def bare_loop(model: torch.nn.Module, data: ImageSet, epochs: int, batch_size: int, lr: float, seed: int) -> tuple[float, float]:
    """The hand-written loop: randperm, index, to float, loss, backward, Adam step. Returns samples/s."""
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    model.train()
    n = len(data)
    clock = _Clock()
    for _ in range(epochs):
        perm = torch.randperm(n, generator=gen)
        for i in range(0, n, batch_size):
            x = data.images[perm[i:i + batch_size]].float().div_(255.0)
            loss = model.loss(x, x)["total"]
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    return clock.rates(epochs * n)


def trainer_loop(model: torch.nn.Module, data: ImageSet, epochs: int, batch_size: int, lr: float, seed: int,
                 callback: bool) -> tuple[float, float]:
    steps = [0]

    def on_step(info: StepInfo) -> None:  # what a progress bar does: look at the info, rarely print
        steps[0] += 1

    config = TrainConfig(epochs=epochs, batch_size=batch_size, lr=lr, seed=seed, device="cpu")
    trainer = Trainer(model, data, config, on_step=on_step if callback else None)
    clock = _Clock()
    result = trainer.run()
    rates = clock.rates(epochs * len(data))
    if result.status != "finished":
        raise SystemExit(f"trainer did not finish: {result.message}")
    return rates


class _Clock:
    def __init__(self) -> None:
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def rates(self, samples: int) -> tuple[float, float]:
        """(samples per wall second, samples per CPU second)."""
        return samples / (time.perf_counter() - self.wall), samples / (time.process_time() - self.cpu)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", choices=("mnist", "random"), default="mnist")
    parser.add_argument("--quick", action="store_true", help="a few seconds on 10,000 random images")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=1, help="epochs per measurement")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (the shared machine wants 1)")
    parser.add_argument("--no-callback", action="store_true", help="run the Trainer without an on_step callback")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    dataset, limit, rounds = args.dataset, None, args.rounds
    if args.quick:
        dataset, limit, rounds = "random", 10_000, min(rounds, 3)
    data, dataset = load_images(dataset, limit)

    torch.manual_seed(0)
    initial = build_model(default_config("vae", image_shape=(1, 28, 28), hidden=(400,), latent_dim=20))
    print(f"VAE 784-400-20, {dataset} ({len(data):,} images), batch {args.batch_size}, {args.epochs} epoch(s) "
          f"per run, {rounds} rounds, {torch.get_num_threads()} thread(s)")
    bare_loop(copy.deepcopy(initial), data.subset(slice(0, 2000)), 1, args.batch_size, 1e-3, 0)  # warm up
    rates: dict[str, list[tuple[float, float]]] = {"bare": [], "trainer": []}
    print(f"{'round':>6}  {'bare /s wall':>13}  {'trainer /s wall':>15}  {'bare /s cpu':>12}  {'trainer /s cpu':>14}")
    for r in range(rounds):
        order = ("bare", "trainer") if r % 2 == 0 else ("trainer", "bare")
        for name in order:
            model = copy.deepcopy(initial)
            if name == "bare":
                rate = bare_loop(model, data, args.epochs, args.batch_size, 1e-3, r)
            else:
                rate = trainer_loop(model, data, args.epochs, args.batch_size, 1e-3, r, not args.no_callback)
            rates[name].append(rate)
        _row(str(r + 1), rates["bare"][-1], rates["trainer"][-1])
    medians = {name: tuple(statistics.median(v[i] for v in rows) for i in (0, 1)) for name, rows in rates.items()}
    _row("median", medians["bare"], medians["trainer"])
    wall, cpu = (medians["trainer"][i] / medians["bare"][i] for i in (0, 1))
    print(f"ratio trainer/bare: {cpu:.3f} per CPU second, {wall:.3f} per wall second (target >= 0.97)")
    return 0


def _row(label: str, bare: tuple[float, float], trainer: tuple[float, float]) -> None:
    print(f"{label:>6}  {bare[0]:>13,.0f}  {trainer[0]:>15,.0f}  {bare[1]:>12,.0f}  {trainer[1]:>14,.0f}")


if __name__ == "__main__":
    raise SystemExit(main())
