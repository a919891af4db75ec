"""DecoderCanvas: coalesced frames, nearest example, sliders tied to the point, interpolation, grid, prior."""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from aeviewer.explore import latent_space
from aeviewer.gui.views.decoder.decoder_canvas import DecoderCanvas
from aeviewer.gui.widgets.image_utils import tile
from aeviewer.gui.views.latent.latent_view import LatentView


@pytest.fixture
def setup(make_session_view):
    return lambda kind="ae", **overrides: make_session_view(DecoderCanvas, kind, **overrides)


def test_a_burst_of_points_renders_once_with_the_newest(setup):
    session, canvas = setup()
    item = canvas.image_item
    before = canvas.render_count
    points = np.linspace([-1.0, -1.0], [1.0, 0.5], 40).astype(np.float32)
    for z in points:  # as a fast drag would, with no event-loop turn in between
        session.set_current_z(z)
    assert canvas.render_count == before
    QApplication.processEvents()
    assert canvas.render_count == before + 1  # the 39 stale frames were dropped
    np.testing.assert_allclose(canvas.shown_z(), points[-1])
    np.testing.assert_allclose(canvas.current_image(), session.decode(points[-1]), atol=1e-6)
    assert canvas.image_item is item  # replaced pixels, same item


def test_the_nearest_real_example_and_the_coordinates_are_shown(setup, digits_test):
    session, canvas = setup()
    i = 123
    session.set_current_z(session.latents[i] + 1e-4)
    canvas.render_now()
    distances = np.linalg.norm(session.latents - session.latents[i], axis=1)
    assert distances[canvas.nearest_index] == pytest.approx(0.0, abs=1e-6)
    label = digits_test.class_names[int(digits_test.labels[canvas.nearest_index])]
    assert canvas.nearest_caption.text().startswith(f"#{canvas.nearest_index}: {label}")
    assert not canvas.nearest_image.pixmap().isNull()
    assert f"{session.latents[i][0] + 1e-4:+.2f}" in canvas.coords_label.text()


def test_a_slider_moves_the_point_and_the_point_moves_the_sliders_without_feedback(qtbot, setup):
    session, canvas = setup("ae", latent_dim=3)
    sliders = canvas.sliders()
    assert len(sliders) == 3
    start = session.current_z.copy()
    emitted = []
    session.currentPointChanged.connect(lambda z: emitted.append(np.array(z)))
    sliders[1].setValue(900)
    assert len(emitted) == 1
    assert emitted[0][1] == pytest.approx(canvas.slider_value(1), abs=1e-5)
    np.testing.assert_allclose(emitted[0][[0, 2]], start[[0, 2]])
    QApplication.processEvents()
    np.testing.assert_allclose(canvas.current_image(), session.decode(emitted[0]), atol=1e-6)
    # and back: a new point moves the sliders, which must not call set_current_z again
    z = session.latents[5]
    session.set_current_z(z)
    QApplication.processEvents()
    assert len(emitted) == 2
    for d in range(3):
        lo, hi = (float(bound) for bound in canvas._slider_ranges[d])  # pytest 9 refuses a numpy scalar as tolerance
        assert canvas.slider_value(d) == pytest.approx(float(np.clip(z[d], lo, hi)), abs=(hi - lo) / 900)


def test_interpolation_decodes_the_path_from_a_to_b(setup):
    session, canvas = setup("ae", latent_dim=4)
    a, b = session.latents[0], session.latents[1]
    session.set_current_z(a)
    canvas.set_a_button.click()
    session.set_current_z(b)
    canvas.set_b_button.click()
    canvas.interp_steps.setValue(5)
    frames = canvas.show_interpolation()
    np.testing.assert_allclose(frames, session.decode(latent_space.interpolate(a, b, 5, "lerp")), atol=1e-6)
    np.testing.assert_allclose(canvas.strip_item.image, tile(frames, ncols=5, pad=2))
    canvas.interp_mode.setCurrentIndex(canvas.interp_mode.findData("slerp"))
    spherical = canvas.show_interpolation()
    np.testing.assert_allclose(spherical, session.decode(latent_space.interpolate(a, b, 5, "slerp")), atol=1e-6)
    np.testing.assert_allclose(spherical[[0, -1]], frames[[0, -1]], atol=1e-5)  # same ends


