"""CodebookView (VQ-VAE): the K codes coloured by test-set usage, and code painting on one image's code map.

Click a cell of the code map, then a code in the grid: the cell takes that code and the image is
decoded again (Ctrl+Z undoes). Clicking a code also lists the test images that use it most. With a learned prior,
"Keep region" paints the cells to keep and the prior completes the rest (:mod:`.keep_region`).
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
import torch
from PySide6.QtCore import QPointF, QRectF, QSignalBlocker, Qt, Signal
from PySide6.QtGui import QFont, QFontMetrics, QKeySequence, QShortcut, QShowEvent
from PySide6.QtWidgets import (
    QCheckBox, QGraphicsRectItem, QHBoxLayout, QLabel, QPushButton, QSpinBox, QStackedLayout, QVBoxLayout, QWidget,
)

from aeviewer.gui.views.codebook.keep_region import KeepRegion
from aeviewer.gui.widgets.coalescing import CoalescingTimer
from aeviewer.explore import latent_space
from aeviewer.gui.state.session import Session
from aeviewer.gui.widgets.image_utils import as_display_batch, image_view, show_image, tile, tile_at, wrapped_label
from aeviewer.models.vqvae import usage_stats, usage_text

BORDER = 2  # px of usage colour around each code's thumbnail
TOP_IMAGES = 12  # how many test images to list for a clicked code


def code_palette(k: int) -> np.ndarray:
    """A fixed, well-spread RGB colour per code index (golden-angle hues), (k, 3) float in [0, 1]."""
    hue = (np.arange(k) * 0.618034) % 1.0
    # HSV → RGB with s = 0.55, v = 0.95 (vectorised)
    s, v = 0.55, 0.95
    i = np.floor(hue * 6).astype(int) % 6
    f = hue * 6 - np.floor(hue * 6)
    p, q, t = v * (1 - s), v * (1 - s * f), v * (1 - s * (1 - f))
    table = np.stack([
        np.choose(i, [v, q, p, p, t, v]), np.choose(i, [t, v, v, q, p, p]), np.choose(i, [p, p, t, v, v, q]),
    ], 1)
    return table.astype(np.float32)


def usage_colors(counts: np.ndarray) -> np.ndarray:
    """Viridis by log usage, c = viridis(log(1+n) / log(1+max n)); unused codes grey. (K, 3) in [0, 1]."""
    cmap = pg.colormap.get("viridis")
    scale = np.log1p(counts) / max(np.log1p(counts.max()), 1e-9)
    colors = cmap.map(scale, mode="float")[:, :3].astype(np.float32)
    colors[counts == 0] = 0.75
    return colors


class CodebookView(QWidget):
    """The codebook grid, its usage, and a code map that can be painted with other codes."""

    codeClicked = Signal(int)
    cellSelected = Signal(int, int)
    decodedChanged = Signal(object)

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("codebookView")
        self.session = session
        self.counts = np.zeros(0, np.int64)
        self.test_codes = np.zeros((0, 1, 1), np.int64)
        self.image_index = -1
        self.edit_codes: np.ndarray | None = None
        self.selected_cell: tuple[int, int] | None = None
        self.selected_code: int | None = None
        self.top_images: np.ndarray = np.zeros(0, np.int64)
        self._undo: list[tuple[int, int, int]] = []
        self._ncols = 1
        self._cell_hw = (1, 1)
        self._code_texts: list[pg.TextItem] = []
        self._stale = False
        self._thumbs: np.ndarray | None = None  # the codes decoded with the session's current weights
        self._number_font = QFont(self.font())

        self.placeholder = QLabel("The codebook view needs a VQ-VAE model.", self)
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.content = QWidget(self)
        stack = QStackedLayout(self)
        stack.addWidget(self.placeholder)
        stack.addWidget(self.content)
        self._stack = stack

        self.stats_label = QLabel("", self.content)
        self.stats_label.setObjectName("codebookStats")
        self.hover_label = QLabel("Hover a code to see how often it is used", self.content)
        self.hover_label.setObjectName("codebookHover")
        self.grid_plots = pg.GraphicsLayoutWidget()
        self.grid_plots.setBackground("w")
        self.grid_view, self.grid_item = image_view(self.grid_plots.ci)
        self.code_marker = QGraphicsRectItem()
        self.code_marker.setPen(pg.mkPen((220, 30, 30), width=2))
        self.code_marker.hide()
        self.grid_view.addItem(self.code_marker)
        left = QVBoxLayout()
        left.addWidget(self.stats_label)
        left.addWidget(self.grid_plots, 1)
        left.addWidget(self.hover_label)

        right = self._build_editor()
        main = QHBoxLayout(self.content)
        main.setContentsMargins(4, 4, 4, 4)
        main.addLayout(left, 3)
        main.addLayout(right, 2)

        undo = QShortcut(QKeySequence.StandardKey.Undo, self)
        undo.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        undo.activated.connect(self.undo)

        self.grid_plots.scene().sigMouseMoved.connect(self._on_grid_hover)
        self.grid_plots.scene().sigMouseClicked.connect(self._on_grid_click)
        self.map_plots.scene().sigMouseClicked.connect(self._on_map_click)
        self.map_view.sigResized.connect(self._on_map_resized)  # the numbers show only where they fit
        # Drawn from the session whenever what it holds changes: a model, its weights, or the code maps of its
        # test split (with the app's background encoding these arrive after the model).
        session.modelChanged.connect(self.refresh)
        session.weightsUpdated.connect(self._on_weights_updated)
        session.encodingsChanged.connect(self._on_encodings_changed)
        # A drag through the scatter moves the point many times a frame; the nearest image (a decode and a
        # code map of numbers) is looked up once per event-loop turn, for the newest point.
        self._pending_point: Any = None
        self._follow_timer = CoalescingTimer(self, self._follow_point, 0)
        session.currentPointChanged.connect(self._on_current_point)
        self.refresh()

    # -- building -----------------------------------------------------------------------------------------
    def _build_editor(self) -> QVBoxLayout:
        self.index_spin = QSpinBox(self.content)
        self.index_spin.setObjectName("codebookImageIndex")
        self.index_spin.setPrefix("test image #")
        self.index_spin.setToolTip("Which test image's code map to show and edit (or tick 'follow the scatter')")
        self.index_spin.valueChanged.connect(self.select_image)
        self.follow_check = QCheckBox("follow the scatter", self.content)
        self.follow_check.setObjectName("codebookFollow")
        self.follow_check.setToolTip("Show the test image nearest to the current latent point")
        self.follow_check.setChecked(True)
        self.undo_button = QPushButton("Undo", self.content)
        self.undo_button.setObjectName("codebookUndo")
        self.undo_button.setToolTip("Undo the last code change (Ctrl+Z)")
        self.undo_button.clicked.connect(self.undo)
        self.reset_button = QPushButton("Reset", self.content)
        self.reset_button.setToolTip("Back to the image's own code map")
        self.reset_button.clicked.connect(lambda: self.select_image(self.image_index))
        controls = QHBoxLayout()
        for w in (self.index_spin, self.follow_check, self.undo_button, self.reset_button):
            controls.addWidget(w)
        controls.addStretch(1)

        self.map_plots = pg.GraphicsLayoutWidget()
        self.map_plots.setBackground("w")
        self.map_plots.setMinimumHeight(130)
        titles = ("image", "code map", "decoded")
        self.original_view, self.original_item = image_view()
        self.map_view, self.map_item = image_view()
        self.decoded_view, self.decoded_item = image_view()
        for col, (title, view) in enumerate(zip(titles, (self.original_view, self.map_view, self.decoded_view))):
            self.map_plots.addLabel(title, row=0, col=col, color="k")
            self.map_plots.addItem(view, row=1, col=col)
        self.cell_marker = QGraphicsRectItem()
        self.cell_marker.setPen(pg.mkPen((220, 30, 30), width=3))
        self.cell_marker.hide()
        self.map_view.addItem(self.cell_marker)
        self.edit_label = wrapped_label("Click a cell of the code map, then a code on the left", self.content)
        self.users_label = wrapped_label("Click a code to list the test images that use it most", self.content)
        self.users_label.setObjectName("codebookUsers")
        self.users_plots = pg.GraphicsLayoutWidget()
        self.users_plots.setBackground("w")
        self.users_plots.setMinimumHeight(55)
        self.users_view, self.users_item = image_view(self.users_plots.ci)

        self.keep_region = KeepRegion(self.session, self.map_plots, self.map_view, self.map_item,
                                      lambda: (self.image_index, self.edit_codes), self.content)
        right = QVBoxLayout()
        right.addLayout(controls)
        right.addWidget(self.keep_region.row)
        right.addWidget(self.map_plots, 3)
        right.addWidget(self.edit_label)
        right.addWidget(self.users_label)
        right.addWidget(self.users_plots, 1)
        return right

    # -- public API ---------------------------------------------------------------------------------------
    def is_active(self) -> bool:
        model = self.session.model
        return model is not None and model.has_codebook

    def cell_count(self) -> int:
        """Number of code cells in the grid (= K for a VQ-VAE, 0 otherwise)."""
        return len(self.counts) if self.is_active() else 0

    def usage(self) -> np.ndarray:
        return self.counts.copy()

    def select_image(self, i: int) -> None:
        """Show test image ``i``, its code map and its decoding; clears the undo history."""
        if not self.is_active() or len(self.test_codes) == 0:
            return
        i = int(np.clip(i, 0, len(self.test_codes) - 1))
        self.image_index = i
        if self.index_spin.value() != i:
            with QSignalBlocker(self.index_spin):
                self.index_spin.setValue(i)
        self.edit_codes = self.test_codes[i].copy()
        self._undo.clear()
        show_image(self.original_view, self.original_item, self.session.test_set.images[i])
        self._show_code_map()
        self._redecode()

    def select_cell(self, row: int, col: int) -> None:
        if self.edit_codes is None:
            return
        self.selected_cell = (row, col)
        self.cell_marker.setRect(QRectF(col, row, 1, 1))
        self.cell_marker.show()
        self.edit_label.setText(f"Cell ({row}, {col}) holds code {self.edit_codes[row, col]}: click a code to paint it")
        self.cellSelected.emit(row, col)

    def paint(self, cell_row: int, cell_col: int, code: int) -> None:
        """Put ``code`` into the code map at (cell_row, cell_col) and decode again (undoable)."""
        if self.edit_codes is None:
            return
        old = int(self.edit_codes[cell_row, cell_col])
        if old == code:
            return
        self._undo.append((cell_row, cell_col, old))
        self.edit_codes[cell_row, cell_col] = code
        self._show_code_map()
        self._redecode()
        self.edit_label.setText(f"Cell ({cell_row}, {cell_col}): code {old} → {code} · {len(self._undo)} change(s)")

    def undo(self) -> bool:
        """Revert the last paint; False when there is nothing to undo."""
        if not self._undo or self.edit_codes is None:
            return False
        row, col, old = self._undo.pop()
        self.edit_codes[row, col] = old
        self._show_code_map()
        self._redecode()
        self.edit_label.setText(f"Undone: cell ({row}, {col}) is code {old} again · {len(self._undo)} change(s)")
        return True

    def decoded_image(self) -> np.ndarray | None:
        """The decoding of the (edited) code map as shown, (H, W) or (H, W, 3)."""
        return None if self.decoded_item.image is None else np.array(self.decoded_item.image)

    def click_code(self, code: int) -> None:
        """As a click on ``code`` in the grid: paint it into the selected cell and list its top users."""
        self.selected_code = code
        self._place_code_marker(code)
        if self.selected_cell is not None:
            self.paint(*self.selected_cell, code)
        self._list_users(code)
        self.codeClicked.emit(code)

    # -- computing ----------------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Draw everything again from the session: its model's codes and their use (a new model or new weights)."""
        self._stack.setCurrentWidget(self.content if self.is_active() else self.placeholder)
        if not self.is_active():
            self.counts, self._thumbs = np.zeros(0, np.int64), None
            return
        self._thumbs = self._code_thumbnails(self.session.model)
        self._count_usage()
        self._redraw()

    def _count_usage(self) -> None:
        """The usage figures of the session's code maps of the test split (cheap: kept current while hidden)."""
        model = self.session.model
        k = int(model.codebook.shape[0])
        self.test_codes = self._session_codes(model)
        self.counts = np.bincount(self.test_codes.ravel(), minlength=k).astype(np.int64)
        self.stats_label.setText(self._stats_text(k))
        self.index_spin.setRange(0, max(0, len(self.test_codes) - 1))
        self.index_spin.setEnabled(len(self.test_codes) > 0)

    def _redraw(self) -> None:
        """The grid framed in the usage colours, and the chosen test image's code map (or nothing without one)."""
        self._draw_grid()
        self.selected_cell = None
        self.cell_marker.hide()
        if len(self.test_codes):
            self.select_image(max(self.image_index, 0))
        else:  # nothing to show on the right: not the previous model's image, map and decoding
            self.edit_codes, self.top_images = None, np.zeros(0, np.int64)
            for item in (self.original_item, self.map_item, self.decoded_item, self.users_item):
                item.clear()
            self.edit_label.setText("")
            self.users_label.setText("")

    def _stats_text(self, k: int) -> str:
        if len(self.test_codes) == 0:
            why = ("appear once the test split is encoded" if self.session.test_set is not None
                   else "need the model's test split, which is not loaded")
            return (f"<b>K = {k}</b> codes, each decoded as a uniform code map<br>usage, code maps and the "
                    f"images that use a code {why}")
        usage = usage_text(usage_stats(torch.from_numpy(self.counts)), k, "test split")
        return (f"<b>K = {k}</b> codes · {usage}<br>each code decoded as a uniform code map; border: "
                f"<span style='color:#440154'>■</span> rare → <span style='color:#fde725'>■</span> frequent, "
                f"<span style='color:#bfbfbf'>■</span> unused")

    def _session_codes(self, model: Any) -> np.ndarray:
        """The test images' code maps, encoded once by the session with the scatter's latents."""
        codes = self.session.test_codes
        return codes if codes is not None else np.zeros((0, *model.code_grid_shape), np.int64)

    @staticmethod
    def _code_thumbnails(model: Any) -> np.ndarray:
        """Each code decoded as a uniform code map, (K, h, w, 3) in [0, 1]."""
        k = int(model.codebook.shape[0])
        with torch.inference_mode():
            uniform = torch.arange(k).view(k, 1, 1).expand(k, *model.code_grid_shape)
            thumbs = as_display_batch(model.decode_codes(uniform.contiguous()))
        return np.repeat(thumbs[..., None], 3, axis=-1) if thumbs.ndim == 3 else thumbs

    def _draw_grid(self) -> None:
        """The code thumbnails, each framed in its usage colour; unused codes dimmed."""
        thumbs = self._thumbs.copy()
        k = len(thumbs)
        if len(self.test_codes):  # usage known: dim the unused codes
            thumbs[self.counts == 0] *= 0.35
            colors = usage_colors(self.counts)
        else:
            colors = np.full((k, 3), 0.75, np.float32)
        h, w = thumbs.shape[1:3]
        framed = np.empty((k, h + 2 * BORDER, w + 2 * BORDER, 3), np.float32)
        framed[:] = colors[:, None, None, :]
        framed[:, BORDER:BORDER + h, BORDER:BORDER + w] = thumbs
        self._ncols = int(np.ceil(np.sqrt(k)))
        self._cell_hw = framed.shape[1:3]
        show_image(self.grid_view, self.grid_item, tile(framed, ncols=self._ncols, pad=1))
        if self.selected_code is not None and self.selected_code < k:
            self._place_code_marker(self.selected_code)
        else:
            self.code_marker.hide()

    def _place_code_marker(self, code: int) -> None:
        r, c = divmod(code, self._ncols)
        h, w = self._cell_hw
        self.code_marker.setRect(QRectF(c * (w + 1), r * (h + 1), w, h))
        self.code_marker.show()

    def _show_code_map(self) -> None:
        """The code map as colour cells (a fixed colour per code) with the code numbers written in."""
        codes = self.edit_codes
        show_image(self.map_view, self.map_item, code_palette(len(self.counts))[codes])
        self.keep_region.fit(codes.shape)
        cells = codes.size
        while len(self._code_texts) < cells:
            text = pg.TextItem("", color="k", anchor=(0.5, 0.5))
            self.map_view.addItem(text)
            self._code_texts.append(text)
        show_numbers = cells <= 100 and self._numbers_fit()  # beyond 10×10 cells they never would
        for n, text in enumerate(self._code_texts):
            if n < cells and show_numbers:
                r, c = divmod(n, codes.shape[1])
                text.setText(str(int(codes[r, c])))
                text.setFont(self._number_font)
                text.setPos(c + 0.5, r + 0.5)
                text.show()
            else:
                text.hide()

    def _numbers_fit(self) -> bool:
        """Whether the widest code number fits inside a code-map cell at the size the map is drawn,
        in the widget's font or down to 6 pt (the font the numbers then use)."""
        if self.edit_codes is None:
            return False
        rows, cols = self.edit_codes.shape
        width, height = self.map_view.width(), self.map_view.height()
        if width <= 1 or height <= 1:  # not laid out yet: assume it fits, re-checked on resize
            return True
        cell = min(width / cols, height / rows)  # the view keeps the aspect ratio: square cells
        widest = "8" * len(str(max(len(self.counts) - 1, 0)))
        font = QFont(self.font())
        for size in (font.pointSizeF(), 8.0, 7.0, 6.0):
            font.setPointSizeF(min(size, self.font().pointSizeF()))
            if QFontMetrics(font).horizontalAdvance(widest) + 2 <= cell:
                self._number_font = font
                return True
        return False

    def _on_map_resized(self) -> None:
        if self.edit_codes is not None:
            self._show_code_map()

    def _redecode(self) -> None:
        with torch.inference_mode():
            image = self.session.model.decode_codes(torch.from_numpy(self.edit_codes)[None])[0]
        show_image(self.decoded_view, self.decoded_item, image)
        self.decodedChanged.emit(self.decoded_image())

    def _list_users(self, code: int) -> None:
        """The test images with the most cells holding ``code``."""
        per_image = (self.test_codes == code).sum(axis=(1, 2))
        order = np.argsort(-per_image, kind="stable")[:TOP_IMAGES]
        self.top_images = order[per_image[order] > 0]
        if len(self.top_images) == 0:
            self.users_item.clear()
            self.users_label.setText(f"Code {code} is used by no test image")
            return
        images = self.session.test_set.images[torch.from_numpy(self.top_images)]
        show_image(self.users_view, self.users_item, tile(images, ncols=len(self.top_images), pad=2))
        n_users = int((per_image > 0).sum())
        top = ", ".join(f"#{i} ({per_image[i]})" for i in self.top_images[:5])
        self.users_label.setText(
            f"Code {code}: {self.counts[code]} cells in {n_users} test images; most: {top}"
        )

    # -- mouse --------------------------------------------------------------------------------------------
    def _grid_code_at(self, scene_pos: QPointF) -> int | None:
        if self.grid_item.image is None:
            return None
        p = self.grid_item.mapFromScene(scene_pos)
        return tile_at(p.y(), p.x(), len(self.counts), self._ncols, self._cell_hw, pad=1)

    def _on_grid_hover(self, scene_pos: QPointF) -> None:
        code = self._grid_code_at(scene_pos)
        if code is None:
            return
        total = max(int(self.counts.sum()), 1)
        text = f"code {code}: used {self.counts[code]} times ({100 * self.counts[code] / total:.2f}% of cells)"
        self.hover_label.setText(text)
        self.grid_plots.setToolTip(text)

    def _on_grid_click(self, ev: Any) -> None:
        code = self._grid_code_at(ev.scenePos())
        if code is not None and ev.button() == Qt.MouseButton.LeftButton:
            self.click_code(code)

    def _on_map_click(self, ev: Any) -> None:
        if self.edit_codes is None or ev.button() != Qt.MouseButton.LeftButton:
            return
        p = self.map_item.mapFromScene(ev.scenePos())
        row, col = int(np.floor(p.y())), int(np.floor(p.x()))
        if 0 <= row < self.edit_codes.shape[0] and 0 <= col < self.edit_codes.shape[1]:
            self.select_cell(row, col)

    def _on_weights_updated(self) -> None:
        # Drawing K codes and the chosen image takes a moment: during training redraw only while
        # the grid is on screen, and once when it is shown again.
        if self.isVisible():
            self.refresh()
        else:
            self._stale = True

    def _on_encodings_changed(self) -> None:
        """New code maps of the test split (not just a new projection of them): count them, and redraw."""
        if not self.is_active() or self._thumbs is None or self._counted(self.session.test_codes):
            return
        self._count_usage()
        if self.isVisible():
            self._redraw()
        else:
            self._stale = True

    def _counted(self, codes: np.ndarray | None) -> bool:
        return codes is self.test_codes or (codes is None and len(self.test_codes) == 0)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._stale:
            self._stale = False
            self.refresh()

    def _on_current_point(self, z: Any) -> None:
        self._pending_point = z
        self._follow_timer.request()

    def _follow_point(self) -> None:
        z, self._pending_point = self._pending_point, None
        if z is None or not self.follow_check.isChecked() or not self.is_active() or not self.isVisible():
            return
        coords = self.session.coords
        projection = self.session.projection
        if coords is None or projection is None or len(coords) == 0:
            return
        p = np.asarray(projection.to_2d(np.asarray(z, np.float32).reshape(1, -1)))[0]
        index = int(latent_space.nearest_examples(coords, p, k=1)[0])
        if index != self.image_index:
            self.select_image(index)
