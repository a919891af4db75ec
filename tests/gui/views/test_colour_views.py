"""Colour in every view, with the shipped emoji models opened offline (the folder they name is absent, so the
window takes the test split shipped in resources/), and an unlabelled set's legend."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtTest import QTest

import aeviewer.gui.app as app_module
from aeviewer.data.loader import bundled_path
from aeviewer.gui.app import create_main_window
from aeviewer.gui.views.denoise.draw_canvas import DrawCanvas
from aeviewer.gui.widgets.image_utils import class_color
from aeviewer.gui.views.latent.latent_view import LatentView
from aeviewer.gui.state.session import Session
from aeviewer.util.images import as_display

TRAINED = Path(__file__).resolve().parents[3] / "trained"
EMOJI_VAE, EMOJI_VQVAE = "vae-emoji-32d.safetensors", "vqvae-emoji.safetensors"


def shipped_labels() -> np.ndarray:
    with np.load(bundled_path("emoji"), allow_pickle=False) as z:
        return z["labels"].astype(np.int64)


def is_colourful(rgb: np.ndarray, by: float = 0.1) -> bool:
    """(H, W, 3) in [0, 1] whose channels differ somewhere by more than ``by`` (a grey image's never do)."""
    return rgb.ndim == 3 and rgb.shape[-1] == 3 and float(np.ptp(rgb, axis=-1).max()) > by


def pixmap_rgb(pixmap: QPixmap) -> np.ndarray:
    image = pixmap.toImage().convertToFormat(QImage.Format.Format_RGB888)
    h, w = image.height(), image.width()
    rows = np.frombuffer(image.constBits(), np.uint8).reshape(h, image.bytesPerLine())
    return rows[:, : 3 * w].reshape(h, w, 3).astype(np.float32) / 255.0


@pytest.fixture(scope="module")
def offline_checkpoints(tmp_path_factory) -> dict[str, Path]:
    """The shipped emoji checkpoints, naming an absent emoji folder: they open with the shipped test split."""
    from safetensors import safe_open
    from safetensors.torch import load_file, save_file

    folder = tmp_path_factory.mktemp("offline")
    moved = {}
    for name in (EMOJI_VAE, EMOJI_VQVAE):
        with safe_open(str(TRAINED / name), framework="pt") as f:
            metadata = dict(f.metadata())
        metadata["dataset"] = str(folder / "absent" / "emoji")
        moved[name] = folder / name
        save_file(load_file(str(TRAINED / name)), str(moved[name]), metadata)
    return moved


@pytest.fixture
def open_emoji(qtbot, monkeypatch, tmp_path, offline_checkpoints):
    """``open_emoji(name)``: a shown main window with that emoji model and its 732 test images in the scatter."""
    monkeypatch.setattr(app_module, "default_model_path", lambda *a, **k: None)
    monkeypatch.setenv("AEVIEWER_DATA", str(tmp_path))  # no emoji/ there either: a machine without the folder
    windows = []

    def open_(name: str):
        window = create_main_window(None)
        window.show_error = lambda title, text: pytest.fail(f"{title}: {text}")
        qtbot.addWidget(window)
        window.resize(1400, 900)
        window.show()
        qtbot.waitExposed(window)
        assert window.open_model(offline_checkpoints[name])
        qtbot.waitUntil(lambda: window.session.coords is not None and len(window.session.coords) == 732,
                        timeout=30000)
        qtbot.wait(50)
        windows.append(window)
        return window

    yield open_
    for window in windows:
        window.training_panel.shutdown()


def test_the_scatter_holds_each_classs_emoji_in_that_classs_colour(open_emoji):
    window = open_emoji(EMOJI_VAE)
    items = window.latent_view.class_items()
    counts = np.bincount(shipped_labels(), minlength=9)
    assert [len(item.getData()[0]) for item in items] == counts.tolist()
    colours = [item.opts["brush"].color().getRgb()[:3] for item in items]
    assert colours == [class_color(k) for k in range(9)] and len(set(colours)) == 9
    assert [item.name() for item in items] == list(window.session.class_names)


def test_hovering_an_emoji_shows_it_in_colour(qtbot, open_emoji):
    window = open_emoji(EMOJI_VAE)
    latent, session = window.latent_view, window.session
    i = int(np.argmin(np.abs(session.coords - np.median(session.coords, 0)).sum(1)))
    QTest.mouseMove(latent.plot.viewport(), latent.view_to_widget(*session.coords[i]).toPoint())
    qtbot.waitUntil(lambda: latent.inset.isVisible(), timeout=2000)
    card = pixmap_rgb(latent.inset.pixmap())
    left = (card.shape[1] - 84) // 2  # a long caption widens the card; the image is centred above it
    shown = card[:84, left:left + 84]
    hovered = as_display(session.test_set.images[latent.inset.index])
    assert is_colourful(shown) and is_colourful(hovered)
    assert latent.inset.caption == f"#{latent.inset.index}: {session.class_names[int(session.labels[latent.inset.index])]}"
    np.testing.assert_allclose(shown.mean((0, 1)), hovered.mean((0, 1)), atol=0.03)  # that emoji, in its colours


def test_a_click_decodes_a_colour_image_onto_the_canvas(qtbot, open_emoji):
    window = open_emoji(EMOJI_VAE)
    latent, canvas, session = window.latent_view, window.decoder_canvas, window.session
    images = session.test_set.images.float()  # (N, 3, H, W): the most colourful test emoji's point
    target = session.coords[int((images.amax(1) - images.amin(1)).mean((1, 2)).argmax())]
    with qtbot.waitSignal(canvas.frameRendered, timeout=3000):
        QTest.mouseClick(latent.plot.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                         latent.view_to_widget(*target).toPoint())
    shown = canvas.current_image()
    assert shown.shape == (64, 64, 3) and is_colourful(shown)
    np.testing.assert_allclose(shown, as_display(session.decode(session.current_z)), atol=1e-6)
    assert canvas.nearest_image.pixmap() is not None and is_colourful(pixmap_rgb(canvas.nearest_image.pixmap()))


def test_the_walks_and_prior_samples_are_colour(open_emoji):
    window = open_emoji(EMOJI_VAE)
    canvas, session = window.decoder_canvas, window.session
    session.set_current_z(session.latents[0])
    canvas.set_a_button.click()
    session.set_current_z(session.latents[1])
    canvas.set_b_button.click()
    frames = canvas.show_interpolation()
    assert frames.shape == (10, 64, 64, 3) and is_colourful(canvas.strip_item.image)
    grid = canvas.show_traversal_grid(n=4)
    rows, cols = canvas.grid_tiles.rows, canvas.grid_tiles.cols  # as many of 4×4 as the panel has room for
    assert grid.shape == (rows * 65 - 1, cols * 65 - 1, 3) and is_colourful(grid)
    canvas.sample_prior(4)
    assert canvas.sample_tiles.image.shape[-1] == 3 and is_colourful(canvas.sample_tiles.image, by=0.05)


def test_the_denoise_rows_are_colour_and_the_clean_row_is_the_test_images(open_emoji):
    window = open_emoji(EMOJI_VAE)
    view, test_set = window.denoise_view, window.session.test_set
    view.update_now()
    rows = view.item.image
    assert rows.ndim == 3 and rows.shape[-1] == 3
    clean = as_display(test_set.images[int(view.indices[0])])
    np.testing.assert_allclose(rows[:64, :64], clean, atol=1e-6)
    assert is_colourful(rows[:64]) and is_colourful(as_display(view.noisy[0])) and is_colourful(as_display(view.denoised[0]))


def test_the_codebook_grid_and_the_code_map_are_colour(qtbot, open_emoji):
    window = open_emoji(EMOJI_VQVAE)
    view, test_set = window.codebook_view, window.session.test_set
    window.codebook_dock.raise_()
    qtbot.waitUntil(lambda: view.grid_item.image is not None, timeout=5000)
    view.select_image(3)
    thumbs = view.grid_item.image
    assert thumbs.ndim == 3 and is_colourful(thumbs)
    assert view.map_item.image.shape == (*window.session.model.code_grid_shape, 3) and is_colourful(view.map_item.image)
    np.testing.assert_allclose(view.original_item.image, as_display(test_set.images[3]), atol=1e-6)
    decoded = view.decoded_image()
    assert decoded.shape == (64, 64, 3) and is_colourful(decoded)


def test_a_red_brush_paints_a_red_stroke_on_white_and_the_drawing_is_encoded_in_colour(qtbot, open_emoji):
    window = open_emoji(EMOJI_VAE)
    draw = window.denoise_view.draw_canvas
    assert draw.palette_row.isVisibleTo(draw) and draw.is_colour()
    assert np.all(draw.image() == 1.0)  # the emoji's white paper
    draw.palette_row.swatches["red"].click()
    with qtbot.waitSignal(draw.encoded, timeout=3000):
        draw.stroke([(32.0, 8.0), (32.0, 56.0)])  # a horizontal line across the middle
    drawn = draw.image()
    assert drawn.shape == (64, 64, 3)
    np.testing.assert_allclose(drawn[32, 12:52], np.tile([230 / 255, 30 / 255, 30 / 255], (40, 1)), atol=0.02)
    np.testing.assert_array_equal(drawn[:20], 1.0)  # white above the stroke
    x = torch.from_numpy(drawn).permute(2, 0, 1)[None]
    with torch.inference_mode():
        z = window.session.model.encode(x)[0].numpy()
    np.testing.assert_allclose(draw.last_z, z, atol=1e-5)
    assert draw.last_reconstruction.shape == (3, 64, 64)


def test_a_grey_model_has_no_brush_colours(qtbot, make_tiny_model, digits_test):
    session = Session()
    draw = DrawCanvas(session)
    qtbot.addWidget(draw)
    session.set_model(make_tiny_model("ae"), "digits", digits_test)
    draw.set_brush_color((230, 30, 30))  # a grey model's ink stays white
    draw.stroke([(4.5, 1.5), (4.5, 6.5)])  # through the pixel centres of row 4
    assert not draw.palette_row.isVisibleTo(draw) and draw.image().ndim == 2 and draw.image()[4, 3] > 0.9


def legend_texts(view: LatentView) -> list[str]:
    return [label.text for _sample, label in view.legend.items]


def test_an_unlabelled_folder_is_one_colour_and_the_legend_says_unlabelled(qtbot, tmp_path):
    from aeviewer.data.loader import load_source
    from aeviewer.data.preparation import Preparation
    from aeviewer.models import build_model, default_config

    rng = np.random.default_rng(0)
    for i in range(12):
        Image.fromarray(rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)).save(tmp_path / f"{i}.png")
    test_set = load_source(tmp_path, Preparation(image_size=16, channels="3", test_fraction=0.5)).test
    session = Session()
    view = LatentView(session)
    qtbot.addWidget(view)
    model = build_model(default_config("ae", image_shape=test_set.image_shape, latent_dim=2, hidden=(8,)))
    session.set_model(model, str(tmp_path), test_set)
    assert legend_texts(view) == ["unlabelled"]
    (item,) = view.class_items()
    assert len(item.getData()[0]) == len(test_set) > 0


def test_images_handed_over_without_labels_are_unlabelled_too(qtbot):
    from aeviewer.foreign.api_data import as_image_set
    from aeviewer.models import build_model, default_config

    images, _layout = as_image_set(np.random.default_rng(1).random((10, 8, 8), np.float32))
    session = Session()
    view = LatentView(session)
    qtbot.addWidget(view)
    session.set_model(build_model(default_config("ae", image_shape=(1, 8, 8), latent_dim=2, hidden=(8,))), "", images)
    assert legend_texts(view) == ["unlabelled"]
