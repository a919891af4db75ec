"""TileView: decoded images laid out in cells big enough to read, as many as the panel has room for.

Why not a pyqtgraph ViewBox: it fits the whole mosaic into the panel at whatever scale that takes, so a 12×12
traversal grid came out at ~7 px a digit, and the fractional scale drew some rows a pixel taller than others.
Here every cell is a whole number of pixels (at least ``MIN_CELL``), all cells the same size, and the panel asks
its owner for fewer images when it is small (``capacity``, ``capacityChanged``) instead of shrinking them.
"""
from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np
from PySide6.QtCore import QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QImage, QMouseEvent, QPainter, QPaintEvent, QResizeEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from aeviewer.gui.widgets.image_utils import as_display_batch, tile, to_qimage, wrapped_label

MIN_CELL = 48  # px: a digit or an emoji can be read at this size
MAX_CELL = 192  # px: a 2×2 grid in a big panel need not fill a screen
GAP = 2  # px between cells


def capacity(width: int, height: int, image_hw: tuple[int, int], min_cell: int = MIN_CELL, gap: int = GAP
             ) -> tuple[int, int]:
    """How many cells of at least ``min_cell`` px (the image's height; its width in proportion) fit across and
    down in ``width`` × ``height`` px; at least one each way."""
    cell_w, cell_h = _cell_wh(min_cell, image_hw)
    return max(1, (width + gap) // (cell_w + gap)), max(1, (height + gap) // (cell_h + gap))


def cell_size(width: int, height: int, cols: int, rows: int, image_hw: tuple[int, int], gap: int = GAP) -> int:
    """The cell height in px for ``cols`` × ``rows`` cells in ``width`` × ``height`` px: the largest that fits,
    a whole multiple of the image's height when that is still readable (crisp pixels), never under MIN_CELL."""
    h, w = image_hw
    fit_h = (height + gap) // max(rows, 1) - gap
    fit_w = math.floor(((width + gap) // max(cols, 1) - gap) * h / max(w, 1))
    fit = min(fit_h, fit_w, MAX_CELL)
    whole = (fit // h) * h
    return max(MIN_CELL, whole if whole >= MIN_CELL else fit)


def _cell_wh(cell: int, image_hw: tuple[int, int]) -> tuple[int, int]:
    h, w = image_hw
    return max(1, round(cell * w / max(h, 1))), cell


class TileView(QWidget):
    """Images in ``cols`` columns of equal, whole-pixel cells, centred; a click on one emits its index."""

    tileClicked = Signal(int)
    capacityChanged = Signal()  # the panel now has room for a different number of cells

    def __init__(self, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.images: np.ndarray | None = None  # (N, H, W[, C]) in [0, 1], as shown
        self.cols = 1
        self._qimages: list[QImage] = []
        self._image_hw: tuple[int, int] = (28, 28)  # of the last images shown (the next are usually alike)
        self._capacity = (0, 0)

    # -- what it shows ---------------------------------------------------------------------------------------
    def set_images(self, images: Any, cols: int) -> None:
        self.images = as_display_batch(images)
        self.cols = max(1, min(int(cols), len(self.images)))
        self._image_hw = tuple(self.images.shape[1:3])
        self._qimages = [to_qimage(image) for image in self.images]
        self.update()

    def clear(self) -> None:
        self.images, self._qimages = None, []
        self.update()

    @property
    def rows(self) -> int:
        return 0 if self.images is None else math.ceil(len(self.images) / self.cols)

    @property
    def image(self) -> np.ndarray | None:
        """The images as one mosaic (1 px apart), as a PNG export would lay them out; None when empty."""
        return None if self.images is None else tile(self.images, ncols=self.cols, pad=1)

    def capacity(self, image_hw: tuple[int, int] | None = None) -> tuple[int, int]:
        """Cells of a readable size that fit across and down now, for images of ``image_hw`` (the last shown)."""
        return capacity(self.width(), self.height(), tuple(image_hw or self._image_hw))

    # -- where the cells are --------------------------------------------------------------------------------
    def cell(self) -> int:
        """The on-screen cell height in px (its width follows the image's aspect)."""
        return cell_size(self.width(), self.height(), self.cols, max(self.rows, 1), self._image_hw)

    def cell_rect(self, index: int) -> QRect:
        """Where image ``index`` is drawn, in this widget's pixels."""
        cell_w, cell_h = _cell_wh(self.cell(), self._image_hw)
        rows = max(self.rows, 1)
        x0 = max(0, (self.width() - (self.cols * (cell_w + GAP) - GAP)) // 2)
        y0 = max(0, (self.height() - (rows * (cell_h + GAP) - GAP)) // 2)
        r, c = divmod(index, self.cols)
        return QRect(x0 + c * (cell_w + GAP), y0 + r * (cell_h + GAP), cell_w, cell_h)

    def index_at(self, x: float, y: float) -> int | None:
        for i in range(len(self._qimages)):
            if self.cell_rect(i).contains(int(x), int(y)):
                return i
        return None

    # -- Qt ---------------------------------------------------------------------------------------------------
    def sizeHint(self) -> QSize:
        return QSize(4 * (MIN_CELL + GAP), 3 * (MIN_CELL + GAP))

    def minimumSizeHint(self) -> QSize:
        return QSize(MIN_CELL, MIN_CELL)  # a small panel shows fewer cells, it does not push the dock wider

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(255, 255, 255))
        if self._qimages:
            crisp = self.cell() % self._image_hw[0] == 0  # whole pixels per image pixel: no blur needed
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, not crisp)
            for i, qimage in enumerate(self._qimages):
                painter.drawImage(self.cell_rect(i), qimage)
        painter.end()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        now = self.capacity()
        if now != self._capacity:
            self._capacity = now
            self.capacityChanged.emit()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            index = self.index_at(event.position().x(), event.position().y())
            if index is not None:
                self.tileClicked.emit(index)
                return
        super().mousePressEvent(event)


def status_label(parent: QWidget) -> QLabel:
    """A status of up to two lines that never widens its panel (a long text wraps)."""
    label = wrapped_label("", parent, lines=2)
    label.setSizePolicy(QSizePolicy.Policy.Ignored, label.sizePolicy().verticalPolicy())
    return label


def tiles_panel(parent: QWidget, controls: Sequence[QWidget], status: QLabel, tiles: TileView) -> QWidget:
    """A row of ``controls``, the ``status`` line under it, and the tiles taking the rest."""
    panel = QWidget(parent)
    row = QHBoxLayout()
    for widget in controls:
        row.addWidget(widget)
    row.addStretch(1)
    layout = QVBoxLayout(panel)
    layout.setContentsMargins(4, 4, 4, 4)
    layout.setSpacing(4)
    layout.addLayout(row)
    layout.addWidget(status)
    layout.addWidget(tiles, 1)
    layout.addStretch(0)  # with the tiles hidden (no prior), the status stays at the top
    return panel
