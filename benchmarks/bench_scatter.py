"""Scatter: putting 10,000 and 60,000 coloured points on the LatentView, and toggling one class.

Each timing runs from ``session.encodingsChanged`` (or ``set_class_visible``) to a finished repaint:
the slot, one pass of the event loop, a synchronous ``repaint()`` of the plot's viewport, and the
event loop again (pyqtgraph recomputes the auto-range while painting and may ask for a second paint).

Rows: "new points" (a different set: every class's count changes, so each ScatterPlotItem gets
``setData`` — what opening a model does), "moved points" (same points, new positions — what a live
weight snapshot during training does), and "hide class" / "show class" (a legend toggle).

Frames (``--frames``): pan and zoom frames of 60,000 and 200,000 synthetic points (one blob per class), each
a ``setRange`` to a finished repaint: zoomed out (drawn as density), a zoom in/out step, and zoomed in (points),
against the same frames drawn by stock pyqtgraph (the density switch off, every point a dot, pyqtgraph's own
ScatterPlotItem paint and bounds instead of ClassScatter's culling ones: the baseline, same run). Hover:
``nearest_visible`` at random places, KD-tree against a scan of every point.

    python benchmarks/bench_scatter.py --quick    # seconds: 1,000 and 5,000 points (CI smoke)
    python benchmarks/bench_scatter.py            # the figure: 10,000 (<= 50 ms) and 60,000 (<= 200 ms)
    python benchmarks/bench_scatter.py --frames   # pan/zoom frames at 60,000 and 200,000 (<= 30 ms), hover (<= 5 ms)
"""
from __future__ import annotations

import argparse
import contextlib
import time
from typing import Any, Callable, Iterator

import numpy as np
import torch

from common import PaintCounter, header, load_set, median, offscreen_qt, percentile, process_events_for, verdict

TARGETS_MS = {10_000: 50.0, 60_000: 200.0}
FRAME_TARGET_MS = 30.0
HOVER_TARGET_MS = 5.0
FRAME_SIZES = (60_000, 200_000)


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
        from aeviewer.gui.views.latent.latent_view import LatentView
        from aeviewer.gui.state.session import Session

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
        from aeviewer.explore import latent_space

        s = self.session
        s.test_set, s.latents, s.coords = test_set, coords, coords
        s.projection = latent_space.make_projection("identity", coords)
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


def synthetic_set(n: int, classes: int = 10) -> tuple[Any, np.ndarray]:
    """``n`` tiny blank images with labels, and their blob coordinates (an image folder's worth of points)."""
    from aeviewer.data.imageset import ImageSet

    labels = np.random.default_rng(1).integers(0, classes, n)
    images = ImageSet(torch.zeros((n, 1, 2, 2), dtype=torch.uint8), torch.from_numpy(labels),
                      tuple(str(k) for k in range(classes)))
    return images, blobs(labels, 0)


def frame_times(bench: Bench, coords: np.ndarray, frames: int) -> dict[str, list[float]]:
    """Seconds per pan / zoom frame, zoomed out and zoomed in on a blob."""
    vb = bench.view.viewbox
    vb.autoRange()
    (x0, x1), (y0, y1) = bench.view.visible_range()
    w, h = x1 - x0, y1 - y0
    cx, cy = (float(v) for v in coords[0])
    out: dict[str, list[float]] = {"pan out": [], "zoom": [], "pan in": []}
    for f in range(frames):
        dx = 0.01 * w * (1 if f % 2 else -1)
        out["pan out"].append(bench.repaint_after(lambda: vb.setRange(xRange=(x0 + dx, x1 + dx), yRange=(y0, y1), padding=0)))
        k = 0.8 if f % 2 else 1.0
        out["zoom"].append(bench.repaint_after(lambda: vb.setRange(
            xRange=(cx - k * w / 2, cx + k * w / 2), yRange=(cy - k * h / 2, cy + k * h / 2), padding=0)))
    for f in range(frames):
        dx = 0.02 * (1 if f % 2 else -1)
        out["pan in"].append(bench.repaint_after(lambda: vb.setRange(
            xRange=(cx - 0.25 + dx, cx + 0.25 + dx), yRange=(cy - 0.2, cy + 0.2), padding=0)))
    return out


