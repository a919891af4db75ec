"""TrainingWorker: runs the core Trainer in a QThread and reports through signals of plain data.

The worker trains its own deep copy of the model (made in the GUI thread, before the thread starts),
so the GUI's model never races with the optimizer. Pause and stop are ``threading.Event``s the GUI
sets directly; the Trainer checks them between batches.
"""
from __future__ import annotations

import copy
import dataclasses
import threading
import time
from pathlib import Path
from typing import Any

import torch
from PySide6.QtCore import QObject, QThread, Qt, Signal, Slot

from aeviewer.data.imageset import ImageSet
from aeviewer.errors import AeviewerError
from aeviewer.models.base import Autoencoder

PROGRESS_INTERVAL_S = 0.05  # at most 20 progress signals a second: the GUI repaints, it never floods


def _as_dict(info: Any) -> dict[str, Any]:
    """A StepInfo/EpochInfo as a plain dict (signals carry plain data only)."""
    if dataclasses.is_dataclass(info):
        return dataclasses.asdict(info)
    return dict(vars(info))


def cpu_state_dict(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """A CPU copy of the weights that the optimizer can no longer touch."""
    return {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}


def oom_message(err: BaseException, device: str) -> str:
    return f"out of memory on {device}: try a smaller batch size or another device ({str(err).splitlines()[0][:80]})"


class TrainingWorker(QObject):
    """Trains a copy of ``model`` on ``dataset``'s train split; lives in a QThread.

    Signals: ``progress(dict)`` (a StepInfo as a dict plus ``losses_fresh``, at most 20 a second), ``epochFinished(dict)`` (an EpochInfo as a dict), ``snapshot(dict)`` (CPU
    state_dict), ``notice(str)`` (a warning such as "CUDA asked for but absent"), ``failed(str)``
    (one line), and always last ``finished(dict)`` (status, message, epochs_done, history).
    """

    progress = Signal(dict)
    epochFinished = Signal(dict)
    snapshot = Signal(dict)
    notice = Signal(str)
    failed = Signal(str)
    finished = Signal(dict)

    def __init__(
        self,
        model: Autoencoder,
        dataset: str,
        train_config: Any,
        *,
        data_dir: str | Path | None = None,
        train_set: ImageSet | None = None,
        snapshot_interval_s: float = 1.0,
        num_threads: int | None = None,
    ) -> None:
        super().__init__()
        self.model = copy.deepcopy(model).to("cpu")  # the GUI keeps its own copy
        self.dataset = dataset
        self.train_config = train_config
        self.data_dir = data_dir
        self.train_set = train_set
        self.snapshot_interval_s = snapshot_interval_s
        self.num_threads = num_threads
        self.stop_event = threading.Event()
        self.pause_event = threading.Event()
        self._last_snapshot = 0.0
        self._last_progress = 0.0
        self._last_losses: dict[str, float] = {}
        self._trainer: Any = None

    # -- control from the GUI thread (thread-safe: only Events) ----------------------------------
    def pause(self) -> None:
        self.pause_event.set()

    def resume(self) -> None:
        self.pause_event.clear()

    def stop(self) -> None:
        self.stop_event.set()
        self.pause_event.clear()  # a paused trainer must wake up to see the stop

    @property
    def paused(self) -> bool:
        return self.pause_event.is_set()

    # -- the thread's body ----------------------------------------------------------------------------
    @Slot()
    def run(self) -> None:
        result: dict[str, Any] = {"status": "failed", "message": "", "epochs_done": 0, "history": []}
        device = str(getattr(self.train_config, "device", "cpu"))
        try:
            if self.num_threads:
                torch.set_num_threads(self.num_threads)
            result = self._train()
        except torch.OutOfMemoryError as err:
            result["message"] = oom_message(err, device)
        except AeviewerError as err:
            result["message"] = str(err)
        except Exception as err:  # noqa: BLE001 - any crash must end in a message, never a dead thread
            result["message"] = f"training failed: {type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}"
        if result["status"] == "failed":
            self.failed.emit(result["message"] or "training failed")
        self.finished.emit(result)

    def _train(self) -> dict[str, Any]:
        from aeviewer.data.sources import load_split
        from aeviewer.training.trainer import Trainer, resolve_device

        _, warning = resolve_device(str(self.train_config.device))
        if warning:
            self.notice.emit(warning)
        train_set = self.train_set if self.train_set is not None else load_split(self.dataset, "train", self.data_dir)
        self._last_snapshot = time.monotonic()
        self._trainer = Trainer(
            self.model, train_set, self.train_config,
            on_step=self._on_step, on_epoch=self._on_epoch,
            stop_event=self.stop_event, pause_event=self.pause_event,
        )
        outcome = self._trainer.run()
        # The Trainer restores the last good weights on failure, so this snapshot is always sane.
        self.snapshot.emit(cpu_state_dict(self._trainer.model))
        return {
            "status": outcome.status, "message": outcome.message,
            "epochs_done": outcome.epochs_done, "history": list(outcome.history),
        }

    def _on_step(self, info: Any) -> None:
        now = time.monotonic()
        if now - self._last_progress >= PROGRESS_INTERVAL_S or info.batch >= info.n_batches:
            data = _as_dict(info)
            # The Trainer refreshes its loss means every few batches; mark repeats so the plot skips them.
            data["losses_fresh"] = bool(data["losses"]) and data["losses"] != self._last_losses
            self._last_losses = dict(data["losses"])
            self._last_progress = now
            self.progress.emit(data)
        if now - self._last_snapshot >= self.snapshot_interval_s:
            self._emit_snapshot(now)

    def _on_epoch(self, info: Any) -> None:
        self.epochFinished.emit(_as_dict(info))
        # Long epochs end on a fresh snapshot; tiny ones still send at most one per interval
        # (the run's final weights always go out from _train).
        now = time.monotonic()
        if now - self._last_snapshot >= self.snapshot_interval_s:
            self._emit_snapshot(now)

    def _emit_snapshot(self, now: float) -> None:
        self._last_snapshot = now
        self.snapshot.emit(cpu_state_dict(self._trainer.model))


def start_worker_thread(worker: TrainingWorker, parent: QObject | None = None) -> QThread:
    """Move ``worker`` into a new QThread, run it, and let the thread quit when the worker finishes."""
    thread = QThread(parent)
    thread.setObjectName("trainingThread")
    worker.moveToThread(thread)
    thread.started.connect(worker.run)
    # Direct: QThread.quit is thread-safe, and a queued call would wait on a GUI thread that may be blocked in wait().
    worker.finished.connect(thread.quit, Qt.ConnectionType.DirectConnection)
    thread.start()
    return thread


def join_worker_thread(worker: TrainingWorker, thread: QThread, timeout_ms: int = 10_000) -> bool:
    """Stop the worker and wait for its thread; True when the thread has ended."""
    worker.stop()
    thread.quit()  # harmless while run() is busy; ends the event loop once it returns
    return thread.wait(timeout_ms)
