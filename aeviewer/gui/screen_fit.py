"""The main window's first size: what it would like, but never more than the screen it opens on can show."""
from __future__ import annotations

from PySide6.QtCore import QRect, QSize
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QWidget

PREFERRED_SIZE = QSize(1500, 920)
# Of the screen's available area: the rest is left for the window manager's frame and title bar.
SCREEN_SHARE = 0.9


def fit_to_screen(window: QWidget, preferred: QSize = PREFERRED_SIZE) -> None:
    """Size ``window`` to ``preferred``, shrunk to SCREEN_SHARE of its screen's available geometry, and centre
    it there (on a 1440x900 screen at most 1296x810, where 1500x920 was cut off at the right and bottom)."""
    screen = window.screen() or QGuiApplication.primaryScreen()
    if screen is None:  # no screen at all (never under offscreen or a display): keep the preferred size
        window.resize(preferred)
        return
    available = screen.availableGeometry()
    size = preferred.boundedTo(QSize(int(available.width() * SCREEN_SHARE), int(available.height() * SCREEN_SHARE)))
    window.resize(size)
    frame = QRect(available.topLeft(), size)
    frame.moveCenter(available.center())
    window.move(frame.topLeft())
