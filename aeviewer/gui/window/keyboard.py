"""SpaceForFocusedControls: Space starts and pauses training, except on a control that Space works."""
from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QAbstractButton, QComboBox, QWidget


class SpaceForFocusedControls(QObject):
    """Space is the start/pause shortcut, but on a focused button, check box or list box it must do what
    it does there (click, tick, open): Qt would otherwise hand it to the window's shortcut, so ticking
    "Continue training" from the keyboard started a run that replaced the open model."""

    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        for widget in window.findChildren(QAbstractButton) + window.findChildren(QComboBox):
            widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (event.type() == QEvent.Type.ShortcutOverride and isinstance(event, QKeyEvent)
                and event.key() == Qt.Key.Key_Space and event.modifiers() == Qt.KeyboardModifier.NoModifier):
            event.accept()  # an accepted override: the key goes to the widget, not to the shortcut
            return True
        return super().eventFilter(watched, event)
