"""CodebookView: K cells coloured by usage, code painting with undo, the images that use a code most."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from PySide6.QtCore import QPointF, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from aeviewer.gui.views.codebook.codebook_view import CodebookView
from aeviewer.gui.dialogs.model_picker import load_index
from aeviewer.models.vqvae import usage_text
from aeviewer.gui.state.session import Session
from aeviewer.training.metrics import code_usage

K = 16


@pytest.fixture
def view(qtbot, make_tiny_model, digits_test):
    model = make_tiny_model("vqvae", codebook_size=K)
    with torch.no_grad():  # spread the codes apart (as training would) so that swapping one shows
        model.embedding.normal_(generator=torch.Generator().manual_seed(0))
    session = Session()
    widget = CodebookView(session)
    qtbot.addWidget(widget)
    widget.resize(1000, 600)
    session.set_model(model, "digits", digits_test)
    widget.show()
    qtbot.waitExposed(widget)
    return session, widget


def codes_of(session, images: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return session.model.encode_codes(images)


def test_the_grid_has_k_cells_and_usage_matches_the_core(view, digits_test):
    session, widget = view
    assert widget.cell_count() == K
    codes = codes_of(session, digits_test.float_batch(slice(None)))
    np.testing.assert_array_equal(widget.usage(), np.bincount(codes.flatten().numpy(), minlength=K))
    # The figures the core measures on the test split (what a checkpoint's metrics record), named as such.
    stats = code_usage(session.model, digits_test)
    used = round(stats['codes_used_frac'] * K)
    assert f"test split: {used}/{K} codes in use, perplexity {stats['perplexity']:.1f}" in widget.stats_label.text()
    grid = widget.grid_item.image
    h, w = widget._cell_hw
    assert grid.shape[:2] == (4 * h + 3, 4 * w + 3)  # a 4×4 mosaic of framed thumbnails


def test_selecting_an_image_shows_its_code_map_and_decoding(view, digits_test):
    session, widget = view
    widget.select_image(7)
    codes = codes_of(session, digits_test.float_batch(slice(7, 8)))[0]
    np.testing.assert_array_equal(widget.edit_codes, codes.numpy())
    with torch.no_grad():
        expected = session.model.decode_codes(codes[None])[0, 0].numpy()
    np.testing.assert_allclose(widget.decoded_image(), expected, atol=1e-6)


def test_a_code_swap_changes_the_decoded_image_and_undo_restores_it(view):
    session, widget = view
    widget.select_image(3)
    before = widget.decoded_image().copy()
    old = int(widget.edit_codes[1, 2])
    new = (old + 5) % K
    widget.paint(1, 2, new)
    edited = widget.edit_codes.copy()
    assert edited[1, 2] == new
    with torch.no_grad():
        expected = session.model.decode_codes(torch.from_numpy(edited)[None])[0, 0].numpy()
    np.testing.assert_allclose(widget.decoded_image(), expected, atol=1e-6)
    assert np.abs(widget.decoded_image() - before).max() > 1e-3
    widget.setFocus()
    QTest.keyClick(widget, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # Ctrl+Z
    assert widget.edit_codes[1, 2] == old
    np.testing.assert_allclose(widget.decoded_image(), before, atol=1e-6)
    assert not widget.undo()  # nothing left to undo


def click_item(plots, item, x: float, y: float) -> None:
    """Left-click the point (x, y) of an ImageItem (its pixel coordinates) in its GraphicsLayoutWidget."""
    pos = plots.mapFromScene(item.mapToScene(QPointF(x, y)))
    QTest.mouseClick(plots.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pos)
    QApplication.processEvents()


def test_clicking_a_cell_then_a_code_paints_it(view):
    session, widget = view
    widget.select_image(0)
    click_item(widget.map_plots, widget.map_item, 2.5, 1.5)  # column 2, row 1
    assert widget.selected_cell == (1, 2)
    code = (int(widget.edit_codes[1, 2]) + 3) % K
    r, c = divmod(code, widget._ncols)
    h, w = widget._cell_hw
    click_item(widget.grid_plots, widget.grid_item, c * (w + 1) + w / 2, r * (h + 1) + h / 2)
    assert widget.selected_code == code and widget.edit_codes[1, 2] == code


def test_clicking_a_code_lists_the_images_that_use_it_most(view, digits_test):
    session, widget = view
    code = int(np.argmax(widget.usage()))
    widget.click_code(code)
    per_image = (codes_of(session, digits_test.float_batch(slice(None))) == code).sum((1, 2)).numpy()
    shown = per_image[widget.top_images]
    assert len(widget.top_images) == 12
    assert np.all(np.diff(shown) <= 0) and shown[0] == per_image.max()
    assert widget.users_item.image is not None
    assert f"Code {code}: {widget.usage()[code]} cells" in widget.users_label.text()


def test_hovering_a_code_shows_its_count(view):
    session, widget = view
    h, w = widget._cell_hw
    scene = widget.grid_item.mapToScene(QPointF(w + 1 + w / 2, h / 2))  # code 1
    widget._on_grid_hover(scene)
    assert widget.hover_label.text().startswith(f"code 1: used {widget.usage()[1]} times")


def test_other_kinds_show_a_placeholder(qtbot, make_tiny_model, digits_test):
    session = Session()
    widget = CodebookView(session)
    qtbot.addWidget(widget)
    session.set_model(make_tiny_model("ae"), "digits", digits_test)
    assert widget.cell_count() == 0 and widget._stack.currentWidget() is widget.placeholder


def test_live_weights_refresh_the_grid_now_when_shown_and_on_showing_when_hidden(view, make_tiny_model):
    session, widget = view
    new = make_tiny_model("vqvae", seed=3, codebook_size=K)
    with torch.no_grad():
        new.embedding.normal_(generator=torch.Generator().manual_seed(3))
    session.load_weights(new.state_dict())
    codes = codes_of(session, session.test_set.float_batch(slice(None)))
    np.testing.assert_array_equal(widget.usage(), np.bincount(codes.flatten().numpy(), minlength=K))
    widget.hide()
    grid = widget.grid_item.image.copy()
    session.load_weights(make_tiny_model("vqvae", seed=4, codebook_size=K).state_dict())
    codes = codes_of(session, session.test_set.float_batch(slice(None)))
    fresh = np.bincount(codes.flatten().numpy(), minlength=K)
    np.testing.assert_array_equal(widget.usage(), fresh)  # the figures are cheap: always current
    np.testing.assert_array_equal(widget.grid_item.image, grid)  # the K decoded codes: not while hidden
    widget.show()
    assert not np.array_equal(widget.grid_item.image, grid)


def test_a_vq_model_without_its_test_split_says_so_instead_of_showing_zero_use(qtbot, view, make_tiny_model):
    session, widget = view
    assert widget.original_item.image is not None and "perplexity" in widget.stats_label.text()
    model = make_tiny_model("vqvae", codebook_size=K, seed=1)
    session.set_model(model, "fashion-mnist", None)  # opened without its data
    widget.refresh()
    assert widget.cell_count() == K  # the codebook itself needs no data
    assert "perplexity" not in widget.stats_label.text() and "test split" in widget.stats_label.text()
    assert all(item.image is None for item in (widget.original_item, widget.map_item, widget.decoded_item))
    assert widget.edit_codes is None and not widget.index_spin.isEnabled()
    widget.select_image(0)  # and nothing breaks when asked anyway


def test_following_the_scatter_shows_the_image_nearest_the_newest_point_once_per_burst(qtbot, view, monkeypatch):
    """A drag sends many points per frame: only the last one is looked up, and its nearest test image shown."""
    session, widget = view
    shown = []
    select = widget.select_image
    monkeypatch.setattr(widget, "select_image", lambda i: (shown.append(i), select(i)))
    for i in (5, 17, 3, 42):
        session.set_current_z(session.latents[i])
    assert shown == []  # nothing yet: looked up on the next turn of the event loop
    qtbot.waitUntil(lambda: widget.image_index == 42, timeout=2000)
    assert shown == [42]
    widget.follow_check.setChecked(False)
    session.set_current_z(session.latents[7])
    qtbot.wait(50)
    assert widget.image_index == 42  # not following: the image stays


# -- as launched: the app encodes the test split in the background, after the codebook first drew --------------
SHIPPED_VQVAES = ("vqvae-mnist", "vqvae-digits", "vqvae-emoji")


def open_as_launched(qtbot, path):
    """The window as `aeviewer gui PATH` builds it (background encoding), once its test split is encoded."""
    from aeviewer.gui.app import create_main_window

    window = create_main_window(path, background_encoding=True)
    window.show_error = lambda title, text: pytest.fail(f"{title}: {text}")
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    qtbot.waitUntil(lambda: not window.session.encoding, timeout=120_000)
    return window


def hover_code(widget: CodebookView, code: int) -> str:
    """Move the mouse over ``code``'s cell of the grid; the hover line it leaves."""
    h, w = widget._cell_hw
    row, col = divmod(code, widget._ncols)
    scene = widget.grid_item.mapToScene(QPointF(col * (w + 1) + w / 2, row * (h + 1) + h / 2))
    widget.grid_plots.scene().sigMouseMoved.emit(scene)
    return widget.hover_label.text()


