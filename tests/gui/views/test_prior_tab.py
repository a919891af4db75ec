"""The Prior tab's learned-prior work as jobs: samples off the GUI thread, Watch it sample, Complete an image."""
from __future__ import annotations

import threading

import numpy as np
import pytest
import torch
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from aeviewer.gui.app import create_main_window
from aeviewer.gui.views.decoder.prior_fill import UNFILLED_GREY, grey_unfilled
from aeviewer.gui.views.decoder import prior_tab as prior_tab_module
from aeviewer.gui.views.decoder.prior_tab import NEAREST
from aeviewer.util.paths import shipped_dir


@pytest.fixture
def digits_window(qtbot, wait_encoded):
    """The shipped digits VQ-VAE (4x4 code maps, a class-conditional prior) with its Prior tab in front."""
    window = create_main_window(shipped_dir("trained") / "vqvae-digits.safetensors", background_encoding=True)
    qtbot.addWidget(window)
    window.resize(1400, 900)
    window.show()
    wait_encoded(window)
    canvas = window.decoder_canvas
    canvas.tabs.setCurrentWidget(canvas.sample_tiles.parentWidget())
    QApplication.processEvents()
    canvas.prior_tab.wait()  # the first batch, drawn when the model opened
    return window


def test_a_learned_prior_s_samples_are_drawn_in_a_job_and_arrive_in_the_tab(qtbot, digits_window, monkeypatch):
    canvas = digits_window.decoder_canvas
    threads = []
    real_sample = prior_tab_module.sample_in_job
    monkeypatch.setattr(prior_tab_module, "sample_in_job", lambda job, prior, n, **options: threads.append(
        threading.current_thread()) or real_sample(job, prior, n, **options))
    canvas.sample_tiles.clear()
    assert canvas.sample_prior(4) is None  # nothing drawn on the GUI thread: the batch is on its way
    qtbot.waitUntil(lambda: canvas.sample_tiles.images is not None, timeout=20_000)
    assert threads and threads[-1] is not threading.main_thread()
    assert canvas.sample_tiles.images.shape == (4, 8, 8) and "samples from the prior" in canvas.sample_status.text()


def test_the_prior_tab_says_a_failure_in_one_line(qtbot, digits_window, monkeypatch):
    canvas = digits_window.decoder_canvas
    monkeypatch.setattr(prior_tab_module, "sample_in_job", lambda *args, **kwargs: 1 / 0)
    canvas.sample_prior(4)
    qtbot.waitUntil(lambda: not canvas.prior_tab.busy, timeout=20_000)
    assert canvas.sample_status.text() == "The prior failed: ZeroDivisionError: division by zero"
    shown = canvas.sample_tiles.images.shape
    digits_window.resize(1000, 700)  # the panel's room changes: the old batch is laid out again...
    qtbot.waitUntil(lambda: canvas.sample_tiles.images.shape != shown, timeout=5000)
    assert canvas.sample_status.text() == "The prior failed: ZeroDivisionError: division by zero"  # ...the line stays


def test_watch_it_sample_fills_the_maps_to_the_last_position(qtbot, digits_window):
    canvas = digits_window.decoder_canvas
    tab = canvas.prior_tab
    assert tab.tools.isVisibleTo(canvas)
    frames = []
    shown = tab._on_frame
    tab._on_frame = lambda frame: frames.append(frame.filled) or shown(frame)
    tab.watch(rate=1000)
    qtbot.waitUntil(lambda: tab.last_fill is not None, timeout=20_000)
    assert frames == sorted(frames) and frames[-1] == 16  # 4x4 positions, in raster order, to the last
    assert tab.fill_position == 16 and "Filled all 16 positions" in canvas.sample_status.text()
    done = tab.last_fill
    np.testing.assert_allclose(canvas.sample_tiles.images, done.images[:len(canvas.sample_tiles.images)], atol=1e-6)
    assert canvas._samples is done.latents  # a click on a filled map makes it the current point


def test_unfilled_positions_are_grey_and_filled_ones_are_the_decoder_s():
    images = np.random.default_rng(0).random((2, 8, 8)).astype(np.float32)
    out = grey_unfilled(images, (4, 4), 6)  # 2x2 px per position; rows 0 and 1 of codes, up to column 1
    assert np.array_equal(out[:, :2], images[:, :2]) and np.array_equal(out[:, 2:4, :4], images[:, 2:4, :4])
    assert (out[:, 2:4, 4:] == UNFILLED_GREY).all() and (out[:, 4:] == UNFILLED_GREY).all()
    colour = grey_unfilled(np.zeros((1, 8, 8, 3), np.float32), (4, 4), 0)
    assert (colour == UNFILLED_GREY).all()


