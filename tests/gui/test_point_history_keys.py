"""Ctrl+Z / Ctrl+Shift+Z on the map undo and redo the current point."""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLineEdit

from aeviewer.gui.latent_view import LatentView
from aeviewer.gui.point_history_keys import PointHistoryKeys
from aeviewer.gui.session import Session
from aeviewer.point_history import PointHistory

CTRL = Qt.KeyboardModifier.ControlModifier
CTRL_SHIFT = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier


class StepClock:
    """Each reading is a second later: every move is a step of its own (no drag merging)."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


@pytest.fixture
def map_with_history(qtbot, make_tiny_model, digits_test):
    """(session, the map, its keys) with a 2-D AE loaded."""
    session = Session()
    view = LatentView(session)
    qtbot.addWidget(view)
    keys = PointHistoryKeys(session, view, PointHistory(clock=StepClock()))
    session.set_model(make_tiny_model("ae"), "digits", digits_test)
    return session, view, keys


def test_ctrl_z_and_ctrl_shift_z_on_the_map_walk_back_and_forth(give_focus, qtbot, map_with_history) -> None:
    session, view, keys = map_with_history
    start = session.current_z.copy()
    points = [np.array([0.5, 0.5]), np.array([-1.0, 2.0])]
    for p in points:
        session.set_current_z(p)
    give_focus(view)
    qtbot.keyClick(view, Qt.Key.Key_Z, CTRL)
    np.testing.assert_allclose(session.current_z, points[0])
    qtbot.keyClick(view, Qt.Key.Key_Z, CTRL)
    np.testing.assert_allclose(session.current_z, start)
    assert not keys.undo()  # nothing before the model's first point
    qtbot.keyClick(view, Qt.Key.Key_Z, CTRL_SHIFT)
    np.testing.assert_allclose(session.current_z, points[0])
    qtbot.keyClick(view, Qt.Key.Key_Z, CTRL_SHIFT)
    np.testing.assert_allclose(session.current_z, points[1])


def test_ctrl_z_elsewhere_leaves_the_point(give_focus, qtbot, map_with_history) -> None:
    session, _, _ = map_with_history
    session.set_current_z(np.array([0.5, 0.5]))
    other = QLineEdit()
    qtbot.addWidget(other)
    give_focus(other)
    qtbot.keyClick(other, Qt.Key.Key_Z, CTRL)
    np.testing.assert_allclose(session.current_z, [0.5, 0.5])


def test_a_new_model_starts_a_fresh_history(map_with_history, make_tiny_model, digits_test) -> None:
    session, _, keys = map_with_history
    session.set_current_z(np.array([3.0, 3.0]))
    session.set_model(make_tiny_model("vae", latent_dim=4), "digits", digits_test)
    assert not keys.undo()
    assert session.current_z.shape == (4,)
