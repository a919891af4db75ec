"""Where the app's file dialogs start: the folder the user last chose a file or folder in, else Documents (or the
home folder); never the install's own folders. Every open, save, export and compare dialog started in the
shipped ``trained/`` (the folder of the last opened model, a pretrained one on a first run), or in the
working directory, which is the install folder when the app is launched from there.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QStandardPaths
from PySide6.QtWidgets import QFileDialog, QWidget

from aeviewer.gui.state.settings_store import recent_files, settings
from aeviewer.util.paths import PACKAGE_DIR, shipped_dir

LAST_FOLDER_KEY = "dialogs/lastFolder"


def is_install_folder(folder: str | Path) -> bool:
    """The install's own folders: its root, the package and the shipped ``trained/`` (and anything inside them)."""
    folder = Path(folder).resolve()
    trained = shipped_dir("trained").resolve()
    inside = (trained, PACKAGE_DIR)
    return folder == PACKAGE_DIR.parent or any(folder == d or d in folder.parents for d in inside)


def default_folder() -> Path:
    documents = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    return Path(documents) if documents and Path(documents).is_dir() else Path.home()


def dialog_folder() -> Path:
    """Where the next file dialog starts."""
    stored = settings().value(LAST_FOLDER_KEY, "", str)
    candidates = [stored] if stored else []
    candidates += [str(Path(p).parent) for p in recent_files()]  # the folder of a model opened by name or dropped
    for folder in candidates:
        if Path(folder).is_dir() and not is_install_folder(folder):
            return Path(folder)
    return default_folder()


def remember_folder(chosen: str | Path) -> None:
    """The next dialog starts where ``chosen`` (a file or a folder the user picked) is."""
    if not chosen:
        return
    path = Path(chosen)
    folder = path if path.is_dir() else path.parent
    if not is_install_folder(folder):
        settings().setValue(LAST_FOLDER_KEY, str(folder))


def ask_save_file(parent: QWidget | None, caption: str, name: str, file_filter: str) -> str:
    """A save dialog proposing ``name`` in :func:`dialog_folder`; the chosen path, or "" when cancelled."""
    path, _ = QFileDialog.getSaveFileName(parent, caption, str(dialog_folder() / name), file_filter)
    remember_folder(path)
    return path


def ask_open_file(parent: QWidget | None, caption: str, file_filter: str) -> str:
    path, _ = QFileDialog.getOpenFileName(parent, caption, str(dialog_folder()), file_filter)
    remember_folder(path)
    return path


def ask_open_files(parent: QWidget | None, caption: str, file_filter: str) -> list[str]:
    paths, _ = QFileDialog.getOpenFileNames(parent, caption, str(dialog_folder()), file_filter)
    if paths:
        remember_folder(paths[0])
    return list(paths)


def ask_folder(parent: QWidget | None, caption: str) -> str:
    folder = QFileDialog.getExistingDirectory(parent, caption, str(dialog_folder()))
    remember_folder(folder)
    return folder
