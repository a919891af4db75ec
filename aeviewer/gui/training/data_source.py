"""The panel's data set row and its loading: a named set or a path (typed, chosen with "…", opened with
File › Open data… or dropped), loaded off the GUI thread with progress and Cancel.

:class:`SourceLoad` runs :func:`aeviewer.data.loader.load_source` in a worker thread (concurrent.futures;
a QTimer polls it, so no Qt object crosses threads) and says ``progressed``, ``loaded``, ``failed``.
:class:`DataSourceRow` is the row's widgets: the editable data set box with recent paths, "…", and
below it the load's progress bar, Cancel, and the skip report as a note.
"""
from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import QObject, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QCursor
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QMenu, QProgressBar, QPushButton, QWidget

from aeviewer.errors import AeviewerError, Cancelled
from aeviewer.gui.dialogs.file_dialogs import ask_folder, ask_open_file
from aeviewer.gui.widgets.fitting_label import BreakingLabel
from aeviewer.spec.vocabulary import NAMED_DATASETS

DATA_FILTER = "Image arrays (*.npz *.npy)"
RECENT_KEY = "recentData"
MAX_RECENT = 8
POLL_MS = 50


def is_data_path(path: str | Path) -> bool:
    """A folder, .npz or .npy: what File › Open data… and a drop accept as a data set."""
    p = Path(path)
    return p.is_dir() or (p.is_file() and p.suffix.lower() in (".npz", ".npy"))


def dropped_data(event: Any) -> str | None:
    """The first local folder, .npz or .npy dragged onto the window, if any."""
    for url in event.mimeData().urls():
        if url.isLocalFile() and is_data_path(url.toLocalFile()):
            return url.toLocalFile()
    return None


def skip_note(loaded: Any) -> str:
    """One line for the panel: what the load skipped (count, first names and why) and any note."""
    parts = [loaded.note] if loaded.note else []
    if len(loaded.skipped):
        parts.append(loaded.skipped.summary())
    return "; ".join(parts)


class SourceLoad(QObject):
    """One load at a time; a new ``start`` cancels the one before (its result is dropped)."""

    progressed = Signal(int, int)  # files done, files in all
    loaded = Signal(object)  # LoadedSource
    failed = Signal(str)  # one line; "" when cancelled

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool: ThreadPoolExecutor | None = None
        self._future: Future | None = None
        self._cancel = threading.Event()
        self._counts = (0, 0)  # written by the load's thread, read by the timer: a tuple swap is atomic
        self.key: tuple[str, Any] | None = None  # (path, preparation) of the load running or done
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self._poll)

    def start(self, spec: str, preparation: Any, data_dir: Any, max_memory: int) -> None:
        from aeviewer.data.loader import load_source

        self.cancel()
        if self._pool is None:  # shut down (the window closed once): a new thread for the next load
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="aeviewer-data")
        self._cancel = cancel = threading.Event()
        self._counts = (0, 0)
        self.key = (spec, preparation)

        def progress(done: int, total: int) -> None:
            self._counts = (done, total)

        self._future = self._pool.submit(load_source, spec, preparation, data_dir, progress=progress, cancel=cancel,
                                         max_memory=max_memory)
        self._timer.start()

    def is_running(self) -> bool:
        return self._future is not None

    def cancel(self) -> None:
        if self._future is not None:
            self._cancel.set()
            self._future = None
            self._timer.stop()
            self.key = None
            self.failed.emit("")

    def wait(self, timeout_s: float = 30.0) -> None:
        """Block until the running load ends (tests and closing)."""
        if self._future is not None:
            self._future.exception(timeout_s)
            self._poll()

    def _poll(self) -> None:
        future = self._future
        if future is None:
            return
        self.progressed.emit(*self._counts)
        if not future.done():
            return
        self._future = None
        self._timer.stop()
        try:
            loaded = future.result()
        except Cancelled:
            self.key = None
            self.failed.emit("")
        except AeviewerError as err:
            self.key = None
            self.failed.emit(str(err).splitlines()[0])
        except Exception as err:  # a bug in a decoder must not become a traceback in the window
            self.key = None
            self.failed.emit(f"could not load the data: {type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}")
        else:
            self.loaded.emit(loaded)

    def shutdown(self) -> None:
        """Cancel the load and let its thread go (it ends at the next file)."""
        self.cancel()
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None


class WrappedNote(BreakingLabel):
    """A word-wrapped label (a long file name in it breaks too) that asks for the height its text needs at its width: inside the dock's scroll
    area the form would otherwise give it one line and clip the rest."""

    def __init__(self) -> None:
        super().__init__()

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        self._fit(self.width())

    def _fit(self, width: int) -> None:
        self.setMinimumHeight(max(0, self.heightForWidth(width)))

    def setText(self, text: str) -> None:
        super().setText(text)
        self._fit(max(self.width(), 100))


