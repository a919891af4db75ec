"""Keep a region: paint the cells of the codebook view's code map to keep, and let the learned prior complete the rest.

With "Keep region" on, a press on a cell of the code map keeps it (or, on a kept cell, gives it back to the prior)
and a drag with the button held does the same to every cell it crosses. The cells left to the prior are shaded grey,
as in the Prior tab. "Complete the rest" hands the image, its code map as shown (with any codes painted into it) and
the mask to the Session (``request_completion``); the decoder's Prior tab completes it in a job and shows the
original, what was kept and the completions side by side.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, QPointF, Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QWidget

from aeviewer.gui.state.session import Session

COMPLETE_TIP = ("The learned prior samples the grey cells, keeping the painted ones: the completions show in the "
                "decoder's Prior tab")
NO_PRIOR_TIP = "This VQ-VAE has no learned prior: train one ('aeviewer train-prior' or the panel's Train prior)"
FOR_THE_PRIOR_RGBA = (128, 128, 128, 170)  # the cells the prior will sample: grey, as the Prior tab shows them
PAINT_EVENTS = (QEvent.Type.MouseButtonPress, QEvent.Type.MouseMove, QEvent.Type.MouseButtonRelease)


class KeepRegion(QObject):
    """The region tool of one code map: its buttons (``row``), the mask it paints (``keep``) and its grey overlay."""

    def __init__(self, session: Session, plots: pg.GraphicsLayoutWidget, view: pg.ViewBox, item: pg.ImageItem,
                 image: Callable[[], tuple[int, np.ndarray | None]], parent: QWidget) -> None:
        super().__init__(parent)
        self.session, self.plots, self.item, self.image = session, plots, item, image
        self.keep: np.ndarray | None = None  # (H', W') bool: the cells kept
        self._value: bool | None = None  # what a drag sets the cells it crosses to (None: no drag)
        self.overlay = pg.ImageItem(axisOrder="row-major")
        self.overlay.setZValue(5)
        view.addItem(self.overlay)
        self.row = self._build_row(parent)
        plots.viewport().installEventFilter(self)
        shortcut = QShortcut(QKeySequence("K"), parent)
        shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        shortcut.activated.connect(self.paint_button.toggle)
        session.modelChanged.connect(self.clear)  # cells kept of another model's map mean nothing to this one
        session.priorChanged.connect(self.update_buttons)
        self.update_buttons()

    def _build_row(self, parent: QWidget) -> QWidget:
        row = QWidget(parent)
        self.paint_button = QPushButton("Keep region", row)
        self.paint_button.setObjectName("codebookKeepRegion")
        self.paint_button.setCheckable(True)
        self.paint_button.setToolTip("Paint the code-map cells to keep (press or drag over them; again to give a "
                                     "cell back), then 'Complete the rest' (K)")
        self.complete_button = QPushButton("Complete the rest", row)
        self.complete_button.setObjectName("codebookCompleteRest")
        self.complete_button.clicked.connect(lambda _checked=False: self.complete())
        self.clear_button = QPushButton("Clear region", row)
        self.clear_button.setObjectName("codebookClearRegion")
        self.clear_button.setToolTip("Keep no cell")
        self.clear_button.clicked.connect(lambda _checked=False: self.clear())
        layout = QHBoxLayout(row)
        layout.setContentsMargins(0, 0, 0, 0)
        for button in (self.paint_button, self.complete_button, self.clear_button):
            layout.addWidget(button)
        layout.addStretch(1)
        return row

    # -- the mask ---------------------------------------------------------------------------------------------
    def fit(self, grid: tuple[int, int]) -> None:
        """A code map of ``grid`` cells is shown: the mask stays while the grid does (another image, the same
        cells kept), and starts empty for another grid."""
        if self.keep is None or self.keep.shape != tuple(grid):
            self.keep = np.zeros(grid, bool)
        self._redraw()

    def set_cell(self, row: int, col: int, keep: bool) -> None:
        if self.keep is not None and 0 <= row < self.keep.shape[0] and 0 <= col < self.keep.shape[1]:
            if self.keep[row, col] != keep:
                self.keep[row, col] = keep
                self._redraw()

    def clear(self) -> None:
        if self.keep is not None:
            self.keep[:] = False
        self._redraw()  # also the buttons, for a new model

    def complete(self) -> bool:
        """Ask the Session for completions of the shown image outside the kept cells (False: nothing to ask)."""
        if not self._can_complete():
            return False
        self.session.request_completion(*self.image(), self.keep)
        return True

    def update_buttons(self) -> None:
        model = self.session.model
        has_prior = model is not None and model.has_codebook and model.has_prior
        self.paint_button.setEnabled(has_prior)
        self.clear_button.setEnabled(self.keep is not None and bool(self.keep.any()))
        self.complete_button.setEnabled(self._can_complete())
        self.complete_button.setToolTip(COMPLETE_TIP if has_prior else NO_PRIOR_TIP)
        if not has_prior:
            self.paint_button.setChecked(False)

    def _can_complete(self) -> bool:
        model = self.session.model
        return (model is not None and model.has_codebook and model.has_prior and self.keep is not None
                and bool(self.keep.any()) and self.image()[1] is not None)

    def _redraw(self) -> None:
        if self.keep is None or not self.keep.any():
            self.overlay.clear()
        else:
            rgba = np.zeros((*self.keep.shape, 4), np.uint8)
            rgba[~self.keep] = FOR_THE_PRIOR_RGBA
            self.overlay.setImage(rgba, autoLevels=False)
        self.update_buttons()

    # -- the mouse --------------------------------------------------------------------------------------------
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """With "Keep region" on, presses and drags on the code map paint the mask instead of picking a cell."""
        if not self.paint_button.isChecked() or event.type() not in PAINT_EVENTS or self.keep is None:
            return False
        kind = event.type()
        cell = self._cell_at(event.position())
        if kind == QEvent.Type.MouseButtonPress and event.button() == Qt.MouseButton.LeftButton and cell is not None:
            self._value = not bool(self.keep[cell])
        if self._value is None:
            return False
        if cell is not None:
            self.set_cell(*cell, self._value)
        if kind == QEvent.Type.MouseButtonRelease:
            self._value = None
        return True

    def _cell_at(self, pos: QPointF) -> tuple[int, int] | None:
        p = self.item.mapFromScene(self.plots.mapToScene(pos.toPoint()))
        row, col = int(np.floor(p.y())), int(np.floor(p.x()))
        rows, cols = self.keep.shape
        return (row, col) if 0 <= row < rows and 0 <= col < cols else None

