"""ClassScatter's shortcuts (cached boundingRect and bounds, one atlas lookup per class, a culling paint) draw exactly what pyqtgraph would."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import QRectF

from aeviewer.gui.widgets.pg_items import ClassScatter


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


def test_culling_paint_draws_the_same_pixels_as_pyqtgraph_zoomed_in_and_after_changes(qtbot):
    ours, theirs = ClassScatter(**style()), pg.ScatterPlotItem(**style())
    x, y = points(20_000, 5)
    x[:50] = np.nan  # pyqtgraph draws no NaN point; they sort last in the x order
    for item in (ours, theirs):
        item.setData(x=x, y=y)
        item.data["visible"][100:400] = False  # hidden points stay hidden
    a, b = plot_with(ours, qtbot), plot_with(theirs, qtbot)

    def same(x_range: tuple[float, float], y_range: tuple[float, float]) -> None:
        for w in (a, b):
            w.getViewBox().setRange(xRange=x_range, yRange=y_range, padding=0)
        qtbot.wait(20)
        assert a.grab().toImage() == b.grab().toImage(), (x_range, y_range)

    same((-0.5, 0.5), (-0.4, 0.4))  # zoomed in: dots cut by every edge of the view
    same((0.93, 1.07), (-0.05, 0.05))  # a handful of points, some half outside
    same((-4, 4), (-4, 4))  # everything
    moved = x + 0.3, y - 0.2
    ours.move_points(*moved)  # new positions in the same array: the x order must be made again
    theirs.setData(x=moved[0], y=moved[1])
    theirs.data["visible"][100:400] = False
    same((-0.2, 0.8), (-0.6, 0.2))
    fewer = points(3_000, 6)
    for item in (ours, theirs):
        item.setData(*fewer)
    same((-0.5, 0.5), (-0.4, 0.4))


def test_data_bounds_are_pyqtgraphs_after_new_data_moves_and_view_changes(qtbot):
    ours = ClassScatter(**style())
    x, y = points(2_000, 7)
    x[3] = np.nan
    ours.setData(x=x, y=y)
    widget = plot_with(ours, qtbot)

    def expected(ax: int) -> tuple[float, float]:
        stock = pg.ScatterPlotItem(**style())
        stock.setData(x=ours.data["x"].copy(), y=ours.data["y"].copy())
        return stock.dataBounds(ax)

    assert [ours.dataBounds(ax) for ax in (0, 1)] == [expected(ax) for ax in (0, 1)]
    widget.getViewBox().setRange(xRange=(-0.5, 0.5), yRange=(-0.5, 0.5), padding=0)
    qtbot.wait(10)
    assert [ours.dataBounds(ax) for ax in (0, 1)] == [expected(ax) for ax in (0, 1)]
    ours.move_points(x * 3, y - 5)
    assert [ours.dataBounds(ax) for ax in (0, 1)] == [expected(ax) for ax in (0, 1)]
    assert ours.dataBounds(0, frac=0.9) == pytest.approx(tuple(pg.ScatterPlotItem.dataBounds(ours, 0, frac=0.9)))


def test_an_empty_item_paints_nothing_and_bounds_like_pyqtgraph(qtbot):
    ours = ClassScatter(**style())
    widget = plot_with(ours, qtbot)
    ours.setData(x=np.zeros(0, np.float32), y=np.zeros(0, np.float32))
    widget.getViewBox().setRange(xRange=(-1, 1), yRange=(-1, 1), padding=0)
    qtbot.wait(20)
    assert widget.grab().toImage() is not None and ours.dataBounds(0) == (None, None)
