"""One state (issue 30): the selection, the bookmarks and the current point are the Session's; a session file is
written from and read into the Session, and a model switch leaves no view showing the previous model's state."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from aeviewer.explore.session_file import Bookmark
from aeviewer.gui.state import session_io
from aeviewer.training.checkpoint import save_checkpoint


@pytest.fixture
def launched(qtbot):
    """``launched()``: a window built as `aeviewer gui` builds it, no model open."""
    from aeviewer.gui.app import create_main_window

    def make():
        window = create_main_window(open_default=False, background_encoding=True)
        window.show_error = lambda title, text: pytest.fail(f"{title}: {text}")
        qtbot.addWidget(window)
        return window

    return make


def open_and_wait(qtbot, window, path: Path) -> None:
    assert window.open_model(path)
    qtbot.waitUntil(lambda: not window.session.encoding, timeout=60_000)


def test_selection_and_bookmarks_survive_save_and_open_from_the_session(qtbot, launched, tmp_path: Path,
                                                                        make_tiny_model) -> None:
    model = save_checkpoint(tmp_path / "vae.safetensors", make_tiny_model("vae", latent_dim=4), dataset="digits")
    window = launched()
    open_and_wait(qtbot, window, model)
    window.session.selection.set([5, 1, 8])
    window.session.navigation.set_bookmarks([Bookmark("a round zero", [0.1, 0.2, 0.3, 0.4])])
    path = window.session_menu.save_to(tmp_path / "s")

    again = launched()
    assert again.session_menu.open_from(path)
    qtbot.waitUntil(lambda: not again.session.encoding, timeout=60_000)
    assert again.session.selection.tolist() == [5, 1, 8]
    assert again.denoise_view.indices.tolist() == [5, 1, 8]  # the view is drawn from it
    assert again.bookmark_list.names() == ["a round zero"]
    np.testing.assert_allclose(again.session.navigation.bookmarks.items[0].z, [0.1, 0.2, 0.3, 0.4])
    assert session_io.capture(again.session).selection == [5, 1, 8]  # written from the Session, not a view


def test_after_a_model_switch_no_view_shows_the_previous_models_state(qtbot, launched, tmp_path: Path,
                                                                      make_tiny_model) -> None:
    first = save_checkpoint(tmp_path / "a.safetensors", make_tiny_model("vae", latent_dim=2), dataset="digits")
    second = save_checkpoint(tmp_path / "b.safetensors", make_tiny_model("ae", latent_dim=2, seed=1), dataset="digits")
    window = launched()
    open_and_wait(qtbot, window, first)
    window.session.selection.set([11, 12, 13])
    window.session.set_current_z(np.array([2.5, -2.5], np.float32))
    window.session.navigation.add_bookmark("far corner")
    assert window.bookmark_list.names() == ["far corner"]

    open_and_wait(qtbot, window, second)
    session = window.session
    assert session.selection.tolist() != [11, 12, 13]
    assert window.denoise_view.indices.tolist() == session.selection.tolist()
    assert window.bookmark_list.names() == [] and len(session.navigation.bookmarks) == 0
    assert not np.allclose(session.current_z, [2.5, -2.5])
    np.testing.assert_allclose(window.latent_view.crosshair_pos(), session.projection.to_2d(session.current_z[None])[0],
                               atol=1e-4)
    for _ in range(5):  # a new history: undo never goes back to the first model's point
        if not session.navigation.undo():
            break
        assert not np.allclose(session.current_z, [2.5, -2.5])
