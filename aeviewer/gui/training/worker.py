"""TrainingWorker: runs the core Trainer in a QThread and reports through signals of plain data.

The worker trains its own deep copy of the model (made in the GUI thread, before the thread starts),
so the GUI's model never races with the optimizer. Pause and stop are ``threading.Event``s the GUI
sets directly; the Trainer checks them between batches.
"""
from __future__ import annotations

import copy
import dataclasses
import os
import threading
import time
from pathlib import Path
from typing import Any, Callable

import torch
from PySide6.QtCore import QObject, QThread, Qt, QTimer, Signal, Slot

from aeviewer.training.autosave import AutoSaver
from aeviewer.data.imageset import ImageSet
from aeviewer.data.loader import load_split
from aeviewer.errors import AeviewerError
from aeviewer.gui.widgets.coalescing import CoalescingTimer
from aeviewer.models.base import Autoencoder, cpu_state_dict
from aeviewer.training.trainer import Trainer, resolve_device

# torch's thread count is per thread (OpenMP): training gets what the process started with, even
# after the GUI thread lowered its own (see app.ensure_app).
DEFAULT_TRAIN_THREADS = torch.get_num_threads()
SNAPSHOT_ENCODE_FACTOR = 20.0  # weight snapshots go out at least this many redraw (encode) times apart...
SNAPSHOT_MIN_INTERVAL_S = 2.0  # ...and at least this far apart: an MNIST epoch still gets about three
# (an epoch's last weights wait for the minimum only: the views show each epoch, even one shorter than 20 encodes)
VIEWS_BUSY_RETRY_MS = 50  # how soon a snapshot held for a re-encode in flight asks again
YIELD_IDLE_TURNS = 3  # event-loop turns the trainer waits for after a snapshot (the views' deferred redraws)
MAX_YIELD_S = 0.25  # the longest the trainer waits for a GUI redraw (a safety net, not a rhythm)
PROGRESS_INTERVAL_S = 0.1  # at most 10 progress signals a second: each one costs the GUI a repaint


def _as_dict(info: Any) -> dict[str, Any]:
    """A StepInfo/EpochInfo as a plain dict (signals carry plain data only)."""
    if dataclasses.is_dataclass(info):
        return dataclasses.asdict(info)
    return dict(vars(info))


def lower_thread_priority(niceness: int = 10) -> None:
    """Let the GUI thread win the CPU whenever it wants it (Linux nices threads one by one).

    The GUI hands the GIL back and forth with this thread dozens of times per repaint; on a busy
    machine each handoff waits for the OS to schedule the GUI thread, so training yields the CPU.
    Training still gets every cycle the GUI does not use.
    """
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), niceness)
    except (AttributeError, OSError):  # not Linux, or not allowed: run at normal priority
        pass


def oom_message(err: BaseException, device: str) -> str:
    return f"out of memory on {device}: try a smaller batch size or another device ({str(err).splitlines()[0][:80]})"


