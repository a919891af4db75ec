"""Loading an image folder: cold (decoding every file) and cached, in images per second.

Cold loads are timed three ways in the same run: one decoding thread (the baseline), a thread pool
(what aeviewer does: Pillow releases the GIL while decoding and resizing) and a process pool (for
comparison: each worker returns its arrays through a pipe). The cached load is a second load_folder
of the same folder and preparation (target <= 1 s for 10,000 images at 64x64).

    python benchmarks/bench_folder_load.py --quick                  # CI smoke: 300 generated 32x32 PNGs
    python benchmarks/bench_folder_load.py --folder ../shared/data/emoji --size 64
    python benchmarks/bench_folder_load.py --generate 50000 --size 32  # 50,000 generated 32x32 PNGs
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aeviewer.data.decode import BadImage, decode_file  # noqa: E402
from aeviewer.data.folder import load_folder, scan_folder  # noqa: E402
from aeviewer.data.preparation import Preparation  # noqa: E402


def generate(root: Path, n: int, side: int) -> Path:
    """``n`` random-blob PNGs of ``side`` px in 10 class folders (compressible like real icons)."""
    rng = np.random.default_rng(0)
    base = rng.integers(0, 256, (10, 4, 4, 3), dtype=np.uint8)
    for i in range(n):
        folder = root / f"class{i % 10}"
        folder.mkdir(parents=True, exist_ok=True)
        small = np.clip(base[i % 10].astype(int) + rng.integers(-40, 40, (4, 4, 3)), 0, 255).astype(np.uint8)
        Image.fromarray(small).resize((side, side), Image.Resampling.BILINEAR).save(folder / f"{i:06d}.png")
    return root


def _decode_chunk(args: tuple[str, list[str], int]) -> list[np.ndarray | None]:
    root, paths, size = args
    out = []
    for p in paths:
        try:
            out.append(decode_file(Path(root) / p, size, "crop", 255))
        except BadImage:
            out.append(None)
    return out


def process_pool_load(root: Path, size: int, workers: int) -> int:
    files = [f.path for f in scan_folder(root).files]
    chunks = [(str(root), files[i:i + 256], size) for i in range(0, len(files), 256)]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return sum(len(r) for r in pool.map(_decode_chunk, chunks))


def timed(fn) -> tuple[float, object]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folder", help="an image folder to load (default: generated images)")
    parser.add_argument("--generate", type=int, default=2000, help="how many PNGs to generate (default 2000)")
    parser.add_argument("--size", type=int, default=32, help="--image-size of the load (default 32)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--quick", action="store_true", help="300 generated images")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["AEVIEWER_USER_DIR"] = str(Path(tmp) / "user")  # a cold cache
        if args.folder:
            root = Path(args.folder).resolve()
        else:
            n = 300 if args.quick else args.generate
            t, root = timed(lambda: generate(Path(tmp) / "images", n, args.size))
            print(f"generated {n:,} {args.size}x{args.size} PNGs in {t:.1f} s")
        prep = Preparation(image_size=args.size)
        load = os.getloadavg()[0]
        print(f"{root} at {args.size}x{args.size}, {os.cpu_count()} cores, load {load:.2f}")
        t1, loaded = timed(lambda: load_folder(root, prep, workers=1, use_cache=False))
        n = len(loaded.train) + len(loaded.test)  # type: ignore[attr-defined]
        tt, _ = timed(lambda: load_folder(root, prep, workers=args.workers, use_cache=False))
        tp, _ = timed(lambda: process_pool_load(root, args.size, args.workers))
        tc, _ = timed(lambda: load_folder(root, prep, workers=args.workers))  # writes the cache
        th, cached = timed(lambda: load_folder(root, prep, workers=args.workers))
        assert cached.from_cache  # type: ignore[attr-defined]
        rows = [("cold, 1 thread (baseline)", t1), (f"cold, {args.workers} threads", tt),
                (f"cold, {args.workers} processes (decode only)", tp), ("cold + cache write", tc), ("cached", th)]
        for name, seconds in rows:
            print(f"  {name:<36} {seconds:8.2f} s  {n / seconds:10,.0f} images/s  ratio {t1 / seconds:6.2f}x")
        print(f"figure: {n:,} images cold {n / tt:,.0f} images/s ({args.workers} threads), cached {n / th:,.0f} images/s "
              f"({th:.2f} s); threads/processes {tp / tt:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
