"""Selections that stay (issue 34): a lasso or rectangle highlights (the rest dimmed, not hidden), a named one
survives saving and opening the session, the export writes exactly the selected images, colour as a class."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from aeviewer.gui.views.latent.selection_tool import DIMMED_OPACITY, export_selection
from aeviewer.gui.window.main_window import MainWindow
from aeviewer.training.checkpoint import save_checkpoint


def open_window(qtbot, wait_encoded, model_path: Path | None = None) -> MainWindow:
    window = MainWindow()
    qtbot.addWidget(window)
    window.show_error = lambda title, text: (_ for _ in ()).throw(AssertionError(f"{title}: {text}"))
    if model_path is not None:
        assert window.open_model(model_path)
        wait_encoded(window)
    return window


def lasso_around_the_middle(window: MainWindow) -> np.ndarray:
    coords = window.session.coords
    (x0, y0), (x1, y1) = np.percentile(coords, 30, axis=0), np.percentile(coords, 70, axis=0)
    outline = np.array([(x0, y0), (x1, y0), (x1, y1), (x0, y1)])
    return window.latent_view.selection_tool.select("lasso", outline)


def test_a_lasso_highlights_and_dims_the_rest(qtbot, wait_encoded, tmp_path, make_tiny_model) -> None:
    path = save_checkpoint(tmp_path / "ae.safetensors", make_tiny_model("ae"), dataset="digits")
    window = open_window(qtbot, wait_encoded, path)
    chosen = lasso_around_the_middle(window)
    assert 0 < len(chosen) < len(window.session.coords)
    view = window.latent_view
    assert all(item.isVisible() and item.opacity() == DIMMED_OPACITY for item in view.class_items())
    assert len(view.selection_tool.marks.getData()[0]) == len(chosen)
    window.selection_actions["as_class"].setChecked(True)  # one colour for the selection, as a class
    brushes = {b.color().name() for b in view.selection_tool.marks.data["brush"]}
    assert brushes == {"#141414"}
    window.selection_actions["clear"].trigger()
    assert all(item.opacity() == 1.0 for item in view.class_items())


def test_a_named_selection_survives_save_and_open_of_a_session(qtbot, wait_encoded, tmp_path, make_tiny_model) -> None:
    path = save_checkpoint(tmp_path / "ae.safetensors", make_tiny_model("ae"), dataset="digits")
    window = open_window(qtbot, wait_encoded, path)
    chosen = lasso_around_the_middle(window)
    window.session.selections.keep("middle")
    session_path = window.session_menu.save_to(tmp_path / "lecture")
    other = open_window(qtbot, wait_encoded)
    assert other.session_menu.open_from(session_path)
    kept = other.session.selections.named
    assert [s.name for s in kept] == ["middle"] and kept[0].indices == chosen.tolist()
    other.session.selections.show_named("middle")
    assert other.session.selections.active.tolist() == chosen.tolist()


def test_the_selection_export_writes_exactly_the_selected_indices(qtbot, wait_encoded, tmp_path, make_tiny_model) -> None:
    path = save_checkpoint(tmp_path / "ae.safetensors", make_tiny_model("ae"), dataset="digits")
    window = open_window(qtbot, wait_encoded, path)
    chosen = lasso_around_the_middle(window)
    export_selection(window.session, tmp_path / "out", chosen)
    assert sorted(int(p.stem) for p in (tmp_path / "out" / "images").glob("*.png")) == chosen.tolist()
    with np.load(tmp_path / "out" / "selection.npz", allow_pickle=False) as table:
        assert table["index"].tolist() == chosen.tolist()
        np.testing.assert_array_equal(table["z"], window.session.latents[chosen])
    with np.load(tmp_path / "out" / "selection-images.npz", allow_pickle=False) as image_set:
        np.testing.assert_array_equal(image_set["images"], window.session.test_set.images[chosen].numpy())


def test_a_rectangle_dragged_with_the_mouse_selects_the_points_inside(qtbot, wait_encoded, tmp_path, make_tiny_model) -> None:
    from PySide6.QtCore import QEvent, QPointF, Qt
    from PySide6.QtGui import QMouseEvent
    from PySide6.QtWidgets import QApplication

    path = save_checkpoint(tmp_path / "ae.safetensors", make_tiny_model("ae"), dataset="digits")
    window = open_window(qtbot, wait_encoded, path)
    window.resize(1400, 900)
    window.show()
    qtbot.waitExposed(window)
    view = window.latent_view
    window.selection_actions["rect"].setChecked(True)
    coords = window.session.coords
    lo, hi = np.percentile(coords, 25, axis=0), np.percentile(coords, 75, axis=0)
    viewport = view.plot.viewport()
    before = np.array(window.session.current_z, copy=True)
    left, none = Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton
    points = [view.view_to_widget(*lo), view.view_to_widget((lo[0] + hi[0]) / 2, lo[1]), view.view_to_widget(*hi)]
    for kind, p, button, buttons in ((QEvent.Type.MouseButtonPress, points[0], left, left),
                                     (QEvent.Type.MouseMove, points[1], none, left),
                                     (QEvent.Type.MouseButtonRelease, points[2], left, none)):
        QApplication.sendEvent(viewport, QMouseEvent(kind, QPointF(p), QPointF(viewport.mapToGlobal(p.toPoint())),
                                                     button, buttons, Qt.KeyboardModifier.NoModifier))
    active = window.session.selections.active
    inside = np.flatnonzero(((coords >= lo - 0.05 * (hi - lo)) & (coords <= hi + 0.05 * (hi - lo))).all(axis=1))
    core = np.flatnonzero(((coords >= lo + 0.05 * (hi - lo)) & (coords <= hi - 0.05 * (hi - lo))).all(axis=1))
    assert set(core) <= set(active.tolist()) <= set(inside)  # up to a pixel's rounding at the edges
    np.testing.assert_array_equal(window.session.current_z, before)  # the drag selected; it picked no point
