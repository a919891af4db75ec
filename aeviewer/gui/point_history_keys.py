"""Ctrl+Z and Ctrl+Shift+Z, while the map has focus, undo and redo the session's current point.

A small hook over :class:`aeviewer.point_history.PointHistory`: every point the session reports is recorded,
except the ones this hook restores; a new model starts a fresh history.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QWidget

from aeviewer.point_history import PointHistory

UNDO_KEYS = "Ctrl+Z"
REDO_KEYS = "Ctrl+Shift+Z"


class PointHistoryKeys(QObject):
    def __init__(self, session: Any, map_widget: QWidget, history: PointHistory | None = None) -> None:
        super().__init__(map_widget)
        self.setObjectName("pointHistoryKeys")
        self.session = session
        self.history = history if history is not None else PointHistory()
        self._restoring = False
        session.modelChanged.connect(self.history.clear)  # emitted before the new model's first point
        session.currentPointChanged.connect(self._record)
        if getattr(session, "current_z", None) is not None:
            self.history.record(session.current_z)
        self.shortcuts = [self._shortcut(map_widget, UNDO_KEYS, self.undo), self._shortcut(map_widget, REDO_KEYS, self.redo)]
        tip = f"{UNDO_KEYS}: back to the previous point; {REDO_KEYS}: forward again"
        map_widget.setToolTip("\n".join(t for t in (map_widget.toolTip(), tip) if t))

    def _shortcut(self, widget: QWidget, keys: str, slot: Any) -> QShortcut:
        shortcut = QShortcut(QKeySequence(keys), widget)
        shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)  # only while the map has focus
        shortcut.activated.connect(slot)
        return shortcut

    def undo(self) -> bool:
        """Go back one point; False when there is none."""
        return self._restore(self.history.undo())

    def redo(self) -> bool:
        return self._restore(self.history.redo())

    def _restore(self, z: np.ndarray | None) -> bool:
        if z is None:
            return False
        self._restoring = True
        try:
            self.session.set_current_z(z)
            self.session.flushRequested.emit()  # someone pressed a key and waits for the picture
        finally:
            self._restoring = False
        return True

    def _record(self, z: Any) -> None:
        if not self._restoring:
            self.history.record(z)
