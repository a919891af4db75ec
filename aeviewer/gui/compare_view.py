"""CompareView: 2–4 models of one data set side by side, each with its own scatter and projection, and one
linked selection (aeviewer.compare.LinkedSelection) that every scatter highlights.

Mouse in a scatter: hover highlights the nearest test image in every scatter; a left drag selects with a
rectangle or a lasso (the toolbar's choice) in all of them and fills the gallery; a click decodes there and
shows the nearest test image's reconstruction by every model. Shift/middle drag pans, the wheel zooms.

Encoding 10,000 MNIST images takes ~0.43 s per MLP model on one core, so the models are encoded on a
QThread and each scatter fills in as its model finishes.
"""
from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QSize, Qt, QThread, Signal
from PySide6.QtGui import QAction, QActionGroup, QBrush, QColor, QFont, QIcon, QKeySequence, QPen
from PySide6.QtWidgets import (
    QComboBox, QFileDialog, QGraphicsEllipseItem, QGraphicsItem, QGroupBox, QHBoxLayout, QLabel, QListWidget, QListWidgetItem,
    QMainWindow, QSplitter, QToolBar, QVBoxLayout, QWidget,
)

from aeviewer import compare, explore
from aeviewer.compare import ComparedModel, LinkedSelection
from aeviewer.data.imageset import ImageSet
from aeviewer.errors import AeviewerError
from aeviewer.gui.image_utils import class_color, to_qpixmap
from aeviewer.gui.latent_view import HOVER_RADIUS_PX
from aeviewer.gui.pg_items import ClassScatter

GALLERY_LIMIT = 400  # thumbnails drawn for a selection; the count above the gallery says how many there are
THUMB_PX = 56
RECON_PX = 96
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
        self.projection: explore.Projection | None = None
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
        self.projection = explore.make_projection(kind, self.entry.latents, dims)
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
        return explore.decode_points(self.entry.model, z)[0]


class EncodeThread(QThread):
    """Encodes each model's test latents off the GUI thread; ``encoded(k, latents)`` after each model."""

    encoded = Signal(int, object)
    failed = Signal(str)

    def __init__(self, models: Sequence[ComparedModel], test_set: ImageSet, parent: Any = None) -> None:
        super().__init__(parent)
        self.models, self.test_set = list(models), test_set

    def run(self) -> None:
        try:
            for k, entry in enumerate(self.models):
                if self.isInterruptionRequested():
                    return
                self.encoded.emit(k, compare.scatter_latents(entry.model, self.test_set))
        except (AeviewerError, RuntimeError) as err:
            self.failed.emit(str(err).splitlines()[0] if str(err) else type(err).__name__)