def completed(qtbot, window, index: int):
    """The tab's completion once it has arrived, and test image ``index``'s own code map."""
    tab, session = window.decoder_canvas.prior_tab, window.session
    qtbot.waitUntil(lambda: tab.last_completion is not None, timeout=20_000)
    with torch.inference_mode():
        own = session.model.encode_codes(session.test_set.float_batch(slice(index, index + 1)))[0]
    return tab.last_completion, own


def test_a_completion_keeps_the_codes_above_the_line_exactly(qtbot, digits_window):
    canvas, session = digits_window.decoder_canvas, digits_window.session
    canvas.prior_tab.complete(index=7, rows=2)
    done, own = completed(qtbot, digits_window, 7)
    assert torch.equal(done.given, own) and len(done.codes) >= 1
    assert torch.equal(done.codes[:, :2], own[:2].expand(len(done.codes), -1, -1))  # the rows above the line, exactly
    shown = canvas.sample_tiles.images
    np.testing.assert_allclose(shown[0], session.test_set.images[7, 0].numpy() / 255.0, atol=1e-6)  # the original first
    assert (shown[1, 4:] == UNFILLED_GREY).all()  # what the prior was given: the rows below the line are grey
    assert len(shown) == len(done.codes) + 2 and "completions" in canvas.sample_status.text()


