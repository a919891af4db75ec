"""The latent view's image layers: thumbnails of the test images at their points, and the decoded manifold
under the dots. Both follow the view's range (the picks each turn after a pan or zoom), the encodings, the
hidden classes and the model; ``layer_actions`` makes their checkable actions for the View menu and toolbar.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QKeySequence

from aeviewer.gui.views.latent.manifold import ManifoldItem
from aeviewer.gui.widgets.thumbnails import PointSource, ThumbnailItem
from aeviewer.gui.widgets.coalescing import CoalescingTimer

THUMBNAILS_KEYS = QKeySequence("Ctrl+I")
MANIFOLD_KEYS = QKeySequence("Ctrl+M")


class MapLayers(QObject):
    """The two layers of one LatentView (``view``: its ``session``, ``viewbox``, ``plot``, points and classes)."""

    def __init__(self, view: Any) -> None:
        super().__init__(view)
        self.view = view
        self.session = view.session
        self.thumbnails = ThumbnailItem(view.viewbox, self._source)
        self.manifold = ManifoldItem(view.viewbox, self._model_and_projection)
        for item in (self.thumbnails, self.manifold):
            item.hide()
            view.plot.addItem(item, ignoreBounds=True)
        self.manifold.decoder.failed.connect(self.session.message)
        # a pan or zoom re-picks once per event-loop turn, however many range signals it sent
        self._timer = CoalescingTimer(self, self.refresh)
        view.viewbox.sigRangeChanged.connect(self._request)
        view.viewbox.sigResized.connect(self._request)
        view.classToggled.connect(self._request)
        self.session.encodingsChanged.connect(self._on_encodings)
        self.session.modelChanged.connect(self._on_model)
        self.session.weightsUpdated.connect(self._on_model)

    def _request(self, *_: Any) -> None:
        self._timer.request()

    # -- public -----------------------------------------------------------------------------------------
    def set_thumbnails(self, on: bool) -> None:
        self.thumbnails.setVisible(on)
        self.thumbnails.refresh()

    def set_manifold(self, on: bool) -> None:
        self.manifold.setVisible(on)
        self.manifold.refresh()

    def refresh(self) -> None:
        """Pick the thumbnails and ask for the manifold's tiles of the current range now."""
        self._timer.stop()
        if self.thumbnails.isVisible():
            self.thumbnails.refresh()
        if self.manifold.isVisible():
            self.manifold.refresh()

    # -- sources ----------------------------------------------------------------------------------------
    def _source(self) -> PointSource | None:
        test_set = self.session.test_set
        coords = getattr(self.view, "_coords", None)
        if test_set is None or coords is None or len(coords) != len(test_set):
            return None
        labels = self.view._labels
        hidden_classes = [k for k in range(len(self.view.class_items())) if not self.view.is_class_visible(k)]
        hidden = np.isin(labels, hidden_classes) if hidden_classes else None
        return PointSource(coords, labels, test_set.images, hidden)

    def _model_and_projection(self) -> tuple[Any, Any]:
        return self.session.model, self.session.projection

    def _on_encodings(self) -> None:
        self.thumbnails.forget_images()
        self.manifold.forget()  # the projection may be new (another map, other dims)
        self._timer.request()

    def _on_model(self) -> None:
        self.manifold.forget()
        self._timer.request()


def layer_actions(parent: Any, layers: MapLayers) -> list[QAction]:
    """Checkable actions for the two layers (window-wide shortcuts Ctrl+I and Ctrl+M)."""
    out = []
    for text, keys, tip, slot, name in (
        ("Images on the map", THUMBNAILS_KEYS, "Show test images at their points, one per cell of the view, "
         "more as you zoom in (Ctrl+I)", layers.set_thumbnails, "thumbnailsAction"),
        ("Decoded manifold", MANIFOLD_KEYS, "Tile the view with what the decoder makes of each place, under "
         "the dots (Ctrl+M)", layers.set_manifold, "manifoldAction"),
    ):
        action = QAction(text, parent)
        action.setObjectName(name)
        action.setCheckable(True)
        action.setShortcut(keys)
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.setToolTip(tip)
        action.setStatusTip(tip)
        action.toggled.connect(slot)
        parent.addAction(action)
        out.append(action)
    return out
