"""The Session's selections that stay (issue 34): the highlighted one (``active``: test-image indices, the rest
of the map dimmed, not hidden), the named ones kept in the session file, and whether the active one colours
the scatter as a class of its own. Views draw from it; the session file saves ``named``.
"""
from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np
from PySide6.QtCore import QObject, Signal

from aeviewer.explore.selections import NamedSelection, unique_name


class Selections(QObject):
    """``changed()`` after any change of the active selection, the named list or the colouring."""

    changed = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.active = np.zeros(0, np.int64)
        self.active_name = ""  # the kept selection the active one is, "" for a fresh one
        self.named: list[NamedSelection] = []
        self.as_class = False  # the active selection coloured as a class of its own

    def set_active(self, indices: Iterable[int], name: str = "") -> None:
        self.active = np.unique(np.asarray(list(indices), np.int64))
        self.active_name = name
        self.changed.emit()

    def clear(self) -> None:
        self.set_active([])

    def keep(self, name: str) -> str:
        """Keep the active selection under ``name`` (made unique); returns the name used."""
        name = unique_name(name, [s.name for s in self.named])
        self.named.append(NamedSelection(name, [int(i) for i in self.active]))
        self.active_name = name
        self.changed.emit()
        return name

    def show_named(self, name: str) -> None:
        chosen = next(s for s in self.named if s.name == name)
        self.set_active(chosen.indices, name)

    def set_named(self, selections: Sequence[NamedSelection], size: int) -> None:
        """The kept selections of an opened session, indices past the data set's ``size`` dropped."""
        self.named = [NamedSelection(s.name, [i for i in s.indices if 0 <= i < size]) for s in selections]
        self.changed.emit()

    def reset(self) -> None:
        """Nothing active, nothing kept: the test images these indices pointed into are gone."""
        self.active = np.zeros(0, np.int64)
        self.active_name = ""
        self.named = []
        self.as_class = False
        self.changed.emit()

    def set_as_class(self, on: bool) -> None:
        self.as_class = on
        self.changed.emit()