def test_the_traversal_grid_covers_the_latent_views_visible_region(side_by_side, make_tiny_model, digits_test):
    host, session, latent, canvas = side_by_side(make_tiny_model("ae"), digits_test, LatentView, DecoderCanvas, (900, 700))
    latent.viewbox.setRange(xRange=(-0.5, 0.25), yRange=(-0.1, 0.3), padding=0)
    xr, yr = latent.visible_range()
    canvas.grid_n.setValue(4)
    grid = canvas.show_traversal_grid()
    cols, rows = canvas.grid_tiles.cols, canvas.grid_tiles.rows  # 4×4, or as much of it as the panel has room for
    assert 2 <= cols <= 4 and 1 <= rows <= 4
    expected = session.decode(latent_space.grid_points(session.projection, xr, yr, cols, rows))
    np.testing.assert_allclose(grid, tile(expected, ncols=cols, pad=1), atol=1e-6)
    # the top-left tile is the top-left corner of the view (smallest x, largest y)
    np.testing.assert_allclose(grid[:8, :8], session.decode(np.array([xr[0], yr[1]], np.float32)), atol=1e-6)
    del host


def test_a_model_without_a_prior_offers_no_sampling(setup):
    session, canvas = setup("ae")
    assert canvas.sample_prior() is None and canvas.sample_tiles.images is None
    assert "no prior" in canvas.sample_status.text()


def test_sampling_from_the_prior_keeps_the_current_point_and_a_click_on_a_sample_picks_it(qtbot, setup):
    session, canvas = setup("vae", latent_dim=3)
    canvas.resize(500, 700)
    canvas.show()
    canvas.tabs.setCurrentIndex(canvas.tabs.indexOf(canvas.sample_button.parentWidget()))
    qtbot.waitExposed(canvas)
    session.set_current_z(np.array([0.1, 0.2, 0.3], np.float32))
    moves: list[object] = []
    session.currentPointChanged.connect(moves.append)
    z = canvas.sample_prior(4)
    assert z.shape == (4, 3) and moves == []  # the current point stays where the user put it
    np.testing.assert_allclose(session.current_z, [0.1, 0.2, 0.3])
    np.testing.assert_allclose(canvas.sample_tiles.images, session.decode(z), atol=1e-6)
    first, z = z, canvas.sample_prior(4)
    assert not np.allclose(z, first)  # a second press draws new samples
    QTest.mouseClick(canvas.sample_tiles, Qt.MouseButton.LeftButton, pos=canvas.sample_tiles.cell_rect(2).center())
    np.testing.assert_allclose(session.current_z, z[2])
    assert canvas.shown_z() is not None and np.allclose(canvas.shown_z(), z[2])  # drawn at once, as a click is


def test_new_weights_redraw_the_current_point(setup, make_tiny_model):
    session, canvas = setup()
    old = canvas.current_image().copy()
    session.load_weights(make_tiny_model("ae", seed=7).state_dict())
    QApplication.processEvents()
    np.testing.assert_allclose(canvas.current_image(), session.decode(session.current_z), atol=1e-6)
    assert not np.allclose(canvas.current_image(), old)


def test_new_weights_redraw_the_prior_samples_and_the_grid(setup, make_tiny_model):
    session, canvas = setup("vae", latent_dim=2)
    z = canvas.sample_prior(4)
    canvas.show_traversal_grid((-1.0, 1.0), (-1.0, 1.0), 3)
    session.load_weights(make_tiny_model("vae", seed=7, latent_dim=2).state_dict())
    QApplication.processEvents()
    shown = len(canvas.sample_tiles.images)
    np.testing.assert_allclose(canvas.sample_tiles.images, session.decode(z[:shown]), atol=1e-6)  # the same batch
    cols, rows = canvas.grid_tiles.cols, canvas.grid_tiles.rows
    expected = session.decode(latent_space.grid_points(session.projection, (-1.0, 1.0), (-1.0, 1.0), cols, rows))
    np.testing.assert_allclose(canvas.grid_tiles.images, expected, atol=1e-6)


def test_hidden_sliders_catch_up_when_they_show(qtbot, setup):
    session, canvas = setup("ae", latent_dim=3)
    canvas.show()
    qtbot.waitExposed(canvas)
    canvas.tabs.setCurrentIndex(1)  # another tool: the sliders are hidden
    assert not canvas.slider_area.isVisible()
    z = session.latents[7]
    session.set_current_z(z)
    QApplication.processEvents()
    canvas.tabs.setCurrentIndex(0)
    assert canvas.slider_area.isVisible()
    lo, hi = canvas._slider_ranges[0]
    expected = int(np.clip(round((z[0] - lo) / (hi - lo) * 1000), 0, 1000))
    assert canvas._sliders[0].value() == expected


def test_the_shown_latent_vector_can_be_copied(setup):
    session, canvas = setup("ae", latent_dim=3)
    z = session.latents[3]
    session.set_current_z(z)
    canvas.render_now()
    text = canvas.copy_current_z()
    assert QApplication.clipboard().text() == text
    np.testing.assert_allclose([float(v) for v in text.split(",")], z, rtol=1e-5)
