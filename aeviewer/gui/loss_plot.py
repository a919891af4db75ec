"""LossPlot: live loss curves, one PlotDataItem per term, fed with setData (never re-created)."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QWidget

# Distinct, colour-blind-friendly pens (Okabe–Ito, minus the yellow that vanishes on white);
# "total" is drawn black and thicker.
PALETTE = ("#E69F00", "#56B4E9", "#009E73", "#0072B2", "#D55E00", "#CC79A7")


class LossPlot(pg.PlotWidget):
    """Loss per term against the global step; ``add_point(step, losses)`` appends one sample."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, background="w")  # white, like the other plots of the window
        self.setObjectName("lossPlot")
        self.setMinimumHeight(160)
        self.setToolTip("Training loss per term (mean per image) against the training step.\n"
                        "Right-click for log scale and export.")
        self.setLabel("bottom", "step")
        self.setLabel("left", "loss")
        self.showGrid(x=True, y=True, alpha=0.2)
        self.addLegend(offset=(-10, 10), labelTextColor="k", brush=(255, 255, 255, 200))
        plot = self.getPlotItem()
        plot.setClipToView(True)
        plot.setDownsampling(auto=True, mode="peak")
        self.curves: dict[str, pg.PlotDataItem] = {}
        self._steps: dict[str, list[float]] = {}
        self._values: dict[str, list[float]] = {}

    def clear_curves(self) -> None:
        """Empty every curve (the items stay, so a new run reuses them)."""
        for name, curve in self.curves.items():
            self._steps[name].clear()
            self._values[name].clear()
            curve.setData([], [])

    def add_point(self, step: float, losses: dict[str, float]) -> None:
        for name, value in losses.items():
            curve = self.curves.get(name) or self._add_curve(name)
            self._steps[name].append(float(step))
            self._values[name].append(float(value))
            curve.setData(np.asarray(self._steps[name]), np.asarray(self._values[name]))

    def _add_curve(self, name: str) -> pg.PlotDataItem:
        if name == "total":
            pen = pg.mkPen("k", width=2)
        else:
            pen = pg.mkPen(PALETTE[(len(self.curves)) % len(PALETTE)], width=1.5)
        curve = self.plot([], [], pen=pen, name=name)
        self.curves[name] = curve
        self._steps[name], self._values[name] = [], []
        return curve

    def series(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """The (steps, values) drawn for ``name`` (for tests and export)."""
        return np.asarray(self._steps.get(name, [])), np.asarray(self._values.get(name, []))
