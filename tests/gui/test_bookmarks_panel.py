"""Bookmarks: Ctrl+D on the map adds the current point, a click jumps back, rename and delete, into a session."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt

from aeviewer.gui.bookmarks_panel import BookmarksPanel
from aeviewer.gui.latent_view import LatentView
from aeviewer.gui.session import Session
from aeviewer.session_file import Bookmark


def test_ctrl_d_on_the_map_bookmarks_the_point_and_a_click_goes_back(give_focus, qtbot, make_tiny_model,
                                                                    digits_test) -> None:
    session = Session()
    view = LatentView(session)
    qtbot.addWidget(view)
    panel = BookmarksPanel(session, view)
    qtbot.addWidget(panel)
    session.set_model(make_tiny_model("ae"), "digits", digits_test)
    here = np.array([0.75, -0.5], np.float32)
    session.set_current_z(here)
    give_focus(view)
    qtbot.keyClick(view, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
    assert panel.list.count() == 1
    nearest = int(np.argmin(((session.latents - here) ** 2).sum(1)))
    assert panel.list.item(0).text() == f"1: near a {digits_test.labels[nearest].item()} (test image {nearest})"
    session.set_current_z(np.array([3.0, 3.0]))
    panel.show()
    rect = panel.list.visualItemRect(panel.list.item(0))
    qtbot.mouseClick(panel.list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    np.testing.assert_allclose(session.current_z, here)


def test_rename_delete_and_the_session_round_trip(qtbot, make_tiny_model, digits_test) -> None:
    session = Session()
    panel = BookmarksPanel(session)
    qtbot.addWidget(panel)
    session.set_model(make_tiny_model("ae"), "digits", digits_test)
    for z in ([0.0, 1.0], [2.0, 3.0], [4.0, 5.0]):
        session.set_current_z(np.array(z))
        panel.add_current()
    panel.list.item(1).setText("the hole")  # what an edit in place leaves
    assert panel.remove(0) and not panel.remove(7)
    first, second = panel.bookmarks()
    assert first == Bookmark("the hole", [2.0, 3.0])
    assert second.name.startswith("3: near a ") and second.z == [4.0, 5.0]  # names keep the number they got
    saved = panel.bookmarks()
    session.set_model(make_tiny_model("ae"), "digits", digits_test)  # a new model: its own bookmarks
    assert panel.list.count() == 0
    panel.set_bookmarks(saved)
    assert panel.bookmarks() == saved
    assert panel.jump_to(0) and np.allclose(session.current_z, [2.0, 3.0])
