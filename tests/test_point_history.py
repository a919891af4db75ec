"""Undo and redo of the current point: back and forth over the points visited, a drag is one step."""
from __future__ import annotations

import numpy as np

from aeviewer.point_history import PointHistory


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float = 1.0) -> None:
        self.now += seconds


def visited(*points: float) -> tuple[PointHistory, FakeClock]:
    clock = FakeClock()
    history = PointHistory(clock=clock)
    for p in points:
        history.record(np.array([p, -p]))
        clock.advance()
    return history, clock


def test_undo_goes_back_and_redo_forward_over_the_points_visited() -> None:
    history, _ = visited(1, 2, 3)
    assert history.undo()[0] == 2
    assert history.undo()[0] == 1
    assert history.undo() is None and not history.can_undo
    assert history.redo()[0] == 2
    assert history.redo()[0] == 3
    assert history.redo() is None and not history.can_redo


def test_a_new_point_after_undo_drops_the_redo_branch() -> None:
    history, clock = visited(1, 2, 3)
    history.undo()
    history.record(np.array([9.0, -9.0]))
    assert not history.can_redo
    assert history.undo()[0] == 2


def test_moves_during_a_drag_are_one_step() -> None:
    history, clock = visited(1)
    history.record(np.array([2.0, 0.0]))  # a click, then a drag from there
    for x in np.linspace(2.1, 3.0, 20):
        clock.advance(0.05)
        history.record(np.array([x, 0.0]))
    assert history.current[0] == 3.0
    assert history.undo()[0] == 1  # over the whole drag at once


def test_the_same_point_again_is_not_a_step() -> None:
    history, _ = visited(1, 1, 1, 2)
    assert history.undo()[0] == 1
    assert history.undo() is None


def test_the_oldest_points_go_past_the_limit() -> None:
    clock = FakeClock()
    history = PointHistory(limit=3, clock=clock)
    for p in range(5):
        history.record(np.array([float(p)]))
        clock.advance()
    assert [history.undo()[0], history.undo()[0], history.undo()] == [3, 2, None]


def test_clear_forgets_everything() -> None:
    history, _ = visited(1, 2)
    history.clear()
    assert history.current is None and not history.can_undo and not history.can_redo
