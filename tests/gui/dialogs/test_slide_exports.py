"""File › Export for slides: the window's interpolation, grid, latents and scatter written by aeviewer.explore.export."""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtGui import QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

from aeviewer.errors import AeviewerError
from aeviewer.gui.window.main_window import MainWindow


@pytest.fixture
def window(qtbot, digits_checkpoint):
    win = MainWindow()
    qtbot.addWidget(win)
    win.resize(1200, 800)
    win.show()
    qtbot.waitExposed(win)
    win.open_model(digits_checkpoint)
    return win


def test_the_interpolation_a_to_b_becomes_a_gif_with_one_frame_per_step(window, tmp_path: Path) -> None:
    exports, canvas, session = window.slide_exports, window.decoder_canvas, window.session
    with pytest.raises(AeviewerError, match="set A and B"):
        exports.export_interpolation(tmp_path / "walk.gif")
    session.set_current_z(np.array([-1.0, 0.5]))
    canvas.set_a_button.click()
    session.set_current_z(np.array([1.5, -0.5]))
    canvas.set_b_button.click()
    canvas.interp_steps.setValue(7)
    path = exports.export_interpolation(tmp_path / "walk.gif")
    with Image.open(path) as gif:
        assert gif.n_frames == 7
        gif.seek(6)
        last = np.asarray(gif.convert("L"))[::16, ::16]
    expected = np.round(session.decode(np.array([1.5, -0.5], np.float32)) * 255).astype(np.uint8)
    assert np.array_equal(last, expected)
    with Image.open(exports.export_interpolation(tmp_path / "walk.png")) as strip:
        assert strip.size[1] == 128 and strip.size[0] == 7 * 128 + 6


def test_latents_csv_holds_the_map_the_window_shows(window, tmp_path: Path) -> None:
    path = window.slide_exports.export_latents(tmp_path / "z.csv")
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["index", "label", "class", "z0", "z1", "x", "y"]
    assert len(rows) == 1 + len(window.session.test_set)
    xy = np.array([[float(v) for v in r[-2:]] for r in rows[1:]], np.float32)
    assert np.array_equal(xy, window.session.coords)


def test_the_grid_covers_the_visible_map(window, tmp_path: Path) -> None:
    window.decoder_canvas.grid_n.setValue(3)
    with Image.open(window.slide_exports.export_grid(tmp_path / "grid.png")) as png:
        assert png.size == (3 * 128 + 2, 3 * 128 + 2)


@pytest.mark.parametrize("name, magic", [("s.svg", b"<?xml"), ("s.pdf", b"%PDF"), ("s.png", b"\x89PNG")])
def test_the_scatter_as_svg_pdf_or_png(window, tmp_path: Path, name: str, magic: bytes) -> None:
    path = window.slide_exports.export_scatter(tmp_path / name, dpi=192)
    assert path.read_bytes().startswith(magic)
    if name.endswith(".png"):
        with Image.open(path) as png:
            assert png.size[0] == pytest.approx(2 * window.latent_view.plot.width(), abs=2)  # 192 dpi = twice 96


def as_grey(image: QImage) -> np.ndarray:
    image = image.convertToFormat(QImage.Format.Format_Grayscale8)
    return np.array(image.constBits(), np.uint8).reshape(image.height(), image.bytesPerLine())[:, :image.width()]


def test_the_svg_draws_what_the_screen_shows(window, tmp_path: Path) -> None:
    """Rendered back at the widget's size, the SVG matches a grab of the plot (dots on their axes)."""
    plot = window.latent_view.plot
    path = window.slide_exports.export_scatter(tmp_path / "s.svg")
    renderer = QSvgRenderer(str(path))
    assert renderer.isValid()
    drawn = QImage(plot.size(), QImage.Format.Format_RGB32)
    drawn.fill(0xFFFFFF)
    painter = QPainter(drawn)
    renderer.render(painter)
    painter.end()
    screen, svg = as_grey(plot.grab().toImage()).astype(float), as_grey(drawn).astype(float)
    assert svg.shape == screen.shape
    # measured: 1.3 grey levels (antialiasing, dot outlines); 3.4 with the dots 25% off their axes (90 dpi SVG)
    assert np.abs(svg - screen).mean() < 2.5


def test_a_scatter_in_another_format_is_one_line(window, tmp_path: Path) -> None:
    with pytest.raises(AeviewerError, match=r"\.svg, \.pdf or \.png"):
        window.slide_exports.export_scatter(tmp_path / "s.jpg")


def test_the_selected_images_become_a_folder_of_pngs_named_by_index(window, tmp_path: Path) -> None:
    window.denoise_view.set_indices([4, 17, 30])  # what the window calls the selection
    written = window.slide_exports.export_selected_images(tmp_path / "picked")
    assert [p.name for p in written] == ["00004.png", "00017.png", "00030.png"]
    for path, index in zip(written, (4, 17, 30)):
        with Image.open(path) as png:
            pixels = np.asarray(png)
        np.testing.assert_array_equal(pixels, window.session.test_set.images[index, 0].numpy())
    assert window.slide_exports.actions["images"].text() == "Selected images as PNGs…"


def test_no_selection_is_one_line(window, tmp_path: Path) -> None:
    window.slide_exports.selection = lambda: []
    with pytest.raises(AeviewerError, match="no images are selected"):
        window.slide_exports.export_selected_images(tmp_path / "picked")


EXPORT_ENTRIES = [
    "Scatter as PNG, SVG or PDF…", "Decoder view as PNG…", "Codebook as PNG…", "Denoise comparison as PNG…",
    "Traversal grid (full resolution) as PNG…", "Interpolation A→B as GIF, MP4 or PNG strip…", "Path as GIF or MP4…",
    "Latents as CSV or NPZ…", "Selected images as PNGs…",
]


def export_menu(window: MainWindow):
    file_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&File")
    return next(a.menu() for a in file_menu.actions() if a.menu() is not None and a.text() == "Export")


def test_the_export_menu_names_each_export_once_with_a_tooltip(window) -> None:
    """It had 10 entries, two of them the scatter ("Latent scatter…" and "Scatter as SVG, PDF or PNG…")."""
    menu = export_menu(window)
    entries = [a for a in menu.actions() if not a.isSeparator()]
    assert [a.text() for a in entries] == EXPORT_ENTRIES
    untold = [a.text() for a in entries if a.toolTip() in (a.text(), a.text().rstrip("…"), "")]
    assert untold == [] and menu.toolTipsVisible()
    assert window.export_actions["latent"] is window.slide_exports.actions["scatter"]  # Ctrl+E's scatter, in the menu
    assert window.export_action.shortcut().toString() == "Ctrl+E"
