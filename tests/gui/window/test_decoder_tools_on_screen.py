"""The decoder's tools as a person sees them, in a window built like the app's at a desktop size (issue 29):
the traversal grid and the prior samples in cells that can be read, all the same size; the bookmarks beside
the tools, not on top of them."""
from __future__ import annotations

import pytest
from PySide6.QtCore import QRect
from PySide6.QtWidgets import QWidget

from aeviewer.gui.app import create_main_window
from aeviewer.gui.views.latent.bookmarks import BookmarkList
from aeviewer.gui.window.main_window import MainWindow
from aeviewer.gui.views.decoder.tile_view import MIN_CELL, TileView
from aeviewer.util.paths import shipped_dir


@pytest.fixture
def window(qtbot) -> MainWindow:
    path = shipped_dir("trained") / "vae-mnist-2d.safetensors"
    if not path.is_file():
        pytest.skip("vae-mnist-2d is not shipped in this checkout")
    win = create_main_window(path, background_encoding=True)
    win.show_error = lambda title, text: pytest.fail(f"{title}: {text}")
    qtbot.addWidget(win)
    win.resize(1600, 1000)
    win.show()
    qtbot.waitExposed(win)
    qtbot.waitUntil(lambda: not win.session.encoding and len(win.session.coords) > 0, timeout=30_000)
    return win


def show_tab(qtbot, window: MainWindow, page: QWidget) -> None:
    tabs = window.decoder_canvas.tabs
    tabs.setCurrentIndex(tabs.indexOf(page))
    qtbot.waitUntil(page.isVisible)


def on_screen(widget: QWidget) -> QRect:
    """The part of ``widget`` a person can see (inside its dock's scroll area, the window and the screen)."""
    return widget.visibleRegion().boundingRect()


def assert_legible(tiles: TileView, min_cells: int) -> None:
    assert tiles.images is not None and len(tiles.images) >= min_cells
    rects = [tiles.cell_rect(i) for i in range(len(tiles.images))]
    assert all(r.height() >= MIN_CELL and r.width() >= MIN_CELL for r in rects), rects[0]
    assert len({(r.width(), r.height()) for r in rects}) == 1  # every cell the same size
    tops = sorted({r.top() for r in rects})
    assert len({b - a for a, b in zip(tops, tops[1:])}) <= 1  # rows evenly spaced
    seen = on_screen(tiles)
    assert all(seen.contains(r) for r in rects), (seen, rects[-1])  # none cut off


def test_the_traversal_grid_is_legible_in_the_window(qtbot, window):
    canvas = window.decoder_canvas
    show_tab(qtbot, window, canvas.grid_tiles.parentWidget())
    assert_legible(canvas.grid_tiles, min_cells=12)  # opening the tab decodes the grid over the map's region
    canvas.grid_n.setValue(12)
    canvas.show_traversal_grid()
    assert_legible(canvas.grid_tiles, min_cells=12)
    assert canvas.grid_tiles.rows >= 2 and canvas.grid_tiles.cols >= 4  # still a grid, not a strip


def test_the_prior_samples_are_legible_in_the_window(qtbot, window):
    canvas = window.decoder_canvas
    show_tab(qtbot, window, canvas.sample_tiles.parentWidget())
    canvas.sample_prior(16)
    assert_legible(canvas.sample_tiles, min_cells=12)


def test_a_smaller_panel_shows_fewer_cells_not_smaller_ones(qtbot, window):
    canvas = window.decoder_canvas
    show_tab(qtbot, window, canvas.sample_tiles.parentWidget())
    canvas.sample_prior(40)  # more than fit
    before = len(canvas.sample_tiles.images)
    assert before < 40
    total = sum(canvas.splitter.sizes())
    canvas.splitter.setSizes([total - 150, 150])  # the splitter dragged down: the tools have less room
    qtbot.waitUntil(lambda: len(canvas.sample_tiles.images) < before, timeout=5000)
    assert_legible(canvas.sample_tiles, min_cells=4)


def test_showing_the_bookmarks_leaves_the_decoders_tools_usable(qtbot, window):
    canvas = window.decoder_canvas
    window.latent_view.navigation.add_bookmark("here")  # the first one used to open a dock under the decoder
    qtbot.wait(50)
    tabs = canvas.tabs
    assert on_screen(tabs).height() == tabs.height() >= tabs.minimumSizeHint().height()  # nothing scrolled away
    marks = window.findChild(BookmarkList)
    if not marks.isVisible():
        show_tab(qtbot, window, marks)
    assert marks.names() == ["here"]
    assert on_screen(marks.list).height() >= 60  # rows of the list can be seen and clicked
    show_tab(qtbot, window, canvas.grid_tiles.parentWidget())
    canvas.show_traversal_grid()
    assert_legible(canvas.grid_tiles, min_cells=12)  # the tools kept their room
