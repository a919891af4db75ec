"""A session saved from the window and opened again restores the model, the map, the point and the bookmarks."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from aeviewer.gui import session_io
from aeviewer.gui.bookmarks_panel import BookmarksPanel
from aeviewer.gui.main_window import MainWindow
from aeviewer.session_file import Bookmark, SessionError


@pytest.fixture
def window_and_bookmarks(qtbot):
    window = MainWindow()
    qtbot.addWidget(window)
    panel = BookmarksPanel(window.session, window.latent_view)
    qtbot.addWidget(panel)
    return window, panel


def test_a_saved_session_reopens_the_same_screen(window_and_bookmarks, qtbot, tmp_path: Path, make_tiny_model) -> None:
    from aeviewer.training.checkpoint import save_checkpoint

    model_path = save_checkpoint(tmp_path / "vae.safetensors", make_tiny_model("vae", latent_dim=4), dataset="digits")
    window, panel = window_and_bookmarks
    assert window.open_model(model_path)
    window.session.set_projection("pair", (2, 0))
    window.session.set_current_z(np.array([0.5, -1.0, 0.25, 2.0]))
    panel.add_current("a thin seven")
    path = session_io.save(tmp_path / "lecture.aeviewer.json", window.session, panel, selection=[3, 9])

    again = MainWindow()
    qtbot.addWidget(again)
    again_panel = BookmarksPanel(again.session, again.latent_view)
    qtbot.addWidget(again_panel)
    file, message = session_io.restore(path, again.session, again.open_model, again_panel)
    assert message == ""
    assert again.session.model_path == model_path
    assert again.session.projection.kind == "pair" and again.session.projection.dims == (2, 0)
    np.testing.assert_allclose(again.session.current_z, [0.5, -1.0, 0.25, 2.0])
    assert again_panel.bookmarks() == [Bookmark("a thin seven", [0.5, -1.0, 0.25, 2.0])]
    assert file.selection == [3, 9]


def test_a_session_whose_model_is_gone_says_so_in_one_line(window_and_bookmarks, tmp_path: Path, make_tiny_model) -> None:
    from aeviewer.training.checkpoint import save_checkpoint

    window, panel = window_and_bookmarks
    model_path = save_checkpoint(tmp_path / "ae.safetensors", make_tiny_model("ae"), dataset="digits")
    assert window.open_model(model_path)
    path = session_io.save(tmp_path / "s.aeviewer.json", window.session, panel)
    model_path.unlink()
    _, message = session_io.restore(path, window.session, window.open_model, panel)
    assert "ae.safetensors (no such file)" in message and "\n" not in message


def test_a_damaged_session_file_is_one_error(window_and_bookmarks, tmp_path: Path) -> None:
    window, panel = window_and_bookmarks
    path = tmp_path / "s.aeviewer.json"
    path.write_text("{half a file")
    with pytest.raises(SessionError, match="damaged session file"):
        session_io.restore(path, window.session, window.open_model, panel)
