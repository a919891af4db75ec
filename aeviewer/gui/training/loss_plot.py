"""LossPlot: live loss curves, one PlotDataItem per term, fed with setData (never re-created).

Live points are batched: ``add_point`` appends to the series and the curves are redrawn at most
``REDRAW_INTERVAL_MS`` apart (a repaint of the plot costs ~10 ms of the GUI thread; at up to ten
progress signals a second that was a tenth of an epoch's CPU taken from training).
"""
from __future__ import annotations

import zlib

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QWidget

from aeviewer.gui.widgets.coalescing import CoalescingTimer

# Distinct, colour-blind-friendly pens (Okabe–Ito, minus the yellow that vanishes on white);
# "total" is drawn black and thicker.
PALETTE = ("#E69F00", "#56B4E9", "#009E73", "#0072B2", "#D55E00", "#CC79A7")
# One colour per term name wherever it is drawn: a saved history and a live run list the terms in
# different orders, and colours given in order of arrival swapped between them. "kl" is the KL chart's blue.
TERM_COLORS = {"recon": "#E69F00", "kl": "#0072B2", "disc": "#D55E00", "gen": "#009E73",
               "codebook": "#56B4E9", "commitment": "#CC79A7", "total": "#000000"}
# Keys of a checkpoint's per-epoch history that are not loss terms (the Trainer's bookkeeping and the
# VQ-VAE's code-usage figures, on other scales than a loss: ~10^4 samples/s would flatten every curve).
NOT_LOSSES = frozenset({"epoch", "seconds", "samples_per_s", "perplexity", "codes_used_frac"})
REDRAW_INTERVAL_MS = 250  # at most four curve redraws a second while training


def term_color(name: str) -> str:
    """The colour of loss term ``name``: its own for the models' terms, else one of the palette picked by the
    name (the same in every run and every session)."""
    return TERM_COLORS.get(name) or PALETTE[zlib.crc32(name.encode()) % len(PALETTE)]


class WholeNumberAxis(pg.AxisItem):
    """Ticks on whole numbers only: epochs and steps are counts (a few epochs were ticked 1.5, 2.5)."""

    def tickSpacing(self, minVal: float, maxVal: float, size: float) -> list[tuple[float, float]]:  # noqa: N802
        levels = [(spacing, offset) for spacing, offset in super().tickSpacing(minVal, maxVal, size)
                  if spacing >= 1 and float(spacing).is_integer()]
        return levels or [(1.0, 0.0)]


class LossPlot(pg.PlotWidget):
    """Loss per term against the global step; ``add_point(step, losses)`` appends one sample."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, background="w", axisItems={"bottom": WholeNumberAxis("bottom")})  # white, like the other plots
        self.setObjectName("lossPlot")
        self.setMinimumHeight(160)
        self.setToolTip("Training loss per term (mean per image) against the training step.\n"
                        "Right-click for log scale and export.")
        self.setLabel("bottom", "step")
        self.setLabel("left", "loss")
        self.showGrid(x=True, y=True, alpha=0.2)
        plot = self.getPlotItem()
        # The legend sits in the plot's title row, two entries a row, so it never covers the curves
        # (a falling loss runs through every corner of the view at some point).
        plot.layout.removeItem(plot.titleLabel)  # this plot has no title: its row holds the legend
        plot.titleLabel.hide()
        plot.legend = pg.LegendItem(colCount=2, labelTextColor="k", horSpacing=10, frame=False)
        plot.layout.addItem(plot.legend, 0, 1, alignment=Qt.AlignmentFlag.AlignRight)
        plot.setClipToView(True)
        plot.setDownsampling(auto=True, mode="peak")
        self.curves: dict[str, pg.PlotDataItem] = {}
        self._steps: dict[str, list[float]] = {}
        self._values: dict[str, list[float]] = {}
        self._redraw_timer = CoalescingTimer(self, self.flush, REDRAW_INTERVAL_MS)

    def sizeHint(self) -> QSize:
        """No more than its minimum height: the training form above asks for all its rows first, and the chart
        takes what is left (pyqtgraph hints 600 px, which squeezed the form into a scroll on a 1600x1000 screen)."""
        return QSize(super().sizeHint().width(), self.minimumHeight())

    def clear_curves(self) -> None:
        """Remove every curve and its legend entry (the next model may have other loss terms); the x axis is
        the step again."""
        self._redraw_timer.stop()
        plot = self.getPlotItem()
        for curve in self.curves.values():
            plot.legend.removeItem(curve)
            plot.removeItem(curve)
        self.curves.clear()
        self._steps.clear()
        self._values.clear()
        self.setLabel("bottom", "step")
        self.setLabel("left", "loss")  # a prior's run (gui/training/prior_stage.py) labels it bits per code

    def show_history(self, history: list[dict]) -> int:
        """Draw a checkpoint's saved per-epoch history (one point per epoch and loss term) in place of
        the curves shown; returns the number of epochs drawn. Non-numeric and non-loss keys are skipped."""
        self.clear_curves()
        epochs = 0
        for n, record in enumerate(history, start=1):
            if not isinstance(record, dict):
                continue
            epoch = record.get("epoch", n)
            losses = {k: v for k, v in record.items()
                      if k not in NOT_LOSSES and isinstance(v, (int, float)) and not isinstance(v, bool)}
            if losses and isinstance(epoch, (int, float)):
                self.add_point(float(epoch), losses)
                epochs += 1
        self.flush()
        if epochs:
            self.setLabel("bottom", "epoch (saved history)")
            if epochs <= 60:  # few points: mark each epoch
                for curve in self.curves.values():
                    curve.setSymbol("o")
                    curve.setSymbolSize(4)
                    curve.setSymbolPen(curve.opts["pen"])
                    curve.setSymbolBrush(curve.opts["pen"].color())
        self.enableAutoRange()
        return epochs

    def add_point(self, step: float, losses: dict[str, float]) -> None:
        """Append one sample per term; the curves show it at the next redraw (within REDRAW_INTERVAL_MS)."""
        for name, value in losses.items():
            if name not in self.curves:
                self._add_curve(name)
            self._steps[name].append(float(step))
            self._values[name].append(float(value))
        self._redraw_timer.request()

    def flush(self) -> None:
        """Give every curve the points added since the last redraw."""
        self._redraw_timer.stop()
        for name, curve in self.curves.items():
            if len(self._steps[name]) != len(curve.xData if curve.xData is not None else ()):
                curve.setData(np.asarray(self._steps[name]), np.asarray(self._values[name]))

    def _add_curve(self, name: str) -> pg.PlotDataItem:
        pen = pg.mkPen(term_color(name), width=2 if name == "total" else 1.5)
        curve = self.plot([], [], pen=pen, name=name)
        self.curves[name] = curve
        self._steps[name], self._values[name] = [], []
        return curve

    def series(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """The (steps, values) drawn for ``name`` (for tests and export)."""
        return np.asarray(self._steps.get(name, [])), np.asarray(self._values.get(name, []))
