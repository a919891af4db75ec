"""LatentMaps: the latent view's UMAP / t-SNE maps: the map worker's runner, the parameter fields, the grey over
places far from every embedded point, and the note that a decode there is a guess.

The LatentView owns one and hands it what the maps need, and no more: the plot (the far shade goes on it, its
view box follows a forming layout), the row of projection controls (the parameter fields go in it), the chosen
projection kind, and a call that moves the drawing's star. The maps reach the view's state only through the
session (``show_map``).
"""
from __future__ import annotations

import importlib
import importlib.util
import threading
from typing import TYPE_CHECKING, Any, Callable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, QRectF
from PySide6.QtWidgets import QWidget

from aeviewer.gui.views.latent.map_runner import MapParams, MapRunner
from aeviewer.projections.maps import MapProjection
from aeviewer.projections.registry import KINDS, MAP_KINDS

if TYPE_CHECKING:
    from aeviewer.gui.state.session import Session

FAR_SHADE = (90, 90, 90, 45)  # RGBA over places far from every embedded point of a map (the decode is a guess)
FAR_MASK_CELLS = (128, 128)
GUESS_NOTE = "far from every embedded point: the decode here is a guess"


class LatentMaps(QObject):
    """The maps of one LatentView: ``params`` (the fields, shown for a map kind), ``far_shade`` (on the plot),
    ``runner`` (made on the first map: it owns a child process), ``current`` (the MapProjection formed or shown)."""

    def __init__(self, session: "Session", plot: pg.PlotWidget, controls: QWidget, chosen_kind: Callable[[], Any],
                 move_drawn_star: Callable[[float, float], None], parent: QObject | None = None) -> None:
        """``chosen_kind``: the projection kind chosen now; ``move_drawn_star(x, y)``: the drawing's code lies at
        (x, y) on the map (the view moves its star there if it still shows one)."""
        super().__init__(parent)
        self.session = session
        self.viewbox = plot.getViewBox()
        self.chosen_kind = chosen_kind
        self.move_drawn_star = move_drawn_star
        self.runner: MapRunner | None = None
        self.current: Any = None
        self._params: dict[str, Any] = {}
        self.far_shade = pg.ImageItem(axisOrder="row-major")
        self.far_shade.setZValue(-10)
        self.far_shade.hide()
        plot.addItem(self.far_shade, ignoreBounds=True)
        self.params = MapParams(controls)
        self.params.hide()
        self.params.runRequested.connect(self.start)
        self.params.cancelRequested.connect(self.cancel)

    # -- what the view asks ------------------------------------------------------------------------------
    def forget(self) -> None:
        """Drop the map (a new model, or a projection that is not a map): cancel a forming one."""
        if self.runner is not None and self.runner.busy:
            self.runner.cancel()
        self.current = None
        self.far_shade.hide()

    def choose(self, kind: str, chosen: bool) -> None:
        """``kind`` (a map kind) was chosen; ``chosen``: by a person in the list (always recompute)."""
        if chosen or self.current is None or self.current.kind != kind:
            self.start()

    def show_params(self, kind: str) -> None:
        is_map = kind in MAP_KINDS
        if is_map and self.params.kind != kind:
            self.params.set_kind(kind)
        self.params.setVisible(is_map)

    def place_drawn(self, z: np.ndarray) -> None:
        """On a map, ask its own transform where the drawing's code ``z`` (1, L) goes (the star follows)."""
        if self.session.projection is self.current and self.current is not None and self.runner is not None:
            self.runner.place(z)

    def say_if_guess(self, x: float, y: float) -> None:
        """On a map, say in the status whether the picked place is far from the data (its decode a guess)."""
        projection = self.session.projection
        if projection is None or not hasattr(projection, "locate"):
            return
        far = bool(projection.locate(np.array([[x, y]], np.float32)).far[0])
        self.params.status.setText(GUESS_NOTE if far else "")
        if far:
            self.session.message.emit(GUESS_NOTE)

    def map_runner(self) -> MapRunner:
        if self.runner is None:
            self.runner = MapRunner(self)
            self.runner.layout.connect(self._on_layout)
            self.runner.progress.connect(self._on_progress)
            self.runner.failed.connect(self._on_failed)
            self.runner.placed.connect(self._on_drawn_placed)
        return self.runner

    def warm(self) -> None:
        """Start the map worker as the projection list opens: the imports and numba's compiling (tens of
        seconds) then overlap the choosing, and later maps find the process warm."""
        if not any(importlib.util.find_spec(KINDS[k].module) for k in MAP_KINDS):
            return
        runner = self.map_runner()
        if runner.worker.pid is None:
            runner.worker.warm_up()

    def start(self) -> None:
        kind = self.chosen_kind()
        latents = self.session.latents
        if kind not in MAP_KINDS or latents is None or len(latents) < 3:
            return
        self.current = None
        self._params = self.params.params()
        self.far_shade.hide()
        # scipy.spatial (the inverse's trees) took up to 1.7 s to import on a loaded machine: off the GUI thread
        threading.Thread(target=importlib.import_module, args=("scipy.spatial",), daemon=True).start()
        self.params.status.setText(f"{KINDS[kind].label}: starting")
        if self.map_runner().start(kind, latents, self._params):
            self.params.set_running(self.runner.busy)

    def cancel(self) -> None:
        if self.runner is not None:
            self.runner.cancel()
        self.params.set_running(False)

    # -- the runner's answers ------------------------------------------------------------------------------
    def _on_progress(self, stage: str, fraction: float) -> None:
        label = KINDS.get(self.params.kind).label if self.params.kind in KINDS else "Map"
        self.params.set_running(bool(self.runner and self.runner.busy))
        self.params.status.setText(f"{label}: {stage}" if stage in ("done", "cached", "cancelled")
                                   else f"{label}: {stage} {fraction:.0%}")

    def _on_failed(self, message: str) -> None:
        self.params.set_running(False)
        self.params.status.setText(message)
        self.session.message.emit(message)

    def _on_layout(self, coords: np.ndarray, final: bool) -> None:
        latents = self.session.latents
        if latents is None or len(coords) != len(latents):
            return  # a layout of codes that are no longer the session's
        first = self.current is None
        self.current = (MapProjection(self.runner.kind, latents, coords, self._params) if first
                        else self.current.with_coords(coords))
        viewbox = self.viewbox
        if first or not final:
            viewbox.enableAutoRange()
        self.session.show_map(self.current)
        if final:
            viewbox.autoRange()
            self._shade_far_places()
            # the triangulation for clicks (about a second at 60,000 points, loaded): built before the first click
            inverse = self.current.inverse
            inverse.triangulate_on_demand = False
            threading.Thread(target=inverse.prepare, daemon=True).start()

    def _shade_far_places(self) -> None:
        """Grey over the places of the final map that are far from every embedded point."""
        coords = self.current.coords
        lo, hi = coords.min(0), coords.max(0)
        pad = (hi - lo) * 0.5 + 1e-6  # a margin of half the map around it (panning past that shows white)
        (x0, y0), (x1, y1) = lo - pad, hi + pad
        mask = self.current.far_mask((float(x0), float(x1)), (float(y0), float(y1)), FAR_MASK_CELLS)
        rgba = np.zeros((*mask.shape, 4), np.uint8)
        rgba[mask] = FAR_SHADE
        # row 0 of the image is the bottom in the view; fixed levels (auto levels would stretch the grey to white)
        self.far_shade.setImage(np.ascontiguousarray(rgba[::-1]), autoLevels=False, levels=(0, 255))
        self.far_shade.setRect(QRectF(float(x0), float(y0), float(x1 - x0), float(y1 - y0)))
        self.far_shade.show()

    def _on_drawn_placed(self, coords: np.ndarray) -> None:
        if len(coords):
            self.move_drawn_star(float(coords[0, 0]), float(coords[0, 1]))
