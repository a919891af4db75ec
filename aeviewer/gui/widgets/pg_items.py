"""Our pyqtgraph overrides, in one place with their tests (tests/gui/widgets/test_pg_items.py).

PickViewBox: a plain left button picks points instead of panning. ClassScatter: one class's points,
with shortcuts over ScatterPlotItem (a cached boundingRect and data bounds, one atlas lookup per class, a
paint that culls to the view by binary search) that draw exactly what pyqtgraph would; a pyqtgraph upgrade
is checked by those tests.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from pyqtgraph import functions as fn
from PySide6.QtCore import QRectF, Qt, Signal

HOVER_RADIUS_PX = 8.0  # how close (screen pixels) the cursor must be to a point to show its image, on every scatter


class PickViewBox(pg.ViewBox):
    """A ViewBox whose plain left button picks points instead of panning."""

    sigPick = Signal(float, float)  # a click or one step of a drag, in view coordinates
    sigPickDrag = Signal(bool)  # True when a picking drag starts, False when it ends

    def mouseClickEvent(self, ev: Any) -> None:
        """Picks the clicks the press filter did not (Shift+click); a double click adds no pick."""
        if ev.button() == Qt.MouseButton.LeftButton:
            ev.accept()
            if not ev.double():
                p = self.mapSceneToView(ev.scenePos())
                self.sigPick.emit(p.x(), p.y())
        else:
            super().mouseClickEvent(ev)

    def mouseDragEvent(self, ev: Any, axis: int | None = None) -> None:
        picking = ev.button() == Qt.MouseButton.LeftButton and not (ev.modifiers() & Qt.KeyboardModifier.ShiftModifier)
        if not picking:
            super().mouseDragEvent(ev, axis)  # middle / Shift+left pans, right zooms
            return
        ev.accept()
        if ev.isStart():
            self.sigPickDrag.emit(True)
        if not (ev.isFinish() and ev.scenePos() == ev.lastScenePos()):  # a release where the last move was: no new point
            p = self.mapSceneToView(ev.scenePos())
            self.sigPick.emit(p.x(), p.y())
        if ev.isFinish():
            self.sigPickDrag.emit(False)


class ClassScatter(pg.ScatterPlotItem):
    """One class's points; clicks fall through to the ViewBox (a click on a dot picks that spot too)."""

    _rect_key: tuple[Any, Any, float] | None = None
    _rect: QRectF | None = None
    _sorted_for: np.ndarray | None = None  # the data array the x order below was made for
    _x_order: np.ndarray = np.zeros(0, np.int64)  # point indices by increasing x (NaNs last)
    _x_sorted: np.ndarray = np.zeros(0)
    _extent: tuple[tuple[float, float], tuple[float, float]] = ((0.0, 0.0), (0.0, 0.0))  # nanmin/nanmax of x, y
    _widest: int | None = None  # the widest symbol in the atlas rects of the points, px

    def mouseClickEvent(self, ev: Any) -> None:
        ev.ignore()

    def boundingRect(self) -> QRectF:
        """pyqtgraph's rect, cached: Qt asks each class item for it a dozen times per click (press and
        release hit tests, hover, paint) and pyqtgraph computes it in Python (~0.3 ms, mostly
        pixelVectors). Its per-axis data bounds (``self.bounds``) are reset on new data and on every
        view-transform change (``viewTransformChanged``), so they key the cache."""
        key = (self.bounds[0], self.bounds[1], self.pixelPadding())
        cached = self._rect_key
        if (self._rect is not None and cached is not None and key[0] is not None and key[1] is not None
                and key[0] is cached[0] and key[1] is cached[1] and key[2] == cached[2]):
            return QRectF(self._rect)
        rect = super().boundingRect()
        self._rect_key, self._rect = (self.bounds[0], self.bounds[1], self.pixelPadding()), QRectF(rect)
        return rect

    def dataBounds(self, ax: int, frac: float = 1.0, orthoRange: Any = None) -> Any:
        """pyqtgraph's full-range bounds from min/max kept per data array: it takes them over every point
        again after each view change (``viewTransformChanged`` resets ``self.bounds``), ~0.1 ms a class a frame."""
        if frac < 1.0 or orthoRange is not None or self.data is None or len(self.data) == 0 or ax not in (0, 1):
            return super().dataBounds(ax, frac, orthoRange)
        if self.bounds[ax] is None:
            lo, hi = self._sorted()[2][ax]
            pad = self._maxSpotWidth * 0.7072
            self.bounds[ax] = (lo - pad, hi + pad)
        return self.bounds[ax]

    @pg.debug.warnOnException  # as pyqtgraph's: an exception raised out of a paint ends the process
    def paint(self, p: Any, option: Any, widget: Any) -> None:
        """pyqtgraph's atlas drawing with the cull done first: the points whose x can reach the view are found
        by binary search in an x order kept per data array, and only those are tested against the view (as
        ``_maskAt`` does), mapped to the device and drawn, in data order. pyqtgraph maps and tests every point
        of the item each frame (~1 ms per 20,000), though zoomed in only hundreds show. Anything else (export,
        data-unit sizes, no atlas, a new device pixel ratio) is pyqtgraph's own paint."""
        dpr = self.fragmentAtlas.devicePixelRatio()
        if (self._exportOpts is not False or self.opts["pxMode"] is not True or not self.opts["useCache"]
                or self.opts.get("compositionMode") is not None
                or (widget is not None and widget.devicePixelRatioF() != dpr)):
            super().paint(p, option, widget)
            return
        if self.data is None or len(self.data) == 0:
            return
        shown = self._indices_in(self.viewRect())
        pts = fn.transformCoordinates(p.transform(), np.vstack([self.data["x"][shown], self.data["y"][shown]]))
        pts = fn.clip_array(pts, -2 ** 30, 2 ** 30)  # as pyqtgraph: out-of-range device coordinates crash Qt
        p.resetTransform()
        source = self.data["sourceRect"][shown]
        self._pixmapFragments.resize(source.size)
        frags = self._pixmapFragments.ndarray()
        frags[:, 0:2] = pts.T
        frags[:, 2:6] = np.frombuffer(source, dtype=int).reshape((-1, 4))
        frags[:, 6:10] = [1 / dpr, 1 / dpr, 0.0, 1.0]
        p.drawPixmapFragments(*self._pixmapFragments.drawargs(), self.fragmentAtlas.pixmap)

    def _indices_in(self, rect: QRectF) -> np.ndarray:
        """Indices (ascending) of the points ``_maskAt(rect)`` selects, testing only those whose x can reach it."""
        order, xs, _ = self._sorted()
        px, py = self.pixelVectors()
        px = 0.0 if px is None else px.length()
        py = 0.0 if py is None else py.length()
        if self._widest is None:  # symbol widths only change in updateSpots, which resets this
            self._widest = int(self.data["sourceRect"]["w"].max()) if len(self.data) else 0
        reach = self._widest / 2 * px  # the widest of pyqtgraph's per-point margins below
        lo = int(np.searchsorted(xs, rect.left() - reach, side="right"))
        hi = int(np.searchsorted(xs, rect.right() + reach, side="left"))
        near = np.sort(order[lo:hi])
        x, y = self.data["x"][near], self.data["y"][near]
        w, h = self.data["sourceRect"]["w"][near] / 2 * px, self.data["sourceRect"]["h"][near] / 2 * py
        keep = (self.data["visible"][near] & (x + w > rect.left()) & (x - w < rect.right())
                & (y + h > rect.top()) & (y - h < rect.bottom()))
        return near[keep]

    def _sorted(self) -> tuple[np.ndarray, np.ndarray, tuple[tuple[float, float], tuple[float, float]]]:
        if self._sorted_for is not self.data:
            x, y = self.data["x"], self.data["y"]
            self._x_order = np.argsort(x, kind="stable")
            self._x_sorted = x[self._x_order]
            self._extent = ((float(np.nanmin(x)), float(np.nanmax(x))), (float(np.nanmin(y)), float(np.nanmax(y))))
            self._sorted_for = self.data
        return self._x_order, self._x_sorted, self._extent

    def updateSpots(self, dataSet: Any = None) -> None:
        """Look the dot up in pyqtgraph's symbol atlas once when every point shares the item's style
        (ours do: one brush per class); pyqtgraph looks it up per point in Python (~0.3 s at 60,000)."""
        data = self.data if dataSet is None else dataSet
        filled = False
        if self.opts["pxMode"] and self.opts["useCache"] and not self.opts["hoverable"] and len(data) > 1:
            todo = np.flatnonzero(data["sourceRect"]["w"] == 0)
            if len(todo) > 1 and self._one_style(data):
                style = list(zip(*self._style(["symbol", "size", "pen", "brush"], data=data, idx=todo[:1])))
                data["sourceRect"][todo] = self.fragmentAtlas[style][0]
                filled = True
        super().updateSpots(dataSet)  # finds nothing left to look up; sizes, atlas upkeep as before
        self._widest = None
        if filled:
            self.invalidate()

    @staticmethod
    def _one_style(data: np.ndarray) -> bool:
        """No point overrides the item's symbol, size, pen or brush (pyqtgraph's per-point defaults)."""
        return bool((data["size"] == -1).all()) and all(bool(np.equal(data[k], None).all()) for k in ("symbol", "pen", "brush"))

    def move_points(self, x: np.ndarray, y: np.ndarray) -> None:
        """New positions for the same number of points without rebuilding their symbol-atlas entries
        (setData re-keys every point in Python: ~0.3 s at 60,000 points; this is ~1 ms)."""
        if len(x) != len(self.data):
            self.setData(x=x, y=y)
            return
        self.data["x"] = x
        self.data["y"] = y
        self._sorted_for = None  # new positions in the same array
        self.prepareGeometryChange()
        self.informViewBoundsChanged()
        self.bounds = [None, None]  # pyqtgraph's cached data bounds
        self.invalidate()
        self.sigPlotChanged.emit(self)
