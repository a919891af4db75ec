"""The regulariser view is a dock of the main window: the KL chart for the pretrained 20-D VAE, the prior's
contours for the pretrained 2-D AAE, redrawn when a live weight snapshot arrives."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt

from aeviewer.gui.window.main_window import MainWindow
from aeviewer.gui.views.regulariser.regulariser_view import REFRESH_MS
from tests.shared_data import idx_files, require_data

TRAINED = Path(__file__).resolve().parents[3] / "trained"


@pytest.fixture
def window(qtbot):
    win = MainWindow(data_dir=require_data(*idx_files("mnist", "test")))
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    return win


def show_regulariser(window: MainWindow, qtbot) -> None:
    window.regulariser_dock.show()
    window.regulariser_dock.raise_()
    qtbot.waitUntil(window.regulariser_view.isVisible, timeout=2000)


def test_the_regulariser_is_a_bottom_dock_listed_in_the_view_menu(window) -> None:
    assert window.dockWidgetArea(window.regulariser_dock) == Qt.DockWidgetArea.BottomDockWidgetArea
    view_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&View")
    assert window.regulariser_dock.toggleViewAction() in view_menu.actions()
    assert window.regulariser_dock.widget().widget().view is window.regulariser_view


def test_a_vae_shows_its_kl_per_dimension_and_redraws_on_new_weights(window, qtbot) -> None:
    assert window.open_model(TRAINED / "vae-mnist-20d.safetensors")
    show_regulariser(window, qtbot)
    view = window.regulariser_view
    qtbot.waitUntil(lambda: view.stack.currentWidget() is view.kl_chart and view.kl_chart.report is not None,
                    timeout=10 * REFRESH_MS)
    before = np.array(view.kl_chart.bars.opts["height"])
    assert len(before) == 20
    snapshot = {k: v * 0.5 if k.startswith("encoder") else v.clone()
                for k, v in window.session.model.state_dict().items()}
    window.session.load_weights(snapshot)  # what a training run publishes (weightsUpdated)
    qtbot.waitUntil(lambda: not np.allclose(view.kl_chart.bars.opts["height"], before), timeout=10 * REFRESH_MS)


def test_an_aae_shows_its_codes_over_the_prior_contours(window, qtbot) -> None:
    assert window.open_model(TRAINED / "aae-mnist-2d.safetensors")
    show_regulariser(window, qtbot)
    view = window.regulariser_view
    qtbot.waitUntil(lambda: view.stack.currentWidget() is view.prior_view, timeout=10 * REFRESH_MS)
    assert sum(len(s.data) for s in view.prior_view.scatters) == len(window.session.test_set)


def test_the_dock_is_a_tab_for_a_vae_or_aae_and_hidden_for_an_ae(window, qtbot) -> None:
    assert window.open_model(TRAINED / "ae-digits.safetensors")
    assert window.regulariser_dock.isHidden()  # an AE has no regulariser picture
    assert window.open_model(TRAINED / "vae-digits.safetensors")
    assert not window.regulariser_dock.isHidden()
    assert window.regulariser_dock in window.tabifiedDockWidgets(window.denoise_dock)
    qtbot.wait(50)
    assert window.denoise_dock.geometry().intersects(window.rect())  # denoise stays the tab in front
    assert not window.regulariser_dock.geometry().intersects(window.rect())  # a tab behind is moved off


@pytest.fixture
def slot_exceptions(monkeypatch) -> list[BaseException]:
    """Exceptions raised in slots (Qt hands them to sys.excepthook, and the app goes on with a traceback on stderr)."""
    import sys

    raised: list[BaseException] = []
    monkeypatch.setattr(sys, "excepthook", lambda kind, value, tb: raised.append(value))
    return raised


def test_opening_a_second_aae_in_one_window_redraws_its_contours_without_an_exception(qtbot, slot_exceptions) -> None:
    """aae-digits, then aae-mnist-2d, as launched (background encoding): the view refreshed while the new model's
    10,000 test images were still encoding (no codes yet, 10,000 labels) and raised IndexError in a slot."""
    from aeviewer.gui.app import create_main_window

    window = create_main_window(TRAINED / "aae-digits.safetensors", data_dir=require_data(*idx_files("mnist", "test")),
                                background_encoding=True)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    qtbot.waitUntil(lambda: not window.session.encoding, timeout=30_000)
    show_regulariser(window, qtbot)
    view = window.regulariser_view
    qtbot.waitUntil(lambda: view.stack.currentWidget() is view.prior_view, timeout=10 * REFRESH_MS)
    assert window.open_model(TRAINED / "aae-mnist-2d.safetensors")
    qtbot.wait(3 * REFRESH_MS)  # the refresh the model change schedules, while the new encode may still run
    qtbot.waitUntil(lambda: not window.session.encoding, timeout=30_000)
    qtbot.waitUntil(lambda: sum(len(s.data) for s in view.prior_view.scatters) == len(window.session.test_set),
                    timeout=10 * REFRESH_MS)
    assert slot_exceptions == []
    assert view.stack.currentWidget() is view.prior_view
