"""A session saved from the window and opened again restores the model, the map, the point and the bookmarks."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from aeviewer.gui.state import session_io
from aeviewer.gui.window.main_window import MainWindow
from aeviewer.explore.session_file import Bookmark, SessionError
from aeviewer.training.checkpoint import save_checkpoint


@pytest.fixture
def window(qtbot):
    win = MainWindow()
    qtbot.addWidget(win)
    return win


def test_a_saved_session_reopens_the_same_screen(window, qtbot, tmp_path: Path, make_tiny_model, wait_encoded) -> None:
    model_path = save_checkpoint(tmp_path / "vae.safetensors", make_tiny_model("vae", latent_dim=4), dataset="digits")
    assert window.open_model(model_path)
    window.session.set_projection("pair", (2, 0))
    window.session.set_current_z(np.array([0.5, -1.0, 0.25, 2.0]))
    marks = [Bookmark("a thin seven", np.array([0.5, -1.0, 0.25, 2.0], np.float32))]  # the window's own kind will do
    path = session_io.save(tmp_path / "lecture.aeviewer.json", window.session, marks, selection=[3, 9])

    again = MainWindow()
    qtbot.addWidget(again)
    restored: list[list[Bookmark]] = []
    file, message = session_io.restore(path, again.session, again.open_model, restored.append)
    assert message == ""
    wait_encoded(again)
    assert again.session.model_path == model_path
    assert again.session.projection.kind == "pair" and again.session.projection.dims == (2, 0)
    np.testing.assert_allclose(again.session.current_z, [0.5, -1.0, 0.25, 2.0])
    assert restored == [[Bookmark("a thin seven", [0.5, -1.0, 0.25, 2.0])]]
    assert file.selection == [3, 9]


def test_a_session_whose_model_is_gone_says_so_in_one_line(window, tmp_path: Path, make_tiny_model) -> None:
    model_path = save_checkpoint(tmp_path / "ae.safetensors", make_tiny_model("ae"), dataset="digits")
    assert window.open_model(model_path)
    path = session_io.save(tmp_path / "s.aeviewer.json", window.session)
    model_path.unlink()
    _, message = session_io.restore(path, window.session, window.open_model)
    assert "ae.safetensors (no such file)" in message and "\n" not in message


def test_a_damaged_session_file_is_one_error(window, tmp_path: Path) -> None:
    path = tmp_path / "s.aeviewer.json"
    path.write_text("{half a file")
    with pytest.raises(SessionError, match="damaged session file"):
        session_io.restore(path, window.session, window.open_model)
