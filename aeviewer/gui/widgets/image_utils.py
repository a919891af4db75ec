"""Numpy images to Qt and pyqtgraph (layout, QImage/QPixmap, tiling, class colours), and small widget builders."""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage, QPixmap
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSpinBox, QVBoxLayout, QWidget

from aeviewer.util.images import as_display, as_display_batch, tile  # noqa: F401 (the GUI's modules import them from here)

NOT_EXPORTED = "notExported"  # a widget property: a passing card (the scatter's hover card) that exports leave out

# Tableau-10: distinct on a white background and for the common colour-blindnesses.
CLASS_COLORS: tuple[tuple[int, int, int], ...] = (
    (31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189),
    (140, 86, 75), (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207),
)


def class_color(k: int) -> tuple[int, int, int]:
    """Colour of class ``k``; past ten classes the hues cycle through the golden angle."""
    if k < len(CLASS_COLORS):
        return CLASS_COLORS[k]
    color = QColor.fromHsvF(((k * 0.618034) % 1.0), 0.65, 0.85)
    return color.red(), color.green(), color.blue()


def to_qimage(image: Any) -> QImage:
    """One image as an 8-bit QImage (Grayscale8 or RGB888) that owns its pixels."""
    a = np.ascontiguousarray(np.round(as_display(image) * 255.0).astype(np.uint8))
    h, w = a.shape[:2]
    if a.ndim == 2:
        qimage = QImage(a.data, w, h, a.strides[0], QImage.Format.Format_Grayscale8)
    else:
        qimage = QImage(a.data, w, h, a.strides[0], QImage.Format.Format_RGB888)
    return qimage.copy()  # detach from the numpy buffer, which goes away with this frame


def to_qpixmap(image: Any, size: int = 96) -> QPixmap:
    """One image scaled (nearest neighbour, crisp pixels) so that its longer side is ``size`` px."""
    qimage = to_qimage(image)
    return QPixmap.fromImage(qimage).scaled(
        size, size, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.FastTransformation
    )


def tile_at(row: float, col: float, n: int, ncols: int, image_hw: Sequence[int], pad: int = 1) -> int | None:
    """Which tile of ``tile``'s output holds pixel (row, col); None on padding or outside."""
    if row < 0 or col < 0:
        return None
    r, rr = divmod(int(row), image_hw[0] + pad)
    c, cc = divmod(int(col), image_hw[1] + pad)
    if rr >= image_hw[0] or cc >= image_hw[1] or c >= ncols:
        return None
    index = r * ncols + c
    return index if index < n else None


def image_view(parent_layout: pg.GraphicsLayout | None = None, **viewbox_kwargs: Any) -> tuple[pg.ViewBox, pg.ImageItem]:
    """A locked-aspect, y-down ViewBox holding one row-major ImageItem (grey levels fixed to [0,1])."""
    view = pg.ViewBox(lockAspect=True, invertY=True, enableMenu=False, **viewbox_kwargs)
    view.setMouseEnabled(False, False)
    # show_image fits the view when the image's size changes; pyqtgraph's auto-range would instead
    # recompute the children's bounds before every paint (~0.3 ms of each click's canvas repaint)
    view.disableAutoRange()
    item = pg.ImageItem(axisOrder="row-major")
    item.setLevels((0.0, 1.0))
    view.addItem(item)
    if parent_layout is not None:
        parent_layout.addItem(view)
    return view, item


def show_image(view: pg.ViewBox, item: pg.ImageItem, image: Any) -> None:
    """Replace the item's pixels (never re-create it) and fit the view when the size changed."""
    a = as_display(image)
    old = item.image
    item.setImage(a, levels=(0.0, 1.0), autoLevels=False)
    if old is None or old.shape[:2] != a.shape[:2]:
        view.autoRange(padding=0.02)


# -- small widget builders shared by the views (one line per control instead of five) -----------------
def make_spin(parent: QWidget, name: str, lo: int, hi: int, value: int, prefix: str = "", tooltip: str = "") -> QSpinBox:
    spin = QSpinBox(parent)
    spin.setObjectName(name)
    spin.setRange(lo, hi)
    spin.setValue(value)
    spin.setPrefix(prefix)
    spin.setToolTip(tooltip)
    return spin


def make_button(parent: QWidget, text: str, name: str, tooltip: str, slot: Callable[[], Any]) -> QPushButton:
    button = QPushButton(text, parent)
    button.setObjectName(name)
    button.setToolTip(tooltip)
    button.clicked.connect(lambda _checked=False: slot())
    return button


def image_panel(parent: QWidget, controls: Sequence[QWidget], status: QLabel | None = None
                ) -> tuple[QWidget, pg.ViewBox, pg.ImageItem]:
    """A widget with a row of ``controls`` (then ``status``) above one image view."""
    panel = QWidget(parent)
    row = QHBoxLayout()
    for widget in controls:
        row.addWidget(widget)
    row.addStretch(1)
    plots = pg.GraphicsLayoutWidget()
    plots.setBackground("w")
    view, item = image_view(plots.ci)
    layout = QVBoxLayout(panel)
    layout.addLayout(row)
    if status is not None:
        layout.addWidget(status)
    layout.addWidget(plots, 1)
    return panel, view, item


def wrapped_label(text: str, parent: QWidget, lines: int = 2) -> QLabel:
    """A word-wrapping label that keeps room for ``lines`` lines but does not report height-for-width.

    Why: one height-for-width child makes the whole view height-for-width, and the QScrollArea of a
    dock then sizes the view to its *preferred* height for the width (the graphics views hint 600 px)
    instead of the dock's height (the codebook grid sank into the lower half and its editor was cut off).
    """
    label = QLabel(text, parent)
    label.setWordWrap(True)
    policy = label.sizePolicy()
    policy.setHeightForWidth(False)
    label.setSizePolicy(policy)
    label.setMinimumHeight(label.fontMetrics().lineSpacing() * lines + 4)
    return label
