"""Undo/redo of the current point and the bookmarks, without Qt."""
from __future__ import annotations

import numpy as np

from aeviewer.explore.point_history import Bookmarks, PointHistory


def test_undo_and_redo_walk_the_points_and_a_new_point_drops_the_redo_branch() -> None:
    history = PointHistory()
    for x in (0.0, 1.0, 2.0):
        history.record([x, x])
    assert history.undo().tolist() == [1.0, 1.0]
    assert history.undo().tolist() == [0.0, 0.0]
    assert history.undo() is None  # nothing before the first point
    assert history.redo().tolist() == [1.0, 1.0]
    history.record([5.0, 5.0])
    assert history.redo() is None
    assert history.undo().tolist() == [1.0, 1.0]


def test_recording_the_current_point_again_adds_no_step() -> None:
    history = PointHistory()
    assert history.record([1, 2]) and not history.record(np.array([1, 2], np.float32))
    assert not history.can_undo()


def test_the_oldest_points_go_past_the_limit() -> None:
    history = PointHistory(limit=3)
    for x in range(5):
        history.record([x])
    steps = 0
    while history.undo() is not None:
        steps += 1
    assert steps == 2 and history.current.tolist() == [2.0]


def test_history_keeps_copies() -> None:
    z = np.zeros(2, np.float32)
    history = PointHistory()
    history.record(z)
    z[:] = 9
    assert history.current.tolist() == [0.0, 0.0]


def test_bookmarks_add_rename_remove() -> None:
    marks = Bookmarks()
    marks.add([0, 1])
    marks.add([2, 3], "a three")
    marks.rename(0, "  zero  ")
    marks.rename(1, "   ")  # a blank name keeps the old one
    assert [m.name for m in marks.items] == ["zero", "a three"]
    marks.remove(0)
    assert marks.point(0).tolist() == [2.0, 3.0] and len(marks) == 1
    assert marks.add([4, 4]).name == "Bookmark 3"  # numbered by additions, not by what is left
