"""File › Save session… and Open session…: the same model, map, point and selection again; a damaged or
half-missing session is one line; `aeviewer gui S.aeviewer.json` opens one."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from aeviewer.gui.app import create_main_window
from aeviewer.gui.window.main_window import MainWindow
from aeviewer.explore.session_file import Bookmark
from aeviewer.training.checkpoint import save_checkpoint


def new_window(qtbot) -> tuple[MainWindow, list[str]]:
    window = MainWindow()
    qtbot.addWidget(window)
    errors: list[str] = []
    window.show_error = lambda title, text: errors.append(text)
    return window, errors


@pytest.fixture
def saved(qtbot, tmp_path: Path, make_tiny_model) -> tuple[Path, Path]:
    """A 4-D VAE shown on the pair map (2, 0) at a chosen point with chosen denoise images, saved as a session."""
    model_path = save_checkpoint(tmp_path / "vae.safetensors", make_tiny_model("vae", latent_dim=4), dataset="digits")
    window, _ = new_window(qtbot)
    assert window.open_model(model_path)
    window.session.set_projection("pair", (2, 0))
    window.session.set_current_z(np.array([0.5, -1.0, 0.25, 2.0]))
    window.denoise_view.set_indices([3, 9, 11])
    window.session_menu.set_bookmarks([Bookmark("a thin seven", [0.5, -1.0, 0.25, 2.0])])
    path = window.session_menu.save_to(tmp_path / "lecture")
    assert path is not None and path.name == "lecture.aeviewer.json"
    return path, model_path


def assert_same_screen(window: MainWindow, model_path: Path) -> None:
    assert window.session.model_path == model_path
    assert window.session.projection.kind == "pair" and window.session.projection.dims == (2, 0)
    np.testing.assert_allclose(window.session.current_z, [0.5, -1.0, 0.25, 2.0])
    assert window.denoise_view.indices.tolist() == [3, 9, 11]


def test_a_saved_session_reopens_the_model_the_map_the_point_and_the_selection(qtbot, saved, wait_encoded) -> None:
    path, model_path = saved
    window, errors = new_window(qtbot)
    assert window.session_menu.open_from(path)
    assert errors == []
    wait_encoded(window)
    assert_same_screen(window, model_path)
    assert [b.name for b in window.session_menu.bookmarks()] == ["a thin seven"]  # kept for the next save
    assert [b.name for b in window.latent_view.navigation.bookmarks.items] == ["a thin seven"]  # in the list
    assert "Opened the session lecture.aeviewer.json" in window.action_label.text()


def test_the_menu_lists_both_entries_with_free_shortcuts(qtbot) -> None:
    window, _ = new_window(qtbot)
    file_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&File")
    entries = {a.text(): a.shortcut().toString() for a in file_menu.actions()}
    assert entries["Save session…"] == "Ctrl+Alt+S" and entries["Open session…"] == "Ctrl+Alt+O"
    shortcuts = [a.shortcut().toString() for a in window.actions() if not a.shortcut().isEmpty()]
    assert len(shortcuts) == len(set(shortcuts))


def test_a_damaged_session_is_one_line_and_the_open_model_stays(qtbot, tmp_path: Path, saved) -> None:
    _, model_path = saved
    window, errors = new_window(qtbot)
    assert window.open_model(model_path)
    damaged = tmp_path / "damaged.aeviewer.json"
    damaged.write_text("{half a file")
    assert window.session_menu.open_from(damaged) is False
    assert len(errors) == 1 and "\n" not in errors[0] and "damaged" in errors[0]
    assert window.session.model_path == model_path


def test_a_session_naming_a_missing_model_says_so_in_one_line(qtbot, saved) -> None:
    path, model_path = saved
    model_path.unlink()
    window, errors = new_window(qtbot)
    window.session_menu.open_from(path)
    assert len(errors) == 1 and "\n" not in errors[0] and "vae.safetensors (no such file)" in errors[0]
    assert "vae.safetensors" in window.action_label.text()


def test_a_session_with_a_damaged_part_opens_the_rest(qtbot, saved) -> None:
    path, model_path = saved
    path.write_text(path.read_text().replace('"selection": [\n  3,', '"selection": [\n  "three",'))
    window, errors = new_window(qtbot)
    assert window.session_menu.open_from(path)
    assert len(errors) == 1 and "\n" not in errors[0] and "selection" in errors[0]
    np.testing.assert_allclose(window.session.current_z, [0.5, -1.0, 0.25, 2.0])


def test_the_gui_command_opens_a_session_file(qtbot, saved, wait_encoded) -> None:
    path, model_path = saved
    window = create_main_window(path, open_default=False)
    qtbot.addWidget(window)
    wait_encoded(window)
    assert_same_screen(window, model_path)


def test_a_session_on_a_umap_map_says_the_map_must_be_run_again(qtbot, saved) -> None:
    path, model_path = saved
    path.write_text(path.read_text().replace('"projection": "pair"', '"projection": "umap"'))
    window, errors = new_window(qtbot)
    assert window.session_menu.open_from(path)
    assert len(errors) == 1 and "UMAP map is not stored" in errors[0] and "\n" not in errors[0]
    assert window.session.projection_kind not in ("umap", "tsne")  # the model's own default map, consistently
    np.testing.assert_allclose(window.session.current_z, [0.5, -1.0, 0.25, 2.0])
