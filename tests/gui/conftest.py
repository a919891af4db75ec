"""Shared fixtures of the GUI tests: isolated QSettings, digits splits, a small trained checkpoint."""
from __future__ import annotations

import threading
from pathlib import Path

import pytest
import torch
from PySide6.QtCore import QSettings

from aeviewer.data.imageset import ImageSet


@pytest.fixture(autouse=True)
def _isolated_qsettings(tmp_path: Path) -> None:
    """Window geometry and recent files of one test never leak into another (or the real home)."""
    for fmt in (QSettings.Format.NativeFormat, QSettings.Format.IniFormat):
        QSettings.setPath(fmt, QSettings.Scope.UserScope, str(tmp_path / "qsettings"))


@pytest.fixture(scope="package", autouse=True)
def _collect_on_the_gui_thread(qapp):
    """Garbage is collected on the GUI thread only, as in the app (app.ensure_app, gui_thread_gc.py): an
    automatic collection on a training thread that frees an earlier test's widgets deadlocks with Qt."""
    from aeviewer.gui.startup.gui_thread_gc import collect_on_gui_thread

    collector = collect_on_gui_thread(qapp)
    yield collector
    collector.stop()  # the core tests that follow run with automatic collection, as the CLI does


@pytest.fixture(scope="session")
def digits_train() -> ImageSet:
    from aeviewer.data.loader import load_split

    return load_split("digits", "train")


@pytest.fixture(scope="session")
def digits_test() -> ImageSet:
    from aeviewer.data.loader import load_split

    return load_split("digits", "test")


def tiny_model(kind: str = "ae", seed: int = 0, **overrides: object) -> torch.nn.Module:
    """A small model for 8x8 digits (fast enough for tests on one core)."""
    from aeviewer.models import build_model, default_config

    if kind != "vqvae":
        overrides.setdefault("hidden", (32,))
    else:
        overrides.setdefault("codebook_size", 16)
        overrides.setdefault("code_dim", 4)
        overrides.setdefault("channels", (8,))
    torch.manual_seed(seed)
    return build_model(default_config(kind, image_shape=(1, 8, 8), **overrides))


@pytest.fixture
def make_tiny_model():
    return tiny_model


@pytest.fixture(scope="session")
def digits_checkpoint(tmp_path_factory: pytest.TempPathFactory, digits_train: ImageSet) -> Path:
    """A 2-D AE trained for two epochs on digits, saved with the real checkpoint code."""
    from aeviewer.training.checkpoint import save_checkpoint
    from aeviewer.training.trainer import TrainConfig, Trainer

    model = tiny_model("ae")
    result = Trainer(model, digits_train, TrainConfig(epochs=2, batch_size=64, device="cpu")).run()
    assert result.status == "finished"
    path = tmp_path_factory.mktemp("ckpt") / "ae-digits.safetensors"
    return save_checkpoint(path, model.cpu(), dataset="digits", history=result.history)


class SpyEvent(threading.Event):
    """An Event that counts how often it was found set (the trainer polls it while paused)."""

    def __init__(self) -> None:
        super().__init__()
        self.seen_set = 0

    def is_set(self) -> bool:
        value = super().is_set()
        self.seen_set += int(value)
        return value


@pytest.fixture
def spy_event() -> type[SpyEvent]:
    return SpyEvent


@pytest.fixture
def make_session_view(qtbot, digits_test: ImageSet):
    """``make(view_class, kind, **overrides)``: a Session holding a tiny ``kind`` model and one view of it."""
    from PySide6.QtWidgets import QApplication

    from aeviewer.gui.state.session import Session

    def make(view_class, kind: str = "ae", **overrides: object):
        session = Session()
        view = view_class(session)
        qtbot.addWidget(view)
        session.set_model(tiny_model(kind, **overrides), "digits", digits_test)
        QApplication.processEvents()
        return session, view

    return make


@pytest.fixture
def side_by_side(qtbot):
    """``make(model, test_set, left_class, right_class, size)``: two views of one Session in a shown
    window, as (host, session, left, right)."""
    from PySide6.QtWidgets import QHBoxLayout, QWidget

    from aeviewer.gui.state.session import Session

    def make(model, test_set: ImageSet, left_class, right_class, size: tuple[int, int]):
        session = Session()
        host = QWidget()
        qtbot.addWidget(host)
        layout = QHBoxLayout(host)
        left, right = left_class(session), right_class(session)
        layout.addWidget(left)
        layout.addWidget(right)
        host.resize(*size)
        session.set_model(model, "digits", test_set)
        host.show()
        qtbot.waitExposed(host)
        return host, session, left, right

    return make


@pytest.fixture
def wait_encoded(qtbot):
    """``wait_encoded(window_or_session)``: wait, as a person does, until the app's background encoding of the
    test split has arrived on the GUI thread (the window is built as `aeviewer gui` builds it)."""

    def wait(owner, timeout_ms: int = 60_000) -> None:
        session = getattr(owner, "session", owner)
        qtbot.waitUntil(lambda: not session.encoding, timeout=timeout_ms)

    return wait
