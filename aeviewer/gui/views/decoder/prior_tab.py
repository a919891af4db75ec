"""The Prior tab's learned-prior work off the GUI thread: samples, "Watch it sample" and "Complete an image".

A learned prior over a VQ-VAE's code maps samples position by position (0.1-0.5 s a batch on the GUI thread, where
it used to run). Every request of the tab is a job of its own :class:`~aeviewer.gui.jobs.Jobs` under one key, so the
newest request wins (a new batch ends a fill-in that is still going) and nothing of an older one arrives; a failure is
one line in the tab's status. A Gaussian prior's sample (one ``randn``) stays on the GUI thread, in the canvas.

The tools row (:class:`PriorTools`) shows only for a model with a learned prior: Watch it sample
(:mod:`.prior_fill`) and Complete an image (:mod:`.prior_complete`), below the line or outside a region painted
in the codebook view (``Session.completionRequested``). Views keep no per-model state: what the tab
shows is dropped, and its job superseded, whenever the Session's model or prior changes.
"""
from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np
import torch
from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QApplication, QHBoxLayout, QLabel, QSpinBox, QWidget

from aeviewer.gui.jobs import Job, Jobs
from aeviewer.gui.state.session import CompletionRequest, Session
from aeviewer.gui.views.decoder.prior_complete import Completion, complete
from aeviewer.gui.views.decoder.prior_controls import LearnedPriorControls
from aeviewer.gui.views.decoder.prior_fill import (
    DEFAULT_RATE, FillDone, FillFrame, fill_in, grey_unfilled, sample_in_job,
)
from aeviewer.gui.views.decoder.tile_view import GAP, MIN_CELL, TileView
from aeviewer.gui.widgets.image_utils import make_button, make_spin
from aeviewer.models.priors import keep_rows_above, prior_of

PRIOR_TAB_KEY = "prior-tab"  # one lane: each request of the tab supersedes the one before
NEAREST = -1  # the image spin box's "nearest": the test image nearest the current point
LINE_EVENTS = (QEvent.Type.MouseButtonPress, QEvent.Type.MouseMove, QEvent.Type.MouseButtonRelease)


def draw_latents(model: Any, n: int, seed: int, options: dict[str, Any]) -> Callable[[Job], np.ndarray]:
    """The job that draws ``n`` latents from ``model``'s learned prior (seeded; ``options``: temperature, top_k,
    labels), stopping between positions when it is superseded."""

    def run(job: Job) -> np.ndarray:
        codes = sample_in_job(job, model.prior, n, generator=torch.Generator().manual_seed(seed), **options)
        with torch.inference_mode():
            return model.latents_of_codes(codes).cpu().numpy().astype(np.float32)

    return run


