"""Where the current latent point has been (undo/redo) and where someone wants to go back to (bookmarks),
without Qt. Points are latent vectors ``(L,)`` float32; both lists hold copies."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

HISTORY_LIMIT = 500  # points kept for undo; the oldest go first


class PointHistory:
    """A linear undo history of points: ``record`` a new point (dropping any redo branch), ``undo`` and
    ``redo`` step along it and return the point to go to (None at either end)."""

    def __init__(self, limit: int = HISTORY_LIMIT) -> None:
        self.limit = limit
        self._points: list[np.ndarray] = []
        self._at = -1  # index of the current point in _points

    def clear(self) -> None:
        self._points, self._at = [], -1

    @property
    def current(self) -> np.ndarray | None:
        return self._points[self._at].copy() if self._at >= 0 else None

    def record(self, z: Any) -> bool:
        """Make ``z`` the newest point; returns False (and records nothing) when it is the current one."""
        z = np.asarray(z, np.float32).reshape(-1).copy()
        current = self._points[self._at] if self._at >= 0 else None
        if current is not None and current.shape == z.shape and np.array_equal(current, z):
            return False
        del self._points[self._at + 1:]
        self._points.append(z)
        if len(self._points) > self.limit:
            del self._points[: len(self._points) - self.limit]
        self._at = len(self._points) - 1
        return True

    def can_undo(self) -> bool:
        return self._at > 0

    def can_redo(self) -> bool:
        return self._at < len(self._points) - 1

    def undo(self) -> np.ndarray | None:
        if not self.can_undo():
            return None
        self._at -= 1
        return self.current

    def redo(self) -> np.ndarray | None:
        if not self.can_redo():
            return None
        self._at += 1
        return self.current


@dataclass
class Bookmark:
    name: str
    z: np.ndarray  # (L,) float32


class Bookmarks:
    """Named points in the order they were added; names default to "Bookmark N"."""

    def __init__(self) -> None:
        self.items: list[Bookmark] = []
        self._added = 0

    def __len__(self) -> int:
        return len(self.items)

    def add(self, z: Any, name: str | None = None) -> Bookmark:
        self._added += 1
        mark = Bookmark(name or f"Bookmark {self._added}", np.asarray(z, np.float32).reshape(-1).copy())
        self.items.append(mark)
        return mark

    def rename(self, index: int, name: str) -> None:
        name = name.strip()
        if name:  # an emptied name keeps the old one rather than leaving a blank row
            self.items[index].name = name

    def remove(self, index: int) -> None:
        del self.items[index]

    def point(self, index: int) -> np.ndarray:
        return self.items[index].z.copy()

    def clear(self) -> None:
        self.items = []
        self._added = 0
