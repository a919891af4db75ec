"""Linked hover: one mouse move in one scatter of the Compare view to every scatter repainted with the
hovered test image highlighted, against one scatter's own hover, in the same run.

The Compare view runs (offscreen) with the three pretrained 2-D MNIST models (AE, VAE, AAE; untrained
ones when trained/ lacks them) and the 10,000 MNIST test images in each scatter. Each event is a real
QMouseEvent (a move) sent to the first scatter's viewport onto a test image's dot; the clock stops once
every scatter's viewport has painted the change (Qt repaints only the regions the moved highlights
cover, as it does for a person's mouse), i.e. after the event-loop turn that draws it.
The baseline is the same move with the linking cut: only the first scatter's highlight moves and only
it repaints. Linked and baseline events alternate, so load on the machine hits both alike.

    python benchmarks/bench_linked_hover.py --quick   # seconds: 30 events of each (CI smoke)
    python benchmarks/bench_linked_hover.py           # the figure: 500 events of each (p50 and p95 against 16 ms)
"""
from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np

from common import (
    REPO, PaintCounter, build, header, load_set, ms, offscreen_qt, percentile, process_events_for, send_mouse, verdict,
)

TARGET_MS = 16.0
KINDS = ("ae", "vae", "aae")


def compared_models(test_set: Any, name: str) -> list[Any]:
    from aeviewer.explore import compare

    paths = [REPO / "trained" / f"{kind}-mnist-2d.safetensors" for kind in KINDS]
    if name == "mnist" and all(p.is_file() for p in paths):
        models = compare.load_models(paths)
    else:
        models = [compare.ComparedModel(build(kind, latent_dim=2), name, f"untrained {kind}") for kind in KINDS]
    compare.encode_all(models, test_set)
    return models


class Probe:
    def __init__(self) -> None:
        from aeviewer.gui.views.compare.compare_view import CompareView

        test_set, name = load_set("mnist", "test")
        self.view = CompareView(compared_models(test_set, name), test_set)
        self.view.resize(1600, 1000)
        self.view.show()
        process_events_for(0.5)
        self.source = self.view.panels[0]
        self.viewport = self.source.plot.viewport()
        self.linked = list(self.view.selection.listeners)
        self.paints = [PaintCounter(panel.plot.viewport()) for panel in self.view.panels]
        self.alone = [lambda what: self.source.show_hover(self.view.selection.hovered) if what == "hover" else None]

    def targets(self, n: int, seed: int = 0) -> list[tuple[int, Any]]:
        """``n`` (index, viewport position) pairs of dots well inside the first scatter's view."""
        coords = self.source.coords
        (x0, x1), (y0, y1) = self.source.viewbox.viewRange()
        inside = np.flatnonzero((coords[:, 0] > x0) & (coords[:, 0] < x1) & (coords[:, 1] > y0) & (coords[:, 1] < y1))
        picks = np.random.default_rng(seed).choice(inside, size=n)
        return [(int(i), self.source.view_to_widget(*coords[i])) for i in picks]

    def hover(self, pos: Any, linked: bool) -> float:
        from PySide6.QtCore import QEvent, Qt

        self.view.selection.listeners[:] = self.linked if linked else self.alone
        from PySide6.QtWidgets import QApplication

        counters = self.paints if linked else self.paints[:1]
        before = [c.count for c in counters]
        start = time.perf_counter()
        send_mouse(self.viewport, QEvent.Type.MouseMove, pos, Qt.MouseButton.NoButton, Qt.MouseButton.NoButton)
        while any(c.count == b for c, b in zip(counters, before)):
            QApplication.processEvents()
            if time.perf_counter() - start > 1.0:
                raise RuntimeError("a scatter did not repaint within 1 s of the hover")
        return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="30 events of each (seconds), for CI")
    parser.add_argument("--events", type=int, default=500, help="events of each kind (default 500)")
    args = parser.parse_args()
    n = 30 if args.quick else args.events
    offscreen_qt()
    header(f"bench_linked_hover: {n} hover events, linked across 3 scatters vs one scatter alone")
    probe = Probe()
    print(f"  scatters of {len(probe.source.coords):,} points each: " + ", ".join(p.entry.title for p in probe.view.panels))
    times: dict[bool, list[float]] = {True: [], False: []}
    missed = 0
    for _index, pos in probe.targets(n + 5):
        for linked in (True, False):
            probe.view.selection.hover(-1)  # each event moves the highlight from nowhere to a dot
            process_events_for(0.012)  # painted before the clock starts; pyqtgraph drops moves < 10 ms apart
            elapsed = probe.hover(pos, linked)
            if probe.view.selection.hovered == -1:
                missed += 1  # a dot under another's 8 px radius is still a hit; a miss would mean no hover ran
            times[linked].append(elapsed)
    for linked in (True, False):
        del times[linked][:5]  # warm-up: the first paints build pyqtgraph's caches
    shown = sum(p.hover_position() is not None for p in probe.view.panels)
    print(f"  last event: hovered #{probe.view.selection.hovered}, shown in {shown} scatter(s) (the baseline ran "
          f"last: one); moves that hit no dot: {missed}")
    rows = [("linked, 3 scatters", times[True]), ("one scatter alone", times[False])]
    for label, values in rows:
        print(f"  {label:>20}: p50 {ms(percentile(values, 50))}  p95 {ms(percentile(values, 95))}  "
              f"max {ms(max(values))}")
    p50 = percentile(times[True], 50)
    p95 = percentile(times[True], 95)
    ratio = p50 / percentile(times[False], 50)
    print(f"figure: linked hover across 3 scatters of {len(probe.source.coords):,} points p50 {ms(p50)} "
          f"(target <= {TARGET_MS:.0f} ms: {verdict(p50 * 1000, TARGET_MS)}), p95 {ms(p95)} "
          f"({verdict(p95 * 1000, TARGET_MS)}); ratio linked/one scatter p50 {ratio:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
