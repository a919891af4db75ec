"""The main window inside the screen it is on: its first size (what it would like, never more than the screen
can show), a stored geometry only when it fits, and a window that never grows past the screen afterwards."""
from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QRect, QSize, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QWidget

PREFERRED_SIZE = QSize(1500, 920)
# Of the screen's available area: the rest is left for the window manager's frame and title bar.
SCREEN_SHARE = 0.9
# A smaller screen (a 1366x768 laptop) gives nearly all of itself: every pixel of the scatter counts there.
SMALL_SCREEN_WIDTH = 1440
SMALL_SCREEN_MARGIN = QSize(16, 40)


def available_geometry(widget: QWidget | None = None) -> QRect:
    """The available area of ``widget``'s screen (the primary one without a widget); an empty rect with no
    screen at all. The one place the window reads it (tests substitute a laptop screen here)."""
    screen = (widget.screen() if widget is not None else None) or QGuiApplication.primaryScreen()
    return screen.availableGeometry() if screen is not None else QRect()


def first_size(available: QRect, preferred: QSize = PREFERRED_SIZE) -> QSize:
    """``preferred`` shrunk to SCREEN_SHARE of ``available`` (on a small screen: all of it but a margin)."""
    if available.width() < SMALL_SCREEN_WIDTH:
        room = available.size() - SMALL_SCREEN_MARGIN
    else:
        room = QSize(int(available.width() * SCREEN_SHARE), int(available.height() * SCREEN_SHARE))
    return preferred.boundedTo(room)


def fit_to_screen(window: QWidget, preferred: QSize = PREFERRED_SIZE) -> None:
    """Size ``window`` to ``preferred``, shrunk to fit its screen's available geometry (first_size), and centre
    it there (on a 1440x900 screen at most 1296x810, where 1500x920 was cut off at the right and bottom)."""
    available = available_geometry(window)
    if available.isEmpty():  # no screen at all (never under offscreen or a display): keep the preferred size
        window.resize(preferred)
        return
    size = first_size(available, preferred)
    window.resize(size)
    frame = QRect(available.topLeft(), size)
    frame.moveCenter(available.center())
    window.move(frame.topLeft())


def fits_screen(window: QWidget) -> bool:
    """The window's frame lies inside its screen's available area."""
    available = available_geometry(window)
    return available.isEmpty() or available.contains(window.frameGeometry())


class KeepInsideScreen(QObject):
    """Keeps ``window`` from growing past its screen: its minimum size is its layout's, bounded by the screen.

    Why: Qt raises a window to its layout's minimum size, and one long label (a far click's status on a map)
    raised it past the screen; the decoder dock shrank to a sliver and, on a 1366-px screen, went off it. Set
    explicitly, the window's minimum is no longer raised by the layout; this sets it after each layout pass.
    """

    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self.window = window
        self._set = False  # the window's minimum not yet set here (until then, its layout sets it)
        window.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        if watched is self.window and event.type() in (QEvent.Type.LayoutRequest, QEvent.Type.Show):
            self.apply()  # the layout has activated already: Qt hands it the event before any filter
        elif watched is self.window and event.type() == QEvent.Type.Resize:
            QTimer.singleShot(0, self._undo_forced_growth)  # not inside Qt's own resize
        return False

    def _undo_forced_growth(self) -> None:
        """Qt grew the window to its layout's minimum past the screen (a size nobody chose): back inside it."""
        window, room = self.window, self.room()
        layout = window.layout()
        forced = layout is not None and window.size() == layout.totalMinimumSize()
        if forced and (window.width() > room.width() or window.height() > room.height()):
            window.setMinimumSize(room.boundedTo(window.minimumSize()))
            window.resize(room)
            move_inside(window)

    def room(self) -> QSize:
        """The largest client size whose frame fits the screen."""
        window, available = self.window, available_geometry(self.window)
        frame = window.frameGeometry().size() - window.geometry().size()
        return available.size() - frame

    def apply(self) -> None:
        window, layout = self.window, self.window.layout()
        if layout is None or available_geometry(window).isEmpty():
            return
        before, room = window.size(), self.room()
        minimum = layout.totalMinimumSize().boundedTo(room)
        if window.minimumSize() != minimum or not self._set:
            window.setMinimumSize(minimum)  # explicit from now on: the layout no longer raises it
            self._set = True
        if window.size() != before:  # grown here, up to the room there is: its frame back inside the screen
            move_inside(window)


def move_inside(window: QWidget) -> None:
    """Move ``window`` (no larger than its screen) so that its frame lies inside the screen."""
    available, frame = available_geometry(window), window.frameGeometry()
    x = min(max(frame.x(), available.left()), available.right() + 1 - frame.width())
    y = min(max(frame.y(), available.top()), available.bottom() + 1 - frame.height())
    if (x, y) != (frame.x(), frame.y()):
        window.move(x, y)
