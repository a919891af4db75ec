"""CompareView: 2–4 models of one data set side by side, each with its own scatter and projection, and one
linked selection (aeviewer.explore.compare.LinkedSelection) that every scatter highlights.

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
from PySide6.QtCore import QSize, Qt, QThread, Signal
from PySide6.QtGui import QAction, QActionGroup, QIcon, QKeySequence
from PySide6.QtWidgets import (
    QGroupBox, QHBoxLayout, QLabel, QListWidget, QListWidgetItem,
    QMainWindow, QSplitter, QToolBar, QVBoxLayout, QWidget,
)

from aeviewer.explore import compare
from aeviewer.explore.compare import ComparedModel, LinkedSelection
from aeviewer.data.imageset import ImageSet
from aeviewer.errors import AeviewerError
# the per-model scatter panel lives in gui/compare_panels.py; its names stay importable from here
from aeviewer.gui.dialogs.file_dialogs import ask_open_files
from aeviewer.gui.views.compare.compare_panels import PAIRS_OFFERED, ModelPanel, SelectViewBox, hover_ring
from aeviewer.gui.widgets.image_utils import class_color, to_qpixmap

__all__ = ["GALLERY_LIMIT", "PAIRS_OFFERED", "RECON_PX", "THUMB_PX", "CompareView", "EncodeThread", "ImageCell",
           "ModelPanel", "SelectViewBox", "compare_with_dialog", "hover_ring", "open_compare_with"]

GALLERY_LIMIT = 400  # thumbnails drawn for a selection; the count above the gallery says how many there are
THUMB_PX = 56
RECON_PX = 96


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
    paths = ask_open_files(window, "Compare with (choose 1 to 3 models)", "aeviewer checkpoints (*.safetensors)")
    return open_compare_with(window, paths) if paths else None


def open_compare_with(window: Any, paths: Sequence[str | Path]) -> CompareView | None:
    """A Compare window of the main window's open model and the checkpoints at ``paths``; a bad file or a
    model of another data set shows one line and opens nothing."""
    from aeviewer.data.loader import portable_spec
    from aeviewer.training.checkpoint import load_checkpoint

    session = window.session
    name = session.model_path.name if session.model_path is not None else "open model"
    # a copy: a training run may load new weights into the session's model while this one encodes
    models = [ComparedModel(copy.deepcopy(session.model), session.dataset_name, name)]
    try:
        compare.check_count(len(paths) + 1)
        for path in paths:
            checkpoint = load_checkpoint(path)
            models.append(ComparedModel(checkpoint.model, portable_spec(checkpoint.dataset, window.data_dir),
                                        Path(path).name))
        compare.check_same_dataset(models)
    except AeviewerError as err:
        window.show_error("Cannot compare", str(err))
        return None
    view = CompareView(models, session.test_set, window)
    view.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    view.show()
    return view
