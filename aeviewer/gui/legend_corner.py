"""Where the scatter's legend goes: the corner of the plot that hides the fewest points.

Its half-opaque box washed out every point under it (the emoji VQ-VAE's scatter has a third of its points in
the top-right corner, where the legend always was)."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg

CORNERS = ((1, 0), (0, 0), (1, 1), (0, 1))  # (x, y) as pyqtgraph anchors: 0 left/top, 1 right/bottom; first wins ties
MARGIN_PX = 8


def emptiest_corner(coords: np.ndarray, box_fraction: tuple[float, float]) -> tuple[int, int]:
    """The corner of the points' bounding box where a box of ``box_fraction`` (of its width, height) covers the
    fewest of ``coords`` (N, 2); y is up in the data and down in the anchor, as on screen."""
    if len(coords) == 0:
        return CORNERS[0]
    lo, hi = coords.min(0), coords.max(0)
    span = np.maximum(hi - lo, 1e-12)
    u = (coords - lo) / span  # 0..1, y up
    fw, fh = box_fraction
    counts = []
    for ax, ay in CORNERS:
        inside_x = u[:, 0] >= 1 - fw if ax == 1 else u[:, 0] <= fw
        inside_y = u[:, 1] <= fh if ay == 1 else u[:, 1] >= 1 - fh  # the anchor's bottom is the data's low y
        counts.append(int(np.count_nonzero(inside_x & inside_y)))
    return CORNERS[int(np.argmin(counts))]


def place_legend(legend: pg.LegendItem, viewbox: pg.ViewBox, coords: np.ndarray) -> tuple[int, int]:
    """Anchor ``legend`` in the emptiest corner of ``viewbox`` for ``coords``; returns that corner."""
    box, area = legend.boundingRect(), viewbox.boundingRect()
    if area.width() <= 0 or area.height() <= 0:
        return CORNERS[0]
    corner = emptiest_corner(coords, (min(1.0, box.width() / area.width()), min(1.0, box.height() / area.height())))
    offset = (-MARGIN_PX if corner[0] else MARGIN_PX, -MARGIN_PX if corner[1] else MARGIN_PX)
    legend.anchor(itemPos=corner, parentPos=corner, offset=offset)
    return corner
