"""Undo/redo and bookmarks of the current latent point: PointNavigation (shortcuts on the map) and
BookmarkList (the list that names, jumps to and deletes bookmarks).

The shortcuts are scoped to the latent view (WidgetWithChildrenShortcut): the codebook view has its own
Ctrl+Z for repainting a cell, and both must work, each where it has focus.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import QObject, QSignalBlocker, Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView, QHBoxLayout, QListWidget, QListWidgetItem, QTabWidget, QVBoxLayout, QWidget,
)

from aeviewer.gui.widgets.image_utils import make_button
from aeviewer.explore.point_history import Bookmarks, PointHistory

UNDO_KEYS = QKeySequence("Ctrl+Z")
REDO_KEYS = QKeySequence("Ctrl+Shift+Z")
BOOKMARK_KEYS = QKeySequence("Ctrl+D")


class PointNavigation(QObject):
    """Records where the session's current point goes (a drag counts once, where it ends) and steps back
    and forth through it; keeps the bookmarks. Attached to a LatentView, whose shortcuts it installs."""

    bookmarksChanged = Signal()
    historyChanged = Signal()

    def __init__(self, view: Any) -> None:
        super().__init__(view)
        self.view = view
        self.session = view.session
        self.history = PointHistory()
        self.bookmarks = Bookmarks()  # the open model's
        self._model_key: Any = self._key_of_open_model()
        self._kept: dict[str, Bookmarks] = {}  # the bookmarks of model files opened before, by path
        self._jumping = False  # the point moves because of undo/redo/a bookmark: not a new history entry
        self.session.currentPointChanged.connect(self._on_point)
        self.session.modelChanged.connect(self._on_model_changed)
        self.session.movingChanged.connect(self._on_drag)
        view.viewbox.sigPickDrag.connect(self._on_drag)
        self.shortcuts = [self._shortcut(UNDO_KEYS, self.undo), self._shortcut(REDO_KEYS, self.redo),
                          self._shortcut(BOOKMARK_KEYS, self.add_bookmark)]
        if getattr(self.session, "current_z", None) is not None:
            self.history.record(self.session.current_z)

    def _shortcut(self, keys: QKeySequence, slot: Any) -> QShortcut:
        shortcut = QShortcut(keys, self.view)
        shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        shortcut.activated.connect(slot)
        return shortcut

    # -- history ---------------------------------------------------------------------------------------
    def _on_point(self, z: Any) -> None:
        if self._jumping or self.view.dragging or self.session.moving or z is None:
            return  # a drag's (or a playing path's) steps are one move: recorded when it ends
        if self.history.record(z):
            self.historyChanged.emit()

    def _on_drag(self, active: bool) -> None:
        if not active:
            self._on_point(self.session.current_z)

    def _on_model_changed(self) -> None:
        """A new model starts a new history and shows its own bookmarks: none for a model new to this window,
        the ones it had for a model file opened before (the same model with other data keeps them)."""
        self.history.clear()
        if self.session.current_z is not None:
            self.history.record(self.session.current_z)
        key = self._key_of_open_model()
        if key != self._model_key:
            if isinstance(self._model_key, str) and len(self.bookmarks):
                self._kept[self._model_key] = self.bookmarks
            self.bookmarks = self._kept.pop(key, None) if isinstance(key, str) else None
            self.bookmarks = self.bookmarks or Bookmarks()
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
        """Replace the bookmarks with ``marks`` (anything with ``name`` and ``z``, e.g. a session file's), so
        ``gui.session_io.open_into(..., set_bookmarks=navigation.set_bookmarks)`` restores them; saving hands
        ``navigation.bookmarks.items`` (they have ``name`` and ``z`` too)."""
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


class BookmarkList(QWidget):
    """The bookmarks: click one to go there, F2 or a double click renames it in place, Delete removes it."""

    def __init__(self, navigation: PointNavigation, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("bookmarkList")
        self.navigation = navigation
        self._renaming = False
        self.list = QListWidget(self)
        self.list.setObjectName("bookmarkItems")
        self.list.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked | QAbstractItemView.EditTrigger.EditKeyPressed)
        self.list.setToolTip("Click: go to the bookmark · double click or F2: rename · Delete: remove")
        self.list.itemClicked.connect(self._on_clicked)
        self.list.itemActivated.connect(self._on_clicked)
        self.list.itemChanged.connect(self._on_renamed)
        delete = QShortcut(QKeySequence(Qt.Key.Key_Delete), self.list)
        delete.setContext(Qt.ShortcutContext.WidgetShortcut)
        delete.activated.connect(self.delete_current)
        buttons = QHBoxLayout()
        buttons.addWidget(make_button(self, "Add", "bookmarkAdd", "Bookmark the current point (Ctrl+D on the map)",
                                      navigation.add_bookmark))
        buttons.addWidget(make_button(self, "Delete", "bookmarkDelete", "Delete the selected bookmark (Delete)",
                                      self.delete_current))
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(buttons)
        layout.addWidget(self.list, 1)
        navigation.bookmarksChanged.connect(self.refresh)
        self.refresh()

    def refresh(self) -> None:
        if self._renaming:
            return
        with QSignalBlocker(self.list):  # filling the list is no rename
            row = self.list.currentRow()
            self.list.clear()
            for mark in self.navigation.bookmarks.items:
                item = QListWidgetItem(mark.name)
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsEditable)
                item.setToolTip(f"z = ({', '.join(f'{v:.2f}' for v in mark.z[:6])}{', …' if len(mark.z) > 6 else ''})")
                self.list.addItem(item)
            if self.list.count():
                self.list.setCurrentRow(min(max(row, 0), self.list.count() - 1))

    def names(self) -> list[str]:
        return [mark.name for mark in self.navigation.bookmarks.items]

    def _on_clicked(self, item: QListWidgetItem) -> None:
        self.navigation.jump_to_bookmark(self.list.row(item))

    def _on_renamed(self, item: QListWidgetItem) -> None:
        row = self.list.row(item)
        self._renaming = True  # the list already shows the new name: no rebuild under the editor's feet
        try:
            self.navigation.rename_bookmark(row, item.text())
        finally:
            self._renaming = False
        with QSignalBlocker(self.list):
            item.setText(self.navigation.bookmarks.items[row].name)  # an emptied name falls back to the old one

    def delete_current(self) -> None:
        row = self.list.currentRow()
        if 0 <= row < len(self.navigation.bookmarks):
            self.navigation.remove_bookmark(row)


def add_bookmark_tab(tabs: QTabWidget, navigation: PointNavigation) -> BookmarkList:
    """The bookmarks as a tab among the decoder's tools, titled with their count. (As a dock under the decoder
    they squeezed the decoder's tools off the screen.)"""
    marks = BookmarkList(navigation)
    index = tabs.addTab(marks, "Bookmarks")
    tabs.setTabToolTip(index, "Named latent points: Ctrl+D on the map adds the current one")

    def retitle() -> None:
        count = len(navigation.bookmarks)
        tabs.setTabText(tabs.indexOf(marks), f"Bookmarks ({count})" if count else "Bookmarks")

    navigation.bookmarksChanged.connect(retitle)
    return marks
