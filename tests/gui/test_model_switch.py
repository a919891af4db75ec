"""Nothing of one model stays on screen when another is opened (issue 29, defect 7): the window is built as the app
builds it (background encoding on), model A is opened and a view's state changed, then model B is opened with
``window.open_model`` and the state must be gone, or drawn again from B."""
from __future__ import annotations

from pathlib import Path

import pytest

from aeviewer.gui.app import create_main_window
from aeviewer.gui.window.main_window import MainWindow
from aeviewer.util.paths import shipped_dir

TRAINED = shipped_dir("trained")


def shipped(name: str) -> Path:
    path = TRAINED / f"{name}.safetensors"
    if not path.is_file():
        pytest.skip(f"{path.name} is not shipped in this checkout")
    return path


@pytest.fixture
def open_window(qtbot):
    """``open_window(name)``: the app's window with shipped model ``name`` open and its test split encoded."""

    def make(name: str) -> MainWindow:
        window = create_main_window(shipped(name), background_encoding=True)
        window.show_error = lambda title, text: pytest.fail(f"{title}: {text}")
        qtbot.addWidget(window)
        window.resize(1400, 900)
        window.show()
        qtbot.waitExposed(window)
        wait_encoded(qtbot, window)
        return window

    return make


def wait_encoded(qtbot, window: MainWindow) -> None:
    qtbot.waitUntil(lambda: not window.session.encoding and len(window.session.coords) > 0, timeout=30_000)


def switch(qtbot, window: MainWindow, name: str) -> None:
    assert window.open_model(shipped(name))
    wait_encoded(qtbot, window)


def names(window: MainWindow) -> list[str]:
    return [mark.name for mark in window.latent_view.navigation.bookmarks.items]


def test_the_bookmarks_of_one_model_are_not_shown_for_another_and_come_back_with_it(qtbot, open_window):
    window = open_window("vae-digits")
    window.latent_view.navigation.add_bookmark("a nice three")
    assert names(window) == ["a nice three"]
    switch(qtbot, window, "ae-digits")  # the same latent size: the old code kept the bookmark
    assert names(window) == [] and window.bookmark_list.names() == []
    switch(qtbot, window, "vae-digits")
    assert names(window) == window.bookmark_list.names() == ["a nice three"]


def test_the_traversal_grid_of_one_model_is_not_shown_for_another(qtbot, open_window):
    window = open_window("vae-mnist-2d")
    canvas = window.decoder_canvas
    canvas.show_traversal_grid((-2.5, 2.5), (-1.25, 1.75))
    assert "-2.50" in canvas.grid_status.text()
    switch(qtbot, window, "ae-mnist-2d")
    assert "-2.50" not in canvas.grid_status.text() and "1.75" not in canvas.grid_status.text()
    assert canvas.grid_tiles.images is None  # cleared, until the grid is decoded over B's map


def test_a_model_without_a_prior_says_so_in_the_prior_tab(qtbot, open_window):
    window = open_window("vae-digits")
    canvas = window.decoder_canvas
    canvas.tabs.setCurrentIndex(canvas.tabs.indexOf(canvas.sample_button.parentWidget()))
    canvas.sample_prior()
    assert "samples from the prior" in canvas.sample_status.text()
    switch(qtbot, window, "ae-digits")
    text = canvas.sample_status.text()
    assert "samples from the prior" not in text and "no prior" in text
    assert not canvas.sample_button.isVisible() and canvas.sample_tiles.images is None
    switch(qtbot, window, "aae-digits")  # a prior again: a first batch shows without a press
    assert canvas.sample_button.isVisible() and canvas.sample_tiles.images is not None
    assert "samples from the prior" in canvas.sample_status.text()


def test_the_drawing_panel_says_nothing_of_a_star_once_the_drawing_is_gone(qtbot, open_window):
    window = open_window("vae-mnist-2d")
    draw = window.denoise_view.draw_canvas
    draw.stroke([(5, 14), (22, 14)])
    draw.encode_now()
    assert "star" in draw.status.text() and window.latent_view.drawn_point() is not None
    switch(qtbot, window, "vae-digits")  # 8×8 pictures: the 28×28 drawing cannot stay
    assert window.latent_view.drawn_point() is None
    assert "star" not in draw.status.text()
    draw.stroke([(2, 4), (6, 4)])
    draw.encode_now()
    assert "star" in draw.status.text()
    draw.clear_button.click()
    assert window.latent_view.drawn_point() is None and "star" not in draw.status.text()



def test_the_previous_models_sliders_are_gone_at_once_after_a_switch(qtbot, wait_encoded):
    """The old sliders left view only when the event loop deleted them: a script driving the window (no loop
    running) showed the 20-dim model's sliders over the 2-dim model's two."""
    from PySide6.QtWidgets import QApplication, QSlider

    from aeviewer.gui.app import create_main_window
    from aeviewer.util.paths import shipped_dir

    window = create_main_window(None, open_default=False)
    qtbot.addWidget(window)
    window.show()
    canvas = window.decoder_canvas
    assert window.open_model(shipped_dir("trained") / "vae-mnist-20d.safetensors")
    wait_encoded(window)
    assert window.open_model(shipped_dir("trained") / "vae-mnist-2d.safetensors")
    QApplication.processEvents()  # no DeferredDelete here: it needs an event loop's own turn
    shown = [s for s in canvas.findChildren(QSlider) if s.objectName().startswith("latentSlider") and s.isVisibleTo(canvas)]
    assert len(shown) == 2
