"""Undo/redo and bookmarks of the current latent point, as the person meets them: the map's shortcuts and
BookmarkList (the list that names, jumps to and deletes bookmarks). The state itself is the Session's
PointNavigation (gui/state/bookmarks.py).

The shortcuts are scoped to the latent view (WidgetWithChildrenShortcut): the codebook view has its own
Ctrl+Z for repainting a cell, and both must work, each where it has focus.
"""
from __future__ import annotations

from typing import Any

from PySide6.QtCore import QSignalBlocker, Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView, QHBoxLayout, QListWidget, QListWidgetItem, QVBoxLayout, QWidget,
)

from aeviewer.gui.widgets.image_utils import make_button
from aeviewer.gui.state.bookmarks import PointNavigation

UNDO_KEYS = QKeySequence("Ctrl+Z")
REDO_KEYS = QKeySequence("Ctrl+Shift+Z")
BOOKMARK_KEYS = QKeySequence("Ctrl+D")


def install_navigation_shortcuts(view: QWidget, navigation: PointNavigation) -> list[QShortcut]:
    """Ctrl+Z, Ctrl+Shift+Z and Ctrl+D on ``view`` (the map), calling the session's navigation."""
    shortcuts = []
    for keys, slot in ((UNDO_KEYS, navigation.undo), (REDO_KEYS, navigation.redo),
                       (BOOKMARK_KEYS, navigation.add_bookmark)):
        shortcut = QShortcut(keys, view)
        shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        shortcut.activated.connect(slot)
        shortcuts.append(shortcut)
    return shortcuts


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


def add_bookmark_tab(canvas: Any, navigation: PointNavigation) -> BookmarkList:
    """The bookmarks as a tab among the decoder canvas's tools, titled with their count. (As a dock under the
    decoder they squeezed the decoder's tools off the screen.)"""
    marks = BookmarkList(navigation)
    canvas.add_tab(marks, "Bookmarks", "Named latent points: Ctrl+D on the map adds the current one")

    def retitle() -> None:
        count = len(navigation.bookmarks)
        canvas.set_tab_title(marks, f"Bookmarks ({count})" if count else "Bookmarks")

    navigation.bookmarksChanged.connect(retitle)
    return marks
