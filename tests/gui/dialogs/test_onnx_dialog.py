"""File › Open ONNX pair…: the dialog opens an exported pair over the window's data set; a bad file is one line
in a message box and the open model stays."""
from __future__ import annotations

import sys
import threading
from pathlib import Path

import numpy as np
import pytest
import torch
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QDialogButtonBox, QMessageBox

import aeviewer.gui.dialogs.onnx_dialog as onnx_dialog
from aeviewer.explore import latent_space
from aeviewer.gui.window.main_window import MainWindow
from aeviewer.gui.dialogs.onnx_dialog import OnnxPairDialog
from tests.gui.test_foreign_window import click_scatter

pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")

TRAINED = Path(__file__).resolve().parents[3] / "trained"


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """The shipped digits VAE as encoder.onnx + decoder.onnx, and the torch model they were exported from."""
    from aeviewer.foreign.onnx_export import export_onnx
    from aeviewer.training.checkpoint import load_checkpoint

    model = load_checkpoint(TRAINED / "vae-digits.safetensors").model.eval()
    encoder, decoder = export_onnx(model, tmp_path_factory.mktemp("pair"))
    return encoder, decoder, model


@pytest.fixture
def boxes(monkeypatch):
    """Every QMessageBox.warning the window would show, as (title, text), instead of showing it."""
    shown: list[tuple[str, str]] = []
    monkeypatch.setattr(QMessageBox, "warning", staticmethod(lambda parent, title, text, *a: shown.append((title, text))))
    return shown


@pytest.fixture
def window(qtbot, boxes):
    """The window with the shipped digits AE open (the model a failed load must leave in place)."""
    win = MainWindow()
    qtbot.addWidget(win)
    assert win.open_model(TRAINED / "ae-digits.safetensors")
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.training_panel.shutdown()


def ok_button(dialog: OnnxPairDialog):
    return dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)


def open_through_dialog(qtbot, window: MainWindow, encoder: Path, decoder: Path | None = None) -> None:
    """File › Open ONNX pair…, the fields filled in, OK clicked; returns once the load has ended."""
    dialog = window.open_onnx_dialog()
    dialog.set_paths(encoder, decoder)
    opener = window.onnx_opener
    QTest.mouseClick(ok_button(dialog), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not opener.job.is_running(), timeout=20_000)


def test_the_file_menu_offers_it_with_a_shortcut_of_its_own_and_a_tooltip(window):
    action = window.open_onnx_action
    file_menu = window.menuBar().actions()[0].menu()
    assert action in file_menu.actions()
    assert action.shortcut() == QKeySequence("Ctrl+Shift+N") and "onnx" in action.toolTip().lower()
    others = [a for a in window.findChildren(type(action)) if a is not action and not a.shortcut().isEmpty()]
    assert all(a.shortcut() != action.shortcut() for a in others)


def test_ok_waits_for_both_files_and_an_encoder_brings_its_decoder(qtbot, window, exported, tmp_path):
    encoder, decoder, _ = exported
    dialog = window.open_onnx_dialog()
    assert not ok_button(dialog).isEnabled() and "encoder" in dialog.problem_label.text()
    dialog.set_paths(encoder)
    assert dialog.decoder_field.text() == str(decoder)  # encoder.onnx -> decoder.onnx in the same folder
    assert ok_button(dialog).isEnabled() and dialog.paths() == (encoder, decoder)
    dialog.decoder_field.setText(str(tmp_path / "nope.onnx"))
    assert not ok_button(dialog).isEnabled() and "No such decoder file" in dialog.problem_label.text()
    lonely = tmp_path / "encoder.onnx"  # no decoder.onnx beside it: the field someone typed stays as it is
    lonely.write_bytes(encoder.read_bytes())
    dialog.set_paths(lonely)
    assert dialog.decoder_field.text() == str(tmp_path / "nope.onnx")
    dialog.reject()


def test_the_pair_opens_over_the_windows_data_set_and_a_click_decodes_through_it(qtbot, window, exported, boxes):
    encoder, _, torch_model = exported
    test_set = window.session.test_set
    open_through_dialog(qtbot, window, encoder)
    assert boxes == []
    session = window.session
    assert session.model.config.arch == "onnx" and session.test_set is test_set and session.dataset_name == "digits"
    assert not window.training_panel.isEnabled() and "trained outside aeviewer" in window.training_dock.windowTitle()
    assert window.model_label.text().startswith("FOREIGN · onnx") and "encoder.onnx + decoder.onnx" in window.windowTitle()
    z = click_scatter(qtbot, window)
    with torch.no_grad():
        expected = latent_space.decode_points(torch_model, z[None])[0]
    np.testing.assert_allclose(window.decoder_canvas.current_image(), expected, atol=1e-5)


def truncated(encoder: Path, folder: Path) -> Path:
    path = folder / "encoder.onnx"
    path.write_bytes(encoder.read_bytes()[:300])
    return path


def garbage(encoder: Path, folder: Path) -> Path:
    path = folder / "encoder.onnx"
    path.write_bytes(b"\x00\xff not a protobuf " * 40)
    return path


def for_28px_images(encoder: Path, folder: Path) -> Path:
    """A sound pair that does not fit 8x8 digits: the shipped MNIST AE."""
    from aeviewer.foreign.onnx_export import export_onnx
    from aeviewer.training.checkpoint import load_checkpoint

    return export_onnx(load_checkpoint(TRAINED / "ae-mnist-2d.safetensors").model.eval(), folder)[0]


@pytest.mark.parametrize("make_encoder, says", [
    (truncated, "not an ONNX model"), (garbage, "not an ONNX model"), (for_28px_images, "encode raised"),
])
def test_a_bad_pair_is_one_line_and_the_open_model_stays(qtbot, window, exported, boxes, tmp_path, make_encoder, says):
    encoder, decoder, _ = exported
    before = window.session.model
    open_through_dialog(qtbot, window, make_encoder(encoder, tmp_path), decoder)
    assert len(boxes) == 1 and boxes[0][0] == "Could not open the ONNX pair"
    text = boxes[0][1]
    assert says in text and "\n" not in text and "Traceback" not in text
    assert window.session.model is before and window.session.model_path == TRAINED / "ae-digits.safetensors"
    assert window.training_panel.isEnabled() and window.training_dock.windowTitle() == "Training"


def test_without_onnxruntime_it_says_how_to_install_it(qtbot, window, exported, boxes, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # import onnxruntime now raises ImportError
    before = window.session.model
    open_through_dialog(qtbot, window, exported[0])
    assert len(boxes) == 1 and "onnxruntime" in boxes[0][1] and "pip install" in boxes[0][1]
    assert window.session.model is before


def test_the_pair_loads_off_the_gui_thread(qtbot, window, exported, monkeypatch):
    threads = []
    real = onnx_dialog.load_explorable

    def spy(*args):
        threads.append(threading.current_thread())
        return real(*args)

    monkeypatch.setattr(onnx_dialog, "load_explorable", spy)
    open_through_dialog(qtbot, window, exported[0])
    assert threads and threads[0] is not threading.main_thread()
    assert window.session.model.config.arch == "onnx"


def test_without_an_open_model_the_pair_opens_over_the_panels_data_set(qtbot, boxes, exported):
    window = MainWindow()
    qtbot.addWidget(window)
    assert window.session.model is None and window.training_panel.data_spec() == "digits"
    open_through_dialog(qtbot, window, exported[0])
    assert boxes == [] and window.session.dataset_name == "digits" and len(window.session.test_set) > 0
    window.training_panel.shutdown()
