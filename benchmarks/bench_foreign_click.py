"""A click with a foreign model: the model's bare decode time, and aeviewer's own overhead on top of it.

The model is a user's NumPy MLP decoder (2 -> 512 -> 784, MNIST-sized) given to ``aeviewer.show`` as two
functions, explored over the MNIST test set. A "click" is what a pick in the scatter does:
``Session.set_current_point_2d(x, y, now=True)``, which maps the point back to latent space and has the
decoder canvas decode it, put it in its ImageItem, label it and find the nearest test image, all before
it returns. The baseline, timed in the same run, is the model's own ``decode`` called directly on the
same points; the overhead is their difference (target: at most 3 ms).

    python benchmarks/bench_foreign_click.py --quick   # 50 clicks (CI smoke)
    python benchmarks/bench_foreign_click.py           # 1,000 clicks
"""
from __future__ import annotations

import argparse
import time

import numpy as np

from common import header, load_set, median, ms, offscreen_qt, percentile, process_events_for, verdict

OVERHEAD_TARGET_MS = 3.0
RNG = np.random.default_rng(0)
W1 = (RNG.standard_normal((784, 512)) * 0.05).astype(np.float32)
W2 = (RNG.standard_normal((512, 2)) * 0.05).astype(np.float32)


def encode(x: np.ndarray) -> np.ndarray:
    return np.maximum(x.reshape(len(x), -1) @ W1, 0) @ W2


def decode(z: np.ndarray) -> np.ndarray:
    h = np.maximum(z @ W2.T, 0)
    return (1 / (1 + np.exp(-(h @ W1.T)))).reshape(-1, 1, 28, 28)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    n = 50 if args.quick else 1000
    header("foreign-model click: bare decode vs aeviewer's overhead")
    offscreen_qt()
    import aeviewer

    test_set, name = load_set("mnist", "test")
    window = aeviewer.show(encode=encode, decode=decode, data=test_set, block=False)
    process_events_for(0.5)
    session = window.session
    (x0, x1), (y0, y1) = window.latent_view.visible_range()
    points = np.c_[RNG.uniform(x0, x1, n), RNG.uniform(y0, y1, n)].astype(np.float32)

    from aeviewer.explore import latent_space

    clicks, bare, adapter = [], [], []
    for x, y in points:
        start = time.perf_counter()
        session.set_current_point_2d(float(x), float(y), now=True)
        clicks.append(time.perf_counter() - start)
        z = session.current_z[None].copy()
        start = time.perf_counter()
        decode(z)
        bare.append(time.perf_counter() - start)
        start = time.perf_counter()
        latent_space.decode_points(session.model, z)  # the adapter alone: conversions and checks, no drawing
        adapter.append(time.perf_counter() - start)
    window.close()
    overhead = [c - b for c, b in zip(clicks, bare)]
    print(f"{n} clicks on {name} ({len(test_set):,} images in the scatter)")
    print(f"bare decode:  median {ms(median(bare))}, p99 {ms(percentile(bare, 99))}")
    print(f"click:        median {ms(median(clicks))}, p99 {ms(percentile(clicks, 99))}")
    print(f"adapter:      median {ms(median(adapter))} (of which checks and conversions "
          f"{ms(median(adapter) - median(bare))}; the rest of a click is the canvas drawing, as for aeviewer's own models)")
    print(f"ratio click/bare decode: {median(clicks) / median(bare):.1f}x")
    print(f"figure: aeviewer's overhead per click median {ms(median(overhead))} (p90 {ms(percentile(overhead, 90))}); "
          f"target <= {OVERHEAD_TARGET_MS:g} ms: {verdict(median(overhead) * 1e3, OVERHEAD_TARGET_MS)}")


if __name__ == "__main__":
    main()
