"""DecoderCanvas: the decoded image of the current latent point, and tools that walk the latent space.

Frames are coalesced: ``currentPointChanged`` only stores the newest z and arms a zero-delay
single-shot timer, so a fast drag renders the latest point once per event-loop turn and never
builds a backlog of stale decodes. A click (``Session.flushRequested``) renders at once instead, so
its image is in the window's next repaint; the latent view moves its crosshair a turn later, so that
repaint is not held up by the plot's.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
import torch
from PySide6.QtCore import QEvent, QObject, QSignalBlocker, Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QApplication, QComboBox, QGridLayout, QHBoxLayout, QLabel, QScrollArea, QSlider, QSplitter, QTabWidget, QVBoxLayout, QWidget,
)

from aeviewer.gui.widgets.coalescing import CoalescingTimer
from aeviewer.explore import latent_space
from aeviewer.gui.state.session import Session
from aeviewer.gui.widgets.image_utils import image_panel, image_view, make_button, make_spin, show_image, tile, to_qpixmap, wrapped_label
from aeviewer.gui.views.decoder.prior_controls import LearnedPriorControls
from aeviewer.gui.views.decoder.prior_tab import PriorTab
from aeviewer.gui.views.decoder.tile_view import TileView, status_label, tiles_panel
from aeviewer.spec.vocabulary import KIND_SHORT_LABELS

MAX_SLIDERS = 16  # sliders beyond this many dimensions would be noise to a person
SLIDER_STEPS = 1000
COORD_LINES = 4  # the 2-D position and the first values of z, wrapped in a ~200 px side panel
NEAREST_FULL_LIMIT = 4_000_000  # N·L above which the nearest example is searched in 2-D (keeps drags smooth)


class DecoderCanvas(QWidget):
    """Shows ``session.decode(current_z)``, the nearest test example, and latent-space walks."""

    frameRendered = Signal(object)  # the decoded image just put on the canvas

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("decoderCanvas")
        self.session = session
        self.render_count = 0
        self.point_a: np.ndarray | None = None
        self.point_b: np.ndarray | None = None
        self._pending: np.ndarray | None = None
        self._shown_z: np.ndarray | None = None
        self._sliders: list[QSlider] = []
        self._slider_ranges = np.zeros((0, 2), np.float32)
        self._sliders_behind: np.ndarray | None = None  # the point hidden sliders have yet to show

        self._frame_timer = CoalescingTimer(self, self.render_now, 0)
        self._refit = CoalescingTimer(self, self._refit_tiles, 0)

        self.plots = pg.GraphicsLayoutWidget()
        self.plots.setBackground("w")
        self.plots.setObjectName("decoderPlots")
        self.view, self.image_item = image_view(self.plots.ci)
        # Plain, non-selectable text: a selectable or rich-text label repaints the canvas's side panel
        # a second time per frame (its text control re-lays out after the first paint). The full
        # vector is copied from the label's context menu instead.
        # Room for the lines it wraps to in a narrow dock, or the nearest example below is drawn over it.
        self.coords_label = wrapped_label("No model loaded", self, lines=COORD_LINES)
        self.coords_label.setObjectName("decoderCoords")
        self.coords_label.setTextFormat(Qt.TextFormat.PlainText)
        copy_z = QAction("Copy latent vector", self.coords_label)
        copy_z.triggered.connect(self.copy_current_z)
        self.coords_label.addAction(copy_z)
        self.coords_label.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        self.coords_label.setToolTip("Right-click to copy the full latent vector")
        self.nearest_image = QLabel(self)
        self.nearest_image.setObjectName("nearestExampleImage")
        self.nearest_image.setFixedSize(96, 96)
        self.nearest_image.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.nearest_image.setStyleSheet("QLabel { background: #ebebeb; }")
        self.nearest_caption = wrapped_label("", self, lines=2)
        self.nearest_caption.setTextFormat(Qt.TextFormat.PlainText)
        self.nearest_index: int = -1

        side = QVBoxLayout()
        side.addWidget(QLabel("<b>Latent point</b>", self))
        side.addWidget(self.coords_label)
        side.addSpacing(8)
        side.addWidget(QLabel("<b>Nearest test example</b>", self))
        nearest = QHBoxLayout()  # the caption beside the picture: the tools below get the height it took
        nearest.addWidget(self.nearest_image, 0, Qt.AlignmentFlag.AlignTop)
        nearest.addWidget(self.nearest_caption, 1, Qt.AlignmentFlag.AlignTop)
        side.addLayout(nearest)
        side.addStretch(1)
        top = QHBoxLayout()
        top.addWidget(self.plots, 3)
        top.addLayout(side, 2)

        self.tabs = QTabWidget(self)
        self.tabs.setObjectName("decoderTools")
        self.tabs.addTab(self._build_slider_tab(), "Sliders")
        self.tabs.addTab(self._build_interpolation_tab(), "Interpolate")
        # short titles: with Path and Bookmarks, six tabs share a ~450 px dock without scroll arrows
        self.tabs.addTab(self._build_grid_tab(), "Grid")
        self.tabs.setTabToolTip(2, "Traversal grid: the decoder's pictures over the region the map shows")
        self.tabs.addTab(self._build_prior_tab(), "Prior")
        self.tabs.setTabToolTip(3, "Samples from the model's prior (VAE, AAE, a VQ-VAE with a learned prior)")

        top_widget = QWidget(self)
        top_widget.setLayout(top)
        self.splitter = QSplitter(Qt.Orientation.Vertical, self)
        self.splitter.addWidget(top_widget)
        self.splitter.addWidget(self.tabs)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 1)  # the grid and the strips need as much room as the canvas
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.splitter)

        self.tabs.currentChanged.connect(self._on_tab_shown)
        session.modelChanged.connect(self._on_model_changed)
        session.encodingsChanged.connect(self._on_encodings_changed)
        session.currentPointChanged.connect(self.request_frame)
        session.flushRequested.connect(self.flush_frame)
        session.weightsUpdated.connect(self._on_weights_updated)
        session.priorChanged.connect(lambda: self._show_prior_tab(session.model))
        session.completionRequested.connect(self._complete_region)
        self._on_model_changed()
        if session.current_z is not None:
            self.request_frame(session.current_z)

    # -- the canvas ------------------------------------------------------------------------------------
    def request_frame(self, z: Any) -> None:
        """Remember the newest point and render it on the next event-loop turn (older ones are dropped)."""
        self._pending = np.asarray(z, np.float32).reshape(-1).copy()
        self._frame_timer.request()

    def flush_frame(self) -> None:
        """Render the pending point now (someone is waiting on it) instead of on the next turn."""
        if self._pending is not None:
            self.render_now()

    def render_now(self) -> None:
        """Decode the newest pending point onto the canvas (the ImageItem is updated, not re-created)."""
        self._frame_timer.stop()
        z, self._pending = self._pending, None
        if z is None or self.session.model is None:
            return
        image = np.asarray(self.session.decode(z))
        show_image(self.view, self.image_item, image)
        self._shown_z = z
        self.render_count += 1
        self._show_coordinates(z)
        self._show_nearest(z)
        self._sync_sliders(z)
        self.frameRendered.emit(image)

    # -- extension points: tools beside the decoder's own tabs (the path tool, the bookmarks) ------------------
    def add_tab(self, page: QWidget, title: str, tip: str = "") -> int:
        """``page`` as a tab after the decoder's own; returns its index."""
        index = self.tabs.addTab(page, title)
        if tip:
            self.tabs.setTabToolTip(index, tip)
        return index

    def set_tab_title(self, page: QWidget, title: str) -> None:
        self.tabs.setTabText(self.tabs.indexOf(page), title)

    def show_tab(self, page: QWidget) -> None:
        self.tabs.setCurrentWidget(page)

    def current_image(self) -> np.ndarray | None:
        """What the canvas shows now (as given to the ImageItem)."""
        return None if self.image_item.image is None else np.array(self.image_item.image)

    def shown_z(self) -> np.ndarray | None:
        return None if self._shown_z is None else self._shown_z.copy()

    def _show_coordinates(self, z: np.ndarray) -> None:
        projection = self.session.projection
        text = ""
        if projection is not None:
            p = np.asarray(projection.to_2d(z.reshape(1, -1)))[0]
            a, b = projection.axis_labels
            text = f"{a} = {p[0]:+.3f}, {b} = {p[1]:+.3f}\n"
        shown = ", ".join(f"{v:+.2f}" for v in z[:8])
        more = f", … ({len(z)} dims)" if len(z) > 8 else ""
        self.coords_label.setText(f"{text}z = [{shown}{more}]")

    def copy_current_z(self) -> str:
        """Put the shown latent vector on the clipboard, comma-separated; returns the text."""
        z = self._shown_z if self._shown_z is not None else self.session.current_z
        text = "" if z is None else ", ".join(f"{float(v):.6g}" for v in np.asarray(z).reshape(-1))
        QApplication.clipboard().setText(text)
        return text

    def _show_nearest(self, z: np.ndarray) -> None:
        latents = self.session.latents
        test_set = self.session.test_set
        if latents is None or test_set is None or len(latents) == 0:
            self.nearest_index = -1
            self.nearest_image.clear()
            self.nearest_caption.setText("")
            return
        if latents.size <= NEAREST_FULL_LIMIT:
            index = int(latent_space.nearest_examples(latents, z, k=1)[0])
        else:  # a VQ-VAE grid is thousands of dims: the 2-D view is what the user is pointing at
            p = np.asarray(self.session.projection.to_2d(z.reshape(1, -1)))[0]
            index = int(latent_space.nearest_examples(self.session.coords, p, k=1)[0])
        if index != self.nearest_index:
            self.nearest_index = index
            self.nearest_image.setPixmap(to_qpixmap(test_set.images[index], 92))
        names = self.session.class_names
        label = int(test_set.labels[index])
        distance = float(np.linalg.norm(latents[index] - z))
        self.nearest_caption.setText(
            f"#{index}: {names[label] if label < len(names) else label}\ndistance {distance:.3f}"
        )

    # -- sliders ---------------------------------------------------------------------------------------
    def _build_slider_tab(self) -> QWidget:
        self.slider_area = QScrollArea(self)
        self.slider_area.setObjectName("latentSliders")
        self.slider_area.setWidgetResizable(True)
        self._slider_host = QWidget()
        self._slider_grid = QGridLayout(self._slider_host)
        self._slider_grid.setContentsMargins(4, 4, 4, 4)
        self.slider_area.setWidget(self._slider_host)
        self.slider_area.installEventFilter(self)  # catch up when the hidden sliders show again
        return self.slider_area

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.slider_area and event.type() == QEvent.Type.Show:
            self._catch_up_sliders()
        return False

    def sliders(self) -> list[QSlider]:
        self._catch_up_sliders()
        return list(self._sliders)

    def _rebuild_sliders(self) -> None:
        while self._slider_grid.count():
            # takeAt hands the item to Python: itemAt would leave a stale wrapper that PySide can hand
            # back for a later object at the same address (seen as crashes in the soak test).
            widget = self._slider_grid.takeAt(0).widget()
            if widget is not None:
                widget.hide()  # gone from view now: deleteLater waits for the event loop (a script's never comes)
                widget.deleteLater()
        self._sliders = []
        self._sliders_behind = None  # a point of the old model
        self._slider_values: list[QLabel] = []
        model = self.session.model
        if model is None:
            return
        n = min(MAX_SLIDERS, int(model.latent_size))
        for d in range(n):
            slider = QSlider(Qt.Orientation.Horizontal)
            slider.setObjectName(f"latentSlider{d}")
            slider.setRange(0, SLIDER_STEPS)
            slider.setToolTip(f"Latent dimension z{d}; tied to the crosshair")
            slider.valueChanged.connect(lambda value, d=d: self._on_slider(d, value))
            value_label = QLabel("")
            value_label.setMinimumWidth(52)
            value_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self._slider_grid.addWidget(QLabel(f"z{d}"), d, 0)
            self._slider_grid.addWidget(slider, d, 1)
            self._slider_grid.addWidget(value_label, d, 2)
            self._sliders.append(slider)
            self._slider_values.append(value_label)
        if model.latent_size > n:
            note = QLabel(f"showing the first {n} of {model.latent_size} dimensions")
            self._slider_grid.addWidget(note, n, 0, 1, 3)
        for row in range(self._slider_grid.rowCount()):
            self._slider_grid.setRowStretch(row, 0)
        self._slider_grid.setRowStretch(n + 1, 1)  # sliders packed at the top
        self._update_slider_ranges()

    def _update_slider_ranges(self) -> None:
        """Each slider spans its dimension's test-set range, widened a little (a prior's ±3 if no data)."""
        n = len(self._sliders)
        latents = self.session.latents
        if latents is not None and len(latents):
            lo = np.percentile(latents[:, :n], 0.5, axis=0)
            hi = np.percentile(latents[:, :n], 99.5, axis=0)
            pad = 0.15 * np.maximum(hi - lo, 1e-3)
            self._slider_ranges = np.stack([lo - pad, hi + pad], 1).astype(np.float32)
        else:
            self._slider_ranges = np.tile(np.array([[-3.0, 3.0]], np.float32), (n, 1))

    def slider_value(self, d: int) -> float:
        self._catch_up_sliders()
        lo, hi = self._slider_ranges[d]
        return float(lo + (hi - lo) * self._sliders[d].value() / SLIDER_STEPS)

    def _on_slider(self, d: int, value: int) -> None:
        z = self._pending if self._pending is not None else self.session.current_z
        if z is None:
            return
        z = np.array(z, np.float32)
        lo, hi = self._slider_ranges[d]
        z[d] = lo + (hi - lo) * value / SLIDER_STEPS
        self.session.set_current_z(z)

    def _sync_sliders(self, z: np.ndarray) -> None:
        """Move the sliders to z without emitting (no feedback into set_current_z). Hidden sliders
        (another tool's tab, a closed dock) wait until they show: nothing to repaint per frame."""
        if self.slider_area.isVisible():
            self._set_sliders(z)
        else:
            self._sliders_behind = z

    def _catch_up_sliders(self) -> None:
        if self._sliders_behind is not None:
            self._set_sliders(self._sliders_behind)

    def _set_sliders(self, z: np.ndarray) -> None:
        self._sliders_behind = None
        for d, slider in enumerate(self._sliders):
            lo, hi = self._slider_ranges[d]
            value = int(np.clip(round((float(z[d]) - lo) / max(hi - lo, 1e-9) * SLIDER_STEPS), 0, SLIDER_STEPS))
            if slider.value() != value:  # an unchanged slider is not repainted
                with QSignalBlocker(slider):
                    slider.setValue(value)
            self._slider_values[d].setText(f"{float(z[d]):+.2f}")  # QLabel skips an unchanged text

    # -- interpolation ----------------------------------------------------------------------------------
    def _build_interpolation_tab(self) -> QWidget:
        self.interp_mode = QComboBox(self)
        self.interp_mode.setObjectName("interpMode")
        self.interp_mode.setToolTip("Linear: straight from A to B. Spherical: along the great circle, keeping the norm "
                                    "(Gaussian-prior models put little mass near the straight line's middle)")
        self.interp_mode.addItem("linear", "lerp")
        self.interp_mode.addItem("spherical", "slerp")
        self.interp_mode.activated.connect(lambda _: self._refresh_interpolation())
        self.interp_steps = make_spin(self, "interpSteps", 3, 24, 10, "steps: ", "Images from A to B, both ends included")
        self.interp_steps.valueChanged.connect(lambda _: self._refresh_interpolation())
        self.interp_status = QLabel("Pick a point, Set A; pick another, Set B", self)
        self.set_a_button = make_button(self, "Set A", "interpSetA", "Use the current latent point as the start",
                                        lambda: self._set_end("a"))
        self.set_b_button = make_button(self, "Set B", "interpSetB", "Use the current latent point as the end",
                                        lambda: self._set_end("b"))
        go = make_button(self, "Interpolate", "interpGo", "Decode the path from A to B", self.show_interpolation)
        controls = [self.set_a_button, self.set_b_button, self.interp_mode, self.interp_steps, go]
        tab, self.strip_view, self.strip_item = image_panel(self, controls, self.interp_status)
        return tab

    def _set_end(self, which: str) -> None:
        z = self.session.current_z
        if z is None:
            return
        if which == "a":
            self.point_a = np.array(z, np.float32)
        else:
            self.point_b = np.array(z, np.float32)
        self._refresh_interpolation()

    def _refresh_interpolation(self) -> None:
        ready = self.point_a is not None and self.point_b is not None
        self.interp_status.setText(
            f"A {'set' if self.point_a is not None else 'not set'} · B {'set' if self.point_b is not None else 'not set'}"
        )
        if ready and self.strip_item.image is not None:
            self.show_interpolation()

    def show_interpolation(self) -> np.ndarray | None:
        """Decode A→B in ``steps`` frames (lerp or slerp) as one strip; returns the frames."""
        if self.point_a is None or self.point_b is None or self.session.model is None:
            return None
        path = latent_space.interpolate(self.point_a, self.point_b, self.interp_steps.value(), mode=self.interp_mode.currentData())
        frames = np.asarray(self.session.decode(np.asarray(path, np.float32)))
        show_image(self.strip_view, self.strip_item, tile(frames, ncols=len(frames), pad=2))
        self.interp_status.setText(f"{len(frames)} frames, {self.interp_mode.currentText()} from A to B")
        return frames

    # -- traversal grid ---------------------------------------------------------------------------------
    def _build_grid_tab(self) -> QWidget:
        self.grid_n = make_spin(self, "gridSize", 2, 30, 12, "N = ",
                                "Grid points per side (N×N decoded images); the panel shows as many as it has room "
                                "for at a readable size, the PNG export all of them")
        self.grid_status = status_label(self)
        go = make_button(self, "Decode grid over visible region", "gridGo",
                         "Decode an N×N grid over the region the latent view shows (VAE paper, fig. 4)",
                         self.show_traversal_grid)
        self.grid_tiles = TileView("traversalGrid", self)
        self.grid_tiles.capacityChanged.connect(self._refit.request)
        self._grid_region: tuple[tuple[float, float], tuple[float, float]] | None = None  # of the grid shown
        self.grid_page = tiles_panel(self, [self.grid_n, go], self.grid_status, self.grid_tiles)
        return self.grid_page

    def _on_tab_shown(self, index: int) -> None:
        """The grid tab opened with no grid (a new model): decode it over the map's region at once."""
        if self.tabs.widget(index) is self.grid_page and self.grid_tiles.images is None:
            self.show_traversal_grid()

    def _visible_region(self) -> tuple[tuple[float, float], tuple[float, float]] | None:
        """The latent view's visible region (the session keeps it), else the data's central 98%."""
        if self.session.visible_region is not None:
            return self.session.visible_region
        coords = self.session.coords
        if coords is None or len(coords) == 0:
            return None
        lo, hi = np.percentile(coords, 1, axis=0), np.percentile(coords, 99, axis=0)
        return (float(lo[0]), float(hi[0])), (float(lo[1]), float(hi[1]))

    def show_traversal_grid(self, xrange: tuple[float, float] | None = None,
                            yrange: tuple[float, float] | None = None, n: int | None = None) -> np.ndarray | None:
        """Decode a grid of 2-D points (mapped to full latents) over the region and show it: n×n, or as many
        columns and rows of that as the panel has room for at a readable size. Returns the grid shown, tiled."""
        projection = self.session.projection
        if projection is None or self.session.model is None:
            return None
        if xrange is None or yrange is None:
            region = self._visible_region()
            if region is None:
                return None
            xrange, yrange = region
        if n is not None:
            self.grid_n.setValue(n)
        n = self.grid_n.value()
        across, down = self.grid_tiles.capacity(self._image_hw())
        cols, rows = min(n, across), min(n, down)
        z = np.asarray(latent_space.grid_points(projection, xrange, yrange, cols, rows), np.float32)
        images = np.asarray(self.session.decode(z))  # row-major, top row first: the plot's up is the picture's up
        self.grid_tiles.set_images(images, cols)
        self._grid_region = (tuple(xrange), tuple(yrange))
        shown = f"{cols}×{rows}" if (cols, rows) == (n, n) else f"{cols}×{rows} of {n}×{n} (a larger panel shows more)"
        self.grid_status.setText(f"{shown} over x {xrange[0]:.2f}…{xrange[1]:.2f}, y {yrange[0]:.2f}…{yrange[1]:.2f}")
        return self.grid_tiles.image

    # -- prior samples ------------------------------------------------------------------------------------
    def _build_prior_tab(self) -> QWidget:
        self.sample_seed = 0
        self._samples: np.ndarray | None = None  # the latents drawn for the samples shown (a click picks one)
        self._samples_batch, self._samples_text = 0, ""  # their batch number, and the status line they last set
        self.sample_count = make_spin(self, "sampleCount", 1, 100, 16, "n = ", "How many latents to draw and decode")
        self.sample_status = status_label(self)
        self.sample_button = make_button(self, "Sample again", "samplePrior",
                                         "Draw new latents from the model's prior (VAE, AAE) and decode them",
                                         self.sample_prior)
        self.sample_tiles = TileView("priorSamples", self)
        self.sample_tiles.setToolTip("Click a sample to make it the current point")
        self.sample_tiles.tileClicked.connect(self.pick_sample)
        self.sample_tiles.capacityChanged.connect(self._refit.request)
        self.prior_controls = LearnedPriorControls(self)  # a learned prior's temperature, top-k, class (issue 31)
        self.prior_controls.changed.connect(lambda: self.sample_prior())
        panel = tiles_panel(self, [self.sample_button, self.sample_count, self.prior_controls], self.sample_status,
                            self.sample_tiles)
        # a learned prior's sampling, fill-in and completions run as jobs; their tools are a second row
        self.prior_tab = PriorTab(self.session, self.sample_tiles, self.sample_status, self.prior_controls,
                                  self.sample_count, self._take_samples, self._make_room_for_tiles,
                                  lambda: self.nearest_index, panel)
        panel.layout().insertWidget(1, self.prior_tab.tools)
        return panel

    def _complete_region(self, request: Any) -> None:
        """A region painted in the codebook view: the Prior tab comes to the front and completes the rest."""
        self.show_tab(self.sample_tiles.parentWidget())
        self.prior_tab.complete_region(request)

    def sample_prior(self, n: int | None = None) -> np.ndarray | None:
        """Draw n latents from the prior (each call a new batch, reproducibly) and show as many of them as the
        panel has room for; the current point stays where it is (a click on a sample moves it). Returns them; a learned
        prior's arrive later, from the Prior tab's job (None here)."""
        model = self.session.model
        if model is None or not model.has_prior:
            return None
        if n is not None:
            self.sample_count.setValue(n)
        seed, self.sample_seed = self.sample_seed, self.sample_seed + 1
        if self.prior_controls.active:  # a learned prior draws position by position (0.1-0.5 s): a job
            self.prior_tab.sample(model, self.sample_count.value(), seed)
            return None
        with torch.inference_mode():
            z = model.sample(self.sample_count.value(), generator=torch.Generator().manual_seed(seed)
                             ).cpu().numpy().astype(np.float32)
        self._take_samples(z)
        return z

    def _make_room_for_tiles(self, tiles_height: int) -> None:
        """The fill-in and the completions are watched in the tiles: the tools get ``tiles_height`` px for them, or all
        of the decoder's height where the canvas cannot shrink that far (a short screen); the splitter gives it back."""
        top, bottom = self.splitter.sizes()
        want = min(top + bottom, bottom + tiles_height - self.sample_tiles.height())
        if want <= bottom:
            return
        self.splitter.setSizes([top + bottom - want, want])
        if self.splitter.sizes()[1] < want:  # the canvas's side panel would not let go: fold the canvas away
            self.splitter.setSizes([0, top + bottom])

    def _take_samples(self, z: np.ndarray, shown: bool = False) -> None:
        """The latents behind the tiles (a click picks one); ``shown``: the prior tab has laid them out already."""
        self._samples, self._samples_batch = z, self.sample_seed
        if not shown:
            self._show_samples(announce=True)

    def _show_samples(self, announce: bool = False) -> None:
        """Lay the samples out for the panel's room; ``announce``: a new batch, whose line replaces any status. A
        relayout of the same batch keeps a newer line (a failed request's) instead of its own."""
        z = self._samples
        if z is None or self.prior_tab.relayout():
            return
        across, down = self.sample_tiles.capacity(self._image_hw())
        shown = min(len(z), across * down)
        self.sample_tiles.set_images(self.session.decode(z[:shown]), min(shown, across))
        of = f"{shown} of {len(z)}" if shown < len(z) else f"{len(z)}"
        more = " (a larger panel shows more)" if shown < len(z) else ""
        text = f"{of} samples from the prior (batch {self._samples_batch}){more}: click one to make it the current point"
        if announce or self.sample_status.text() == self._samples_text:
            self.sample_status.setText(text)
        self._samples_text = text

    def pick_sample(self, index: int) -> None:
        """Make prior sample ``index`` (of those shown) the current point."""
        if self._samples is None or self.sample_tiles.images is None or index >= len(self.sample_tiles.images):
            return
        self.session.set_current_z(self._samples[index])
        self.session.flushRequested.emit()
        self.session.message.emit(f"Prior sample {index + 1} is the current point")

    def _image_hw(self) -> tuple[int, int]:
        model = self.session.model
        return tuple(model.config.image_shape[1:3]) if model is not None else (28, 28)

    def _refit_tiles(self) -> None:
        """The panel has room for a different number of cells: the grid and the samples shown are laid out
        again for it (the same region, the same batch)."""
        if self.grid_tiles.images is not None and self._grid_region is not None:
            self.show_traversal_grid(*self._grid_region)
        if self.sample_tiles.images is not None:
            self._show_samples()

    # -- session slots -------------------------------------------------------------------------------------
    def _on_model_changed(self) -> None:
        """Everything the tools showed belonged to the old model: cleared, or drawn again from the new one."""
        model = self.session.model
        self.point_a = self.point_b = None
        self.nearest_index = -1
        self._rebuild_sliders()
        self.strip_item.clear()
        self._refresh_interpolation()
        self._grid_region = None
        self.grid_tiles.clear()
        self.grid_status.setText("Press Decode grid for the decoder's pictures over the region the map shows"
                                 if model is not None else "")
        self._show_prior_tab(model)
        if model is None:
            self.coords_label.setText("No model loaded")

    def _show_prior_tab(self, model: Any) -> None:
        """A model with a prior shows a first batch of samples; one without says so and offers nothing to press."""
        has_prior = model is not None and model.has_prior
        self.sample_seed, self._samples = 0, None
        self.sample_tiles.clear()
        for widget in (self.sample_button, self.sample_count, self.sample_tiles):
            widget.setVisible(has_prior)
        self.prior_controls.set_model(model, self.session.class_names)
        self.prior_tab.set_model(model)
        self.sample_button.setEnabled(has_prior)
        if has_prior:
            self.sample_prior()
        elif model is not None:
            kind = KIND_SHORT_LABELS.get(model.config.kind, "model")  # a foreign model is "model"
            how = ("train one over its code maps with 'aeviewer train-prior'" if model.has_codebook
                   else "the VAE and the AAE have one")
            self.sample_status.setText(f"This {kind} has no prior to sample from: {how}")
        else:
            self.sample_status.setText("")

    def _on_encodings_changed(self) -> None:
        self._update_slider_ranges()
        if self._shown_z is not None and self._pending is None:
            self.request_frame(self._shown_z)  # coordinates and nearest example depend on the encodings

    def _on_weights_updated(self) -> None:
        z = self._pending if self._pending is not None else self.session.current_z
        if z is not None:
            self.request_frame(z)
        self._refit.request()  # the grid and the samples, decoded by the new weights
