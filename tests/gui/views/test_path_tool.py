"""A path drawn on the map: clicks add vertices, Enter or a double-click finishes, Esc drops it; the finished path
is decoded in `steps` frames, the first the decode at the first vertex; Play steps the canvas through them; it
exports as a GIF."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QToolButton

from aeviewer.gui.window.main_window import MainWindow

VERTICES = [(-0.5, -0.4), (0.3, 0.2), (0.6, -0.3), (0.1, 0.5)]


@pytest.fixture
def window(qtbot, tmp_path: Path, digits_checkpoint: Path) -> MainWindow:
    win = MainWindow()
    qtbot.addWidget(win)
    win.resize(1300, 850)
    win.show()
    qtbot.waitExposed(win)
    assert win.open_model(digits_checkpoint)  # a 2-D AE: the map is the latent plane itself
    win.latent_view.viewbox.setRange(xRange=(-1, 1), yRange=(-1, 1), padding=0)
    return win


def click_on_map(window: MainWindow, x: float, y: float, modifier=Qt.KeyboardModifier.NoModifier,
                 double: bool = False) -> None:
    view = window.latent_view
    at = view.view_to_widget(x, y).toPoint()
    if double:
        QTest.mouseDClick(view.plot.viewport(), Qt.MouseButton.LeftButton, modifier, at)
    else:
        QTest.mouseClick(view.plot.viewport(), Qt.MouseButton.LeftButton, modifier, at)


def drawn_vertices(window: MainWindow) -> list[tuple[float, float]]:
    return list(window.path_tool.vertices)


def test_a_path_of_n_clicks_decodes_in_steps_frames_from_its_first_vertex(window, qtbot) -> None:
    tool = window.path_tool
    z_before = window.session.current_z.copy()
    tool.toggle.click()
    for x, y in VERTICES:
        click_on_map(window, x, y)
    assert len(tool.vertices) == len(VERTICES)
    np.testing.assert_allclose(window.session.current_z, z_before)  # drawing a path does not pick
    tool.steps.setValue(12)
    QTest.keyClick(window.latent_view.plot, Qt.Key.Key_Return)
    assert tool.frames is not None and len(tool.frames) == 12
    first = tool.path_vertices[0]
    np.testing.assert_allclose(first, VERTICES[0], atol=0.02)  # where the click landed
    expected = window.session.decode(window.session.projection.from_2d(first[None].astype(np.float32)))[0]
    np.testing.assert_allclose(tool.frames[0], expected, atol=1e-5)
    assert not np.allclose(tool.frames[0], tool.frames[-1])
    assert window.decoder_canvas.tabs.currentWidget() is tool.panel
    assert not tool.draw_action.isChecked()


def test_the_draw_toggle_is_in_the_path_tab_for_a_2d_model_and_on_ctrl_l(window, qtbot) -> None:
    tool = window.path_tool
    draw = tool.panel.findChild(QToolButton, "pathDraw")
    window.decoder_canvas.tabs.setCurrentWidget(tool.panel)
    qtbot.waitUntil(draw.isVisible)
    assert not window.latent_view.projection_box.isVisible()  # a 2-D latent has no projection row
    QTest.keySequence(window, QKeySequence("Ctrl+L"))
    assert tool.draw_action.isChecked() and draw.isChecked()
    draw.click()
    assert not tool.draw_action.isChecked()


def test_alt_click_draws_and_a_double_click_finishes(window) -> None:
    tool = window.path_tool
    alt = Qt.KeyboardModifier.AltModifier
    click_on_map(window, *VERTICES[0], alt)
    click_on_map(window, *VERTICES[1], alt)
    click_on_map(window, *VERTICES[2], alt, double=True)
    assert tool.path_vertices is not None and len(tool.path_vertices) == 3
    assert len(tool.frames) == tool.steps.value()


def test_esc_drops_the_path_being_drawn_and_does_not_stop_training(window) -> None:
    tool = window.path_tool
    stops: list[bool] = []
    window.stop_action.triggered.connect(lambda: stops.append(True))
    tool.toggle.click()
    click_on_map(window, *VERTICES[0])
    click_on_map(window, *VERTICES[1])
    QTest.keyClick(window.latent_view.plot, Qt.Key.Key_Escape)
    assert tool.vertices == [] and tool.frames is None and stops == []


def test_play_steps_the_decoder_canvas_through_the_path(window, qtbot) -> None:
    tool = window.path_tool
    for x, y in VERTICES[:2]:
        tool.add_vertex((x, y))
    tool.steps.setValue(5)
    tool.finish()
    tool.toggle_play()
    assert tool.play_button.text() == "Stop"
    shown = []
    for _ in range(5):
        tool.step_animation()
        window.decoder_canvas.flush_frame()
        shown.append(window.decoder_canvas.shown_z())
    np.testing.assert_allclose(np.array(shown), tool.z, atol=1e-6)
    tool.toggle_play()
    window.decoder_canvas.flush_frame()
    np.testing.assert_allclose(window.decoder_canvas.shown_z(), window.session.current_z)  # back to the point


def test_playing_a_path_moves_the_current_point_and_the_crosshair(window, qtbot) -> None:
    tool, session = window.path_tool, window.session
    for x, y in VERTICES[:2]:
        tool.add_vertex((x, y))
    tool.steps.setValue(5)
    tool.finish()
    before = session.current_z.copy()
    tool.toggle_play()
    for k in range(3):
        tool.step_animation()
        np.testing.assert_allclose(session.current_z, tool.z[k], atol=1e-6)
        x, y = session.projection.to_2d(tool.z[k][None])[0]
        assert window.latent_view.crosshair_pos() == pytest.approx((x, y), abs=1e-4)
    tool.toggle_play()  # Stop: the point stays on the frame shown
    np.testing.assert_allclose(session.current_z, tool.z[2], atol=1e-6)
    assert window.latent_view.navigation.undo()  # the whole play is one step of the history
    np.testing.assert_allclose(session.current_z, before)


def test_a_click_on_the_map_stops_the_playing_path_where_it_was_put(window, qtbot) -> None:
    tool, session = window.path_tool, window.session
    for x, y in VERTICES[:2]:
        tool.add_vertex((x, y))
    tool.finish()
    tool.toggle_play()
    tool.step_animation()
    click_on_map(window, 0.5, 0.5)
    assert tool.play_button.text() == "Play" and not session.moving
    assert session.projection.to_2d(session.current_z[None])[0] == pytest.approx((0.5, 0.5), abs=0.02)


def test_the_path_exports_as_a_gif_of_its_frames(window, tmp_path: Path) -> None:
    tool = window.path_tool
    with pytest.raises(Exception, match="draw a path"):
        tool.export_animation(tmp_path / "none.gif")
    for x, y in VERTICES:
        tool.add_vertex((x, y))
    tool.steps.setValue(7)
    tool.finish()
    out = tool.export_animation(tmp_path / "path.gif")
    with Image.open(out) as gif:
        assert gif.n_frames == 7
    assert tool.export_action.text() == "Path as GIF or MP4…"
