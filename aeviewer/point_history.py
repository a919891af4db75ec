"""Undo and redo of the current latent point, without Qt: the points visited and a cursor among them.

A drag (a slider, the mouse held down on the map) moves the point many times a second; moves closer together
in time than ``merge_s`` replace the last entry instead of adding one, so one undo goes back over a whole
drag, not one pixel of it.
"""
from __future__ import annotations

import time
from typing import Callable

import numpy as np

HISTORY_LIMIT = 500  # points kept; the oldest go first
MERGE_SECONDS = 0.4  # moves this close together are one step of the history


class PointHistory:
    def __init__(self, limit: int = HISTORY_LIMIT, merge_s: float = MERGE_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limit, self.merge_s, self.clock = limit, merge_s, clock
        self._points: list[np.ndarray] = []
        self._cursor = -1  # index of the current point in _points
        self._last_time = -float("inf")

    def record(self, z: np.ndarray) -> None:
        """``z`` became the current point: drop anything redo could reach and append it (or replace the
        last entry during a drag). A point equal to the current one is not a step."""
        z = np.asarray(z, np.float32).reshape(-1).copy()
        now = self.clock()
        current = self.current
        if current is not None and current.shape == z.shape and np.array_equal(current, z):
            return
        del self._points[self._cursor + 1:]
        dragging = now - self._last_time < self.merge_s and len(self._points) > 1
        if dragging:
            self._points[-1] = z
        else:
            self._points.append(z)
        self._last_time = now
        if len(self._points) > self.limit:
            del self._points[:len(self._points) - self.limit]
        self._cursor = len(self._points) - 1

    @property
    def current(self) -> np.ndarray | None:
        return self._points[self._cursor] if self._points else None

    @property
    def can_undo(self) -> bool:
        return self._cursor > 0

    @property
    def can_redo(self) -> bool:
        return self._cursor < len(self._points) - 1

    def undo(self) -> np.ndarray | None:
        """The point before the current one (now current), or None at the start."""
        if not self.can_undo:
            return None
        self._cursor -= 1
        self._last_time = -float("inf")  # the next move after an undo is a step of its own
        return self._points[self._cursor].copy()

    def redo(self) -> np.ndarray | None:
        """The point after the current one (now current), or None at the end."""
        if not self.can_redo:
            return None
        self._cursor += 1
        self._last_time = -float("inf")
        return self._points[self._cursor].copy()

    def clear(self) -> None:
        """Forget every point (a new model: its latent space is another one)."""
        self._points.clear()
        self._cursor = -1
        self._last_time = -float("inf")
