"""File › Save session… and File › Open session…: the window's screen as a ``.aeviewer.json`` and back, through
:mod:`aeviewer.gui.state.session_io`.

What a session holds beyond the model, the map and the point comes from hooks the window sets: ``bookmarks``
(returns objects with ``name`` and ``z``) with ``set_bookmarks`` (takes a list of session_file.Bookmark), and
``selection`` (returns test-image indices) with ``set_selection``. Without a bookmarks store the session keeps
whatever bookmarks the file had, so saving it again loses none.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Sequence

from PySide6.QtCore import QObject
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QMenu

from aeviewer.gui.state import session_io
from aeviewer.gui.dialogs.file_dialogs import ask_open_file
from aeviewer.gui.window.window_parts import make_action
from aeviewer.explore.session_file import SESSION_SUFFIX, Bookmark, SessionError

SESSION_FILTER = f"aeviewer sessions (*{SESSION_SUFFIX});;All files (*)"


class SessionMenu(QObject):
    def __init__(self, window: Any, menu: QMenu) -> None:
        super().__init__(window)
        self.setObjectName("sessionMenu")
        self.window = window
        self.bookmarks: Callable[[], Sequence[Any]] = lambda: self._kept_bookmarks
        self.set_bookmarks: Callable[[list[Bookmark]], Any] = self._keep_bookmarks
        self.selection: Callable[[], Sequence[int]] = lambda: ()
        self.set_selection: Callable[[list[int]], Any] | None = None
        self._kept_bookmarks: list[Bookmark] = []
        self.save_action = make_action(window, "Save session…", QKeySequence("Ctrl+Alt+S"),
                                       "Save the model, data, map, current point, selection and bookmarks as a "
                                       f"{SESSION_SUFFIX} file (Ctrl+Alt+S)", self.save_dialog)
        self.open_action = make_action(window, "Open session…", QKeySequence("Ctrl+Alt+O"),
                                       f"Open a {SESSION_SUFFIX} file: the same model, map, point, selection and "
                                       "bookmarks again (Ctrl+Alt+O)", self.open_dialog)
        menu.addAction(self.open_action)
        menu.addAction(self.save_action)

    def _keep_bookmarks(self, bookmarks: list[Bookmark]) -> None:
        self._kept_bookmarks = list(bookmarks)

    # -- what tests call ----------------------------------------------------------------------------------
    def save_to(self, path: str | Path) -> Path | None:
        window = self.window
        if window.session.model is None:
            window.set_last_action("Nothing to save: open or train a model first")
            return None
        if window.session.model_path is None:
            window.show_error("Save the model first", "A session names its model's file: save the model (Ctrl+S), "
                              "then the session.")
            return None
        path = Path(path)
        if not path.name.endswith(SESSION_SUFFIX):
            path = path.with_name(path.name.removesuffix(".json") + SESSION_SUFFIX)
        try:
            saved = session_io.save(path, window.session, self.bookmarks(), self.selection(),
                                    str(window.data_dir) if window.data_dir else None)
        except OSError as err:
            window.show_error("Could not save the session", f"{path}: {err.strerror or err}")
            return None
        window.set_last_action(f"Saved the session {saved.name}")
        return saved

    def open_from(self, path: str | Path) -> bool:
        """Open the session at ``path``; what cannot be opened is said in one line and the rest is opened."""
        window = self.window
        try:
            file, message = session_io.restore(path, window.session, window.open_model, self.set_bookmarks)
        except SessionError as err:
            window.show_error("Could not open the session", str(err))
            return False
        if self.set_selection is not None and file.selection and window.session.test_set is not None:
            size = len(window.session.test_set)
            self.set_selection([i for i in file.selection if 0 <= i < size])
        window.set_last_action(message or f"Opened the session {Path(path).name}")
        if message:
            window.show_error("Part of the session could not be opened", message)
        return window.session.model is not None

    # -- dialogs ---------------------------------------------------------------------------------------------
    def save_dialog(self) -> None:
        name = f"{window_stem(self.window)}{SESSION_SUFFIX}"
        path = self.window.ask_save_path("Save session", SESSION_FILTER, name)
        if path:
            self.save_to(path)

    def open_dialog(self) -> None:
        path = ask_open_file(self.window, "Open session", SESSION_FILTER)
        if path:
            self.open_from(path)


def window_stem(window: Any) -> str:
    path = window.session.model_path
    return Path(path).stem if path is not None else "session"
