"""The Compare window's share of issue 34: the Images layer on each model's scatter (Ctrl+I), and the
linked selection coloured as a class of its own (filled in one colour instead of ringed)."""
from __future__ import annotations

from typing import Any

import pyqtgraph as pg
from PySide6.QtGui import QAction, QKeySequence

from aeviewer.gui.widgets.coalescing import CoalescingTimer
from aeviewer.gui.widgets.thumbnails import PointSource, ThumbnailItem

AS_CLASS_COLOUR = (20, 20, 20)  # as on the main map (views/latent/selection_tool.py)


class PanelThumbnails:
    """One panel's thumbnails, re-picked once per event-loop turn after its range changes."""

    def __init__(self, panel: Any, images: Any) -> None:
        self.panel = panel
        self.item = ThumbnailItem(panel.viewbox, lambda: PointSource(panel.coords, panel.labels, images)
                                  if panel.is_ready() else None)
        self.item.hide()
        panel.plot.addItem(self.item, ignoreBounds=True)
        self.timer = CoalescingTimer(panel, self.item.refresh)
        panel.viewbox.sigRangeChanged.connect(lambda *_: self.timer.request())

    def set_visible(self, on: bool) -> None:
        self.item.setVisible(on)
        self.item.refresh()


def install_compare_layers(view: Any, toolbar: Any) -> dict[str, QAction]:
    """The two checkable actions on the Compare window's toolbar; ``view.panel_thumbnails`` for tests."""
    view.panel_thumbnails = [PanelThumbnails(panel, view.test_set.images) for panel in view.panels]
    images = QAction("Images on the map", view)
    images.setObjectName("compareThumbnailsAction")
    images.setShortcut(QKeySequence("Ctrl+I"))
    images.setToolTip("Test images at their points in every scatter, one per cell, more as you zoom in (Ctrl+I)")
    images.setCheckable(True)
    images.toggled.connect(lambda on: [t.set_visible(on) for t in view.panel_thumbnails])
    as_class = QAction("Selection as a class", view)
    as_class.setObjectName("compareAsClassAction")
    as_class.setToolTip("Fill the selected dots in one colour of their own, as a class")
    as_class.setCheckable(True)
    as_class.toggled.connect(lambda on: colour_selection_as_class(view, on))
    toolbar.addActions([images, as_class])
    return {"thumbnails": images, "as_class": as_class}


def colour_selection_as_class(view: Any, on: bool) -> None:
    for panel in view.panels:
        fill = pg.mkBrush(*AS_CLASS_COLOUR) if on else pg.mkBrush(255, 255, 255, 0)
        panel.selection_marker.setBrush(fill)
