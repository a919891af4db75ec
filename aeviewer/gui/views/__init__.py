"""The views, one folder each, and VIEWS: the table the main window builds its docks, its View menu and its
File › Export entries from (as napari's ``layer_to_controls``).

Adding a view is one folder plus one row: a QWidget subclass built as ``cls(session)`` that draws itself from
the Session and writes to it (never to another view), and a ``ViewSpec`` here. The latent scatter is not a row:
it is the window's centre. Tools that live inside the views (the path tool, the bookmarks) use the latent view's
and the decoder canvas's extension points instead.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from aeviewer.gui.views.codebook.codebook_view import CodebookView
from aeviewer.gui.views.decoder.decoder_canvas import DecoderCanvas
from aeviewer.gui.views.denoise.denoise_view import DenoiseView
from aeviewer.gui.views.regulariser.regulariser_view import RegulariserView

RIGHT = Qt.DockWidgetArea.RightDockWidgetArea
BOTTOM = Qt.DockWidgetArea.BottomDockWidgetArea


@dataclass(frozen=True)
class ViewSpec:
    """One docked view.

    ``name``: the key of ``MainWindow.views`` / ``.docks``. ``dock``: the dock's object name, which the saved dock
    layout is keyed by (bump main_window.STATE_VERSION when a row's dock changes). ``area``: the dock area; the
    views of the bottom area are tabs of one group, the first in front. ``shown_when``: a capability predicate on
    the open model (None: always shown); a view whose model lacks it is hidden and its View-menu entry greyed.
    ``export_name``: its name for File › Export and ``export_image(view=...)`` (None: not exported).
    ``claims_room``: when shown, it comes in front of its tab group and gets a share of the window's height
    (the codebook's K codes need it); ``tip``: the View menu entry's tooltip.
    """

    name: str
    cls: Callable[[Any], QWidget]
    dock: str
    title: str
    area: Qt.DockWidgetArea
    shown_when: Callable[[Any], bool] | None = None
    export_name: str | None = None
    export_label: str = ""
    export_tip: str = ""
    claims_room: bool = False
    tip: str = ""

    def shown_for(self, model: Any) -> bool:
        """Whether this view has something to show for ``model`` (None: no model open)."""
        return self.shown_when is None or (model is not None and bool(self.shown_when(model)))


VIEWS: tuple[ViewSpec, ...] = (
    ViewSpec("decoder", DecoderCanvas, "decoderDock", "Decoder", RIGHT, export_name="decoder",
             export_label="Decoder view", export_tip="The decoder's tab as shown: the canvas, grid, interpolation or path"),
    ViewSpec("denoise", DenoiseView, "denoiseDock", "Denoise", BOTTOM, export_name="denoise",
             export_label="Denoise comparison",
             export_tip="The denoise view's clean, noisy and reconstructed images"),
    ViewSpec("codebook", CodebookView, "codebookDock", "Codebook", BOTTOM, shown_when=lambda m: m.has_codebook,
             export_name="codebook", export_label="Codebook", export_tip="The VQ-VAE's codebook view as shown",
             claims_room=True),
    ViewSpec("regulariser", RegulariserView, "regulariserDock", "Regulariser", BOTTOM,
             shown_when=lambda m: m.regulariser is not None,
             tip="What the regulariser did: a VAE's KL per latent dimension (active units marked), an AAE's codes "
                 "over the prior's contours"),
)
