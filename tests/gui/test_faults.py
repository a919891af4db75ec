"""Faults met in the GUI: each ends in a clear message, leaves the user's files as they were, and the
window usable (the next run or the next file works)."""
from __future__ import annotations

import errno
import json
import os
import pickle
import shutil
import threading
from pathlib import Path

import numpy as np
import pytest
import torch
from PySide6.QtCore import QThread
from safetensors import safe_open
from safetensors.torch import save_file

import aeviewer.gui.app as app_module
from aeviewer.training.autosave import autosave_dir, list_autosaves
from aeviewer.gui.window.main_window import MainWindow
from aeviewer.models.ae import AE
from aeviewer.training.checkpoint import load_checkpoint
from tests.gui.test_app import choose, make_window
from tests.cli.test_cli_errors import rewrite

DIGITS_BATCHES = -(-1437 // 64)  # batches per epoch of the digits training split at batch size 64


@pytest.fixture(autouse=True)
def _no_pretrained_default(monkeypatch):
    monkeypatch.setattr(app_module, "default_model_path", lambda *a, **k: None)


@pytest.fixture
def window(qtbot) -> MainWindow:
    window = make_window(qtbot)
    window.warm_up.join()
    panel = window.training_panel
    panel.batch_size.setValue(64)
    choose(panel.dataset, "digits")
    yield window
    panel.shutdown()


def weights_finite(state: dict[str, torch.Tensor]) -> bool:
    return all(bool(torch.isfinite(t).all()) for t in state.values() if t.is_floating_point())


def same_weights(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    other = b.state_dict()
    return all(torch.equal(v, other[k]) for k, v in a.state_dict().items())


def train_to_end(qtbot, window: MainWindow, timeout: int = 30_000) -> dict:
    panel = window.training_panel
    with qtbot.waitSignal(panel.trainingFinished, timeout=timeout) as blocker:
        assert panel.start()
    return blocker.args[0]


def still_usable(qtbot, window: MainWindow) -> None:
    """A fresh one-epoch run finishes and the scatter and decoder respond to a click."""
    panel = window.training_panel
    panel.continue_box.setChecked(False)
    panel.epochs.setValue(1)
    assert train_to_end(qtbot, window)["status"] == "finished"
    assert panel.error_text() == ""
    seen = []
    window.session.currentPointChanged.connect(seen.append)
    window.session.set_current_point_2d(0.5, -0.5)
    assert seen and window.session.decode(seen[-1]).shape == (8, 8)


class NanInEpochTwo(AE):
    """An AE whose reconstruction term turns NaN at batch 5 of epoch 2 (as a diverging run would)."""

    bad_step = DIGITS_BATCHES + 5

    def __init__(self, config) -> None:
        super().__init__(config)
        self.steps = 0

    def loss(self, x, x_input, labels=None):
        terms = super().loss(x, x_input, labels)
        self.steps += 1
        if self.steps >= self.bad_step:
            terms = {k: v * float("nan") if k == "recon" else v for k, v in terms.items()}
            terms["total"] = terms["recon"]
        return terms


def test_nan_mid_epoch_names_the_term_and_keeps_the_last_good_weights(qtbot, window, make_tiny_model, digits_test):
    panel = window.training_panel
    window.session.set_model(NanInEpochTwo(make_tiny_model("ae").config), "digits", digits_test)
    panel.continue_box.setChecked(True)
    panel.epochs.setValue(3)
    autosaved = []  # the autosave's bytes as the panel announced it
    panel.message.connect(lambda text: text.startswith("autosaved") and autosaved.append(panel.last_autosave.read_bytes()))

    result = train_to_end(qtbot, window)

    assert result["status"] == "failed" and result["epochs_done"] == 1
    error = panel.error_text()
    assert "'recon'" in error and "nan" in error and "epoch 2, batch 5" in error and "\n" not in error
    assert panel.error_label.isVisibleTo(panel) and "last good weights" in panel.progress_label.text()
    # The session shows the restored weights: finite, and the trainer's own.
    assert weights_finite(window.session.model.state_dict())
    assert same_weights(window.session.model, panel.worker._trainer.model)
    assert np.isfinite(window.session.latents).all()
    # The epoch-1 autosave is on disk as it was written, and loads.
    assert len(autosaved) == 1 and panel.last_autosave.read_bytes() == autosaved[0]
    saved = load_checkpoint(panel.last_autosave)
    assert saved.extra["epoch"] == 1 and weights_finite(saved.model.state_dict())
    still_usable(qtbot, window)


def test_a_stop_during_the_first_batch(qtbot, window, digits_checkpoint, tmp_path, monkeypatch):
    mine = tmp_path / "mine.safetensors"
    shutil.copy(digits_checkpoint, mine)
    original = mine.read_bytes()
    assert window.open_model(mine)
    panel = window.training_panel
    panel.continue_box.setChecked(True)
    panel.epochs.setValue(5)

    entered, release = threading.Event(), threading.Event()
    real_loss = AE.loss

    def first_batch_waits(self, x, x_input, labels=None):
        if threading.current_thread() is not threading.main_thread() and not entered.is_set():
            entered.set()
            release.wait(10)
        return real_loss(self, x, x_input, labels)

    monkeypatch.setattr(AE, "loss", first_batch_waits)
    with qtbot.waitSignal(panel.trainingFinished, timeout=20_000) as blocker:
        assert panel.start()
        qtbot.waitUntil(entered.is_set, timeout=10_000)
        window.stop_action.trigger()  # Esc, while batch 1 is being computed
        release.set()
    result = blocker.args[0]
    assert result["status"] == "stopped" and result["epochs_done"] == 0 and panel.error_text() == ""
    assert "Stopped after 0 complete epochs" in panel.progress_label.text()
    assert mine.read_bytes() == original  # the open model's file is untouched
    assert list_autosaves() == []  # no epoch was completed, so nothing was autosaved
    assert weights_finite(window.session.model.state_dict()) and window.session.model_path == mine
    assert same_weights(window.session.model, panel.worker._trainer.model)
    still_usable(qtbot, window)


def test_closing_mid_epoch_asks_joins_the_thread_and_keeps_the_autosave(qtbot, window):
    # The window's own background work (the test split's encoding) may still run now and end at any time:
    # what must not outlive the close is a thread the run started.
    before = set(threading.enumerate())
    panel = window.training_panel
    panel.epochs.setValue(1000)
    assert panel.start()
    qtbot.waitUntil(lambda: panel.last_autosave is not None, timeout=20_000)
    asked = []
    window.confirm_close_during_training = lambda: asked.append(1) or True
    thread = panel.thread
    window.close()
    assert asked == [1] and not window.isVisible()
    assert thread.isFinished() and not panel.is_running()
    assert [t.name for t in threading.enumerate() if t not in before] == []
    assert not [t for t in window.findChildren(QThread) if t.isRunning()]
    saved = load_checkpoint(panel.last_autosave)
    assert saved.extra["epoch"] >= 1 and len(saved.history) == saved.extra["epoch"]
    assert [p.name for p in autosave_dir().iterdir()] == [panel.last_autosave.name]  # no temp file left


def test_autosave_into_an_unwritable_folder_reports_it_and_training_goes_on(qtbot, window, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("mine")
    panel = window.training_panel
    panel.autosave_dir = blocker / "autosave"  # a folder below a file: unwritable even for root
    panel.epochs.setValue(2)
    result = train_to_end(qtbot, window)
    assert result["status"] == "finished" and result["epochs_done"] == 2
    error = panel.error_text()
    assert error.startswith("Autosave of epoch") and "cannot write" in error and "\n" not in error
    assert panel.last_autosave is None and blocker.read_text() == "mine"
    panel.autosave_dir = None
    still_usable(qtbot, window)
    assert panel.last_autosave is not None and panel.last_autosave.is_file()


def test_a_full_disk_keeps_the_previous_autosave(qtbot, window, monkeypatch):
    panel = window.training_panel
    panel.epochs.setValue(3)
    real_replace = os.replace  # noqa: TID251 (the fake full disk wraps the real rename)
    calls = []

    def full_after_one(src, dst, *args, **kwargs):
        calls.append(dst)
        if len(calls) > 1:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_replace(src, dst, *args, **kwargs)

    monkeypatch.setattr("aeviewer.util.atomic.os.replace", full_after_one)
    result = train_to_end(qtbot, window)
    monkeypatch.setattr("aeviewer.util.atomic.os.replace", real_replace)
    assert result["status"] == "finished" and len(calls) == 3
    assert "No space left" in panel.error_text() and "unchanged" in panel.error_text()
    saved = load_checkpoint(panel.last_autosave)
    assert saved.extra["epoch"] == 1  # epochs 2 and 3 could not be written; epoch 1 is whole
    assert [p.name for p in autosave_dir().iterdir()] == [panel.last_autosave.name]


def test_the_panel_names_each_autosave(qtbot, window):
    panel = window.training_panel
    panel.epochs.setValue(2)
    messages = []
    panel.message.connect(messages.append)
    assert train_to_end(qtbot, window)["status"] == "finished"
    path = panel.last_autosave
    assert path.parent == autosave_dir() and path.name.startswith("ae-digits-")
    assert f"autosaved epoch 2 → {path}" in panel.info_text()
    assert [m for m in messages if m.startswith("autosaved")] == [f"autosaved epoch {e} → {path}" for e in (1, 2)]
    assert load_checkpoint(path).extra["epoch"] == 2


@pytest.mark.parametrize("how", ["parent is a file", "full disk"])
def test_saving_the_model_where_it_cannot_be_written(window, digits_checkpoint, tmp_path, monkeypatch, how):
    folder = tmp_path / "models"
    folder.mkdir()
    mine = folder / "mine.safetensors"
    shutil.copy(digits_checkpoint, mine)
    original = mine.read_bytes()
    assert window.open_model(mine)
    if how == "parent is a file":
        target = mine / "copy.safetensors"
    else:
        target = mine

        def full(*args, **kwargs):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

        monkeypatch.setattr("aeviewer.util.atomic.os.replace", full)
    assert window.save_model_to(target) is None
    assert len(window.errors) == 1 and "\n" not in window.errors[0] and "cannot write" in window.errors[0]
    assert mine.read_bytes() == original and window.session.model_path == mine
    assert sorted(p.name for p in folder.iterdir()) == ["mine.safetensors"]  # no temp file left
    monkeypatch.undo()
    assert window.save_model_to(folder / "elsewhere") == folder / "elsewhere.safetensors"


def test_cuda_asked_for_without_cuda_trains_on_the_cpu_with_a_message(qtbot, window):
    if torch.cuda.is_available():
        pytest.skip("CUDA is present here: there is no fallback to see")
    panel = window.training_panel
    panel.device.addItem("cuda (as a saved setting may ask)", "cuda")
    choose(panel.device, "cuda")
    panel.epochs.setValue(2)
    with qtbot.waitSignal(panel.trainingFinished, timeout=30_000) as blocker:
        assert panel.start()
        assert panel.train_device == "cpu" and "Device: cpu (training)" in window.device_label.text()
    assert blocker.args[0]["status"] == "finished" and panel.error_text() == ""
    # The notice stays in the panel above the epoch lines for the whole run.
    assert panel.info_text().splitlines()[0] == "cuda was asked for but CUDA is not available; using the CPU"
    assert "Epoch 2/2" in panel.info_text()


# -- opening bad files -----------------------------------------------------------------------------
def _bad_file(kind: str, good: Path, folder: Path) -> Path:
    path = folder / f"{kind}.safetensors"
    data = good.read_bytes()
    if kind == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif kind == "bit-flipped header":
        flipped = bytearray(data)
        flipped[20] ^= 0x40
        path.write_bytes(bytes(flipped))
    elif kind == "pickle":
        path.write_bytes(pickle.dumps({"state_dict": [1, 2, 3]}))
    elif kind == "directory":
        path.mkdir()
    elif kind == "foreign":
        save_file({"w": torch.zeros(2)}, str(path), {"format": "pt"})
    elif kind == "newer":
        rewrite(good, path, format_version="99")
    elif kind == "shape mismatch":
        with safe_open(str(good), framework="pt") as f:
            config = json.loads(f.metadata()["config"])
        config["latent_dim"] = 5
        rewrite(good, path, config=json.dumps(config))
    elif kind == "config not json":
        rewrite(good, path, config="{kind: ae")
    return path


@pytest.mark.parametrize("kind", ["truncated", "bit-flipped header", "pickle", "directory", "foreign", "newer",
                                  "shape mismatch", "config not json", "missing"])
def test_opening_a_bad_file_shows_its_line_and_keeps_the_model(qtbot, window, digits_checkpoint, tmp_path, kind):
    assert window.open_model(digits_checkpoint)
    model, coords = window.session.model, window.session.coords.copy()
    bad = _bad_file(kind, digits_checkpoint, tmp_path)
    assert not window.open_model(bad)
    assert len(window.errors) == 1, window.errors
    line = window.errors[0]
    assert "\n" not in line and bad.name in line and "Traceback" not in line
    assert window.session.model is model and window.session.model_path == digits_checkpoint
    assert np.array_equal(window.session.coords, coords)
    assert f"Could not open {bad.name}" in window.action_label.text()
    window.session.set_current_point_2d(0.0, 0.0)  # the window still works
    assert window.session.decode(window.session.current_z).shape == (8, 8)


def test_opening_a_file_while_training_runs_is_refused_with_a_message(qtbot, window, digits_checkpoint):
    panel = window.training_panel
    panel.epochs.setValue(1000)
    assert panel.start()
    model = window.session.model
    assert not window.open_model(digits_checkpoint)
    assert window.errors and "Stop training" in window.errors[0]
    assert window.session.model is model
    with qtbot.waitSignal(panel.trainingFinished, timeout=10_000):
        window.stop_action.trigger()
    assert window.open_model(digits_checkpoint)


def test_stop_then_start_at_once_leaves_the_new_run_alone(qtbot, window):
    """Esc then Space before the old run's last signal is handled: that signal must not end the new run."""
    panel = window.training_panel
    panel.epochs.setValue(1000)
    assert panel.start()
    qtbot.waitUntil(lambda: "Epoch" in panel.progress_label.text(), timeout=10_000)
    old_thread = panel.thread
    panel.stop()
    assert old_thread.wait(10_000)  # ended; its finished() is still queued for the GUI thread
    assert panel.start()
    new_thread = panel.thread
    qtbot.wait(300)  # the old finished() arrives now
    assert panel.is_running() and panel.thread is new_thread and not panel.start_button.isEnabled()
    assert len(panel.run._unfinished) == 1  # the old worker is let go once its last signal is in
    with qtbot.waitSignal(panel.trainingFinished, timeout=10_000) as blocker:
        window.stop_action.trigger()
    assert blocker.args[0]["status"] == "stopped" and not panel.is_running()
    assert panel.run._unfinished == [] and new_thread.isFinished()
