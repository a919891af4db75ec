"""ScatterDensity: a large scatter drawn as a 2-D histogram image while zoomed out, as points once zoomed in;
PointIndex: the nearest shown point to the cursor through a KD-tree of the 2-D coordinates.

Tens of thousands of dots cost pyqtgraph a repaint per pan or zoom frame that grows with the count; an image
of a few hundred cells costs the same at any count. Each cell is coloured by its majority class (of the
classes shown) and its opacity grows with the log of its count, so the dense cores and the sparse borders
both read. The class items stay in the scene at opacity 0 while the image shows (their visibility still
says which classes are shown, and hover still finds their points).
"""
from __future__ import annotations

import threading
from typing import Any, Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF

from aeviewer.gui.widgets.image_utils import class_color

DENSITY_MIN_POINTS = 50_000  # sets at least this big are drawn as density while many of their points are in view
POINTS_WHEN_VISIBLE = 20_000  # ...and as points once at most this many are in view
DENSITY_BINS = 384  # cells along each axis of the histogram (of the whole set's extent)
TREE_MIN_POINTS = 20_000  # below this a linear scan finds the nearest point in well under a millisecond


class ScatterDensity:
    """The density image of one plot; ``set_points`` on new coordinates, ``update_mode`` on a view change."""

    def __init__(self, plot: pg.PlotWidget) -> None:
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setZValue(-5)
        self.image.hide()
        plot.addItem(self.image)
        self._coords = np.zeros((0, 2), np.float32)
        self._counts: np.ndarray | None = None  # (classes, y bins, x bins)
        self._hidden: tuple[int, ...] = ()
        self._rect = QRectF()
        self.showing = False
        self.min_points = DENSITY_MIN_POINTS  # a benchmark's baseline sets it past any set

    def set_points(self, coords: np.ndarray, labels: np.ndarray, classes: int, hidden: Sequence[int]) -> None:
        self._coords = coords
        self._counts = None
        if len(coords) < self.min_points:
            return
        lo, hi = coords.min(0), coords.max(0)
        span = np.maximum(hi - lo, 1e-6)
        cells = np.minimum(((coords - lo) / span * DENSITY_BINS).astype(np.int64), DENSITY_BINS - 1)
        flat = (labels.clip(0, max(classes - 1, 0)) * DENSITY_BINS + cells[:, 1]) * DENSITY_BINS + cells[:, 0]
        self._counts = np.bincount(flat, minlength=max(classes, 1) * DENSITY_BINS**2).reshape(
            max(classes, 1), DENSITY_BINS, DENSITY_BINS)
        self._rect = QRectF(float(lo[0]), float(lo[1]), float(span[0]), float(span[1]))
        self._paint(tuple(hidden))

    def set_hidden(self, hidden: Sequence[int]) -> None:
        if self._counts is not None and tuple(hidden) != self._hidden:
            self._paint(tuple(hidden))

    def should_show(self, x_range: tuple[float, float], y_range: tuple[float, float]) -> bool:
        """Density while more than POINTS_WHEN_VISIBLE points of a large set lie in the given view range."""
        if self._counts is None:
            return False
        c = self._coords
        inside = ((c[:, 0] >= x_range[0]) & (c[:, 0] <= x_range[1]) & (c[:, 1] >= y_range[0]) & (c[:, 1] <= y_range[1]))
        return int(np.count_nonzero(inside)) > POINTS_WHEN_VISIBLE

    def update_mode(self, x_range: tuple[float, float], y_range: tuple[float, float], items: Sequence[Any]) -> bool:
        """Show the image or the points for the view range; True while the image shows."""
        show = self.should_show(x_range, y_range)
        self.showing = show
        self.image.setVisible(show)
        for item in items:  # new class items come in at opacity 1; Qt ignores a setOpacity that changes nothing
            item.setOpacity(0.0 if show else 1.0)  # Qt skips painting an item at opacity 0
        return show

    def _paint(self, hidden: tuple[int, ...]) -> None:
        self._hidden = hidden
        counts = self._counts.copy()
        for k in hidden:
            if k < len(counts):
                counts[k] = 0
        total = counts.sum(0)
        majority = counts.argmax(0)
        palette = np.array([class_color(k) for k in range(len(counts))], np.uint8).reshape(-1, 3)
        rgba = np.zeros((*total.shape, 4), np.uint8)
        rgba[..., :3] = palette[majority]
        peak = max(int(total.max()), 1)
        alpha = 60 + 195 * np.log1p(total) / np.log1p(peak)
        rgba[..., 3] = np.where(total > 0, alpha, 0).astype(np.uint8)
        # row 0 is the lowest y bin, drawn at the rect's bottom; fixed levels keep the colours as they are
        self.image.setImage(rgba, autoLevels=False, levels=(0, 255))
        self.image.setRect(self._rect)  # after the image: the rect scales the image's own size


class PointIndex:
    """Nearest-point lookups in screen pixels over 2-D coordinates: a linear scan for small sets, a KD-tree
    (built on a thread; the scan answers until it is ready) for large ones."""

    def __init__(self, coords: np.ndarray, use_tree: bool = True) -> None:
        self.coords = coords
        self._tree: Any = None
        self._scan_only = not use_tree or len(coords) < TREE_MIN_POINTS
        if not self._scan_only:
            threading.Thread(target=self._build, daemon=True).start()

    def _build(self) -> None:
        from scipy.spatial import cKDTree

        self._tree = cKDTree(self.coords)

    @property
    def ready(self) -> bool:
        return self._tree is not None or self._scan_only

    def wait(self, timeout: float = 10.0) -> None:
        """Block until the tree is built (tests, benchmarks)."""
        import time

        end = time.monotonic() + timeout
        while not self.ready and time.monotonic() < end:
            time.sleep(0.005)

    def nearest(self, x: float, y: float, px: float, py: float, radius_px: float, excluded: np.ndarray | None) -> int:
        """Index of the point nearest (x, y) within ``radius_px`` screen pixels (view units per pixel ``px``,
        ``py``), skipping the ``excluded`` mask; -1 when none."""
        coords = self.coords
        if len(coords) == 0:
            return -1
        tree = self._tree
        if tree is not None:
            candidates = np.asarray(tree.query_ball_point((x, y), radius_px * max(px, py)), np.int64)
        else:
            candidates = np.arange(len(coords))
        if len(candidates) == 0:
            return -1
        near = coords[candidates]
        d2 = ((near[:, 0] - x) / px) ** 2 + ((near[:, 1] - y) / py) ** 2
        if excluded is not None:
            d2 = np.where(excluded[candidates], np.inf, d2)
        i = int(np.argmin(d2))
        return int(candidates[i]) if d2[i] <= radius_px**2 else -1
