"""The panel's data set by path: a folder loads off the GUI thread, trains, reports its skips, cancels."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from aeviewer.gui.state.session import Session
from aeviewer.gui.training.training_panel import TrainingPanel

CLASSES = ("circle", "square", "tri")


def make_folder(root: Path, per_class: int = 12, side: int = 16) -> Path:
    """3 classes of small RGB images, each class its own colour (so the classes can be told apart)."""
    rng = np.random.default_rng(0)
    for k, name in enumerate(CLASSES):
        (root / name).mkdir(parents=True)
        for i in range(per_class):
            pixels = rng.integers(0, 60, (side, side, 3), dtype=np.uint8)
            pixels[..., k] += 180
            Image.fromarray(pixels).save(root / name / f"{i:03d}.png")
    return root


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return make_folder(tmp_path / "shapes")


@pytest.fixture
def panel(qtbot, tmp_path) -> TrainingPanel:
    session = Session()
    panel = TrainingPanel(session)
    panel.train_threads = 1
    panel.autosave_dir = tmp_path / "autosave"
    qtbot.addWidget(panel)
    panel.session_ref = session
    yield panel
    panel.shutdown()
    panel.source_load.shutdown()


def set_folder(panel: TrainingPanel, qtbot, path: Path, size: int = 16) -> None:
    panel.image_size.setValue(size)
    panel.set_data_source(path)
    qtbot.waitUntil(lambda: panel.loaded_source is not None or bool(panel.error_text()), timeout=20_000)
    assert not panel.error_text()


def visible(panel: TrainingPanel, name: str) -> bool:
    return panel.form.isRowVisible(panel.fields.rows[name])


def test_the_preparation_rows_show_only_for_a_path(panel, qtbot, folder):
    assert not visible(panel, "image_size") and not visible(panel, "fit")
    set_folder(panel, qtbot, folder)
    assert visible(panel, "image_size") and visible(panel, "test_fraction") and visible(panel, "image_channels")


def test_a_folder_loads_with_its_classes_and_trains_one_epoch(panel, qtbot, folder):
    set_folder(panel, qtbot, folder)
    loaded = panel.loaded_source
    assert loaded.test.class_names == CLASSES and tuple(loaded.test.image_shape) == (3, 16, 16)
    assert "train" in panel.data_row.note.text() and "3 classes" in panel.data_row.note.text()
    panel.epochs.setValue(1)
    panel.batch_size.setValue(8)
    with qtbot.waitSignal(panel.trainingFinished, timeout=60_000) as blocker:
        assert panel.start()
    assert blocker.args[0]["status"] == "finished"
    session = panel.session
    assert session.dataset_name == str(folder.resolve())
    counts = np.bincount(session.test_set.labels.numpy(), minlength=3)
    assert list(counts) == list(np.bincount(loaded.test.labels.numpy(), minlength=3)) and counts.min() > 0
    assert session.document.preparation == loaded.preparation and loaded.preparation.image_size == 16


def test_start_on_a_path_not_yet_loaded_waits_for_the_load(panel, qtbot, folder):
    panel.epochs.setValue(1)
    panel.image_size.setValue(16)
    panel.data_row.add(str(folder))
    panel.source_load.cancel()
    with qtbot.waitSignal(panel.trainingFinished, timeout=60_000):
        panel.dataset.setCurrentIndex(panel.dataset.findData(str(folder)))
        panel.start()  # loading: starts when it has loaded
    assert panel.session.test_set is panel.loaded_source.test


def test_a_bad_folder_is_one_red_line(panel, qtbot, tmp_path):
    empty = tmp_path / "nothing"
    empty.mkdir()
    (empty / "notes.txt").write_text("not an image")
    panel.set_data_source(empty)
    qtbot.waitUntil(lambda: bool(panel.error_text()), timeout=20_000)
    assert "\n" not in panel.error_text() and "Traceback" not in panel.error_text()
    assert panel.loaded_source is None


def test_skipped_files_are_a_note_in_the_panel(panel, qtbot, folder):
    (folder / "circle" / "broken.png").write_bytes(b"\x89PNG not really")
    set_folder(panel, qtbot, folder)
    assert "broken.png" in panel.data_row.note.text()


def test_a_load_can_be_cancelled(panel, qtbot, tmp_path, monkeypatch):
    import aeviewer.data.loader as loader

    def slow_load(spec, preparation, data_dir, *, progress, cancel, **_):
        for i in range(1000):
            progress(i, 1000)
            if cancel.wait(0.01):
                from aeviewer.errors import Cancelled
                raise Cancelled("loading cancelled")
        raise AssertionError("never cancelled")

    monkeypatch.setattr(loader, "load_source", slow_load)
    folder = make_folder(tmp_path / "slow", per_class=1)
    panel.set_data_source(folder)
    qtbot.waitUntil(lambda: panel.data_row.progress.value() > 0, timeout=5_000)
    assert panel.data_row.loading.isVisibleTo(panel)
    panel.data_row.cancel_button.click()
    assert not panel.source_load.is_running() and panel.loaded_source is None
    assert "cancelled" in panel.data_row.note.text().lower() and not panel.error_text()


def test_the_data_picker_offers_an_image_folder_or_an_npz_npy_file(panel, qtbot, tmp_path, monkeypatch):
    """"…" was one folder dialog filtered to *.npz *.npy: a file could be picked only by switching its mode."""
    from PySide6.QtWidgets import QFileDialog

    asked: list[tuple[str, str]] = []
    arrays = tmp_path / "faces.npz"
    monkeypatch.setattr(QFileDialog, "getOpenFileName",
                        staticmethod(lambda parent, caption, folder, file_filter, *a: asked.append(("file", file_filter))
                                     or (str(arrays), "")))
    monkeypatch.setattr(QFileDialog, "getExistingDirectory",
                        staticmethod(lambda parent, caption, folder, *a: asked.append(("folder", "")) or str(tmp_path)))
    monkeypatch.setattr(panel.data_row, "set_path", lambda path: asked.append(("chosen", str(path))))
    row = panel.data_row
    labels = [a.text() for a in row.choice_menu.actions()]
    assert labels == ["Image folder (one subfolder per class)…", "Image arrays (.npz or .npy)…"]
    assert all(a.toolTip() != a.text() for a in row.choice_menu.actions())
    row.choice_menu.actions()[1].trigger()
    row.choice_menu.actions()[0].trigger()
    assert asked[0][0] == "file" and "*.npz" in asked[0][1] and "*.npy" in asked[0][1]
    assert asked[1:] == [("chosen", str(arrays)), ("folder", ""), ("chosen", str(tmp_path))]
    row.browse.click()  # "…" offers the two
    qtbot.waitUntil(row.choice_menu.isVisible, timeout=2000)
    row.choice_menu.hide()
