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
