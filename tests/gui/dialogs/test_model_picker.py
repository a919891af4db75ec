"""The pretrained-model picker: reads trained/index.json, shows each model's metrics, opens the chosen one."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

import aeviewer.gui.app as app_module
import aeviewer.gui.dialogs.model_picker as picker_module
from aeviewer.gui.app import create_main_window
from aeviewer.gui.dialogs.model_picker import COLUMNS, ModelPicker, load_index
from aeviewer.spec.vocabulary import KIND_LABELS


@pytest.fixture(autouse=True)
def _no_pretrained_default(monkeypatch):
    monkeypatch.setattr(app_module, "default_model_path", lambda *a, **k: None)


def entry(file: str, kind: str, latent: int, metrics: dict, **extra) -> dict:
    return {"file": file, "kind": kind, "dataset": "digits", "arch": "mlp", "latent_dim": latent,
            "command": f"aeviewer train --model {kind} --dataset digits --out trained/{file}", "seed": 0,
            "train_seconds": 42.0, "size_bytes": 123_456, "metrics": metrics, **extra}


@pytest.fixture
def trained_dir(tmp_path: Path, digits_checkpoint: Path, make_tiny_model) -> Path:
    """An index of three models: two real checkpoints and one whose file is missing."""
    from aeviewer.training.checkpoint import save_checkpoint

    directory = tmp_path / "trained"
    directory.mkdir()
    shutil.copy(digits_checkpoint, directory / "ae-digits.safetensors")
    save_checkpoint(directory / "vae-digits.safetensors", make_tiny_model("vae", latent_dim=2), dataset="digits")
    models = [
        entry("ae-digits.safetensors", "ae", 2, {"psnr_db": 17.25, "recon_mse": 0.02}),
        entry("vae-digits.safetensors", "vae", 2, {"neg_elbo": 31.44, "psnr_db": 15.0}),
        entry("vqvae-digits.safetensors", "vqvae", 2, {"psnr_db": 25.1, "codes_used_frac": 0.96875, "perplexity": 50.2}),
    ]
    (directory / "index.json").write_text(json.dumps({"default": "vae-digits.safetensors", "models": models}))
    return directory


def cell(picker: ModelPicker, row: int, column: str) -> str:
    return picker.table.item(row, COLUMNS.index(column)).text()


def test_index_entries_resolve_against_the_trained_dir(trained_dir):
    entries = load_index(trained_dir)
    assert [e.path for e in entries] == [trained_dir / f for f in
                                         ("ae-digits.safetensors", "vae-digits.safetensors", "vqvae-digits.safetensors")]
    assert [e.exists for e in entries] == [True, True, False]
    assert [e.is_default for e in entries] == [False, True, False]


def test_an_absent_or_broken_index_lists_nothing(tmp_path):
    assert load_index(tmp_path) == []
    (tmp_path / "index.json").write_text('{"models": [{"kind": "ae"}, 3, {"file": "x.safetensors", "seed": "?"}]')
    assert load_index(tmp_path) == []  # not JSON
    (tmp_path / "index.json").write_text('{"models": [{"kind": "ae"}, 3, {"file": "x.safetensors", "seed": "?"}]}')
    [only] = load_index(tmp_path)  # entries without a file are skipped, bad fields become unknown
    assert only.path == tmp_path / "x.safetensors" and only.seed is None


def test_picker_lists_every_entry_with_its_metrics(qtbot, trained_dir):
    picker = ModelPicker(trained_dir)
    qtbot.addWidget(picker)
    assert picker.table.rowCount() == 3
    assert cell(picker, 0, "Kind") == KIND_LABELS["ae"] and cell(picker, 0, "PSNR (dB)") == "17.2"
    assert cell(picker, 1, "−ELBO (nats)") == "31.4" and "default" in cell(picker, 1, "Model")
    assert cell(picker, 2, "Codes used") == "97%" and "perplexity 50" in cell(picker, 2, "Also")
    assert cell(picker, 2, "Latent") == "–"  # a VQ-VAE's latent is its code grid, not a dimension
    assert cell(picker, 0, "Training") == "42 s" and cell(picker, 0, "Data set") == "digits"
    assert "aeviewer train --model ae" in picker.table.item(0, 0).toolTip()
    assert picker.selected_row() == 1  # the default is preselected
    # the missing file cannot be opened
    assert picker.select_file("vqvae-digits.safetensors") and not picker.open_button.isEnabled()
    assert picker.open_selected() is None


def test_choosing_a_model_opens_it_in_the_window(qtbot, trained_dir, digits_test, wait_encoded):
    window = create_main_window(trained_dir=trained_dir)
    window.show_error = lambda title, text: pytest.fail(text)
    qtbot.addWidget(window)
    assert window.session.model is None
    picker = window.show_model_picker()
    assert picker.isVisible() and picker.table.rowCount() == 3
    assert picker.select_file("ae-digits.safetensors")
    with qtbot.waitSignal(window.session.modelChanged):
        assert picker.open_selected() == trained_dir / "ae-digits.safetensors"
    assert not picker.isVisible()
    assert window.session.model_path == trained_dir / "ae-digits.safetensors" and window.session.kind == "ae"
    wait_encoded(window)
    assert len(window.session.coords) == len(digits_test)
    # a double-click on another row opens that one
    picker = window.show_model_picker()
    picker.table.cellDoubleClicked.emit(1, 0)
    assert window.session.kind == "vae" and "vae-digits.safetensors" in window.windowTitle()


def test_the_picker_is_on_the_menu_and_toolbar_with_ctrl_p(qtbot, monkeypatch, trained_dir):
    monkeypatch.setattr(picker_module, "TRAINED_DIR", trained_dir)  # the window's default directory
    window = create_main_window()
    qtbot.addWidget(window)
    assert window.picker_action.shortcut().toString() == "Ctrl+P"
    toolbar = window.findChild(object, "mainToolbar")
    assert window.picker_action in toolbar.actions()
    assert window.picker_action in window.menuBar().actions()[0].menu().actions()
    window.picker_action.trigger()
    assert window.picker is not None and window.picker.trained_dir == trained_dir
    assert window.picker.table.rowCount() == 3


def test_an_empty_picker_says_how_to_make_the_models(qtbot, tmp_path):
    picker = ModelPicker(tmp_path)
    qtbot.addWidget(picker)
    assert picker.table.rowCount() == 0 and "train_all.sh" in picker.intro.text()
    assert not picker.open_button.isEnabled()
