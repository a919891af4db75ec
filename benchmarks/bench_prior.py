"""The two prior architectures on the same VQ-VAE's code maps, in one run: test NLL, training time, sampling time.

Each prior trains for the same wall-clock budget (``--seconds``, constant learning rate, stopped by the Trainer's
stop event) on the training split's code maps of the shipped VQ-VAE, then is scored on the test split's code maps
(bits per code) and timed drawing 64 samples (median of 3). Ratios are against the first model listed, the
transformer, measured in the same run.

    python benchmarks/bench_prior.py --quick                    # digits, seconds (CI smoke)
    nice -n 10 python benchmarks/bench_prior.py --seconds 150   # the MNIST VQ-VAE (about 8 minutes)
    python benchmarks/bench_prior.py --shipped                  # the shipped priors against the speed bars

``--shipped`` times the priors shipped in trained/ (decoding included, median of 5; a class-conditional one also with
class guidance 3, which runs the prior for every class at once): 64 MNIST samples (bar 1 s),
16 emoji samples (bar 3 s), and the fill-in of one emoji sample position by position with the decoded image
redrawn at each (bar: 20 positions a second), each as a ratio to its bar.
"""
from __future__ import annotations

import argparse
import statistics
import threading
import time

import torch

from aeviewer.data.loader import load_split
from aeviewer.models.priors import BITS_PER_NAT, sample_codes
from aeviewer.util.paths import shipped_dir
from aeviewer.training.checkpoint import load_checkpoint
from aeviewer.training.prior import PriorTrainConfig, cached_code_maps, code_nll, encode_code_maps, train_prior

# name, arch, sizes
CANDIDATES = [
    ("transformer 128x3", "transformer", {"width": 128, "layers": 3}),
    ("transformer 64x2", "transformer", {"width": 64, "layers": 2}),
    ("pixelcnn 64x8 k5", "pixelcnn", {"width": 64, "layers": 8}),
]


def measure(model, train_set, train_codes, test_codes, test_labels, arch, sizes, seconds, epochs) -> dict:
    config = PriorTrainConfig(arch=arch, epochs=epochs, batch_size=64, lr=1e-3, seed=0, class_conditional=True,
                              device="cpu", lr_schedule="constant", sizes=sizes)
    stop = threading.Event()
    timer = threading.Timer(seconds, stop.set)
    timer.start()
    steps = [0]
    prior, result, took = train_prior(model, train_set, config, codes=train_codes, stop_event=stop,
                                      on_step=lambda info: steps.__setitem__(0, info.global_step))
    timer.cancel()
    nats = float(code_nll(prior, test_codes, test_labels).mean())
    bits = nats / test_codes[0].numel() * BITS_PER_NAT
    times = []
    for i in range(3):
        started = time.perf_counter()
        sample_codes(prior, 64, generator=torch.Generator().manual_seed(i))
        times.append(time.perf_counter() - started)
    return {"bits": bits, "train_s": took, "steps": steps[0], "sample_s": statistics.median(times),
            "weights": sum(p.numel() for p in prior.parameters())}


def timed(work, repeats: int = 5) -> float:
    times = []
    for i in range(repeats):
        started = time.perf_counter()
        work(i)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


@torch.inference_mode()
def shipped_speeds() -> None:
    from aeviewer.models.priors import iter_sample

    print(f"shipped priors' sampling speed, decoding included, median of 5, {torch.get_num_threads()} thread(s)")
    for name, n, bar in (("vqvae-mnist", 64, 1.0), ("vqvae-digits", 64, 1.0), ("vqvae-emoji", 16, 3.0)):
        model = load_checkpoint(shipped_dir("trained") / f"{name}.safetensors").model
        if not model.has_prior:
            print(f"  {name}: no prior")
            continue
        for guidance in ((1.0, 3.0) if model.prior.conditional else (1.0,)):  # guidance runs every class at once
            took = timed(lambda i: model.decode(model.sample(n, generator=torch.Generator().manual_seed(i),
                                                             guidance=guidance)))
            print(f"ratio {name} {n} samples, guidance {guidance:g} / bar {bar:.0f} s: {took / bar:.3f} ({took:.3f} s)")
    model = load_checkpoint(shipped_dir("trained") / "vqvae-emoji.safetensors").model
    if model.has_prior:
        def fill_in(i: int) -> None:
            for _, codes in iter_sample(model.prior, 1, generator=torch.Generator().manual_seed(i)):
                model.decode_codes(codes)

        took = timed(fill_in, repeats=3)
        rate = model.prior.config.length / took
        print(f"ratio emoji fill-in positions per second / bar 20: {rate / 20:.1f} ({rate:.0f} positions/s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the digits VQ-VAE, a few seconds each")
    parser.add_argument("--seconds", type=float, default=150.0, help="training budget per prior")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--shipped", action="store_true", help="time the shipped priors against the speed bars")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.shipped:
        shipped_speeds()
        return
    name = "vqvae-digits" if args.quick else "vqvae-mnist"
    seconds, epochs = (3.0, 1) if args.quick else (args.seconds, 1000)
    ckpt = load_checkpoint(shipped_dir("trained") / f"{name}.safetensors")
    train_set, test_set = load_split(ckpt.dataset, "train"), load_split(ckpt.dataset, "test")
    started = time.perf_counter()
    train_codes = cached_code_maps(ckpt.model, train_set)
    test_codes = encode_code_maps(ckpt.model, test_set)
    print(f"prior benchmark on {name}: {len(train_codes):,} training maps of {tuple(train_codes.shape[1:])} over "
          f"{ckpt.model.config.codebook_size} codes (encoded in {time.perf_counter() - started:.1f} s), "
          f"{seconds:.0f} s of training each, class-conditional, {torch.get_num_threads()} thread(s)")
    rows = []
    for label, arch, sizes in CANDIDATES:
        row = measure(ckpt.model, train_set, train_codes, test_codes, test_set.labels, arch, sizes, seconds, epochs)
        rows.append((label, row))
        print(f"  {label:<20} {row['weights']:>9,} weights  {row['steps']:>6} steps in {row['train_s']:6.1f} s  "
              f"test NLL {row['bits']:.3f} bits/code  64 samples {row['sample_s']:.3f} s", flush=True)
    base = rows[0][1]
    for label, row in rows[1:]:
        print(f"ratio {label} / {rows[0][0]}: test NLL {row['bits'] / base['bits']:.3f}, "
              f"sampling time {row['sample_s'] / base['sample_s']:.2f}, steps in the budget {row['steps'] / max(1, base['steps']):.2f}")


if __name__ == "__main__":
    main()