class TrainingWorker(QObject):
    """Trains a copy of ``model`` on ``dataset``'s train split; lives in a QThread.

    Signals: ``progress(dict)`` (a StepInfo as a dict plus ``losses_fresh``, at most 10 a second), ``epochFinished(dict)`` (an EpochInfo as a dict), ``snapshot(dict)`` (CPU
    state_dict, at most one per ``snapshot_interval_s``, and the run's final weights), ``epochSnapshot(dict)`` (the
    weights at each epoch's end, after its autosave: what the views show of that epoch), ``notice(str)`` (a warning such as "CUDA asked for but absent"), ``failed(str)``
    (one line), ``autosaved(dict)`` (epoch, path: the run's checkpoint was replaced after an epoch),
    ``autosaveFailed(str)`` (one line; training goes on and the previous autosave is unchanged), and
    always last ``finished(dict)`` (status, message, epochs_done, history).

    With an ``autosave`` (an :class:`~aeviewer.training.autosave.AutoSaver`), the model is saved at the end of
    each epoch from the training thread, between two batches, so no optimizer step can race with it.
    """

    progress = Signal(dict)
    epochFinished = Signal(dict)
    snapshot = Signal(dict)
    epochSnapshot = Signal(dict)
    notice = Signal(str)
    failed = Signal(str)
    autosaved = Signal(dict)
    autosaveFailed = Signal(str)
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
        autosave: AutoSaver | None = None,
        device_notice: str | None = None,
        preparation: Any = None,
    ) -> None:
        super().__init__()
        self.device_notice = device_notice  # e.g. the CPU fallback, said once the run has begun
        self.model = copy.deepcopy(model).to("cpu")  # the GUI keeps its own copy
        self.dataset = dataset
        self.train_config = train_config
        self.data_dir = data_dir
        self.train_set = train_set
        self.preparation = preparation  # a path source's (None: a named set)
        self.snapshot_interval_s = snapshot_interval_s
        self.num_threads = num_threads
        self.autosave = autosave
        self.stop_event = threading.Event()
        self.pause_event = threading.Event()
        # Cleared by the GUI while it redraws a snapshot: the trainer waits between batches (at most
        # MAX_YIELD_S), so the redraw gets the GIL and the CPU instead of fighting for them.
        self.gui_idle = threading.Event()
        self.gui_idle.set()
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
        self.gui_idle.set()

    def yield_to_gui(self) -> None:
        """Hold training at the next batch boundary until ``resume_after_gui`` (or MAX_YIELD_S)."""
        self.gui_idle.clear()

    def resume_after_gui(self) -> None:
        self.gui_idle.set()

    @property
    def paused(self) -> bool:
        return self.pause_event.is_set()

    # -- the thread's body ----------------------------------------------------------------------------
    @Slot()
    def run(self) -> None:
        result: dict[str, Any] = {"status": "failed", "message": "", "epochs_done": 0, "history": []}
        device = str(getattr(self.train_config, "device", "cpu"))
        lower_thread_priority()
        try:
            torch.set_num_threads(self.num_threads or DEFAULT_TRAIN_THREADS)
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
        if self.device_notice:
            self.notice.emit(self.device_notice)
        train_set = self.train_set if self.train_set is not None else load_split(self.dataset, "train", self.data_dir,
                                                                                   self.preparation)
        self._last_snapshot = time.monotonic()
        self._trainer = Trainer(
            self.model, train_set, self.train_config,
            on_step=self._on_step, on_epoch=self._on_epoch,
            stop_event=self.stop_event, pause_event=self.pause_event,
        )
        if self._trainer.device_warning:  # a device the caller did not resolve (TrainingRun resolves it once)
            self.notice.emit(self._trainer.device_warning)
        outcome = self._trainer.run()
        # The Trainer restores the last good weights on failure, so this snapshot is always sane.
        self.snapshot.emit(cpu_state_dict(self._trainer.model))
        return {
            "status": outcome.status, "message": outcome.message,
            "epochs_done": outcome.epochs_done, "history": list(outcome.history),
        }

    def _on_step(self, info: Any) -> None:
        if not self.gui_idle.is_set():
            self.gui_idle.wait(MAX_YIELD_S)
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
        if self.autosave is not None:
            self._autosave(info.epoch)
        # Every epoch ends on its weights (the ones just autosaved), however soon after the last snapshot: the
        # run throttles them for the views, and a run paused or stopped here shows what it saved.
        self._last_snapshot = time.monotonic()
        self.epochSnapshot.emit(cpu_state_dict(self._trainer.model))

    def _autosave(self, epoch: int) -> None:
        """Replace the run's autosave atomically; a failure is reported and training goes on."""
        try:
            path = self.autosave.save(self._trainer.model, epoch, self._trainer.history)
        except (AeviewerError, OSError) as err:
            self.autosaveFailed.emit(f"autosave of epoch {epoch} failed: {str(err).splitlines()[0] if str(err) else err!r}")
            return
        if path is not None:
            self.autosaved.emit({"epoch": epoch, "path": str(path)})

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


