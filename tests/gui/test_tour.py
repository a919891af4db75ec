"""The as-launched tour: every shipped model opened one after another in one window built as `aeviewer gui` builds
it (background encoding on), each view checked for real content once the encodings have arrived, with every
exception raised in a slot recorded."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
from PySide6.QtWidgets import QAbstractButton, QApplication, QLabel, QLineEdit, QWidget

from aeviewer.gui.dialogs import model_picker
from aeviewer.gui.app import create_main_window

NOT_LOADED = ("not loaded", "has not loaded yet")


def shipped_models() -> list[Path]:
    return [entry.path for entry in model_picker.load_index() if entry.exists]


@pytest.fixture
def slot_exceptions(monkeypatch) -> list[str]:
    """Every exception that reaches sys.excepthook (Qt slots and virtual methods) while the test runs."""
    seen: list[str] = []

    def record(kind, value, traceback) -> None:
        seen.append(f"{kind.__name__}: {value}")

    monkeypatch.setattr(sys, "excepthook", record)
    return seen


def visible_texts(window: QWidget) -> list[str]:
    """The text of every label, button and line edit a person can see in the window."""
    texts = []
    for kind in (QLabel, QAbstractButton, QLineEdit):
        for widget in window.findChildren(kind):
            if widget.isVisibleTo(window) and widget.text():
                texts.append(f"{widget.objectName() or type(widget).__name__}: {widget.text()}")
    return texts


def open_as_launched(window, path: Path, wait_encoded) -> None:
    assert window.open_model(path), window.errors
    wait_encoded(window, timeout_ms=120_000)
    QApplication.processEvents()


def check_views(window, name: str) -> None:
    session = window.session
    model = session.model
    assert session.test_set is not None and len(session.latents) == len(session.test_set), name
    stale = [text for text in visible_texts(window) if any(phrase in text for phrase in NOT_LOADED)]
    assert not stale, f"{name}: {stale}"
    if model.has_codebook:
        view = window.codebook_view
        assert view.usage().sum() == session.test_codes.size, name
        assert "in use" in view.stats_label.text(), name
    canvas = window.decoder_canvas
    canvas.tabs.setCurrentIndex(next(i for i in range(canvas.tabs.count()) if "prior" in canvas.tabs.tabText(i).lower()))
    QApplication.processEvents()
    canvas.prior_tab.wait()  # a learned prior's batch is drawn in a job
    images = canvas.sample_tiles.images
    has_images = images is not None and len(images) > 0
    assert has_images == bool(model.has_prior), f"{name}: prior images {has_images}, has_prior {model.has_prior}"
    screen = window.screen().availableGeometry()
    assert screen.contains(window.frameGeometry()) or window.width() <= screen.width(), name
    assert window.width() <= screen.width() and window.height() <= screen.height(), name


def test_every_shipped_model_shows_real_content_in_every_view_as_launched(qtbot, slot_exceptions, wait_encoded):
    models = shipped_models()
    assert len(models) >= 10, "trained/ lost its models"
    window = create_main_window(None, open_default=False)
    window.errors = []
    window.show_error = lambda title, text: window.errors.append(text)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    for path in models:
        open_as_launched(window, path, wait_encoded)
        check_views(window, path.name)
    assert not slot_exceptions
    assert not window.errors
