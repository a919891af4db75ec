"""The map inverse (projections.inverse.MapInverse): time a click takes to turn a UMAP/t-SNE map position into
a latent vector, against brute-force nearest neighbour (numpy, every point's distance) in the same run.

The map is a stand-in with the shape of the real thing: 60,000 (or --points) codes of 20 dims in ten
clumps, at 2-D positions in ten clumps, like a UMAP of MNIST's training split. Timing does not depend on
how the positions were made. UMAP's own inverse_transform took 11 s a point here (issue 22).

    python benchmarks/bench_map_inverse.py             # 60,000 points, 2,000 clicks
    python benchmarks/bench_map_inverse.py --quick     # 5,000 points, 200 clicks (CI smoke)
"""
from __future__ import annotations

import argparse
import time

import numpy as np

from common import header, median, ms, percentile, verdict

from aeviewer.projections.inverse import MapInverse

TARGET_S = 0.002  # issue 22: <= 2 ms a click for 60,000 points


def clumped_map(n: int, latent: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    label = rng.integers(0, 10, n)
    centres2, centres_l = rng.uniform(-10, 10, (10, 2)), rng.normal(size=(10, latent)) * 3
    coords = centres2[label] + rng.normal(size=(n, 2))
    return coords.astype(np.float32), (centres_l[label] + rng.normal(size=(n, latent))).astype(np.float32)


def brute_nearest(coords: np.ndarray, latents: np.ndarray, p: np.ndarray) -> np.ndarray:
    """The baseline: the code of the nearest embedded point, every distance computed."""
    return latents[int(np.argmin(((coords - p) ** 2).sum(1)))]


def per_click(fn, places: np.ndarray) -> list[float]:
    times = []
    for p in places:
        start = time.perf_counter()
        fn(p)
        times.append(time.perf_counter() - start)
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5,000 points, 200 clicks")
    parser.add_argument("--points", type=int, default=60_000)
    parser.add_argument("--clicks", type=int, default=2_000)
    args = parser.parse_args(argv)
    n, clicks = (5_000, 200) if args.quick else (args.points, args.clicks)
    coords, latents = clumped_map(n, 20)
    header(f"Map inverse: {n:,} embedded 20-dim codes, {clicks:,} clicks")
    start = time.perf_counter()
    inverse = MapInverse(coords, latents)
    inverse.prepare()  # built on first use (the GUI builds them in a thread); timed here apart from the clicks
    build = time.perf_counter() - start
    lo, hi = coords.min(0) - 2, coords.max(0) + 2
    places = np.random.default_rng(1).uniform(lo, hi, (clicks, 2)).astype(np.float32)
    inverse.locate(places[:10])  # warm-up
    ours = per_click(lambda p: inverse.locate(p), places)
    baseline = per_click(lambda p: brute_nearest(coords, latents, p), places)
    start = time.perf_counter()
    inverse.far_mask((lo[0], hi[0]), (lo[1], hi[1]), (96, 96))
    mask = time.perf_counter() - start
    print(f"build (Delaunay + k-d tree, once a map): {build:.2f} s   far mask 96x96: {ms(mask)}")
    print(f"MapInverse.locate a click: median {ms(median(ours))}, p90 {ms(percentile(ours, 90))}, "
          f"p99 {ms(percentile(ours, 99))}   brute-force nearest neighbour: median {ms(median(baseline))}, "
          f"p90 {ms(percentile(baseline, 90))}, p99 {ms(percentile(baseline, 99))}")
    print(f"ratio brute force / MapInverse (median): {median(baseline) / median(ours):.1f}x")
    print(f"target <= {ms(TARGET_S)} a click (p99): {verdict(percentile(ours, 99), TARGET_S)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