class TrainingRun(QObject):
    """One training run's worker and its QThread, from start to join; the panel shows what it says.

    It drops the signals of an earlier run's worker that arrive after a new run started (Esc then
    Space), passes on the newest weight snapshot at most every SNAPSHOT_MIN_INTERVAL_S (or every
    SNAPSHOT_ENCODE_FACTOR redraw times, when redrawing is slower; an epoch's last weights after the
    minimum only), never while the views still derive from the last one (``views_busy``), with the
    trainer held between batches while the GUI redraws, and joins the thread when the worker is done.

    Signals, all from the current run only: ``progress(dict)``, ``epochFinished(dict)``, ``notice(str)``,
    ``failed(str)``, ``autosaved(dict)``, ``weights(dict)`` (a CPU state_dict, throttled; the final
    weights at once), and last ``finished(dict)`` (status, message, epochs_done, history) once the
    thread has ended.
    """

    progress = Signal(dict)
    epochFinished = Signal(dict)
    notice = Signal(str)
    failed = Signal(str)
    autosaved = Signal(dict)
    weights = Signal(dict)
    finished = Signal(dict)

    def __init__(self, redraw_seconds: Callable[[], float] = lambda: 0.0, parent: QObject | None = None,
                 views_busy: Callable[[], bool] = lambda: False) -> None:
        super().__init__(parent)
        self.redraw_seconds = redraw_seconds  # what the last redraw of a snapshot cost (the throttle scales with it)
        # True while the views still derive from the last weights passed on (their re-encode is in flight): a newer
        # snapshot waits, since passing it on would supersede that encode, and a run whose snapshots come faster
        # than its encodes would never show its scatter.
        self.views_busy = views_busy
        self.worker: TrainingWorker | None = None
        self.thread: QThread | None = None
        self.device = "cpu"  # where the current (or last) run really trains
        # Kept alive until its finished() is handled: a signal from a deleted worker would arrive with
        # no sender, and could not be told apart from the current run's.
        self._unfinished: list[TrainingWorker] = []
        self._pending: dict | None = None
        self._last_delivered = 0.0
        self._timer = CoalescingTimer(self, self._deliver_snapshot)

    # -- the life cycle ---------------------------------------------------------------------------------
    def start(self, model: Autoencoder, dataset: str, config: Any, **worker_options: Any) -> None:
        """Train a copy of ``model`` in a new thread; the device is resolved here, once."""
        try:
            device, warning = resolve_device(config.device)
            config, self.device = dataclasses.replace(config, device=str(device)), str(device)
        except AeviewerError:  # an unknown spec: the worker reports it as the run's failure
            warning, self.device = None, str(config.device)
        self._let_finished_thread_go()
        worker = TrainingWorker(model, dataset, config, device_notice=warning, **worker_options)
        # Bound methods of this GUI-thread object, so each call is queued into the GUI thread (a lambda
        # would run in the worker's) and can ask who sent it.
        worker.progress.connect(self._on_progress)
        worker.epochFinished.connect(self._on_epoch)
        worker.notice.connect(self._on_notice)
        worker.failed.connect(self._on_failed)
        worker.autosaveFailed.connect(self._on_failed)
        worker.autosaved.connect(self._on_autosaved)
        worker.snapshot.connect(self._on_snapshot)
        worker.epochSnapshot.connect(self._on_epoch_snapshot)
        worker.finished.connect(self._on_finished)
        self.worker, self._pending = worker, None
        self._last_delivered = time.monotonic()  # the untrained model was just drawn
        self._unfinished.append(worker)
        self.thread = start_worker_thread(worker, self)

    def is_running(self) -> bool:
        return self.thread is not None and self.thread.isRunning()

    def is_paused(self) -> bool:
        return self.worker is not None and self.is_running() and self.worker.paused

    def can_pause_or_resume(self) -> bool:
        """A run that is going and not already asked to stop (a pause then would re-enable its buttons)."""
        return self.worker is not None and self.is_running() and not self.worker.stop_event.is_set()

    def pause(self) -> None:
        if self.can_pause_or_resume():
            self.worker.pause()

    def resume(self) -> None:
        if self.can_pause_or_resume():
            self.worker.resume()

    def stop(self) -> bool:
        """Ask the worker to stop (within one batch); ``finished`` follows. False when nothing runs."""
        if self.worker is None or not self.is_running():
            return False
        self.worker.stop()
        return True

    def shutdown(self, timeout_ms: int = 10_000) -> bool:
        """Stop and join the thread (the window is closing); True when it has ended."""
        self._timer.stop()
        if self.worker is None or self.thread is None:
            return True
        return join_worker_thread(self.worker, self.thread, timeout_ms)

    def _let_finished_thread_go(self) -> None:
        """The previous run's QThread is Python's once it finished: threads never pile up."""
        old = self.thread
        if old is not None and old.isFinished():
            old.setParent(None)
            self.thread = None

    # -- the worker's signals (queued into the GUI thread) ------------------------------------------------
    def _is_stale(self) -> bool:
        sender = self.sender()
        return isinstance(sender, TrainingWorker) and sender is not self.worker

    def _on_progress(self, info: dict) -> None:
        if not self._is_stale():
            self.progress.emit(info)

    def _on_epoch(self, info: dict) -> None:
        if not self._is_stale():
            self.epochFinished.emit(info)

    def _on_notice(self, text: str) -> None:
        if not self._is_stale():
            self.notice.emit(text)

    def _on_failed(self, text: str) -> None:
        if not self._is_stale():
            self.failed.emit(text)

    def _on_autosaved(self, info: dict) -> None:
        if not self._is_stale():
            self.autosaved.emit(info)

    def _on_snapshot(self, state: dict) -> None:
        """Keep only the newest snapshot; pass it on when the throttle allows."""
        # Redrawing costs time (on a 2-core machine it comes out of the trainer's share: measured, each applied
        # snapshot cost the trainer ~0.2 s of an MNIST epoch), so snapshots are 20 redraws apart.
        self._hold(state, max(SNAPSHOT_MIN_INTERVAL_S, SNAPSHOT_ENCODE_FACTOR * self.redraw_seconds()))

    def _on_epoch_snapshot(self, state: dict) -> None:
        """An epoch's last weights: shown after the minimum interval only (an emoji VQ-VAE's test split takes
        5 s to encode: 20 of them, 100 s, outlasted its epoch, and the views never showed one)."""
        self._hold(state, SNAPSHOT_MIN_INTERVAL_S)

    def _hold(self, state: dict, interval: float) -> None:
        """Make ``state`` the one waiting (the newest replaces an older one) and pass it on ``interval`` s after
        the last, or sooner if an older one was due sooner."""
        if self._is_stale():
            return
        self._pending = state
        wait_ms = max(0, int((self._last_delivered + interval - time.monotonic()) * 1000))
        if not self._timer.isActive() or self._timer.remainingTime() > wait_ms:
            self._timer.start(wait_ms)

    def _deliver_snapshot(self, final: bool = False) -> None:
        """Pass on the waiting snapshot; until the views have taken the last one, wait (the final one goes at once)."""
        if self._pending is None:
            return
        if not final and self.views_busy():
            self._timer.start(VIEWS_BUSY_RETRY_MS)
            return
        state, self._pending = self._pending, None
        self._hold_trainer_for_redraw()  # ~1/s, a few tens of ms: the redraw never fights the trainer
        self.weights.emit(state)
        self._last_delivered = time.monotonic()

    def _hold_trainer_for_redraw(self) -> None:
        """Hold training between batches until the event loop has come round YIELD_IDLE_TURNS times."""
        worker = self.worker
        if worker is None or not self.is_running():
            return
        worker.yield_to_gui()

        def turn(left: int) -> None:
            if left <= 0:
                worker.resume_after_gui()
            else:
                QTimer.singleShot(0, lambda: turn(left - 1))

        turn(YIELD_IDLE_TURNS)

    def _on_finished(self, result: dict[str, Any]) -> None:
        sender = self.sender()
        if sender in self._unfinished:
            self._unfinished.remove(sender)  # its last signal is in: the worker may be deleted now
        if self._is_stale():  # that run's thread has ended; start() let it go
            return
        if self.thread is not None:
            self.thread.quit()
            if self.thread.wait(5_000):
                # No longer a child: the next start (or Python) deletes it, so the QThread objects of
                # past runs never accumulate over a long session.
                self.thread.setParent(None)
        self._timer.stop()
        self._deliver_snapshot(final=True)  # the final weights, at once
        self.finished.emit(result)
