"""PointNavigation: the current point's undo/redo history and the open model's bookmarks, as evented state
owned by the Session (the latent view's shortcuts and the decoder's Bookmarks tab only call and observe it).

A move made of many steps (a drag on the map, a path playing: ``session.moving``) is recorded once, where it ends.
A new model starts a new history and shows its own bookmarks (those it had, for a model file opened before).
"""
from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Signal

from aeviewer.explore.point_history import Bookmarks, PointHistory


class PointNavigation(QObject):
    """Records where the session's current point goes and steps back and forth through it; keeps the bookmarks."""

    bookmarksChanged = Signal()
    historyChanged = Signal()

    def __init__(self, session: Any) -> None:
        super().__init__(session)
        self.session = session
        self.history = PointHistory()
        self.bookmarks = Bookmarks()  # the open model's
        self._model_key: Any = None
        self._kept: dict[str, Bookmarks] = {}  # the bookmarks of model files opened before, by path
        self._jumping = False  # the point moves because of undo/redo/a bookmark: not a new history entry
        session.currentPointChanged.connect(self._on_point)
        session.modelChanged.connect(self._on_model_changed)
        session.movingChanged.connect(self._on_moving)

    # -- history ---------------------------------------------------------------------------------------
    def _on_point(self, z: Any) -> None:
        if self._jumping or self.session.moving or z is None:
            return  # a drag's (or a playing path's) steps are one move: recorded when it ends
        if self.history.record(z):
            self.historyChanged.emit()

    def _on_moving(self, active: bool) -> None:
        if not active:
            self._on_point(self.session.current_z)

    def _on_model_changed(self) -> None:
        self.history.clear()
        if self.session.current_z is not None:
            self.history.record(self.session.current_z)
        key = self._key_of_open_model()
        if key != self._model_key:
            if isinstance(self._model_key, str) and len(self.bookmarks):
                self._kept[self._model_key] = self.bookmarks
            kept = self._kept.pop(key, None) if isinstance(key, str) else None
            self.bookmarks = kept or Bookmarks()
            self._model_key = key
            self.bookmarksChanged.emit()
        self.historyChanged.emit()

    def _key_of_open_model(self) -> Any:
        """Which model the bookmarks belong to: its file, or (not saved yet, e.g. a new run) the model itself."""
        session = self.session
        if session.model is None:
            return None
        return str(session.model_path) if session.model_path is not None else id(session.model)

    def undo(self) -> bool:
        return self._go(self.history.undo(), "Undo: back to the previous point")

    def redo(self) -> bool:
        return self._go(self.history.redo(), "Redo: forward to the next point")

    def _go(self, z: np.ndarray | None, text: str) -> bool:
        if z is None or self.session.model is None:
            return False
        self._jumping = True
        try:
            self.session.set_current_z(z)
            self.session.flushRequested.emit()  # a key press someone waits on: draw it now
        finally:
            self._jumping = False
        self.session.message.emit(text)
        self.historyChanged.emit()
        return True

    # -- bookmarks -------------------------------------------------------------------------------------
    def add_bookmark(self, name: str | None = None) -> None:
        if self.session.current_z is None:
            return
        mark = self.bookmarks.add(self.session.current_z, name)
        self.session.message.emit(f"Bookmarked the current point as “{mark.name}” (Ctrl+D): the decoder's "
                                  "Bookmarks tab lists them")
        self.bookmarksChanged.emit()

    def set_bookmarks(self, marks: Any) -> None:
        """Replace the bookmarks with ``marks`` (anything with ``name`` and ``z``, e.g. a session file's)."""
        self.bookmarks.clear()
        for mark in marks:
            self.bookmarks.add(mark.z, mark.name)
        self.bookmarksChanged.emit()

    def rename_bookmark(self, index: int, name: str) -> None:
        self.bookmarks.rename(index, name)
        self.bookmarksChanged.emit()

    def remove_bookmark(self, index: int) -> None:
        self.bookmarks.remove(index)
        self.bookmarksChanged.emit()

    def jump_to_bookmark(self, index: int) -> None:
        """Go to a bookmark; the jump is a move like any other, so Ctrl+Z comes back from it."""
        if self.session.model is None:
            return
        self.session.set_current_z(self.bookmarks.point(index))
        self.session.flushRequested.emit()
