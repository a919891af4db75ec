"""aeviewer.show with models from outside aeviewer: the window explores them like its own."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from PySide6.QtCore import Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

import aeviewer
from aeviewer.errors import ForeignModelError
from tests.foreign.test_foreign import ShapedLatent, TinyVQ, np_decode, np_encode


@pytest.fixture
def shown(qtbot):
    """Calls aeviewer.show(block=False) and closes every window it opened after the test."""
    windows = []

    def show(*args, **kwargs):
        window = aeviewer.show(*args, block=False, **kwargs)
        windows.append(window)
        qtbot.waitExposed(window)
        return window

    yield show
    for window in windows:
        window.close()


def click_scatter(qtbot, window, fx: float = 0.3, fy: float = 0.6) -> np.ndarray:
    """A left click at a fraction of the scatter's visible range; the latent point it made current."""
    latent, canvas = window.latent_view, window.decoder_canvas
    (x0, x1), (y0, y1) = latent.visible_range()
    pos = latent.view_to_widget(x0 + fx * (x1 - x0), y0 + fy * (y1 - y0)).toPoint()
    with qtbot.waitSignal(canvas.frameRendered, timeout=3000):
        QTest.mouseClick(latent.plot.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pos)
    return window.current_point()


def test_a_click_puts_the_numpy_models_decoding_of_the_point_on_the_canvas(qtbot, shown, digits_test):
    window = shown(encode=np_encode, decode=np_decode, data=digits_test, title="numpy model")
    z = click_scatter(qtbot, window)
    np.testing.assert_allclose(window.decoder_canvas.current_image(), np_decode(z[None])[0, ..., 0], atol=1e-6)
    assert window.windowTitle().startswith("numpy model")
    assert not window.training_panel.isEnabled() and "trained outside aeviewer" in window.training_dock.windowTitle()
    assert not window.save_action.isEnabled() and not window.train_action.isEnabled()
    assert not window.codebook_dock.isVisible() and not window.decoder_canvas.sample_button.isEnabled()


def test_a_torch_module_with_a_shaped_latent_explores_through_pca(qtbot, shown, digits_test):
    net = ShapedLatent()
    window = shown(net, digits_test)
    assert window.session.projection.kind == "pca" and window.session.latents.shape == (len(digits_test), 16)
    z = click_scatter(qtbot, window, 0.7, 0.2)
    with torch.no_grad():
        expected = net.decode(torch.from_numpy(z).view(1, 4, 2, 2))[0, 0].numpy()
    np.testing.assert_allclose(window.decoder_canvas.current_image(), expected, atol=1e-6)
    assert window.decoder_canvas.sample_button.isEnabled()  # it has sample(n)


def test_the_current_point_and_the_selected_images_can_be_read_and_set(qtbot, shown, digits_test):
    window = shown(encode=np_encode, decode=np_decode, data=digits_test)
    window.set_current_point([0.5, -1.0, 2.0])
    np.testing.assert_allclose(window.decoder_canvas.shown_z(), [0.5, -1.0, 2.0])
    np.testing.assert_allclose(window.decoder_canvas.current_image(), np_decode(np.array([[0.5, -1.0, 2.0]]))[0, ..., 0],
                               atol=1e-6)
    window.set_selected_images([3, 1, 4])
    assert window.selected_images().tolist() == [3, 1, 4]


def test_an_onnx_pair_opens_and_a_click_decodes_through_onnxruntime(qtbot, shown, digits_test, tmp_path,
                                                                    make_tiny_model):
    pytest.importorskip("onnxruntime")
    from aeviewer.foreign.onnx_export import export_onnx

    model = make_tiny_model("ae").eval()
    window = shown(aeviewer.onnx_model(*export_onnx(model, tmp_path)), digits_test)
    assert window.model_label.text().startswith("FOREIGN · onnx")
    z = click_scatter(qtbot, window)
    with torch.no_grad():
        expected = model.decode(torch.from_numpy(z)[None])[0, 0].numpy()
    np.testing.assert_allclose(window.decoder_canvas.current_image(), expected, atol=1e-5)


def test_a_codebook_model_gets_the_codebook_view(qtbot, shown, digits_test):
    window = shown(TinyVQ(), digits_test)
    assert window.codebook_dock.isVisible() and window.codebook_view.cell_count() == 4


def _no_window_is_open() -> bool:
    return not any(w.isVisible() and w.objectName() == "mainWindow" for w in QApplication.topLevelWidgets())


@pytest.mark.parametrize("decode, says", [
    (lambda z: 1 / 0, "raised ZeroDivisionError"),
    (lambda z: np.full((len(z), 8, 8), np.nan, np.float32), "NaN"),
    (lambda z: np.zeros((len(z), 5), np.float32), "returned shape"),
    (lambda z: np.zeros((len(z), 8, 8), np.int32), "int32 values"),
])
def test_a_bad_model_raises_from_show_before_any_window_opens(qtbot, digits_test, decode, says):
    with pytest.raises(ForeignModelError, match=None) as info:
        aeviewer.show(encode=np_encode, decode=decode, data=digits_test, block=False)
    assert says in str(info.value)
    assert _no_window_is_open()


def test_a_model_failing_on_the_whole_set_raises_before_the_window_shows(qtbot, digits_test):
    def encode(x):  # fine on the probing batch of 16, NaN further into the set
        z = np_encode(x)
        return z if len(x) == 16 else np.full_like(z, np.nan)

    with pytest.raises(ForeignModelError, match="NaN"):
        aeviewer.show(encode=encode, decode=np_decode, data=digits_test, block=False)
    assert _no_window_is_open()


def test_a_later_failure_is_one_line_in_the_window_and_the_app_stays_up(qtbot, shown, digits_test):
    state = {"broken": False}

    def decode(z):
        if state["broken"]:
            raise RuntimeError("the GPU went away")
        return np_decode(z)

    window = shown(encode=np_encode, decode=decode, data=digits_test)
    state["broken"] = True
    window.set_current_point([0.0, 0.0, 0.0])
    assert "decode raised RuntimeError: the GPU went away" in window.action_label.text()
    assert float(np.abs(window.decoder_canvas.current_image()).sum()) == 0.0  # a blank, not a traceback
    state["broken"] = False
    window.set_current_point([0.1, 0.0, 0.0])
    np.testing.assert_allclose(window.decoder_canvas.current_image(), np_decode(np.array([[0.1, 0, 0]]))[0, ..., 0],
                               atol=1e-6)


def test_show_blocks_until_the_window_is_closed(qtbot, digits_test):
    closed = []

    def close_it():
        for w in QApplication.topLevelWidgets():
            if w.objectName() == "mainWindow" and w.isVisible():
                closed.append(w)
                w.close()

    QTimer.singleShot(300, close_it)
    window = aeviewer.show(encode=np_encode, decode=np_decode, data=digits_test)
    assert closed == [window] and not window.isVisible()
