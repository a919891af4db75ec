"""Selections on the latent map (issue 34): a lasso or rectangle drag selects, the selection is highlighted
(the other dots dimmed, never hidden), can be kept under a name in the Session, exported, and can colour
the scatter as a class of its own.

The tool is an event filter on the plot's viewport, installed after the LatentView's own, so it sees the
mouse first: while a mode is on, a left drag draws the outline instead of picking a point.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMenu

from aeviewer.errors import AeviewerError
from aeviewer.explore.selections import (
    points_in_lasso, points_in_rect, write_selection_images, write_selection_set, write_selection_table,
)
from aeviewer.gui.widgets.image_utils import class_color

DIMMED_OPACITY = 0.2  # the unselected dots: still there, clearly behind
AS_CLASS_COLOUR = (20, 20, 20)  # the selection as a class of its own: black stands apart from the ten hues
SELECTED_Z = 3  # over the dots and the manifold, under the thumbnails


class SelectionTool(QObject):
    """Lasso/rectangle selection on one LatentView, drawn from ``session.selections``."""

    def __init__(self, view: Any) -> None:
        super().__init__(view)
        self.view = view
        self.selections = view.session.selections
        self.mode = ""  # "", "lasso" or "rect"
        self._path: list[tuple[float, float]] = []
        self.outline = pg.PlotCurveItem(pen=pg.mkPen((20, 20, 20), width=1.5, style=Qt.PenStyle.DashLine))
        self.outline.setZValue(20)
        self.marks = pg.ScatterPlotItem(size=7, pen=pg.mkPen((20, 20, 20), width=1), pxMode=True, antialias=False)
        self.marks.setZValue(SELECTED_Z)
        for item in (self.outline, self.marks):
            view.plot.addItem(item, ignoreBounds=True)
        view.plot.viewport().installEventFilter(self)
        self.selections.changed.connect(self.redraw)
        view.session.encodingsChanged.connect(self.redraw)
        view.session.modelChanged.connect(self.selections.clear)

    # -- drawing -----------------------------------------------------------------------------------------
    def redraw(self) -> None:
        """The selected points over the dimmed rest, in their class colours or one colour as a class."""
        coords = getattr(self.view, "_coords", None)
        active = self.selections.active
        valid = active[active < len(coords)] if coords is not None else active[:0]
        for item in self.view.class_items():
            item.setOpacity(DIMMED_OPACITY if len(valid) else 1.0)
        if not len(valid):
            self.marks.setData([], [])
            return
        labels = self.view._labels[valid]
        brushes = ([pg.mkBrush(*AS_CLASS_COLOUR)] * len(valid) if self.selections.as_class
                   else [pg.mkBrush(*class_color(int(k))) for k in labels])
        self.marks.setData(x=coords[valid, 0], y=coords[valid, 1], brush=brushes)

    # -- the mouse ---------------------------------------------------------------------------------------
    def set_mode(self, mode: str) -> None:
        self.mode = mode
        self._path = []
        self.outline.setData([], [])

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        if not self.mode:
            return False
        kind = event.type()
        if kind == QEvent.Type.MouseButtonPress and event.button() == Qt.MouseButton.LeftButton:
            self._path = [self._view_point(event)]
            return True
        if kind == QEvent.Type.MouseMove and self._path:
            self._path.append(self._view_point(event))
            self._draw_outline()
            return True
        if kind == QEvent.Type.MouseButtonRelease and event.button() == Qt.MouseButton.LeftButton and self._path:
            self._path.append(self._view_point(event))
            self.select(self.mode, np.array(self._path))
            self._path = []
            self.outline.setData([], [])
            return True
        return False

    def _view_point(self, event: Any) -> tuple[float, float]:
        scene = self.view.plot.viewportTransform().inverted()[0].map(event.position())
        p = self.view.viewbox.mapSceneToView(scene)
        return float(p.x()), float(p.y())

    def _draw_outline(self) -> None:
        pts = np.array(self._path)
        if self.mode == "rect":
            (x0, y0), (x1, y1) = pts[0], pts[-1]
            pts = np.array([(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)])
        else:
            pts = np.vstack([pts, pts[:1]])
        self.outline.setData(pts[:, 0], pts[:, 1])

    def select(self, mode: str, points: np.ndarray) -> np.ndarray:
        """Select the visible points inside a rectangle (its first and last point) or a lasso outline."""
        coords = getattr(self.view, "_coords", np.zeros((0, 2), np.float32))
        if mode == "rect":
            inside = points_in_rect(coords, np.array([points[0], points[-1]]))
        else:
            inside = points_in_lasso(coords, points)
        hidden = [k for k in range(len(self.view.class_items())) if not self.view.is_class_visible(k)]
        if hidden:
            inside = inside[~np.isin(self.view._labels[inside], hidden)]
        self.selections.set_active(inside)
        return inside


# -- the menu ----------------------------------------------------------------------------------------------
def selection_menu(window: Any, tool: SelectionTool) -> tuple[QMenu, dict[str, QAction]]:
    """View › Selection: the modes, keep under a name, the kept ones, colour as a class, export, clear; returns
    the menu and its actions by name."""
    menu = QMenu("Selection", window)
    menu.setObjectName("selectionMenu")
    menu.setToolTipsVisible(True)
    group = QActionGroup(window)
    group.setExclusionPolicy(QActionGroup.ExclusionPolicy.ExclusiveOptional)
    actions: dict[str, QAction] = {}
    for mode, text, keys in (("lasso", "Lasso select", "Ctrl+Shift+L"), ("rect", "Rectangle select", "Ctrl+Shift+R")):
        action = _action(window, text, keys, f"Drag on the map to select the points inside ({keys}); again to stop")
        action.setCheckable(True)
        action.toggled.connect(lambda on, m=mode: tool.set_mode(m if on else "" if tool.mode == m else tool.mode))
        group.addAction(action)
        actions[mode] = action
    actions["keep"] = _action(window, "Keep selection…", "Ctrl+Shift+K", "Name the selection and keep it in the "
                              "session (saved in the session file)", lambda: keep_dialog(window, tool))
    actions["as_class"] = _action(window, "Colour selection as a class", None, "Draw the selection in a colour of "
                                  "its own, as a class")
    actions["as_class"].setCheckable(True)
    actions["as_class"].toggled.connect(tool.selections.set_as_class)
    actions["export"] = _action(window, "Export selection…", None, "Write the selected images as PNGs, a CSV and NPZ "
                                "of their indices, codes and labels, and an .npz image set", lambda: export_dialog(window, tool))
    actions["clear"] = _action(window, "Clear selection", None, "Show every point again", tool.selections.clear)
    menu.addActions([actions["lasso"], actions["rect"]])
    menu.addSeparator()
    menu.addActions([actions["keep"], actions["as_class"], actions["export"], actions["clear"]])
    kept = menu.addMenu("Kept selections")
    kept.setObjectName("keptSelectionsMenu")
    kept.aboutToShow.connect(lambda: _fill_kept(kept, tool))
    return menu, actions


def _action(window: Any, text: str, keys: str | None, tip: str, slot: Any = None) -> QAction:
    action = QAction(text, window)
    if keys:
        action.setShortcut(QKeySequence(keys))
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
    action.setToolTip(tip)
    action.setStatusTip(tip)
    if slot is not None:
        action.triggered.connect(slot)
    window.addAction(action)
    return action


def _fill_kept(menu: QMenu, tool: SelectionTool) -> None:
    menu.clear()
    for s in tool.selections.named:
        menu.addAction(f"{s.name} ({len(s.indices)})", lambda n=s.name: tool.selections.show_named(n))
    if not tool.selections.named:
        menu.addAction("None kept yet").setEnabled(False)


def keep_dialog(window: Any, tool: SelectionTool) -> None:
    if not len(tool.selections.active):
        window.set_last_action("Nothing selected: drag a lasso or rectangle on the map first")
        return
    name, ok = QInputDialog.getText(window, "Keep selection", "Name:", text=f"Selection {len(tool.selections.named) + 1}")
    if ok:
        name = tool.selections.keep(name)
        window.set_last_action(f"Kept the selection {name!r} ({len(tool.selections.active)} images)")


def export_dialog(window: Any, tool: SelectionTool) -> None:
    folder = QFileDialog.getExistingDirectory(window, "Export the selection into a folder")
    if folder:
        try:
            written = export_selection(window.session, Path(folder), tool.selections.active)
        except AeviewerError as err:
            window.show_error("Could not export the selection", str(err))
            return
        window.set_last_action(f"Exported {len(tool.selections.active)} images into {folder} ({len(written)} files)")


def export_selection(session: Any, folder: Path, indices: np.ndarray) -> list[Path]:
    """The selection's images as PNGs in ``folder/images``, its table as CSV and NPZ, and its image set."""
    test_set = session.test_set
    labels, names = np.asarray(session.labels), session.class_names
    written = write_selection_images(folder / "images", test_set.images, indices)
    for suffix in (".csv", ".npz"):
        written.append(write_selection_table(folder / f"selection{suffix}", indices, session.latents, labels, names,
                                             session.coords))
    written.append(write_selection_set(folder / "selection-images.npz", test_set.images, labels, names, indices))
    return written
