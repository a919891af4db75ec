"""KLChart: a VAE's KL per latent dimension as bars, the active units coloured and the collapsed ones grey.

One ``BarGraphItem`` whose options are replaced on each update (never re-created), so a live update during
training costs one small redraw. The numbers come from :func:`aeviewer.explore.regulariser.kl_per_dimension`.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QWidget

from aeviewer.explore import regulariser
from aeviewer.data.imageset import ImageSet
from aeviewer.gui.training.loss_plot import TERM_COLORS
from aeviewer.models.base import Autoencoder

ACTIVE_COLOR = TERM_COLORS["kl"]  # the loss plot's colour of the KL term (Okabe-Ito blue)
INACTIVE_COLOR = "#BBBBBB"
LIVE_IMAGES = 1000  # a live update encodes this many images: ~10 ms for a 20-dim MLP VAE on 28x28


class KLChart(pg.PlotWidget):
    """``show_report(report)`` draws a :class:`regulariser.KLPerDimension`; ``show_model(model, images)``
    computes and draws it (on the first ``LIVE_IMAGES`` images)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, background="w")
        self.setObjectName("klChart")
        self.setMinimumHeight(160)
        self.setToolTip("KL divergence of q(z|x) from the prior N(0, 1), per latent dimension, averaged over\n"
                        "the test images (nats). Blue: active units (the code varies over the images, variance\n"
                        "> 0.01); grey: dimensions the model has stopped using (posterior collapse).")
        self.setLabel("bottom", "latent dimension")
        self.setLabel("left", "KL (nats per image)")
        self.showGrid(y=True, alpha=0.2)
        self.setMouseEnabled(x=False, y=False)
        self.bars = pg.BarGraphItem(x=[], height=[], width=0.8)
        self.addItem(self.bars)
        # a collapsed dimension's bar has no height: a grey cross on the axis marks it
        self.inactive_marks = pg.ScatterPlotItem(symbol="x", size=10, pen=pg.mkPen(INACTIVE_COLOR, width=2),
                                                 brush=pg.mkBrush(INACTIVE_COLOR))
        self.addItem(self.inactive_marks)
        self.report: regulariser.KLPerDimension | None = None

    def show_model(self, model: Autoencoder, images: ImageSet, limit: int = LIVE_IMAGES) -> regulariser.KLPerDimension:
        """Compute the KL per dimension of ``model`` on (the first ``limit`` of) ``images`` and draw it."""
        subset = images if len(images) <= limit else images.subset(slice(0, limit))
        report = regulariser.kl_per_dimension(model, subset)
        self.show_report(report, len(subset))
        return report

    def show_report(self, report: regulariser.KLPerDimension, n_images: int | None = None) -> None:
        self.report = report
        dims = np.arange(len(report.kl))
        brushes = [pg.mkBrush(ACTIVE_COLOR if a else INACTIVE_COLOR) for a in report.active]
        self.bars.setOpts(x=dims, height=report.kl, width=0.8, brushes=brushes, pens=[pg.mkPen(None)] * len(dims))
        top = max(1e-3, float(report.kl.max(initial=0.0))) * 1.08
        inactive = dims[~report.active]
        self.inactive_marks.setData(x=inactive, y=np.full(len(inactive), top * 0.02))
        ticks = [(int(d), f"z{d}") for d in dims] if len(dims) <= 32 else None
        self.getAxis("bottom").setTicks([ticks] if ticks else None)
        self.setXRange(-0.6, len(dims) - 0.4, padding=0)
        self.setYRange(0, top, padding=0)
        over = f" over {n_images:,} images" if n_images else ""
        self.setTitle(f"{report.n_active} of {len(dims)} dimensions active (blue; × inactive), "
                      f"KL {report.total:.2f} nats{over}",
                      color="k", size="10pt")

    def bar_colors(self) -> list[str]:
        """The colour of each bar, as '#rrggbb' (what a test or a screenshot reader checks)."""
        return [b.color().name() for b in self.bars.opts.get("brushes") or []]
