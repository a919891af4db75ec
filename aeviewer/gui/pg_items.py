"""Our pyqtgraph overrides, in one place with their tests (tests/gui/test_pg_items.py).

PickViewBox: a plain left button picks points instead of panning. ClassScatter: one class's points,
with two shortcuts over ScatterPlotItem (a cached boundingRect, one atlas lookup per class) that draw
exactly what pyqtgraph would; a pyqtgraph upgrade is checked by those tests.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt, Signal


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
        self.prepareGeometryChange()
        self.informViewBoundsChanged()
        self.bounds = [None, None]  # pyqtgraph's cached data bounds
        self.invalidate()
        self.sigPlotChanged.emit(self)
