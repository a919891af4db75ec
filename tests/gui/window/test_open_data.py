"""Open data…, a dropped folder, `gui --dataset`, and a checkpoint trained on a folder opening again with its data."""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent

from aeviewer.gui.window.main_window import MainWindow
from tests.gui.training.test_data_source import make_folder


@pytest.fixture
def window(qtbot, tmp_path):
    win = MainWindow()
    win.training_panel.train_threads = 1
    win.training_panel.autosave_dir = tmp_path / "autosave"
    qtbot.addWidget(win)
    yield win
    win.training_panel.shutdown()
    win.training_panel.source_load.shutdown()


def wait_loaded(win: MainWindow, qtbot) -> None:
    panel = win.training_panel
    qtbot.waitUntil(lambda: panel.loaded_source is not None or bool(panel.error_text()), timeout=20_000)
    assert not panel.error_text()


def drop(win: MainWindow, path: Path) -> None:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton,
                       Qt.KeyboardModifier.NoModifier)
    win.dropEvent(event)


def train_one_epoch(win: MainWindow, qtbot) -> None:
    panel = win.training_panel
    panel.epochs.setValue(1)
    panel.batch_size.setValue(8)
    with qtbot.waitSignal(panel.trainingFinished, timeout=60_000) as blocker:
        assert panel.start()
    assert blocker.args[0]["status"] == "finished"


def train_and_save(win: MainWindow, qtbot, folder: Path, out: Path) -> Path:
    """Open ``folder`` at 16×16 from the window, train one epoch on it, save the model."""
    win.training_panel.image_size.setValue(16)
    win.open_data(folder)
    wait_loaded(win, qtbot)
    train_one_epoch(win, qtbot)
    return win.save_model_to(out)


def test_dropping_a_folder_makes_it_the_panels_data_set(window, qtbot, tmp_path):
    folder = make_folder(tmp_path / "dropped")
    window.training_panel.image_size.setValue(16)
    drop(window, folder)
    wait_loaded(window, qtbot)
    assert window.training_panel.dataset.currentData() == str(folder.resolve())
    assert window.training_panel.loaded_source.test.class_names == ("circle", "square", "tri")


def test_open_data_has_its_shortcut_in_the_file_menu(window):
    assert window.open_data_action.shortcut().toString() == "Ctrl+Shift+O"
    assert window.open_data_action in window.menuBar().actions()[0].menu().actions()


def test_a_model_trained_on_a_folder_opens_again_with_its_data(window, qtbot, tmp_path):
    folder = make_folder(tmp_path / "shapes")
    saved = train_and_save(window, qtbot, folder, tmp_path / "model.safetensors")
    per_class = np.bincount(window.session.test_set.labels.numpy(), minlength=3)

    again = MainWindow()
    qtbot.addWidget(again)
    assert again.open_model(saved)
    assert again.session.test_set is not None and again.session.dataset_name == str(folder.resolve())
    assert tuple(again.session.test_set.image_shape) == (3, 16, 16)
    assert list(np.bincount(again.session.test_set.labels.numpy(), minlength=3)) == list(per_class)
    assert again.document.preparation.image_size == 16
    qtbot.waitUntil(lambda: sum(len(i.getData()[0]) for i in again.latent_view.class_items()) == per_class.sum(),
                    timeout=10_000)
    items = again.latent_view.class_items()  # the scatter: one item per class, each with its test images
    assert [i.name() for i in items] == ["circle", "square", "tri"]
    assert [len(i.getData()[0]) for i in items] == list(per_class)
    again.training_panel.source_load.shutdown()


def test_a_moved_folder_names_its_path_and_open_data_finds_it_again(window, qtbot, tmp_path):
    folder = make_folder(tmp_path / "shapes")
    saved = train_and_save(window, qtbot, folder, tmp_path / "model.safetensors")
    moved = tmp_path / "elsewhere"
    shutil.move(str(folder), moved)

    again = MainWindow()
    qtbot.addWidget(again)
    assert again.open_model(saved)
    assert again.session.test_set is None and again.data_banner.isVisibleTo(again)
    text = again.data_banner.text()
    assert str(folder.resolve()) in text and 'href="open-data"' in text and "Open data" in text
    again.open_data(moved)  # what the banner's link leads to, once a folder is chosen
    qtbot.waitUntil(lambda: again.session.test_set is not None, timeout=20_000)
    assert again.session.dataset_name == str(moved.resolve()) and not again.data_banner.isVisibleTo(again)
    again.training_panel.source_load.shutdown()


def test_gui_dataset_hands_the_path_to_the_window(monkeypatch, tmp_path):
    import aeviewer.gui.app as app
    from aeviewer.cli.commands import main

    seen = {}
    monkeypatch.setattr(app, "run_app", lambda **kwargs: seen.update(kwargs) or 0)
    assert main(["gui", "--dataset", str(tmp_path)]) == 0
    assert seen["dataset"] == str(tmp_path)