class PriorTools(QWidget):
    """The second row of the Prior tab: Watch it sample, Complete an image (which, above which row)."""

    def __init__(self, watch: Callable[[], Any], complete: Callable[[], Any], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("priorTools")
        self.fill_button = make_button(self, "Watch it sample", "priorWatch",
                                       "Fill the code maps in raster order, position by position, decoding the "
                                       f"partly filled maps as they go (grey: not drawn yet), {DEFAULT_RATE} positions a second",
                                       watch)
        self.complete_button = make_button(self, "Complete", "priorComplete",
                                           "Keep the test image's codes above the line and let the prior sample the "
                                           "rest: the original, what was kept, then the completions", complete)
        self.image_index: QSpinBox = make_spin(self, "priorImage", NEAREST, 0, NEAREST, "#",
                                               "The test image to complete: nearest (the test image nearest the "
                                               "current point: click one on the map), or its number")
        self.image_index.setSpecialValueText("nearest")
        self.keep_rows: QSpinBox = make_spin(self, "priorKeepRows", 0, 1, 1, "keep ",
                                             "The line: rows of codes kept from the image, counted from the top "
                                             "(or drag it on the original, once a completion is shown)")
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        # no pace box: the row must stay as narrow as the one above it, or the decoder dock widens at 1366x768
        for widget in (self.fill_button, self.complete_button, self.image_index, self.keep_rows):
            row.addWidget(widget)
        row.addStretch(1)

    def fit(self, grid: tuple[int, int], n_images: int) -> None:
        """Ranges for a prior over ``grid`` code maps and a test split of ``n_images`` (0: none to complete)."""
        if self.keep_rows.maximum() != grid[0]:  # another grid: the line goes half way down it
            self.keep_rows.setRange(0, grid[0])
            self.keep_rows.setSuffix(f"/{grid[0]} rows")
            self.keep_rows.setValue(grid[0] // 2)
        self.image_index.setRange(NEAREST, max(0, n_images - 1))
        for widget in (self.complete_button, self.image_index, self.keep_rows):
            widget.setEnabled(n_images > 0)


class PriorTab(QObject):
    """Runs the Prior tab's learned-prior requests as jobs and shows what they give in the tab's tiles.

    ``take_samples(latents, shown)`` hands the canvas the latents behind the tiles (a click makes one the current
    point); ``shown`` is False for a plain batch, which the canvas decodes and lays out itself. ``make_room(px)`` asks
    the canvas for that much height for the tiles before a fill-in or a completion (it is watched in them); ``nearest()`` is the
    test image nearest the current point (-1: none), which "Complete" takes unless a number is chosen."""

    def __init__(self, session: Session, tiles: TileView, status: QLabel, controls: LearnedPriorControls,
                 count: QSpinBox, take_samples: Callable[[np.ndarray, bool], None], make_room: Callable[[int], None],
                 nearest: Callable[[], int], parent: QWidget) -> None:
        super().__init__(parent)
        self.session, self.tiles, self.status, self.controls, self.count = session, tiles, status, controls, count
        self.take_samples, self.make_room, self.nearest = take_samples, make_room, nearest
        self.completed_index = -1  # the test image of the completion shown
        self.jobs = Jobs(self)
        self.tools = PriorTools(self.watch, self.complete, parent)
        self.shown: np.ndarray | None = None  # the fill-in's or the completions' images (None: a plain batch)
        self.fill_position = 0  # positions filled in the last frame shown
        self.last_fill: FillDone | None = None
        self.last_completion: Completion | None = None
        self._seed = 0
        self.fill_rate = DEFAULT_RATE  # positions a second the fill-in is paced to (``watch(rate=...)`` changes it)
        self._dragging = False  # the line over the original is being dragged (press on one of its two tiles)
        self.tools.setVisible(False)
        tiles.installEventFilter(self)

    # -- the model ------------------------------------------------------------------------------------------
    def set_model(self, model: Any) -> None:
        """Drop what the tab showed and any job in flight; the tools show for a learned prior only."""
        self.jobs.supersede(PRIOR_TAB_KEY)
        self.shown, self.last_fill, self.last_completion, self.fill_position = None, None, None, 0
        prior = prior_of(model)
        self.tools.setVisible(prior is not None)
        if prior is not None:
            test_set = self.session.test_set
            self.tools.fit(tuple(prior.config.grid), 0 if test_set is None else len(test_set))

    @property
    def busy(self) -> bool:
        return self.jobs.newest(PRIOR_TAB_KEY) is not None

    def wait(self, timeout: float | None = 30.0) -> None:
        """Block until the tab's job ends and show what it gave (tests, scripts)."""
        job = self.jobs.newest(PRIOR_TAB_KEY)
        if job is not None:
            self.jobs.wait(job, timeout)

    # -- requests ---------------------------------------------------------------------------------------------
    def sample(self, model: Any, n: int, seed: int) -> Job:
        """Draw ``n`` latents from the learned prior in a job; the canvas decodes and shows them when they arrive."""
        self.status.setText(f"Sampling {n} code maps…")
        return self._submit(draw_latents(model, n, seed, self.controls.options()), self._on_samples)

    def watch(self, rate: int | None = None) -> Job | None:
        """Watch it sample: fill as many code maps as the tiles show, position by position."""
        model = self.session.model
        if prior_of(model) is None:
            return None
        if rate is not None:
            self.fill_rate = rate
        self._make_room(self.count.value())
        n = max(1, min(self.count.value(), self._room()))
        self.fill_position, self.last_fill = 0, None
        self.status.setText("Filling the code maps in raster order…")
        return self._submit(fill_in(model, n, self._next_seed(), self.controls.options(), self.fill_rate),
                            self._on_filled, self._on_frame)

    def complete(self, index: int | None = None, rows: int | None = None) -> Job | None:
        """Complete test image ``index`` below ``rows`` rows of its codes (default: the spin boxes')."""
        model, test_set = self.session.model, self.session.test_set
        if prior_of(model) is None or test_set is None or len(test_set) == 0:
            return None
        if index is not None:
            self.tools.image_index.setValue(index)
        if rows is not None:
            self.tools.keep_rows.setValue(rows)
        index, rows = self.tools.image_index.value(), self.tools.keep_rows.value()
        if index == NEAREST:
            index = min(max(self.nearest(), 0), len(test_set) - 1)
        keep = keep_rows_above(tuple(model.prior.config.grid), rows)
        return self._complete(index, keep, None, rows, f"below row {rows}")

    def complete_region(self, request: CompletionRequest) -> Job | None:
        """Complete a test image outside a region of its code map painted in the codebook view (``request``: the
        image, the code map as shown there, and which of its codes to keep)."""
        model, test_set = self.session.model, self.session.test_set
        if prior_of(model) is None or test_set is None or not 0 <= request.index < len(test_set):
            return None
        grid = tuple(model.prior.config.grid)
        keep = torch.as_tensor(np.asarray(request.keep, bool))
        if tuple(keep.shape) != grid or tuple(np.shape(request.codes)) != grid:
            self.status.setText(f"The region is for a {tuple(keep.shape)} code map, the prior's is {grid}")
            return None
        self.tools.image_index.setValue(request.index)
        return self._complete(request.index, keep, torch.as_tensor(np.asarray(request.codes), dtype=torch.long), None,
                              f"outside the {int(keep.sum())} codes kept in the codebook view")

    def _complete(self, index: int, keep: torch.Tensor, given: torch.Tensor | None, rows: int | None,
                  what: str) -> Job:
        model, test_set = self.session.model, self.session.test_set
        self._make_room(self.count.value() + 2)
        self.completed_index = index
        n = max(1, min(self.count.value(), self._room() - 2))
        label = int(test_set.labels[index]) if len(test_set.class_names) else -1
        self.last_completion = None
        self.status.setText(f"Completing test image #{index} {what}…")
        return self._submit(complete(model, test_set.images[index], label, keep, n, self._next_seed(),
                                     self.controls.options(), given=given, rows=rows), self._on_completed)

    def relayout(self) -> bool:
        """The tiles have room for a different number of cells: lay out the fill-in's or the completions' images
        again (True), or leave the plain batch to the canvas (False)."""
        if self.shown is None:
            return False
        self._lay_out(self.shown)
        return True

    # -- what the jobs give -----------------------------------------------------------------------------------
    def _submit(self, fn: Callable[[Job], Any], on_result: Callable[[Any], None],
                on_progress: Callable[[Any], None] | None = None) -> Job:
        return self.jobs.submit(fn, key=PRIOR_TAB_KEY, on_result=on_result, on_progress=on_progress,
                                on_error=lambda line: self.status.setText(f"The prior failed: {line}"),
                                name="aeviewer-prior-tab")

    def _on_samples(self, latents: np.ndarray) -> None:
        self.shown = None
        self.take_samples(latents, False)

    def _on_frame(self, frame: FillFrame) -> None:
        self.fill_position = frame.filled
        self.shown = frame.images
        self._lay_out(frame.images)
        self.status.setText(f"Filled {frame.filled} of {frame.length} positions (raster order; grey: not drawn yet)")

    def _on_filled(self, done: FillDone) -> None:
        self.last_fill = done
        self.fill_position = done.codes[0].numel()
        self.shown = done.images
        self._lay_out(done.images)
        self.take_samples(done.latents, True)
        self.status.setText(f"Filled all {self.fill_position} positions of {len(done.images)} code maps: "
                            "click one to make it the current point")

    def _on_completed(self, done: Completion) -> None:
        self.last_completion = done
        self.shown = done.images
        self._lay_out(done.images)
        self.take_samples(done.latents, True)
        kept = (f"rows 1–{done.rows} of {done.given.shape[0]}" if done.rows is not None
                else f"{int(done.keep.sum())} of {done.keep.numel()} codes, painted in the codebook view")
        self.status.setText(f"Test image #{self.completed_index}, what was kept ({kept}; grey: for the prior), "
                            f"then {len(done.codes)} completions")

    # -- the line, dragged over the original (the first two tiles of a completion) -------------------------------
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """A press on the original or on what was kept starts moving the line (no tile is picked), a move with the
        button held moves it, the release completes again below it."""
        kind = event.type()
        if watched is not self.tiles or kind not in LINE_EVENTS or not self._showing_completion():
            return False
        if kind == QEvent.Type.MouseButtonPress:
            if event.button() != Qt.MouseButton.LeftButton or self.tiles.index_at(event.position().x(),
                                                                                  event.position().y()) not in (0, 1):
                return False
            self._dragging = True
        elif not self._dragging:
            return False
        self.move_line(event.position().y())
        if kind == QEvent.Type.MouseButtonRelease:
            self._dragging = False
            self.complete()
        return True

    def move_line(self, y: float) -> int:
        """Put the line at ``y`` px of the tiles (its nearest row boundary) and grey what it leaves to the prior;
        returns the rows kept."""
        done = self.last_completion
        rect = self.tiles.cell_rect(0)
        grid = tuple(done.given.shape)
        rows = int(round(min(max((y - rect.top()) / max(rect.height(), 1), 0.0), 1.0) * grid[0]))
        self.tools.keep_rows.setValue(rows)
        preview = np.array(self.tiles.images, copy=True)
        preview[1] = grey_unfilled(done.given_image[None], grid, rows * grid[1])[0]
        self.tiles.set_images(preview, self.tiles.cols)
        return rows

    def _showing_completion(self) -> bool:
        done = self.last_completion
        return done is not None and self.shown is done.images and self.tiles.images is not None

    # -- layout -----------------------------------------------------------------------------------------------
    def _make_room(self, n_images: int) -> None:
        """Ask the canvas for the height ``n_images`` need in rows of readable cells, as many across as fit now."""
        across = self.tiles.capacity(self._image_hw())[0]
        self.make_room(math.ceil(n_images / max(across, 1)) * (MIN_CELL + GAP))
        layout = self.tiles.parentWidget().layout()
        if layout is not None:
            layout.activate()  # the tiles take their new size now, so the count below fits it
        QApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)

    def _room(self) -> int:
        across, down = self.tiles.capacity(self._image_hw())
        return across * down

    def _lay_out(self, images: np.ndarray) -> None:
        across, down = self.tiles.capacity(tuple(images.shape[1:3]))
        shown = min(len(images), across * down)
        self.tiles.set_images(images[:shown], min(shown, across))

    def _image_hw(self) -> tuple[int, int]:
        model = self.session.model
        return tuple(model.config.image_shape[1:3]) if model is not None else (28, 28)

    def _next_seed(self) -> int:
        self._seed += 1
        return self._seed
