"""Issue 29, defect 6: the emoji models as launched, with and without the emoji folder in the data directory.

Without it they show the test split that ships in resources/data/emoji, count their size from their config,
and the training panel says the training images are not on this machine (offering Open data…); with it
(AEVIEWER_DATA holding emoji/) the folder is found and used. Nowhere a foreign absolute path."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import aeviewer.gui.dialogs.model_picker as picker_module
from aeviewer.gui.app import create_main_window
from aeviewer.gui.dialogs.model_picker import COLUMNS, ModelPicker, PretrainedModel, row_texts
from aeviewer.models import parameter_count, size_text
from aeviewer.util.paths import shipped_dir
from shared_data import EMOJI_HOW, require_data

TRAINED = shipped_dir("trained")
EMOJI_MODELS = ("vae-emoji-32d.safetensors", "vqvae-emoji.safetensors")
EMOJI_TEST_IMAGES = 732


@pytest.fixture
def empty_data_dir(tmp_path: Path, monkeypatch) -> Path:
    """AEVIEWER_DATA pointing at an empty folder: a fresh machine without the emoji images."""
    folder = tmp_path / "data"
    folder.mkdir()
    monkeypatch.setenv("AEVIEWER_DATA", str(folder))
    return folder


@pytest.fixture
def shared_data_dir(monkeypatch) -> Path:
    """AEVIEWER_DATA holding emoji/ (skipped where it does not)."""
    root = require_data("emoji/", how=EMOJI_HOW)
    monkeypatch.setenv("AEVIEWER_DATA", str(root))
    return root


def open_as_launched(qtbot, path: Path):
    window = create_main_window(path, background_encoding=True)
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: not window.session.encoding, timeout=60_000)
    return window


def wait_for_size(qtbot, window) -> str:
    expected = size_text(parameter_count(window.session.model.config))
    label = window.training_panel.size_label
    qtbot.waitUntil(lambda: label.text() == expected, timeout=5000)
    return label.text()


def shown_data_set(window) -> str:
    return window.training_panel.dataset.currentText()


@pytest.mark.parametrize("name", EMOJI_MODELS)
def test_an_emoji_model_without_its_images_shows_the_shipped_split_its_size_and_open_data(qtbot, empty_data_dir,
                                                                                           name):
    window = open_as_launched(qtbot, TRAINED / name)
    try:
        assert window.session.test_set is not None and len(window.session.test_set) == EMOJI_TEST_IMAGES
        assert len(window.session.latents) == EMOJI_TEST_IMAGES
        assert not window.data_banner.isVisibleTo(window)
        assert shown_data_set(window) == "emoji" and window.session.dataset_name == "emoji"
        assert window.dataset_label.text() == "Data: emoji"
        assert "not loaded" not in wait_for_size(qtbot, window)
        note = window.training_panel.data_row.note
        assert note.isVisibleTo(window) and "not on this machine" in note.text() and "Open data" in note.text()
        assert 'href="open-data"' in note.text()
    finally:
        window.training_panel.shutdown()


def test_the_panels_open_data_link_asks_for_the_folder(qtbot, empty_data_dir, monkeypatch):
    window = open_as_launched(qtbot, TRAINED / "vqvae-emoji.safetensors")
    try:
        row = window.training_panel.data_row
        asked = []
        monkeypatch.setattr(row, "choose", lambda: asked.append(True))
        row.note.linkActivated.emit("open-data")
        assert asked == [True]
    finally:
        window.training_panel.shutdown()


@pytest.mark.parametrize("name", EMOJI_MODELS)
def test_an_emoji_model_finds_its_folder_in_the_data_directory(qtbot, shared_data_dir, name):
    window = open_as_launched(qtbot, TRAINED / name)
    try:
        assert window.session.test_set is not None and len(window.session.test_set) == EMOJI_TEST_IMAGES
        assert shown_data_set(window) == "emoji"
        assert "not loaded" not in wait_for_size(qtbot, window)
        assert "not on this machine" not in window.training_panel.data_row.note.text()
        window.training_panel.data.load()  # Start would: the training images come from the folder
        qtbot.waitUntil(lambda: window.training_panel.loaded_source is not None, timeout=60_000)
        loaded = window.training_panel.loaded_source
        assert not loaded.note and len(loaded.train) > 2000
    finally:
        window.training_panel.shutdown()


@pytest.mark.parametrize("where", ["empty", "shared"])
def test_an_older_checkpoint_naming_a_foreign_folder_shows_its_portable_name(qtbot, tmp_path, monkeypatch, where):
    """A checkpoint saved before data sets were recorded portably: an absolute path of another machine."""
    from aeviewer.training.checkpoint import rewrite_metadata

    if where == "shared":
        monkeypatch.setenv("AEVIEWER_DATA", str(require_data("emoji/", how=EMOJI_HOW)))
    else:
        (tmp_path / "data").mkdir()
        monkeypatch.setenv("AEVIEWER_DATA", str(tmp_path / "data"))
    old = tmp_path / "vqvae-emoji-old.safetensors"
    shutil.copy(TRAINED / "vqvae-emoji.safetensors", old)
    rewrite_metadata(old, {"dataset": "/another/machine/shared/data/emoji"})
    window = open_as_launched(qtbot, old)
    try:
        assert window.session.test_set is not None and len(window.session.test_set) == EMOJI_TEST_IMAGES
        assert shown_data_set(window) == "emoji" and window.dataset_label.text() == "Data: emoji"
        assert "/another/machine" not in window.action_label.text()
        assert "not loaded" not in wait_for_size(qtbot, window)
        absent = "not on this machine" in window.training_panel.data_row.note.text()
        assert absent == (where == "empty")
    finally:
        window.training_panel.shutdown()


def test_a_gui_trained_vqvae_whose_folder_exists_shows_its_model_size(qtbot, tmp_path, empty_data_dir):
    """The size comes from the open model's config: the panel does not load a data set to show a model."""
    from aeviewer.data.preparation import Preparation
    from aeviewer.models import build_model, default_config
    from aeviewer.training.checkpoint import save_checkpoint
    from tests.gui.training.test_data_source import make_folder

    folder = make_folder(tmp_path / "shapes")
    config = default_config("vqvae", image_shape=(3, 16, 16), n_classes=3, codebook_size=16, code_dim=4,
                            channels=(8,))
    assert config.arch == "conv"
    path = save_checkpoint(tmp_path / "vqvae-shapes.safetensors", build_model(config), dataset=str(folder),
                           preparation=Preparation(image_size=16))
    window = open_as_launched(qtbot, path)
    try:
        assert window.session.test_set is not None
        assert "not loaded" not in wait_for_size(qtbot, window)
        assert shown_data_set(window) == str(folder)  # a folder of this machine keeps its path
        assert "not on this machine" not in window.training_panel.data_row.note.text()
    finally:
        window.training_panel.shutdown()


def test_the_picker_names_the_emoji_data_set_by_its_name(qtbot, monkeypatch):
    monkeypatch.setattr(picker_module, "TRAINED_DIR", TRAINED)
    picker = ModelPicker()
    qtbot.addWidget(picker)
    column = COLUMNS.index("Data set")
    shown = {picker.table.item(row, 0).text().split()[0]: picker.table.item(row, column).text()
             for row in range(picker.table.rowCount())}
    assert {shown[name] for name in EMOJI_MODELS} == {"emoji"}
    assert all(not text.startswith("/") for text in shown.values())


def test_an_older_index_naming_a_foreign_folder_shows_its_name():
    model = PretrainedModel(path=Path("x.safetensors"), kind="vae", dataset="/work/shared/data/emoji")
    assert row_texts(model)[COLUMNS.index("Data set")] == "emoji"
