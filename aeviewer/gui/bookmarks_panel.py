"""BookmarksPanel: named latent points to come back to. Ctrl+D (on the map or here) adds the current point;
a click on one jumps there; F2 or a double-click renames it; Delete removes it.

The bookmarks are :class:`aeviewer.session_file.Bookmark` values, so a session file saves and restores them
as they are (``bookmarks()`` / ``set_bookmarks``). A new model clears them: its latent space is another one.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QAbstractItemView, QHBoxLayout, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from aeviewer import explore
from aeviewer.gui.image_utils import make_button
from aeviewer.session_file import Bookmark

ADD_KEYS = "Ctrl+D"
Z_ROLE = Qt.ItemDataRole.UserRole


class BookmarksPanel(QWidget):
    def __init__(self, session: Any, map_widget: QWidget | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("bookmarksPanel")
        self.session = session
        self.list = QListWidget(self)
        self.list.setObjectName("bookmarksList")
        self.list.setToolTip("Click a bookmark to go there; F2 or double-click to rename it; Delete to remove it")
        self.list.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked | QAbstractItemView.EditTrigger.EditKeyPressed)
        self.list.itemClicked.connect(lambda item: self.jump_to(self.list.row(item)))
        add = make_button(self, f"Add ({ADD_KEYS})", "bookmarkAdd", "Bookmark the current latent point", self.add_current)
        remove = make_button(self, "Delete", "bookmarkDelete", "Remove the selected bookmark (Delete)",
                             lambda: self.remove(self.list.currentRow()))
        buttons = QHBoxLayout()
        buttons.addWidget(add)
        buttons.addWidget(remove)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(buttons)
        layout.addWidget(self.list)
        for widget in (self, map_widget):
            if widget is not None:
                self._shortcut(widget, ADD_KEYS, self.add_current)
        delete = self._shortcut(self.list, "Delete", lambda: self.remove(self.list.currentRow()))
        delete.setContext(Qt.ShortcutContext.WidgetShortcut)
        session.modelChanged.connect(self.list.clear)

    def _shortcut(self, widget: QWidget, keys: str, slot: Any) -> QShortcut:
        shortcut = QShortcut(QKeySequence(keys), widget)
        shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        shortcut.activated.connect(slot)
        return shortcut

    # -- what the keys and buttons do ------------------------------------------------------------------------
    def add_current(self, name: str | None = None) -> Bookmark | None:
        """Bookmark the session's current point (named after its nearest test image unless ``name`` is given)."""
        z = getattr(self.session, "current_z", None)
        if z is None:
            return None
        bookmark = Bookmark(name or self._default_name(np.asarray(z)), [float(v) for v in np.asarray(z).reshape(-1)])
        self._append(bookmark)
        self.list.setCurrentRow(self.list.count() - 1)
        self.session.message.emit(f"Bookmarked {bookmark.name!r} ({ADD_KEYS} adds another)")
        return bookmark

    def jump_to(self, row: int) -> bool:
        item = self.list.item(row)
        if item is None:
            return False
        self.session.set_current_z(np.asarray(item.data(Z_ROLE), np.float32))
        self.session.flushRequested.emit()
        return True

    def remove(self, row: int) -> bool:
        item = self.list.takeItem(row)
        return item is not None

    # -- to and from a session file ----------------------------------------------------------------------------
    def bookmarks(self) -> list[Bookmark]:
        return [Bookmark(self.list.item(i).text(), list(self.list.item(i).data(Z_ROLE))) for i in range(self.list.count())]

    def set_bookmarks(self, bookmarks: list[Bookmark]) -> None:
        self.list.clear()
        for bookmark in bookmarks:
            self._append(bookmark)

    def _append(self, bookmark: Bookmark) -> None:
        item = QListWidgetItem(bookmark.name)
        item.setData(Z_ROLE, list(bookmark.z))
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsEditable)
        item.setToolTip("z = (" + ", ".join(f"{v:.2f}" for v in bookmark.z[:8]) + (", …)" if len(bookmark.z) > 8 else ")"))
        self.list.addItem(item)

    def _default_name(self, z: np.ndarray) -> str:
        number = self.list.count() + 1
        latents, images = getattr(self.session, "latents", None), getattr(self.session, "test_set", None)
        if latents is None or images is None or len(latents) == 0:
            return f"bookmark {number}"
        nearest = int(explore.nearest_examples(latents, z, k=1)[0])
        label = int(images.labels[nearest])
        name = images.class_names[label] if label < len(images.class_names) else str(label)
        return f"{number}: near a {name} (test image {nearest})"