def test_dragging_the_line_over_the_original_sets_the_rows_kept_and_completes_again(qtbot, digits_window):
    canvas, session = digits_window.decoder_canvas, digits_window.session
    tab = canvas.prior_tab
    tab.complete(index=3, rows=1)
    completed(qtbot, digits_window, 3)
    tiles = canvas.sample_tiles
    before = session.current_z.copy()
    rect = tiles.cell_rect(0)
    x = rect.center().x()
    QTest.mousePress(tiles, Qt.MouseButton.LeftButton, pos=QPoint(x, rect.top() + 2))
    QTest.mouseMove(tiles, QPoint(x, rect.top() + rect.height() // 2 + 1))  # half way down: 2 of the 4 rows
    assert tab.tools.keep_rows.value() == 2
    assert (tiles.images[1, 4:] == UNFILLED_GREY).all() and not (tiles.images[1, :4] == UNFILLED_GREY).all()
    QTest.mouseRelease(tiles, Qt.MouseButton.LeftButton, pos=QPoint(x, rect.top() + rect.height() * 3 // 4 + 1))
    assert tab.tools.keep_rows.value() == 3 and tab.last_completion is None  # let go: completed again, below row 3
    done, own = completed(qtbot, digits_window, 3)
    assert done.rows == 3 and torch.equal(done.codes[:, :3], own[:3].expand(len(done.codes), -1, -1))
    assert np.array_equal(session.current_z, before) and canvas._samples is done.latents  # the drag picked no tile


def test_complete_takes_the_test_image_nearest_the_current_point_unless_a_number_is_chosen(qtbot, digits_window):
    canvas, session = digits_window.decoder_canvas, digits_window.session
    tab = canvas.prior_tab
    assert tab.tools.image_index.value() == NEAREST and tab.tools.image_index.text() == "nearest"
    session.set_current_z(session.latents[5])
    session.flushRequested.emit()
    assert canvas.nearest_index == 5
    tab.complete(rows=2)
    done, own = completed(qtbot, digits_window, 5)
    assert tab.completed_index == 5 and torch.equal(done.given, own) and "#5" in canvas.sample_status.text()


def press_cell(view, region, row: int, col: int, kind, buttons):
    """A real mouse event on the centre of code-map cell (row, col) of the codebook view."""
    from PySide6.QtCore import QEvent, QPointF
    from PySide6.QtGui import QMouseEvent

    scene = region.item.mapToScene(QPointF(col + 0.5, row + 0.5))
    pos = QPointF(view.map_plots.mapFromScene(scene))
    button = Qt.MouseButton.LeftButton if kind != QEvent.Type.MouseMove else Qt.MouseButton.NoButton
    event = QMouseEvent(kind, pos, QPointF(view.map_plots.viewport().mapToGlobal(pos.toPoint())), button, buttons,
                        Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(view.map_plots.viewport(), event)


def test_a_region_painted_in_the_codebook_view_is_kept_exactly_and_the_prior_completes_the_rest(qtbot, digits_window):
    from PySide6.QtCore import QEvent

    window = digits_window
    view = window.codebook_view
    window.docks["codebook"].show()
    window.docks["codebook"].raise_()
    view.follow_check.setChecked(False)
    view.select_image(11)
    view.paint(3, 3, (int(view.edit_codes[3, 3]) + 1) % len(view.counts))  # an edited code is kept as shown
    region = view.keep_region
    assert not region.complete_button.isEnabled()  # nothing kept yet
    view.map_plots.setFocus()
    QTest.keyClick(view.map_plots, Qt.Key.Key_K)
    assert region.paint_button.isChecked()
    held = Qt.MouseButton.LeftButton
    press_cell(view, region, 0, 3, QEvent.Type.MouseButtonPress, held)
    for col in (2, 1, 0):  # a drag along the top row keeps every cell it crosses
        press_cell(view, region, 0, col, QEvent.Type.MouseMove, held)
    press_cell(view, region, 3, 3, QEvent.Type.MouseMove, held)
    press_cell(view, region, 3, 3, QEvent.Type.MouseButtonRelease, Qt.MouseButton.NoButton)
    keep = np.zeros((4, 4), bool)
    keep[0, :] = True
    keep[3, 3] = True
    assert np.array_equal(region.keep, keep) and view.selected_cell is None  # painting picked no cell
    assert (region.overlay.image[~keep][:, 3] > 0).all() and (region.overlay.image[keep][:, 3] == 0).all()
    codes = view.edit_codes.copy()
    region.complete_button.click()
    canvas = window.decoder_canvas
    assert canvas.tabs.currentWidget() is canvas.sample_tiles.parentWidget()
    done, _own = completed(qtbot, window, 11)
    assert done.rows is None and np.array_equal(done.keep.numpy(), keep)
    kept = torch.from_numpy(keep)
    assert torch.equal(done.codes[:, kept], torch.from_numpy(codes)[kept].expand(len(done.codes), -1))
    assert not torch.equal(done.codes[:, ~kept], torch.from_numpy(codes)[~kept].expand(len(done.codes), -1))
    shown = canvas.sample_tiles.images
    assert (shown[1, 2:6] == UNFILLED_GREY).all()  # code rows 1 and 2 (8x8 images, 2x2 px a code): for the prior
    assert not (shown[1, :2] == UNFILLED_GREY).all()  # code row 0: kept
    assert "5 of 16 codes" in canvas.sample_status.text()
    view.map_plots.setFocus()
    QTest.keyClick(view.map_plots, Qt.Key.Key_K)  # paint mode off: a press picks a cell again
    press_cell(view, region, 1, 1, QEvent.Type.MouseButtonPress, held)
    press_cell(view, region, 1, 1, QEvent.Type.MouseButtonRelease, Qt.MouseButton.NoButton)
    qtbot.waitUntil(lambda: view.selected_cell == (1, 1), timeout=2000)
    assert np.array_equal(region.keep, keep)


def test_a_painted_region_is_cleared_when_another_model_opens(qtbot, digits_window, wait_encoded):
    window = digits_window
    region = window.codebook_view.keep_region
    window.codebook_view.select_image(2)
    region.set_cell(0, 0, True)
    region.set_cell(1, 2, True)
    assert region.keep.sum() == 2 and region.clear_button.isEnabled()
    window.open_model(shipped_dir("trained") / "vqvae-digits.safetensors")  # another model, a map of the same grid
    wait_encoded(window)
    assert region.keep is not None and not region.keep.any()
    assert region.overlay.image is None and not region.complete_button.isEnabled()


class CountingJob:
    """What a job's function sees of its Job: ``check()``, here cancelled after ``limit`` checks."""

    def __init__(self, limit: int | None = None) -> None:
        self.checks, self.limit = 0, limit

    def check(self) -> None:
        from aeviewer.gui.jobs import Cancelled

        self.checks += 1
        if self.limit is not None and self.checks > self.limit:
            raise Cancelled("cancelled")


def test_a_sample_job_draws_what_model_sample_draws_and_a_superseded_one_stops_within_a_position():
    from aeviewer.gui.jobs import Cancelled
    from aeviewer.gui.views.decoder.prior_tab import draw_latents
    from aeviewer.training.checkpoint import load_checkpoint

    model = load_checkpoint(shipped_dir("trained") / "vqvae-digits.safetensors").model
    options = {"temperature": 0.9, "top_k": 20, "labels": 3}
    job = CountingJob()
    latents = draw_latents(model, 6, 5, options)(job)
    with torch.inference_mode():
        expected = model.sample(6, generator=torch.Generator().manual_seed(5), **options).numpy()
    np.testing.assert_array_equal(latents, expected)
    assert job.checks == model.prior.config.grid[0] * model.prior.config.grid[1]  # one look a position
    cancelled = CountingJob(limit=3)
    with pytest.raises(Cancelled):
        draw_latents(model, 6, 5, options)(cancelled)
    assert cancelled.checks == 4  # the fourth position's look ended it