def assert_reports_usage(window) -> None:
    """The codebook counts the test split's code maps the session encoded, names the split, and a hover says so."""
    session, widget = window.session, window.codebook_view
    assert session.test_codes is not None and len(session.test_codes) == len(session.test_set)
    k = widget.cell_count()
    np.testing.assert_array_equal(widget.usage(), np.bincount(session.test_codes.ravel(), minlength=k))
    text = widget.stats_label.text()
    assert "not loaded" not in text and f"test split: {int((widget.usage() > 0).sum())}/{k} codes in use" in text
    code = int(np.argmax(widget.usage()))
    assert widget.usage()[code] > 0
    assert hover_code(widget, code).startswith(f"code {code}: used {widget.usage()[code]} times")
    assert widget.edit_codes is not None and widget.original_item.image is not None  # an image's code map


@pytest.mark.parametrize("name", SHIPPED_VQVAES)
def test_codebook_reports_usage_after_background_encoding_of_each_shipped_vqvae(qtbot, name):
    from aeviewer.util.paths import shipped_dir

    window = open_as_launched(qtbot, shipped_dir("trained") / f"{name}.safetensors")
    assert_reports_usage(window)
    # The same formula as the core's test metrics, which trained/index.json records for the model.
    recorded = next(e.metrics for e in load_index() if e.path.stem == name)
    k = window.codebook_view.cell_count()
    assert usage_text(recorded, k, "test split") in window.codebook_view.stats_label.text()


def test_codebook_reports_usage_of_a_vqvae_reopened_from_its_autosave(qtbot, tmp_path, make_tiny_model):
    from aeviewer.training.autosave import AutoSaver

    model = make_tiny_model("vqvae", codebook_size=K)
    with torch.no_grad():
        model.embedding.normal_(generator=torch.Generator().manual_seed(0))
    path = AutoSaver("digits", directory=tmp_path).save(model, 1, [])
    window = open_as_launched(qtbot, path)
    assert window.session.model_path == path
    assert_reports_usage(window)


def test_the_codebook_says_the_test_split_is_being_encoded_until_its_codes_arrive(qtbot, make_tiny_model,
                                                                                    digits_test):
    session = Session()
    session.encode_in_background = True
    widget = CodebookView(session)
    qtbot.addWidget(widget)
    session.set_model(make_tiny_model("vqvae", codebook_size=K), "digits", digits_test)
    assert "not loaded" not in widget.stats_label.text() and "encoded" in widget.stats_label.text()
    qtbot.waitUntil(lambda: not session.encoding, timeout=20_000)
    assert widget.usage().sum() == session.test_codes.size
