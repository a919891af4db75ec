"""The main window opens inside the screen it is on: sized from the screen's available area, never larger."""
from __future__ import annotations

from PySide6.QtCore import QSize
from PySide6.QtWidgets import QWidget

from aeviewer.gui.window.main_window import MainWindow
from aeviewer.gui.startup.screen_fit import PREFERRED_SIZE, first_size, fit_to_screen


def test_the_main_window_opens_inside_the_available_screen(qtbot):
    window = MainWindow()  # a first run: the conftest's QSettings hold no saved geometry
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    available = window.screen().availableGeometry()
    assert available.width() < PREFERRED_SIZE.width(), "the offscreen screen is smaller than the preferred size"
    assert available.contains(window.frameGeometry()), (window.frameGeometry(), available)
    assert window.size() == first_size(available)  # a small screen: all of it but a margin for the frame


def test_a_window_smaller_than_the_screen_gets_its_preferred_size_centred(qtbot):
    widget = QWidget()
    qtbot.addWidget(widget)
    fit_to_screen(widget, QSize(300, 200))
    available = widget.screen().availableGeometry()
    assert widget.size() == QSize(300, 200)
    assert abs(widget.geometry().center().x() - available.center().x()) <= 1
    assert abs(widget.geometry().center().y() - available.center().y()) <= 1
