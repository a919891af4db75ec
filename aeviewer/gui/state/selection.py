"""Selection: the test images chosen for a closer look (the denoise comparison shows them, a session file keeps
them, Export › Selected images writes them), as evented state owned by the Session.

A new model empties it (the Session does, before it says the model changed), so no view can show the previous
model's images; whichever view wants a default set then writes one.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Signal


class Selection(QObject):
    """Indices into the session's test set, in the order they are shown. ``changed()`` after every ``set``."""

    changed = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._indices = np.zeros(0, np.int64)

    @property
    def indices(self) -> np.ndarray:
        return self._indices.copy()

    def __len__(self) -> int:
        return len(self._indices)

    def set(self, indices: Any) -> None:
        self._indices = np.asarray(indices, np.int64).reshape(-1).copy()
        self.changed.emit()

    def clear(self) -> None:
        self.set(np.zeros(0, np.int64))

    def tolist(self) -> list[int]:
        return [int(i) for i in self._indices]
