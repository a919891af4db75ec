"""File › Follow a training run…: reopen a checkpoint that another process writes, each time a whole write lands.

The writer replaces the file atomically (a temp file renamed over it), so the watcher sees the old file go
and a new one appear: QFileSystemWatcher drops a path whose file was replaced, so the file is added again after
each change, and its folder is watched too. A read that fails (a copy still arriving by a tool that does not
rename) is tried again at the next change. The status bar says whose run it is and how old its latest epoch is.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Protocol

from PySide6.QtCore import QFileSystemWatcher, QObject, QTimer, Signal
from PySide6.QtWidgets import QLabel, QStatusBar

from aeviewer.errors import AeviewerError
from aeviewer.training.follow import run_summary


class FollowingWindow(Protocol):
    """What a follow needs of the window (the main window is one): open a checkpoint, and a status bar."""

    def open_model(self, path: str | Path) -> bool: ...

    def statusBar(self) -> QStatusBar: ...


SETTLE_MS = 300  # changes closer than this are one write (remove + rename + attribute change)
AGE_REFRESH_MS = 15_000


class RunFollower(QObject):
    """Watches ``path`` and reopens it in ``window`` after each whole write."""

    reloaded = Signal(int)  # how many times the run has been opened

    def __init__(self, window: FollowingWindow, path: str | Path) -> None:
        super().__init__(window)
        self.window, self.path = window, Path(path).resolve()
        self.reloads = 0
        self._signature: tuple[int, int] | None = None
        self._summary: tuple[dict, list, float] | None = None
        self.label = QLabel(window)
        self.label.setObjectName("followLabel")
        window.statusBar().addPermanentWidget(self.label)
        self.watcher = QFileSystemWatcher(self)
        self.watcher.addPath(str(self.path.parent))
        self.watcher.fileChanged.connect(self._changed)
        self.watcher.directoryChanged.connect(self._changed)
        self.settle = QTimer(self, singleShot=True, interval=SETTLE_MS, timeout=self.reload)
        self.ages = QTimer(self, interval=AGE_REFRESH_MS, timeout=self._show_summary)
        self.ages.start()
        self.reload()

    def _changed(self, _path: str) -> None:
        self.settle.start()

    def reload(self) -> bool:
        """Reopen the run when its file changed since the last reading; False when unchanged or not readable yet."""
        from aeviewer.training.checkpoint import load_checkpoint

        if str(self.path) not in self.watcher.files() and self.path.exists():
            self.watcher.addPath(str(self.path))  # dropped when the writer renamed a new file over it
        try:
            stat = self.path.stat()
            signature = (stat.st_mtime_ns, stat.st_size)
            if signature == self._signature:
                return False
            run = load_checkpoint(self.path)  # whole and consistent, or tried again at the next change
        except (OSError, AeviewerError):
            self.label.setText(f"Following {self.path.name}: waiting for a whole checkpoint")
            return False
        if not self.window.open_model(self.path):
            return False
        self._signature = signature
        self._summary = (run.extra, run.history, stat.st_mtime)
        self.reloads += 1
        self._show_summary()
        self.reloaded.emit(self.reloads)
        return True

    def _show_summary(self) -> None:
        if self._summary is not None:
            extra, history, written = self._summary
            self.label.setText(f"Following {self.path.name}: {run_summary(extra, history, written, time.time())}")

    def stop(self) -> None:
        self.ages.stop()
        self.settle.stop()
        self.watcher.removePaths(self.watcher.files() + self.watcher.directories())
        self.window.statusBar().removeWidget(self.label)
        self.label.deleteLater()