class ImageCell(QWidget):
    """An image with a caption under it (the reconstruction row)."""

    def __init__(self, caption: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.image = QLabel(self)
        self.image.setFixedSize(RECON_PX, RECON_PX)
        self.image.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.image.setStyleSheet("background: #f3f3f3; border: 1px solid #ccc;")
        self.caption = QLabel(caption, self)
        self.caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.caption.setWordWrap(True)
        self.caption.setFixedWidth(RECON_PX + 24)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.image, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addWidget(self.caption)
        layout.addStretch(1)

    def show_image(self, image: Any, caption: str | None = None) -> None:
        self.image.setPixmap(to_qpixmap(image, RECON_PX))
        if caption is not None:
            self.caption.setText(caption)


class CompareView(QMainWindow):
    """The Compare window. Tests drive it through ``panels``, ``selection``, ``select_mode`` and the mouse."""

    def __init__(self, models: Sequence[ComparedModel], test_set: ImageSet, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        compare.check_count(len(models))
        compare.check_same_dataset(models)
        self.setObjectName("compareView")
        self.setWindowTitle(f"Compare {len(models)} models on {models[0].dataset} — aeviewer")
        self.models = list(models)
        self.test_set = test_set
        self.class_names = tuple(test_set.class_names)
        self.labels = test_set.labels.numpy().astype(np.int64)
        self.selection = LinkedSelection()
        self.selection.listeners.append(self._on_selection_changed)
        self.shown_reconstructions: list[np.ndarray] = []  # what the reconstruction row shows, model by model
        self.shown_decoded: np.ndarray | None = None

        self.panels = [ModelPanel(entry, self.class_names, self.labels) for entry in self.models]
        for panel in self.panels:
            panel.hovered.connect(self.selection.hover)
            panel.regionSelected.connect(self.selection.select)
            panel.clicked.connect(lambda i, x, y, p=panel: self._on_click(p, i, x, y))
        self._build_layout()
        self._build_toolbar()
        self.resize(1560, 940)

        self._pending = {k for k, entry in enumerate(self.models) if entry.latents is None}
        for k, entry in enumerate(self.models):
            if entry.latents is not None:
                self.panels[k].set_latents(entry.latents)
        self.encoder: EncodeThread | None = None
        if self._pending:
            self._encode_order = sorted(self._pending)  # the thread's k-th model is panel _encode_order[k]
            self.encoder = EncodeThread([self.models[k] for k in self._encode_order], test_set, self)
            # bound methods of this window (not lambdas): Qt queues the calls onto the GUI thread
            self.encoder.encoded.connect(self._on_encoded)
            self.encoder.failed.connect(self._on_encode_failed)
            self.encoder.start()

    # -- layout ----------------------------------------------------------------------------------------
    def _build_layout(self) -> None:
        scatters = QWidget()
        row = QHBoxLayout(scatters)
        row.setContentsMargins(4, 4, 4, 4)
        for panel in self.panels:
            row.addWidget(panel, 1)

        self.recon_box = QGroupBox("Click a scatter: the nearest test image and every model's reconstruction of it")
        self.recon_box.setObjectName("compareReconstructions")
        recon_row = QHBoxLayout(self.recon_box)
        self.original_cell = ImageCell("test image")
        self.decoded_cell = ImageCell("decoded at the click")
        self.recon_cells = [ImageCell(f"{m.kind.upper()} reconstruction") for m in self.models]
        for cell in [self.original_cell, *self.recon_cells, self.decoded_cell]:
            recon_row.addWidget(cell)
        recon_row.addStretch(1)

        self.gallery_box = QGroupBox("Selection: none (drag in a scatter to select)")
        self.gallery_box.setObjectName("compareGalleryBox")
        self.gallery = QListWidget()
        self.gallery.setObjectName("compareGallery")
        self.gallery.setViewMode(QListWidget.ViewMode.IconMode)
        self.gallery.setIconSize(QSize(THUMB_PX, THUMB_PX))
        self.gallery.setGridSize(QSize(THUMB_PX + 16, THUMB_PX + 22))
        self.gallery.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.gallery.setMovement(QListWidget.Movement.Static)
        self.gallery.setUniformItemSizes(True)
        self.gallery.setToolTip("The selected test images (index and label); click one to see it in every scatter")
        self.gallery.currentItemChanged.connect(self._on_gallery_item)
        gallery_layout = QVBoxLayout(self.gallery_box)
        gallery_layout.addWidget(self.gallery)

        bottom = QSplitter(Qt.Orientation.Horizontal)
        bottom.addWidget(self.recon_box)
        bottom.addWidget(self.gallery_box)
        bottom.setStretchFactor(0, 0)
        bottom.setStretchFactor(1, 1)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(scatters)
        split.addWidget(bottom)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 1)
        split.setSizes([640, 260])
        self.setCentralWidget(split)
        self.hover_label = QLabel("")
        self.statusBar().addWidget(self.hover_label, 1)

    def _build_toolbar(self) -> None:
        toolbar = QToolBar("Selection", self)
        toolbar.setObjectName("compareToolbar")
        toolbar.addWidget(QLabel(" Select with: "))
        group = QActionGroup(self)
        self.mode_actions: dict[str, QAction] = {}
        for mode, text, key, tip in (("lasso", "Lasso", "L", "Drag a freehand outline to select (L)"),
                                     ("rect", "Rectangle", "R", "Drag a rectangle to select (R)")):
            action = QAction(text, self)
            action.setCheckable(True)
            action.setShortcut(QKeySequence(key))
            action.setToolTip(tip)
            action.triggered.connect(lambda _checked=False, m=mode: self.select_mode(m))
            group.addAction(action)
            toolbar.addAction(action)
            self.mode_actions[mode] = action
        self.mode_actions["lasso"].setChecked(True)
        toolbar.addSeparator()
        clear = QAction("Clear selection", self)
        clear.setShortcut(QKeySequence(Qt.Key.Key_Escape))
        clear.setToolTip("Clear the selection in every scatter (Esc)")
        clear.triggered.connect(lambda: self.selection.select([]))
        toolbar.addAction(clear)
        toolbar.addSeparator()
        toolbar.addWidget(self._legend())
        self.addToolBar(toolbar)

    def _legend(self) -> QLabel:
        """One legend for every scatter (they share the classes and colours)."""
        swatches = " ".join(f'<span style="color: rgb{class_color(k)}; font-size: 16px;">&#9679;</span>&nbsp;{name}&nbsp;&nbsp;'
                            for k, name in enumerate(self.class_names))
        legend = QLabel(f"&nbsp;Classes:&nbsp; {swatches}")
        legend.setObjectName("compareLegend")
        legend.setTextFormat(Qt.TextFormat.RichText)
        legend.setToolTip("Each class's colour, the same in every scatter")
        return legend

    def select_mode(self, mode: str) -> None:
        """"lasso" or "rect": what a left drag in any scatter draws."""
        for panel in self.panels:
            panel.viewbox.mode = mode
        self.mode_actions[mode].setChecked(True)

    # -- encoding ---------------------------------------------------------------------------------------
    def is_ready(self) -> bool:
        return not self._pending

    def _on_encoded(self, j: int, latents: np.ndarray) -> None:
        k = self._encode_order[j]
        self.panels[k].set_latents(latents)
        self._pending.discard(k)
        self._on_selection_changed("selection")  # a selection made before this model finished shows here too

    def _on_encode_failed(self, text: str) -> None:
        self.statusBar().showMessage(f"Could not encode the test set: {text}")

    def closeEvent(self, event: Any) -> None:
        if self.encoder is not None and self.encoder.isRunning():
            self.encoder.requestInterruption()
            self.encoder.wait()
        super().closeEvent(event)

    # -- the linked selection ---------------------------------------------------------------------------------
    def _on_selection_changed(self, what: str) -> None:
        if what == "hover":
            index = self.selection.hovered
            for panel in self.panels:
                panel.show_hover(index)
            self.hover_label.setText(self._caption(index) if index >= 0 else "")
        elif what == "selection":
            for panel in self.panels:
                panel.show_selection(self.selection.selected)
            self._fill_gallery(self.selection.selected)
        elif what == "click":
            for panel in self.panels:
                panel.show_click(self.selection.clicked)

    def _caption(self, index: int) -> str:
        label = int(self.labels[index])
        name = self.class_names[label] if label < len(self.class_names) else str(label)
        return f"#{index}: {name}"

    def _fill_gallery(self, indices: np.ndarray) -> None:
        self.gallery.clear()
        n = len(indices)
        shown = indices[:GALLERY_LIMIT]
        if n == 0:
            self.gallery_box.setTitle("Selection: none (drag in a scatter to select)")
        else:
            more = f", the first {len(shown)} shown" if n > len(shown) else ""
            self.gallery_box.setTitle(f"Selection: {n:,} test images{more}")
        for index in shown:
            item = QListWidgetItem(QIcon(to_qpixmap(self.test_set.images[int(index)], THUMB_PX)), self._caption(int(index)))
            item.setData(Qt.ItemDataRole.UserRole, int(index))
            self.gallery.addItem(item)

    def gallery_indices(self) -> list[int]:
        return [int(self.gallery.item(r).data(Qt.ItemDataRole.UserRole)) for r in range(self.gallery.count())]

    def _on_gallery_item(self, item: QListWidgetItem | None, _previous: Any = None) -> None:
        if item is not None:
            self.selection.hover(int(item.data(Qt.ItemDataRole.UserRole)))

    def _on_click(self, panel: ModelPanel, index: int, x: float, y: float) -> None:
        """Decode the clicked spot with the clicked model, and show every model's reconstruction of the
        test image nearest to it."""
        if index < 0 or not self.is_ready():
            return
        self.selection.click(index)
        self.original_cell.show_image(self.test_set.images[index], f"test image {self._caption(index)}")
        self.shown_reconstructions = compare.reconstructions(self.models, index)
        for cell, image in zip(self.recon_cells, self.shown_reconstructions):
            cell.show_image(image)
        self.shown_decoded = panel.decode_at(x, y)
        self.decoded_cell.show_image(self.shown_decoded,
                                     f"{panel.entry.kind.upper()} decoded at ({x:.2f}, {y:.2f})")
        self.recon_box.setTitle(f"Test image {self._caption(index)}, reconstructed by each model")


# -- opening it ----------------------------------------------------------------------------------------
def compare_with_dialog(window: Any) -> CompareView | None:
    """File › Compare with…: choose 1–3 checkpoints to set beside the main window's open model."""
    session = window.session
    if session.model is None or session.test_set is None:
        window.show_error("Nothing to compare", "Open a model with its test set first (Ctrl+O).")
        return None
    paths, _ = QFileDialog.getOpenFileNames(window, "Compare with (choose 1 to 3 models)", window._last_dir(),
                                            "aeviewer checkpoints (*.safetensors)")
    return open_compare_with(window, paths) if paths else None


def open_compare_with(window: Any, paths: Sequence[str | Path]) -> CompareView | None:
    """A Compare window of the main window's open model and the checkpoints at ``paths``; a bad file or a
    model of another data set shows one line and opens nothing."""
    from aeviewer.training.checkpoint import load_checkpoint

    session = window.session
    name = session.model_path.name if session.model_path is not None else "open model"
    # a copy: a training run may load new weights into the session's model while this one encodes
    models = [ComparedModel(copy.deepcopy(session.model), session.dataset_name, name)]
    try:
        compare.check_count(len(paths) + 1)
        for path in paths:
            checkpoint = load_checkpoint(path)
            models.append(ComparedModel(checkpoint.model, checkpoint.dataset, Path(path).name))
        compare.check_same_dataset(models)
    except AeviewerError as err:
        window.show_error("Cannot compare", str(err))
        return None
    view = CompareView(models, session.test_set, window)
    view.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    view.show()
    return view


def run_compare(paths: Sequence[str | Path], data_dir: str | Path | None = None) -> int:
    """``aeviewer compare A B [C D]``: load (refusing mixed data sets before any window opens), then show."""
    from aeviewer.data.sources import load_split
    from aeviewer.gui.app import ensure_app

    models = compare.load_models(paths)
    test_set = load_split(models[0].dataset, "test", data_dir, models[0].preparation)
    app = ensure_app()
    view = CompareView(models, test_set)
    view.show()
    return app.exec()