def hover_times(bench: Bench, coords: np.ndarray, probes: int) -> list[float]:
    """Seconds per ``nearest_visible`` at random places of the zoomed-out view."""
    from PySide6.QtCore import QPointF

    view = bench.view
    view.viewbox.autoRange()
    view._index.wait()
    rng = np.random.default_rng(2)
    times = []
    for i in rng.integers(0, len(coords), probes):
        scene = view.viewbox.mapViewToScene(QPointF(float(coords[i, 0]) + 0.01, float(coords[i, 1])))
        start = time.perf_counter()
        view.nearest_visible(scene)
        times.append(time.perf_counter() - start)
    return times


@contextlib.contextmanager
def stock_pyqtgraph(on: bool) -> Iterator[None]:
    """ClassScatter paints and bounds its points as pyqtgraph's ScatterPlotItem does (the baseline)."""
    import pyqtgraph as pg

    from aeviewer.gui.widgets.pg_items import ClassScatter

    saved = ClassScatter.paint, ClassScatter.dataBounds
    if on:
        ClassScatter.paint, ClassScatter.dataBounds = pg.ScatterPlotItem.paint, pg.ScatterPlotItem.dataBounds
    try:
        yield
    finally:
        ClassScatter.paint, ClassScatter.dataBounds = saved


def run_frames(bench: Bench, frames: int) -> None:
    from aeviewer.gui.views.latent import scatter_density

    header(f"LatentView: pan/zoom frames to a finished repaint of a 1000x800 view, {frames} frames each; hover")
    print(f"{'points':>7}  {'frame':>8}  {'density p50':>11}  {'p90':>6}  {'dots p50':>8}  {'p90':>6}  {'ratio':>6}  verdict (<= {FRAME_TARGET_MS:g} ms)")
    figures = []
    for n in FRAME_SIZES:
        images, coords = synthetic_set(n)
        got = {}
        for mode, min_points in (("density", scatter_density.DENSITY_MIN_POINTS), ("dots", 10**12)):
            bench.view.density.min_points = min_points
            with stock_pyqtgraph(mode == "dots"):
                bench.repaint_after(lambda: bench.set_points(images, coords))
                got[mode] = frame_times(bench, coords, frames)
        for name in got["density"]:
            d, b = median(got["density"][name]) * 1000, median(got["dots"][name]) * 1000
            print(f"{n:>7,}  {name:>8}  {d:>11.1f}  {percentile(got['density'][name], 90) * 1000:>6.1f}  {b:>8.1f}  "
                  f"{percentile(got['dots'][name], 90) * 1000:>6.1f}  {d / b:>6.2f}  {verdict(d, FRAME_TARGET_MS)}")
        worst = max(median(v) for v in got["density"].values()) * 1000
        figures.append(f"{n:,} points: slowest frame (median) {worst:.1f} ms ({verdict(worst, FRAME_TARGET_MS)})")
        bench.view.density.min_points = scatter_density.DENSITY_MIN_POINTS
        bench.repaint_after(lambda: bench.set_points(images, coords))
        tree = hover_times(bench, coords, 200)
        bench.view._index = scatter_density.PointIndex(coords, use_tree=False)  # a scan of every point: the baseline
        scan = hover_times(bench, coords, 200)
        print(f"{n:>7,}  {'hover':>8}  tree p50 {median(tree) * 1000:.2f} ms p99 {percentile(tree, 99) * 1000:.2f} ms; "
              f"scan p50 {median(scan) * 1000:.2f} ms p99 {percentile(scan, 99) * 1000:.2f} ms; "
              f"ratio {median(tree) / median(scan):.2f} ({verdict(percentile(tree, 99) * 1000, HOVER_TARGET_MS)})")
        figures.append(f"hover p99 {percentile(tree, 99) * 1000:.2f} ms")
    print("figure: " + "; ".join(figures))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,000 and 5,000 points, 2 repeats")
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 60_000])
    parser.add_argument("--frames", action="store_true", help="pan/zoom frames at 60,000 and 200,000 points, and hover")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    sizes, repeats = ([1_000, 5_000], 2) if args.quick else (args.sizes, args.repeats)
    offscreen_qt()
    bench = Bench()
    if args.frames:
        run_frames(bench, 10 if args.quick else 30)
        return 0
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
