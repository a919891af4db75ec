"""RegulariserView: what the regulariser did to the current model, kept up to date from the session.

A VAE shows its KL per latent dimension with the active units (:class:`KLChart`); an AAE its codes over the
prior's contours (:class:`PriorMatchView`, from the session's own encodings, so nothing is encoded twice);
other kinds a line saying there is no regulariser to show. Live weight snapshots during training refresh it at
most every ``REFRESH_MS``, and only while it is visible.
"""
from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QLabel, QStackedWidget, QVBoxLayout, QWidget

from aeviewer.gui.views.regulariser.kl_chart import KLChart
from aeviewer.gui.views.regulariser.prior_match_view import PriorMatchView
from aeviewer.spec.vocabulary import KIND_SHORT_LABELS

REFRESH_MS = 500  # at most two redraws a second while training (a KL update costs ~50 ms of the GUI thread)
NOTHING_TO_SHOW = "An {kind} has no regulariser to show: a VAE shows its KL per dimension, an AAE its prior's contours."


class RegulariserView(QWidget):
    def __init__(self, session: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("regulariserView")
        self.session = session
        self.kl_chart = KLChart(self)
        self.prior_view = PriorMatchView(self)
        self.note = QLabel("Open a model to see what its regulariser did.", self)
        self.note.setObjectName("regulariserNote")
        self.note.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.note.setWordWrap(True)
        self.stack = QStackedWidget(self)
        for widget in (self.note, self.kl_chart, self.prior_view):
            self.stack.addWidget(widget)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.stack)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self.refresh)
        self._stale = True
        session.modelChanged.connect(self._schedule)
        session.encodingsChanged.connect(self._schedule)  # live snapshots re-encode, then emit this

    def _schedule(self) -> None:
        self._stale = True
        if self.isVisible() and not self._timer.isActive():
            self._timer.start()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._stale:
            self._timer.start(0)

    def refresh(self) -> None:
        """Draw the current model's picture now."""
        self._stale = False
        session = self.session
        model, images = session.model, session.test_set
        if model is None or images is None:
            self._show_note("Open a model with its test images to see what its regulariser did.")
            return
        kind = model.config.kind
        if model.regulariser == "kl":
            self.kl_chart.show_model(model, images)
            self.stack.setCurrentWidget(self.kl_chart)
        elif model.regulariser == "prior" and len(session.latents) != len(images):
            # a new model's codes are still encoding (the old ones are gone): encodingsChanged redraws
            self._show_note(f"Encoding {len(images):,} test images to draw their codes over the prior…")
        elif model.regulariser == "prior":
            self.prior_view.show_codes(model, session.latents[:, :2], images.labels.numpy())
            self.stack.setCurrentWidget(self.prior_view)
        else:
            self._show_note(NOTHING_TO_SHOW.format(kind=KIND_SHORT_LABELS.get(kind, kind.upper())))

    def _show_note(self, text: str) -> None:
        self.note.setText(text)
        self.stack.setCurrentWidget(self.note)
