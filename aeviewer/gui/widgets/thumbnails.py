"""The Images layer's thumbnails: test images drawn at their points, one per occupied grid cell.

One QGraphicsObject paints every chosen image in ``paint()`` (never one item per point): the picks come from
``explore.map_cells.pick_thumbnails`` at each range change, and each image is painted in device pixels
(the view's y axis points up; an image drawn through it would be upside down and stretched by the axes'
units), at the cell's size less a gap, with a thin frame in its class colour. The dots stay underneath.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtWidgets import QGraphicsItem
from PySide6.QtGui import QColor, QPainter, QPen, QPixmap

from aeviewer.explore.map_cells import CellGrid, pick_thumbnails, thumbnail_rects
from aeviewer.gui.widgets.image_utils import class_color, to_qimage

CELL_PX = 48  # one image per 48x48 px cell: big enough to tell a digit, small enough to cover a map
THUMBNAIL_Z = 5  # over the dots (0) and the manifold, under the crosshair (10) and the drawn star


class PointSource:
    """What the thumbnails draw from: the 2-D points, their labels, the images and the points not to pick."""

    def __init__(self, coords: np.ndarray, labels: np.ndarray, images: Any, hidden: np.ndarray | None = None) -> None:
        self.coords = np.asarray(coords, np.float32)
        self.labels = np.asarray(labels, np.int64)
        self.images = images  # (N, C, H, W) uint8, torch or numpy
        self.hidden = hidden


class ThumbnailItem(pg.GraphicsObject):
    """Paints the picked points' images; ``refresh()`` picks again for the view box's current range."""

    def __init__(self, viewbox: pg.ViewBox, source: Callable[[], PointSource | None], cell_px: int = CELL_PX) -> None:
        super().__init__()
        self.viewbox = viewbox
        self.source = source
        self.cell_px = cell_px
        self.picked = np.zeros(0, np.int64)
        self.rects = np.zeros((0, 4), np.float64)  # view units (x0, y0, x1, y1) per pick
        self._labels = np.zeros(0, np.int64)
        self._images: Any = None
        self._pixmaps: dict[tuple[int, int], QPixmap] = {}  # (index, side px) -> scaled image
        self._bounds = QRectF()
        self.setZValue(THUMBNAIL_Z)
        # painted into a pixmap once per range: a crosshair move or a click's repaint then only blits it
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)

    def grid(self) -> CellGrid | None:
        px, py = self.viewbox.viewPixelSize()
        if px <= 0 or py <= 0:
            return None
        return CellGrid.from_pixels(self.cell_px, (px, py))

    def refresh(self) -> None:
        """Pick the images for the current range (nothing when hidden or without points)."""
        src = self.source() if self.isVisible() else None
        grid = self.grid()
        self.prepareGeometryChange()
        if src is None or grid is None or not len(src.coords) or src.images is None:
            self.picked, self.rects = np.zeros(0, np.int64), np.zeros((0, 4))
            self._bounds = QRectF()
            self.update()
            return
        (x0, x1), (y0, y1) = self.viewbox.viewRange()
        self.picked = pick_thumbnails(src.coords, ((x0, x1), (y0, y1)), grid, src.hidden)
        self.rects = thumbnail_rects(src.coords[self.picked], grid)
        self._labels, self._images = src.labels, src.images
        if self._pixmaps and next(iter(self._pixmaps))[1] != self._side_px():
            self._pixmaps.clear()  # a new zoom: the old sizes will not be drawn again
        self._bounds = QRectF(x0, y0, x1 - x0, y1 - y0)
        self.update()

    def forget_images(self) -> None:
        """New images (another data set or model): the scaled copies are stale."""
        self._pixmaps.clear()

    def _side_px(self) -> int:
        return max(4, int(round(self.cell_px * 0.88)))

    def _pixmap(self, index: int, side: int) -> QPixmap:
        key = (index, side)
        pix = self._pixmaps.get(key)
        if pix is None:
            image = self._images[index]
            pix = QPixmap.fromImage(to_qimage(image))
            big = pix.width() > side  # a 256 px image shrinks smoothly; a 28 px one grows with crisp pixels
            mode = Qt.TransformationMode.SmoothTransformation if big else Qt.TransformationMode.FastTransformation
            pix = pix.scaled(side, side, Qt.AspectRatioMode.KeepAspectRatio, mode)
            self._pixmaps[key] = pix
        return pix

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt's name
        return self._bounds

    def paint(self, painter: QPainter, *_: Any) -> None:
        if not len(self.picked):
            return
        to_device = painter.transform()
        painter.save()
        painter.resetTransform()  # draw in device pixels: upright images, square on screen
        painter.setClipRect(to_device.mapRect(self.viewbox.viewRect()), Qt.ClipOperation.IntersectClip)  # not over the axes
        for index, (x0, y0, x1, y1) in zip(self.picked.tolist(), self.rects):
            target = to_device.mapRect(QRectF(x0, y0, x1 - x0, y1 - y0))
            side = self._side_px()
            pix = self._pixmap(index, side)
            left = target.center().x() - pix.width() / 2
            top = target.center().y() - pix.height() / 2
            painter.drawPixmap(int(round(left)), int(round(top)), pix)
            painter.setPen(QPen(QColor(*class_color(int(self._labels[index]))), 1.5))
            painter.drawRect(QRectF(round(left) - 0.5, round(top) - 0.5, pix.width() + 1, pix.height() + 1))
        painter.restore()

    def shown_rects_px(self) -> list[tuple[int, QRectF]]:
        """(index, the image's rectangle in the view box's scene) for each thumbnail: for tests and exports."""
        out = []
        for index, (x0, y0, x1, y1) in zip(self.picked.tolist(), self.rects):
            out.append((index, self.viewbox.mapViewToScene(QRectF(x0, y0, x1 - x0, y1 - y0)).boundingRect()))
        return out
