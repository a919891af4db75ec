"""PriorMatchView: the codes of a set (the aggregated posterior) over contours of the model's prior density, on
latent dims 0 and 1: how well an AAE's adversary (or a VAE's KL) pulled the codes to the prior.

The contours enclose the densest 50%, 90% and 99% of the prior (``regulariser.mass_levels``); one
``ScatterPlotItem`` per class, one ``IsocurveItem`` per level, all replaced in place on each update.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QTransform
from PySide6.QtWidgets import QWidget

from aeviewer.explore import latent_space
from aeviewer.explore import regulariser
from aeviewer.data.imageset import ImageSet
from aeviewer.gui.widgets.image_utils import class_color
from aeviewer.models.base import Autoencoder

CONTOUR_PENS = ("#222222", "#555555", "#999999")  # 50%, 90%, 99%: darkest innermost
GRID_POINTS = 160  # per side of the density grid: ~0.1 apart over a 16-wide region
MARGIN = 0.1  # fraction of the region added on each side


class PriorMatchView(pg.PlotWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, background="w")
        self.setObjectName("priorMatchView")
        self.setMinimumSize(240, 240)
        self.setToolTip("Codes of the test images (dots, coloured by class) over the prior's density on dims 0 and 1:\n"
                        "the contours enclose its densest 50%, 90% and 99%. Where the dots leave the contours, the\n"
                        "regulariser has not matched the codes to the prior.")
        self.setAspectLocked(True)
        self.setLabel("bottom", "z0")
        self.setLabel("left", "z1")
        self.scatters: list[pg.ScatterPlotItem] = []
        self.contours = [pg.IsocurveItem(level=0.0, pen=pg.mkPen(color, width=2)) for color in CONTOUR_PENS]
        for item in self.contours:
            item.setZValue(10)  # over the dots
            self.addItem(item)
        self.levels: list[float] = []

    def show_model(self, model: Autoencoder, images: ImageSet) -> None:
        """Encode ``images`` and draw their codes over ``model``'s prior."""
        codes = latent_space.encode_set(model, images)
        self.show_codes(model, codes[:, :2], images.labels.numpy())

    def show_codes(self, model: Autoencoder, codes: np.ndarray, labels: np.ndarray) -> None:
        self._show_scatter(codes, labels)
        region = _region(codes)
        xs, ys, density = regulariser.prior_contour_grid(model.config, *region, n=GRID_POINTS)
        dx, dy = xs[1] - xs[0], ys[1] - ys[0]
        self.levels = regulariser.mass_levels(density, dx * dy)
        # IsocurveItem puts sample (i, j) at (i + 0.5, j + 0.5) of data indexed [x, y]: map that onto z0, z1
        transform = QTransform()
        transform.translate(xs[0] - 0.5 * dx, ys[0] - 0.5 * dy)
        transform.scale(dx, dy)
        for item, level in zip(self.contours, self.levels):
            item.setData(density.T, level)
            item.setTransform(transform)
        self.setXRange(*region[0], padding=0)
        self.setYRange(*region[1], padding=0)
        self.setTitle(f"codes of {len(codes):,} images over the prior ({model.config.kind}, "
                      f"{'N(0, I)' if model.regulariser == 'kl' else model.config.prior}): 50/90/99% contours",
                      color="k", size="10pt")

    def _show_scatter(self, codes: np.ndarray, labels: np.ndarray) -> None:
        n_classes = int(labels.max()) + 1 if len(labels) else 0
        while len(self.scatters) < n_classes:
            item = pg.ScatterPlotItem(size=3, pen=None)
            self.addItem(item)
            self.scatters.append(item)
        for k, item in enumerate(self.scatters):
            mine = codes[labels == k]
            item.setData(x=mine[:, 0], y=mine[:, 1], brush=pg.mkBrush(*class_color(k), 150))


def _region(codes: np.ndarray) -> tuple[tuple[float, float], tuple[float, float]]:
    """A square covering the codes and the prior's bulk (at least -3..3), with a margin."""
    lo = np.minimum(np.percentile(codes, 0.5, axis=0), -3.0)
    hi = np.maximum(np.percentile(codes, 99.5, axis=0), 3.0)
    centre, half = (lo + hi) / 2, float((hi - lo).max()) / 2 * (1 + MARGIN)
    return (float(centre[0] - half), float(centre[0] + half)), (float(centre[1] - half), float(centre[1] + half))
