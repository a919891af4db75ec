"""ClassScatter's two shortcuts (cached boundingRect, one atlas lookup per class) draw exactly what pyqtgraph would."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import QRectF

from aeviewer.gui.pg_items import ClassScatter


def plot_with(item: pg.ScatterPlotItem, qtbot) -> pg.PlotWidget:
    widget = pg.PlotWidget(background="w")
    widget.setAntialiasing(False)
    widget.addItem(item)
    widget.resize(400, 300)
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def style() -> dict:
    return dict(pen=None, brush=pg.mkBrush(200, 30, 30, 200), size=5, symbol="o", pxMode=True, useCache=True, antialias=False)


def points(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.normal(0, 1, n).astype(np.float32), rng.normal(0, 1, n).astype(np.float32)


def test_cached_bounding_rect_follows_new_data_zoom_and_resize(qtbot):
    item = ClassScatter(**style())
    item.setData(*points(500, 0))
    widget = plot_with(item, qtbot)
    expected = lambda: pg.ScatterPlotItem.boundingRect(item)  # noqa: E731 - pyqtgraph's own computation
    assert item.boundingRect() == expected()
    widget.getViewBox().setRange(xRange=(-0.5, 0.5), yRange=(-0.5, 0.5), padding=0)
    qtbot.wait(10)
    assert item.boundingRect() == expected()
    widget.resize(700, 500)
    qtbot.wait(20)
    assert item.boundingRect() == expected()
    item.move_points(*points(500, 1))
    assert item.boundingRect() == expected()
    item.setData(*points(300, 2))
    assert item.boundingRect() == expected()
    assert isinstance(item.boundingRect(), QRectF)


@pytest.mark.parametrize("n", [2, 3000])
def test_one_atlas_lookup_draws_the_same_pixels_as_pyqtgraph(qtbot, n):
    ours, theirs = ClassScatter(**style()), pg.ScatterPlotItem(**style())
    x, y = points(n, 3)
    ours.setData(x=x, y=y)
    theirs.setData(x=x, y=y)
    assert (ours.data["sourceRect"]["w"] > 0).all()
    a, b = plot_with(ours, qtbot), plot_with(theirs, qtbot)
    for w in (a, b):
        w.getViewBox().setRange(xRange=(-3, 3), yRange=(-3, 3), padding=0)
    qtbot.wait(20)
    image_a, image_b = a.grab().toImage(), b.grab().toImage()
    assert image_a == image_b


def test_points_with_their_own_brush_still_get_their_own_symbols(qtbot):
    item = ClassScatter(**style())
    brushes = [pg.mkBrush(255, 0, 0), pg.mkBrush(0, 0, 255)] * 50
    item.setData(*points(100, 4), brush=brushes)
    rects = {tuple(r) for r in item.data["sourceRect"].tolist()}
    assert len(rects) == 2  # red and blue dots: two atlas entries, not one shared
