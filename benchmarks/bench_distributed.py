"""Data-parallel scaling on one machine: samples/s of 1 and 2 gloo ranks (one thread each) against one process
with two threads (the baseline: what a user gets without torchrun), for the MLP VAE on 28x28 grey images and
the conv VAE on 64x64 RGB images (emoji-shaped, generated: the figures depend on the shapes, not the pictures).

Each configuration runs as fresh processes with torchrun's environment set (RANK, WORLD_SIZE, MASTER_*), trains
one warm-up epoch and then times ``--epochs`` epochs; rank 0 reports. All runs in the same invocation.

    nice -n 10 python benchmarks/bench_distributed.py            # both models
    python benchmarks/bench_distributed.py --quick               # CI smoke: tiny sets
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

MODELS = {  # name -> (image shape, model overrides, images)
    "mlp-vae-28x28": ((1, 28, 28), {"arch": "mlp", "hidden": (512, 256), "latent_dim": 20}, 6_400),
    "conv-vae-64x64x3": ((3, 64, 64), {"arch": "conv", "latent_dim": 32}, 640),
}


def worker(name: str, n_images: int, epochs: int, threads: int) -> None:
    import torch

    from aeviewer.data.imageset import ImageSet
    from aeviewer.models import default_config
    from aeviewer.training import distributed
    from aeviewer.training.trainer import TrainConfig, Trainer, seeded_build

    torch.set_num_threads(threads)
    ctx = distributed.from_env()
    if ctx is not None:
        distributed.init(ctx)
    shape, overrides, _ = MODELS[name]
    images = torch.randint(0, 256, (n_images, *shape), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    data = ImageSet(images, torch.zeros(n_images, dtype=torch.long), ("x",))
    model = seeded_build(default_config("vae", image_shape=shape, **overrides), 0)
    Trainer(model, data, TrainConfig(epochs=1, batch_size=128, device="cpu"), distributed=ctx).run()  # warm-up
    started = time.perf_counter()
    Trainer(model, data, TrainConfig(epochs=epochs, batch_size=128, device="cpu"), distributed=ctx).run()
    seconds = time.perf_counter() - started
    if ctx is None or ctx.is_main:
        print(json.dumps({"samples_per_s": epochs * n_images / seconds}))
    distributed.close()


def run(name: str, n_images: int, epochs: int, ranks: int, threads: int) -> float:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    procs = []
    for rank in range(ranks):
        env = {**os.environ, "OMP_NUM_THREADS": str(threads), "PYTHONPATH": str(REPO), "AEVIEWER_BACKEND": "gloo"}
        if ranks > 1:
            env.update(RANK=str(rank), WORLD_SIZE=str(ranks), LOCAL_RANK=str(rank), MASTER_ADDR="127.0.0.1",
                       MASTER_PORT=str(port))
        command = [sys.executable, __file__, "--worker", name, str(n_images), str(epochs), str(threads)]
        procs.append(subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True))
    outputs = [p.communicate()[0] for p in procs]
    if any(p.returncode for p in procs):
        raise SystemExit(f"a run of {name} with {ranks} rank(s) failed")
    return json.loads(outputs[0].strip().splitlines()[-1])["samples_per_s"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--worker", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        name, n, epochs, threads = args.worker
        worker(name, int(n), int(epochs), int(threads))
        return
    import common

    common.header("data-parallel scaling: gloo ranks of one thread each vs one process of two threads")
    ratios = []
    for name, (_, _, n_images) in MODELS.items():
        n = 256 if args.quick else n_images
        epochs = 1 if args.quick else args.epochs
        base = run(name, n, epochs, ranks=1, threads=2)
        one = run(name, n, epochs, ranks=1, threads=1)
        two = run(name, n, epochs, ranks=2, threads=1)
        ratios.append(two / base)
        print(f"  {name}: 1 process x 2 threads {base:,.0f} samples/s · 1 rank x 1 thread {one:,.0f} "
              f"({one / base:.2f}x) · 2 ranks x 1 thread {two:,.0f} ({two / base:.2f}x; {two / one:.2f}x of 1 rank)")
    print(f"figure: ratio 2 ranks / 1 process of 2 threads: {' · '.join(f'{r:.2f}' for r in ratios)} "
          f"({' · '.join(MODELS)})")


if __name__ == "__main__":
    main()