class DataSourceRow(QWidget):
    """The data set box (editable: a named set or a path; recent paths kept in QSettings) and "…"."""

    pathChosen = Signal(str)

    def __init__(self, box: QComboBox, parent: QWidget | None = None, data_dir: Callable[[], Any] = lambda: None) -> None:
        super().__init__(parent)
        self.box = box
        self.data_dir = data_dir  # a path inside it is named relative to it (what a checkpoint records)
        box.setEditable(True)
        box.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        box.lineEdit().setPlaceholderText("digits, mnist, fashion-mnist, or a folder / .npz path")
        box.lineEdit().setToolTip(box.toolTip() + " Type a name or a path, or choose one with '…'.")
        box.lineEdit().editingFinished.connect(self._typed)
        self.browse = QPushButton("…")
        self.browse.setObjectName("dataBrowse")
        self.browse.setToolTip("Choose an image folder (one subfolder per class) or a .npz/.npy file (Ctrl+Shift+O)")
        self.browse.setFixedWidth(32)
        self.browse.clicked.connect(self.choose)
        # two kinds of data set, two dialogs: a folder dialog filtered to *.npz *.npy offered neither well
        self.choice_menu = QMenu(self)
        self.choice_menu.setObjectName("dataChoice")
        self.choice_menu.setToolTipsVisible(True)
        for label, tip, slot in (
                ("Image folder (one subfolder per class)…", "A folder of images, one subfolder per class; "
                 "a folder without subfolders is one unlabelled class", self.choose_folder),
                ("Image arrays (.npz or .npy)…", "A .npz (images and labels) or a .npy (images) file", self.choose_file)):
            action = self.choice_menu.addAction(label, slot)
            action.setToolTip(tip)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(box, 1)
        row.addWidget(self.browse)
        self.progress = QProgressBar()
        self.progress.setObjectName("dataLoadProgress")
        self.progress.setToolTip("Images decoded so far")
        self.progress.setFormat("loading %v/%m files")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("dataLoadCancel")
        self.cancel_button.setToolTip("Stop loading this data set")
        loading = QHBoxLayout()
        loading.setContentsMargins(0, 0, 0, 0)
        loading.addWidget(self.progress, 1)
        loading.addWidget(self.cancel_button)
        self.loading = QWidget()
        self.loading.setLayout(loading)
        self.loading.hide()
        self.note = WrappedNote()
        self.note.setObjectName("dataNote")
        self.note.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse
                                          | Qt.TextInteractionFlag.LinksAccessibleByMouse)
        self.note.linkActivated.connect(lambda _link: self.choose())  # "Open data…" where the images are absent
        self.note.setStyleSheet("color: #555;")
        self.note.hide()
        self.setLayout(row)  # ``loading`` and ``note`` are rows of their own below it (a wrapped label needs the width)
        for path in self.recent():
            self.add(path)

    def spec(self) -> str:
        """The box's data set: a named set's name or the path typed or chosen."""
        data = self.box.currentData()
        text = self.box.currentText().strip()
        return data if data is not None and self.box.itemText(self.box.currentIndex()) == text else text

    def set_path(self, path: str | Path) -> None:
        """Make ``path`` the data set (first among the recent ones)."""
        text = str(path)
        if text not in NAMED_DATASETS:
            from aeviewer.data.loader import resolve_spec

            text = resolve_spec(text, self.data_dir())
            self._remember(text)
        index = self.add(text)
        self.box.setCurrentIndex(index)
        self.pathChosen.emit(text)

    def choose(self) -> None:
        """Offer the two kinds of data set under "…": an image folder or a .npz/.npy file."""
        # File › Open data… (Ctrl+Shift+O) and the banner's link come here with the panel perhaps hidden
        visible = self.browse.isVisible()
        self.choice_menu.popup(self.browse.mapToGlobal(self.browse.rect().bottomLeft()) if visible else QCursor.pos())

    def choose_folder(self) -> None:
        folder = ask_folder(self, "Open data: an image folder")
        if folder:
            self.set_path(folder)

    def choose_file(self) -> None:
        path = ask_open_file(self, "Open data: image arrays", f"{DATA_FILTER};;All files (*)")
        if path:
            self.set_path(path)

    def show_loading(self, done: int, total: int) -> None:
        self.loading.show()
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)

    def show_note(self, text: str, rich: bool = False) -> None:
        """``text`` below the row (plain, or with ``rich`` HTML: a link asks for the data, see ``choose``)."""
        self.loading.hide()
        self.note.setTextFormat(Qt.TextFormat.RichText if rich else Qt.TextFormat.PlainText)
        self.note.setText(text)
        self.note.setVisible(bool(text))

    @staticmethod
    def recent() -> list[str]:
        value = QSettings().value(RECENT_KEY, [])
        return [str(v) for v in (value if isinstance(value, list) else [value] if value else [])]

    def _remember(self, path: str) -> None:
        QSettings().setValue(RECENT_KEY, ([path] + [p for p in self.recent() if p != path])[:MAX_RECENT])

    def add(self, text: str) -> int:
        """The index of the entry holding ``text`` (added when new)."""
        index = self.box.findData(text)
        if index < 0:
            self.box.addItem(text, text)
            index = self.box.count() - 1
        return index

    def _typed(self) -> None:
        text = self.box.currentText().strip()
        if text and self.box.findData(text) < 0 and self.box.findText(text) < 0:
            self.set_path(text)


class ShowLoadedData(QObject):
    """An open model without a scatter (its folder moved, say) takes the panel's newly loaded data set into the
    scatter when the images fit it: Open data… on the banner finds the data again."""

    def __init__(self, session: Any, panel: Any, banner: QLabel) -> None:
        super().__init__(panel)
        self.session = session
        panel.dataLoaded.connect(self._on_loaded)
        banner.linkActivated.connect(lambda _link: panel.data_row.choose())

    def _on_loaded(self, loaded: Any) -> None:
        session, model = self.session, self.session.model
        if model is None or session.test_set is not None or loaded.note:
            return
        if tuple(loaded.test.image_shape) != tuple(model.config.image_shape):
            return
        session.document.preparation = loaded.preparation
        session.document.data_problem = ""
        session.set_model(model, loaded.source, loaded.test, path=session.model_path)
