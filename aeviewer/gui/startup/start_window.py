"""What ``aeviewer gui`` paints first: a window where the main window will be, saying what is opening.

Importing torch and the main window's modules takes 1.5-2 s before the main window can exist; this window
needs only Qt, so it is on screen in a few hundred ms and the user sees the app start at once."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import QByteArray, QEvent, QObject, Qt, QTimer
from PySide6.QtWidgets import QLabel, QProgressBar, QVBoxLayout, QWidget

from aeviewer.gui.startup.screen_fit import fit_to_screen
from aeviewer.gui.state.settings_store import settings


class AfterFirstPaint(QObject):
    """Runs ``action`` on the event-loop turn after ``widget``'s first paint (or after ``fallback_ms``
    when it is never painted, e.g. its dock is closed), then lets go. ``action`` must be idempotent."""

    def __init__(self, widget: QWidget, action: Callable[[], Any], fallback_ms: int = 5000) -> None:
        super().__init__(widget)
        self._widget, self._action = widget, action
        widget.installEventFilter(self)
        QTimer.singleShot(fallback_ms, self, action)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint and watched is self._widget:
            self._widget.removeEventFilter(self)
            QTimer.singleShot(0, self._action)
        return False


class StartWindow(QWidget):
    """The main window's place and size (the last session's geometry, else fitted to the screen) with
    "Opening NAME…" and a busy bar."""

    def __init__(self, opening: Path | None) -> None:
        super().__init__()
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)  # and with it the fallback timer of then()
        self.setWindowTitle("aeviewer")
        text = f"Opening {opening.name}…" if opening is not None else "Starting aeviewer…"
        self.label = QLabel(text)
        self.label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        bar = QProgressBar()
        bar.setRange(0, 0)  # busy: the imports give no progress to report
        bar.setMaximumWidth(320)
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        layout.addWidget(self.label)
        layout.addWidget(bar, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addStretch(1)
        geometry = settings().value("window/geometry")
        if not (isinstance(geometry, QByteArray) and not geometry.isEmpty() and self.restoreGeometry(geometry)):
            fit_to_screen(self)

    def then(self, action: Callable[[], Any]) -> None:
        """Run ``action`` once this window has been painted."""
        self._after_paint = AfterFirstPaint(self, action, fallback_ms=1000)
