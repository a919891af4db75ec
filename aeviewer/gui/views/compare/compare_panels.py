"""The Compare window's per-model scatter panel (gui/compare_view.py's CompareView holds 2–4 of them):
ModelPanel with its own projection and the shared highlights, its SelectViewBox (click, rectangle or
lasso drag) and the hover ring every scatter moves at mouse rate.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QPen
from PySide6.QtWidgets import QComboBox, QGraphicsEllipseItem, QGraphicsItem, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from aeviewer.explore import compare
from aeviewer.explore import latent_space
from aeviewer.explore.compare import ComparedModel
from aeviewer.gui.widgets.image_utils import class_color
from aeviewer.gui.widgets.pg_items import HOVER_RADIUS_PX, ClassScatter

PAIRS_OFFERED = 6  # wide latents offer PCA and each pair of their first 6 dimensions


class SelectViewBox(pg.ViewBox):
    """Plain left click: ``sigClick``; plain left drag: a rectangle or lasso (``mode``), drawn while it is
    dragged and emitted on release as ``sigRegion(kind, points)`` in view coordinates."""

    sigClick = Signal(float, float)
    sigRegion = Signal(str, object)  # "rect" with (2, 2) corners, or "lasso" with (M, 2) vertices

    def __init__(self) -> None:
        super().__init__()
        self.mode = "lasso"
        self._path: list[tuple[float, float]] = []
        self.outline = pg.PlotCurveItem(pen=pg.mkPen((20, 20, 20), width=1.5, style=Qt.PenStyle.DashLine))
        self.outline.setZValue(20)
        self.addItem(self.outline, ignoreBounds=True)

    def mouseClickEvent(self, ev: Any) -> None:
        if ev.button() == Qt.MouseButton.LeftButton and not ev.double():
            ev.accept()
            p = self.mapSceneToView(ev.scenePos())
            self.sigClick.emit(p.x(), p.y())
        else:
            super().mouseClickEvent(ev)

    def mouseDragEvent(self, ev: Any, axis: int | None = None) -> None:
        if ev.button() != Qt.MouseButton.LeftButton or ev.modifiers() & Qt.KeyboardModifier.ShiftModifier:
            super().mouseDragEvent(ev, axis)  # Shift+left or middle pans, right zooms
            return
        ev.accept()
        p = self.mapSceneToView(ev.scenePos())
        if ev.isStart():
            start = self.mapSceneToView(ev.buttonDownScenePos())
            self._path = [(start.x(), start.y())]
        self._path.append((p.x(), p.y()))
        outline = self._outline_points()
        self.outline.setData(outline[:, 0], outline[:, 1])
        if ev.isFinish():
            self.outline.setData([], [])
            if self.mode == "rect":
                self.sigRegion.emit("rect", np.array([self._path[0], self._path[-1]]))
            else:
                self.sigRegion.emit("lasso", np.array(self._path))
            self._path = []

    def _outline_points(self) -> np.ndarray:
        if self.mode == "rect":
            (x0, y0), (x1, y1) = self._path[0], self._path[-1]
            return np.array([(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)])
        return np.array(self._path + self._path[:1])  # the lasso closes back to where it started


def hover_ring(radius_px: float = 8.0) -> QGraphicsEllipseItem:
    """The hovered image's ring: a plain Qt item of fixed screen size, moved with setPos. Qt paints it
    without Python (a ScatterPlotItem's paint runs pyqtgraph's Python), which a hover repeats in every
    scatter at mouse rate."""
    ring = QGraphicsEllipseItem(-radius_px, -radius_px, 2 * radius_px, 2 * radius_px)
    ring.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
    ring.setPen(QPen(QColor(220, 0, 0), 2.5))
    ring.setBrush(QBrush(QColor(255, 0, 0, 60)))
    return ring


class ModelPanel(QWidget):
    """One model's scatter with its title, its own projection, and the shared highlights drawn on it."""

    hovered = Signal(int)  # test-image index under the cursor, -1 when none
    clicked = Signal(int, float, float)  # nearest test-image index and the click's view coordinates
    regionSelected = Signal(object)  # indices inside a rectangle or lasso

    def __init__(self, entry: ComparedModel, class_names: Sequence[str], labels: np.ndarray,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.entry = entry
        self.labels = np.asarray(labels, np.int64)
        self.coords = np.zeros((0, 2), np.float32)
        self.projection: latent_space.Projection | None = None
        self.setObjectName("comparePanel")

        self.title = QLabel(entry.title, self)
        self.title.setObjectName("comparePanelTitle")
        font = QFont(self.title.font())
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.15)
        self.title.setFont(font)
        self.title.setToolTip(f"{entry.name}: {entry.kind.upper()} trained on {entry.dataset}")
        self.projection_combo = QComboBox(self)
        self.projection_combo.setObjectName("compareProjection")
        self.projection_combo.setToolTip("How this model's latent space is drawn (each scatter has its own)")
        for text, kind, dims in self._projection_choices(entry.latent_size):
            self.projection_combo.addItem(text, (kind, dims))
        self.projection_combo.currentIndexChanged.connect(self._reproject)
        self.status = QLabel("encoding…", self)
        self.status.setObjectName("comparePanelStatus")
        self.status.setStyleSheet("color: #666;")

        self.viewbox = SelectViewBox()
        self.plot = pg.PlotWidget(viewBox=self.viewbox, background="w")
        self.plot.setAntialiasing(False)
        self.plot.setMinimumSize(260, 240)
        self.items: list[ClassScatter] = []
        for k, name in enumerate(class_names):
            item = ClassScatter(pen=None, brush=pg.mkBrush(*class_color(k), 190), size=4, symbol="o",
                                pxMode=True, useCache=True, antialias=False, name=name)
            item.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)  # highlights then only blit the dots
            self.plot.addItem(item)
            self.items.append(item)
        # the selected dots keep their class colour inside a thin dark ring
        self.selection_marker = pg.ScatterPlotItem(size=7, symbol="o", pen=pg.mkPen((20, 20, 20, 170), width=1),
                                                   brush=pg.mkBrush(255, 255, 255, 0), antialias=True)
        self.hover_marker = hover_ring()
        self.click_marker = pg.ScatterPlotItem(size=18, symbol="star", pen=pg.mkPen("k", width=1.5),
                                               brush=pg.mkBrush(255, 215, 0), antialias=True)
        for z, marker in ((12, self.selection_marker), (14, self.click_marker), (15, self.hover_marker)):
            marker.setZValue(z)
            self.plot.addItem(marker, ignoreBounds=True)
        self.hover_marker.hide()
        self.plot.setToolTip("Hover: the same test image lights up in every scatter · drag: select "
                             "(rectangle or lasso) · click: every model's reconstruction · Shift/middle drag: pan")

        header = QHBoxLayout()
        header.addWidget(self.title, 1)
        header.addWidget(self.projection_combo)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.setSpacing(2)
        layout.addLayout(header)
        layout.addWidget(self.status)
        layout.addWidget(self.plot, 1)

        self.viewbox.sigClick.connect(self._on_click)
        self.viewbox.sigRegion.connect(self._on_region)
        self.plot.scene().sigMouseMoved.connect(self._on_mouse_moved)

    @staticmethod
    def _projection_choices(size: int) -> list[tuple[str, str, tuple[int, int]]]:
        choices = [("z0 · z1", "identity", (0, 1)), ("PCA", "pca", (0, 1))] if size == 2 else [("PCA", "pca", (0, 1))]
        if size > 2:
            n = min(size, PAIRS_OFFERED)
            choices += [(f"z{i} · z{j}", "pair", (i, j)) for i in range(n) for j in range(i + 1, n)]
        return choices

    # -- data ---------------------------------------------------------------------------------------------
    def is_ready(self) -> bool:
        return self.entry.latents is not None and len(self.coords) == len(self.labels)

    def set_latents(self, latents: np.ndarray) -> None:
        self.entry.latents = np.asarray(latents, np.float32)
        self.status.setText(f"{len(latents):,} test images")
        self._reproject()

    def _reproject(self, *_: Any) -> None:
        if self.entry.latents is None:
            return
        kind, dims = self.projection_combo.currentData()
        self.projection = latent_space.make_projection(kind, self.entry.latents, dims)
        self.coords = np.asarray(self.projection.to_2d(self.entry.latents), np.float32)
        for k, item in enumerate(self.items):
            mask = self.labels == k
            item.setData(x=self.coords[mask, 0], y=self.coords[mask, 1])
        x_label, y_label = self.projection.axis_labels
        self.plot.setLabel("bottom", x_label)
        self.plot.setLabel("left", y_label)
        self.viewbox.autoRange(padding=0.03)

    # -- highlights (the markers are moved, never re-created) ---------------------------------------------
    def _place(self, marker: pg.ScatterPlotItem, indices: np.ndarray) -> None:
        indices = np.asarray(indices, np.int64)
        if not self.is_ready() or len(indices) == 0:
            marker.setData([], [])
            return
        xy = self.coords[indices]
        marker.setData(xy[:, 0], xy[:, 1])

    def show_hover(self, index: int) -> None:
        if index < 0 or not self.is_ready():
            self.hover_marker.hide()
            return
        x, y = self.coords[index]
        self.hover_marker.setPos(float(x), float(y))
        self.hover_marker.show()

    def hover_position(self) -> tuple[float, float] | None:
        """Where the hover ring sits (view coordinates), None while hidden."""
        if not self.hover_marker.isVisible():
            return None
        return float(self.hover_marker.pos().x()), float(self.hover_marker.pos().y())

    def show_selection(self, indices: np.ndarray) -> None:
        self._place(self.selection_marker, indices)

    def show_click(self, index: int) -> None:
        self._place(self.click_marker, np.array([index] if index >= 0 else [], np.int64))

    def marker_indices(self, marker: pg.ScatterPlotItem) -> np.ndarray:
        """Which test images ``marker`` sits on (for tests: looks each marker point up in ``coords``)."""
        x, y = marker.getData()
        if x is None or len(x) == 0:
            return np.zeros(0, np.int64)
        found = [int(np.flatnonzero((self.coords[:, 0] == px) & (self.coords[:, 1] == py))[0]) for px, py in zip(x, y)]
        return np.array(sorted(found), np.int64)

    def view_to_widget(self, x: float, y: float) -> QPointF:
        """Where view point (x, y) lies in the plot's viewport (tests and benchmarks aim the mouse with it)."""
        return QPointF(self.plot.mapFromScene(self.viewbox.mapViewToScene(QPointF(x, y))))

    # -- mouse ------------------------------------------------------------------------------------------
    def nearest_at_scene(self, scene_pos: QPointF, radius: float = HOVER_RADIUS_PX) -> int:
        if not self.is_ready() or not self.viewbox.sceneBoundingRect().contains(scene_pos):
            return -1
        view = self.viewbox.mapSceneToView(scene_pos)
        return compare.nearest_index(self.coords, view.x(), view.y(), self.viewbox.viewPixelSize(), radius)

    def _on_mouse_moved(self, scene_pos: QPointF) -> None:
        self.hovered.emit(self.nearest_at_scene(scene_pos))

    def _on_click(self, x: float, y: float) -> None:
        if self.is_ready():
            self.clicked.emit(compare.nearest_index(self.coords, x, y, self.viewbox.viewPixelSize()), x, y)

    def _on_region(self, kind: str, points: np.ndarray) -> None:
        if not self.is_ready():
            return
        if kind == "rect":
            self.regionSelected.emit(compare.points_in_rect(self.coords, points[0], points[1]))
        else:
            self.regionSelected.emit(compare.points_in_polygon(self.coords, points))

    def decode_at(self, x: float, y: float) -> np.ndarray:
        z = self.projection.from_2d(np.array([[x, y]], np.float32))
        return latent_space.decode_points(self.entry.model, z)[0]
