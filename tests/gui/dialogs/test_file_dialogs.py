"""Where the file dialogs start: the user's last folder, else Documents or home, never the install's trained/."""
from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QStandardPaths
from PySide6.QtWidgets import QFileDialog

from aeviewer.util.paths import shipped_dir


def documents_or_home() -> Path:
    documents = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    return Path(documents) if documents and Path(documents).is_dir() else Path.home()


class Dialogs:
    """QFileDialog's static dialogs, answered with ``answer`` (cancelled: ""), each start folder recorded."""

    def __init__(self, monkeypatch) -> None:
        self.starts: list[tuple[str, Path]] = []
        self.answer = ""
        for name in ("getSaveFileName", "getOpenFileName", "getOpenFileNames", "getExistingDirectory"):
            monkeypatch.setattr(QFileDialog, name, staticmethod(lambda *args, _n=name, **kw: self._ask(_n, *args, **kw)))

    def _ask(self, name: str, parent, caption: str = "", directory: str = "", *args, **kwargs):
        start = Path(directory or kwargs.get("dir", "") or ".").absolute()
        self.starts.append((caption, start if start.is_dir() else start.parent))
        if name == "getExistingDirectory":
            return self.answer
        if name == "getOpenFileNames":
            return ([self.answer] if self.answer else [], "")
        return (self.answer, "")


@pytest.fixture
def dialogs(monkeypatch) -> Dialogs:
    return Dialogs(monkeypatch)


@pytest.fixture
def window(qtbot):
    """A pretrained model opened as the app opens it (so trained/ is the last folder a model came from)."""
    from aeviewer.gui.app import create_main_window

    window = create_main_window(shipped_dir("trained") / "ae-digits.safetensors", background_encoding=True)
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: not window.session.encoding, timeout=30_000)
    return window


def every_dialog(window) -> None:
    window.save_model()  # a pretrained model saves under a new name
    window.save_as_action.trigger()
    window.open_action.trigger()
    window.compare_action.trigger()
    window.session_menu.open_dialog()
    window.session_menu.save_dialog()
    window.export_image_dialog("decoder")
    for action in window.slide_exports.actions.values():
        action.trigger()
    window.path_tool.export_dialog()


def test_open_save_export_and_compare_dialogs_start_in_documents_not_in_the_install(qtbot, window, dialogs) -> None:
    every_dialog(window)
    assert len(dialogs.starts) >= 12
    trained = shipped_dir("trained").resolve()
    wrong = [(caption, start) for caption, start in dialogs.starts if start.resolve() != documents_or_home().resolve()]
    assert wrong == [], f"these started elsewhere than {documents_or_home()} (the install's trained/ is {trained})"


def test_a_dialog_starts_in_the_folder_chosen_last(qtbot, window, dialogs, tmp_path) -> None:
    mine = tmp_path / "slides"
    mine.mkdir()
    dialogs.answer = str(mine / "scatter.png")
    window.export_image_dialog("latent")
    assert (mine / "scatter.png").exists()
    dialogs.answer, dialogs.starts = "", []
    every_dialog(window)
    assert {start for _, start in dialogs.starts} == {mine}
