"""Scatter: putting 10,000 and 60,000 coloured points on the LatentView, and toggling one class.

Each timing runs from ``session.encodingsChanged`` (or ``set_class_visible``) to a finished repaint:
the slot, one pass of the event loop, a synchronous ``repaint()`` of the plot's viewport, and the
event loop again (pyqtgraph recomputes the auto-range while painting and may ask for a second paint).

Rows: "new points" (a different set: every class's count changes, so each ScatterPlotItem gets
``setData`` — what opening a model does), "moved points" (same points, new positions — what a live
weight snapshot during training does), and "hide class" / "show class" (a legend toggle).

    python benchmarks/bench_scatter.py --quick    # seconds: 1,000 and 5,000 points (CI smoke)
    python benchmarks/bench_scatter.py            # the figure: 10,000 (<= 50 ms) and 60,000 (<= 200 ms)
"""
from __future__ import annotations

import argparse
import time
from typing import Any, Callable

import numpy as np
import torch

from common import PaintCounter, header, load_set, median, offscreen_qt, percentile, process_events_for, verdict

TARGETS_MS = {10_000: 50.0, 60_000: 200.0}


def blobs(labels: np.ndarray, seed: int) -> np.ndarray:
    """2-D points in one Gaussian blob per class, like a trained 2-D latent space."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 3, (int(labels.max()) + 1, 2))
    return (centres[labels] + rng.normal(0, 1, (len(labels), 2))).astype(np.float32)


def point_sets(n: int) -> tuple[Any, Any]:
    """An ImageSet of ``n`` MNIST images (test split up to 10,000, else train), and the same less one image per class."""
    from aeviewer.data.imageset import ImageSet

    full, _ = load_set("mnist", "test" if n <= 10_000 else "train", n)
    labels = full.labels.numpy()
    first_of_class = np.unique(labels, return_index=True)[1]
    keep = torch.from_numpy(np.setdiff1d(np.arange(len(full)), first_of_class))
    smaller = ImageSet(full.images[keep], full.labels[keep], full.class_names, full.name)
    return full, smaller


class Bench:
    def __init__(self) -> None:
        from aeviewer.gui.latent_view import LatentView
        from aeviewer.gui.session import Session

        self.session = Session()
        self.view = LatentView(self.session)
        self.view.resize(1000, 800)
        self.view.show()
        process_events_for(0.2)
        self.viewport = self.view.plot.viewport()
        self.paints = PaintCounter(self.viewport)

    def repaint_after(self, change: Callable[[], None]) -> float:
        """Seconds from ``change()`` to a finished repaint of the scatter."""
        from PySide6.QtWidgets import QApplication

        process_events_for(0.01)  # start from an idle event loop
        start = time.perf_counter()
        change()
        QApplication.processEvents()
        self.viewport.repaint()
        QApplication.processEvents()
        return time.perf_counter() - start

    def set_points(self, test_set: Any, coords: np.ndarray) -> None:
        from aeviewer import explore

        s = self.session
        s.test_set, s.latents, s.coords = test_set, coords, coords
        s.projection = explore.make_projection("identity", coords)
        s.encodingsChanged.emit()


def measure(bench: Bench, n: int, repeats: int) -> dict[str, list[float]]:
    full, smaller = point_sets(n)
    coords = {id(full): blobs(full.labels.numpy(), 0), id(smaller): blobs(smaller.labels.numpy(), 0)}
    out: dict[str, list[float]] = {"new points": [], "moved points": [], "hide class": [], "show class": []}
    bench.repaint_after(lambda: bench.set_points(smaller, coords[id(smaller)]))  # warm up this size
    for r in range(repeats):
        data = full if r % 2 == 0 else smaller  # alternate: every class's count changes, so setData runs
        out["new points"].append(bench.repaint_after(lambda: bench.set_points(data, coords[id(data)])))
        moved = coords[id(data)] + np.float32(0.05 * (r + 1))
        out["moved points"].append(bench.repaint_after(lambda: bench.set_points(data, moved)))
        out["hide class"].append(bench.repaint_after(lambda: bench.view.set_class_visible(3, False)))
        out["show class"].append(bench.repaint_after(lambda: bench.view.set_class_visible(3, True)))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,000 and 5,000 points, 2 repeats")
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 60_000])
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    sizes, repeats = ([1_000, 5_000], 2) if args.quick else (args.sizes, args.repeats)
    offscreen_qt()
    bench = Bench()
    header(f"LatentView: set points / toggle a class, to a finished repaint of a 1000x800 view, {repeats} repeats")
    print(f"{'points':>7}  {'operation':>12}  {'median ms':>10}  {'p90 ms':>8}  {'worst ms':>9}  {'target ms':>9}  verdict")
    figures = []
    for n in sizes:
        results = measure(bench, n, repeats)
        target = TARGETS_MS.get(n)
        for name, times in results.items():
            mid = median(times) * 1000
            print(f"{n:>7,}  {name:>12}  {mid:>10.1f}  {percentile(times, 90) * 1000:>8.1f}  {max(times) * 1000:>9.1f}  "
                  f"{target if target else '-':>9}  {verdict(mid, target) if target else ''}")
        worst = max(median(v) for v in results.values()) * 1000
        figures.append(f"{n:,} points {worst:.1f} ms" + (f" (target <= {target:.0f}: {verdict(worst, target)})" if target else ""))
    print(f"  ({bench.paints.count} viewport paints seen)")
    print("figure: slowest operation (median) per size: " + "; ".join(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
