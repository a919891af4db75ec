"""A memory-mapped epoch against the same epoch in RAM: samples/s, encode (scatter) images/s and peak RSS.

A generated .npy of N 64x64 RGB images is loaded twice, each time in a fresh process: with the default
--max-memory (held in RAM: the baseline) and with --max-memory set to an eighth of the set (converted once into
the memory-mapped cache, then read batch by batch). Each process trains one epoch of an MLP VAE, encodes the
training split (what fills the scatter) and reports its peak RSS. The conversion is timed apart.

    nice -n 10 python benchmarks/bench_mmap.py                    # 40,000 images (0.49 GB)
    nice -n 10 python benchmarks/bench_mmap.py --images 400000 --max-memory-gb 1   # the issue's bar (4.9 GB)
    python benchmarks/bench_mmap.py --quick                       # CI smoke: 2,000 images
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
SHAPE = (64, 64, 3)


def generate(path: Path, n: int) -> None:
    import numpy as np

    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.uint8, shape=(n, *SHAPE))
    rng = np.random.default_rng(0)
    for start in range(0, n, 10_000):  # smooth-ish pictures: random colour fields, in chunks
        stop = min(n, start + 10_000)
        out[start:stop] = rng.integers(0, 256, (stop - start, 1, 1, 3), dtype=np.uint8)
    out.flush()
    del out


def worker(path: str, max_memory: int) -> None:
    import torch

    from aeviewer.data.loader import load_source
    from aeviewer.data.preparation import Preparation
    from aeviewer.explore.latent_space import encode_set
    from aeviewer.models import default_config
    from aeviewer.training.trainer import TrainConfig, Trainer, seeded_build

    torch.set_num_threads(2)
    started = time.perf_counter()
    train = load_source(path, Preparation(), max_memory=max_memory).train
    load_s = time.perf_counter() - started
    model = seeded_build(default_config("vae", image_shape=(3, 64, 64), hidden=(64,), latent_dim=16), 0)
    started = time.perf_counter()
    Trainer(model, train, TrainConfig(epochs=1, batch_size=128, device="cpu")).run()
    train_s = time.perf_counter() - started
    started = time.perf_counter()
    encode_set(model.eval(), train)
    encode_s = time.perf_counter() - started
    print(json.dumps({"mapped": train.budget is not None, "load_s": load_s, "samples_per_s": len(train) / train_s,
                      "encode_per_s": len(train) / encode_s,
                      "peak_rss_gb": peak_rss_bytes() / 1e9}))


def peak_rss_bytes() -> int:
    """This process's own peak RSS (VmHWM). Not getrusage's ru_maxrss: Linux carries that over fork and exec, so
    every worker reported the 5.03 GB the parent reached while writing the generated set."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def run(path: Path, max_memory: int, user_dir: str) -> dict:
    env = {**os.environ, "PYTHONPATH": str(REPO), "AEVIEWER_USER_DIR": user_dir, "OMP_NUM_THREADS": "2"}
    out = subprocess.run([sys.executable, __file__, "--worker", str(path), str(max_memory)], env=env,
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=40_000)
    parser.add_argument("--max-memory-gb", type=float, default=None,
                        help="the mapped runs' --max-memory (default: an eighth of the set)")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker[0], int(args.worker[1]))
        return
    import common

    n = 2_000 if args.quick else args.images
    size = n * 64 * 64 * 3
    common.header(f"memory-mapped epoch vs in-RAM epoch: {n:,} 64x64 RGB images ({size / 1e9:.2f} GB)")
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as tmp:
        path = Path(tmp) / "images.npy"
        generate(path, n)
        in_ram = run(path, max(4_000_000_000, 2 * size), tmp)
        limit = int(args.max_memory_gb * 1e9) if args.max_memory_gb else max(size // 8, 1_000_000)
        first = run(path, limit, tmp)  # converts into the mapped cache, then trains from it
        mapped = run(path, limit, tmp)  # opens the converted cache
    for name, r in (("in RAM", in_ram), ("mapped, first (converts)", first), ("mapped", mapped)):
        print(f"  {name:<26} load {r['load_s']:6.1f} s · train {r['samples_per_s']:8,.0f} samples/s · encode "
              f"{r['encode_per_s']:8,.0f} images/s · peak RSS {r['peak_rss_gb']:.2f} GB · mapped {r['mapped']}")
    print(f"figure: ratio mapped/in-RAM epoch samples/s {mapped['samples_per_s'] / in_ram['samples_per_s']:.2f}, "
          f"encode {mapped['encode_per_s'] / in_ram['encode_per_s']:.2f}; peak RSS {mapped['peak_rss_gb']:.2f} GB "
          f"mapped (--max-memory {limit / 1e9:.2f} GB) vs {in_ram['peak_rss_gb']:.2f} GB in RAM")


if __name__ == "__main__":
    main()
