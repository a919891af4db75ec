"""Where the scatter's legend goes: in a band above the plot, its entries in as many columns as fit, so that it
covers no point at any zoom.

In a corner of the plot its half-opaque box washed out the points under it: up to half the scatter on a laptop
screen, and a third of the emoji VQ-VAE's points."""
from __future__ import annotations

import pyqtgraph as pg

GAP_PX = 2


def place_legend(legend: pg.LegendItem, plot: pg.PlotItem) -> int:
    """Put ``legend`` above ``plot``'s view box (in the title row, which is empty) in as many columns as its
    width holds; returns the number of columns."""
    if legend.parentItem() is not plot:
        legend.setParentItem(plot)
    entries = [(sample, label) for sample, label in legend.items]
    width = max(1.0, plot.vb.width())
    widest = max((sample.boundingRect().width() + label.boundingRect().width() + 8 for sample, label in entries),
                 default=1.0)
    columns = max(1, min(len(entries) or 1, int(width // widest)))
    legend.setColumnCount(columns)
    legend.updateSize()
    legend.anchor(itemPos=(0, 0), parentPos=(0, 0), offset=(plot.vb.pos().x(), GAP_PX))
    plot.layout.setRowFixedHeight(0, legend.boundingRect().height() + 2 * GAP_PX if entries else 0)
    return columns
