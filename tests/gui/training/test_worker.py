"""TrainingWorker in a real QThread: progress, snapshots, pause/resume, stop, NaN and missing data."""
from __future__ import annotations

import gc
import weakref

import torch
from PySide6.QtCore import QObject, Slot

from aeviewer.gui.startup.warm_up import WarmUp
from aeviewer.gui.training.worker import TrainingWorker, join_worker_thread, start_worker_thread
from aeviewer.models.ae import AE
from aeviewer.training.trainer import TrainConfig


def make_worker(model, train_set=None, dataset="digits", **config) -> TrainingWorker:
    cfg = TrainConfig(**{"epochs": 2, "batch_size": 64, "device": "cpu", **config})
    return TrainingWorker(model, dataset, cfg, train_set=train_set, snapshot_interval_s=0.0, num_threads=1)


class Recorder(QObject):
    """Collects the worker's signals in the GUI thread (a QObject here, so they arrive queued, as in the app)."""

    def __init__(self, worker: TrainingWorker) -> None:
        super().__init__()
        self.progress, self.epochs, self.snapshots, self.failures, self.results = [], [], [], [], []
        worker.progress.connect(self.on_progress)
        worker.epochFinished.connect(self.on_epoch)
        worker.snapshot.connect(self.on_snapshot)
        worker.failed.connect(self.on_failed)
        worker.finished.connect(self.on_finished)

    @Slot(dict)
    def on_progress(self, info: dict) -> None:
        self.progress.append(info)

    @Slot(dict)
    def on_epoch(self, info: dict) -> None:
        self.epochs.append(info)

    @Slot(dict)
    def on_snapshot(self, state: dict) -> None:
        self.snapshots.append(state)

    @Slot(str)
    def on_failed(self, text: str) -> None:
        self.failures.append(text)

    @Slot(dict)
    def on_finished(self, result: dict) -> None:
        self.results.append(result)


def run_to_end(qtbot, worker: TrainingWorker) -> tuple[Recorder, object]:
    rec = Recorder(worker)
    thread = start_worker_thread(worker)
    qtbot.waitUntil(lambda: bool(rec.results), timeout=30_000)
    assert thread.wait(5_000)
    return rec, thread


def test_worker_trains_a_copy_and_reports_progress_epochs_and_snapshots(qtbot, make_tiny_model, digits_train):
    model = make_tiny_model("ae")
    before = {k: v.clone() for k, v in model.state_dict().items()}
    worker = make_worker(model, digits_train)
    rec, _ = run_to_end(qtbot, worker)

    assert rec.results[0]["status"] == "finished" and rec.results[0]["epochs_done"] == 2
    assert [e["epoch"] for e in rec.epochs] == [1, 2]
    assert rec.progress and set(rec.progress[-1]) >= {"epoch", "batch", "n_batches", "samples_per_s", "eta_s", "losses"}
    assert "total" in rec.epochs[-1]["losses"]
    # The GUI's model is untouched: the worker trained a deep copy.
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    # The last snapshot holds the trained weights, as plain CPU tensors.
    final = rec.snapshots[-1]
    assert all(t.device.type == "cpu" for t in final.values())
    assert any(not torch.equal(before[k], final[k]) for k in before)
    assert not rec.failures


def test_snapshots_are_throttled(qtbot, make_tiny_model, digits_train):
    worker = make_worker(make_tiny_model("ae"), digits_train, epochs=3)
    worker.snapshot_interval_s = 60.0  # far longer than the run: only the final snapshot goes out
    rec, _ = run_to_end(qtbot, worker)
    assert len(rec.snapshots) == 1


def test_every_epoch_ends_on_a_snapshot_of_its_weights_however_throttled(qtbot, make_tiny_model, digits_train):
    """Issue 29, defect 8: an epoch shorter than the snapshot interval sent no weights of its own, so a run paused
    after it (or a view waiting for it) never saw what was autosaved."""
    worker = make_worker(make_tiny_model("ae"), digits_train, epochs=3)
    worker.snapshot_interval_s = 60.0
    rec = Recorder(worker)  # records snapshot: the final weights only
    worker.epochSnapshot.connect(rec.on_snapshot)  # and each epoch's, in order
    thread = start_worker_thread(worker)
    qtbot.waitUntil(lambda: bool(rec.results), timeout=30_000)
    assert thread.wait(5_000)
    assert len(rec.snapshots) == 4  # epochs 1, 2, 3 and the final weights
    final = rec.snapshots[-1]
    assert all(torch.equal(rec.snapshots[2][k], final[k]) for k in final)  # the last epoch's are the final weights
    assert not all(torch.equal(rec.snapshots[0][k], final[k]) for k in final)


def test_a_snapshot_waits_while_the_views_derive_from_the_last_one(qtbot, make_tiny_model, digits_train, monkeypatch):
    """Passing a snapshot on while the last one's re-encode is in flight would supersede that encode: a run whose
    snapshots come faster than its encodes would never show its scatter."""
    import aeviewer.gui.training.worker as worker_module
    from aeviewer.gui.training.worker import TrainingRun

    monkeypatch.setattr(worker_module, "SNAPSHOT_MIN_INTERVAL_S", 0.0)
    busy = [True]
    run = TrainingRun(views_busy=lambda: busy[0])
    delivered: list[dict] = []
    run.weights.connect(delivered.append)
    cfg = TrainConfig(epochs=1000, batch_size=64, device="cpu")
    run.start(make_tiny_model("ae"), "digits", cfg, train_set=digits_train, snapshot_interval_s=0.0, num_threads=1)
    try:
        qtbot.waitUntil(lambda: run._pending is not None, timeout=10_000)  # a snapshot is waiting
        qtbot.wait(200)  # many turns of the event loop, retries included
        assert delivered == []
        busy[0] = False  # the views have their encodings
        qtbot.waitUntil(lambda: len(delivered) >= 1, timeout=5_000)
    finally:
        busy[0] = True
        with qtbot.waitSignal(run.finished, timeout=30_000):
            run.stop()
    final = run.worker._trainer.model.state_dict()
    assert all(torch.equal(delivered[-1][k], final[k]) for k in final)  # the final weights go at once, busy or not


def test_pause_holds_training_and_resume_continues(qtbot, make_tiny_model, digits_train, spy_event):
    worker = make_worker(make_tiny_model("ae"), digits_train, epochs=200)
    worker.pause_event = spy_event()
    rec = Recorder(worker)
    thread = start_worker_thread(worker)
    qtbot.waitUntil(lambda: bool(rec.progress), timeout=10_000)
    worker.pause()
    # The trainer polls the pause event every 20 ms while it waits: once it has been seen set a few
    # times the trainer is parked, and the step count must not move while we keep watching.
    qtbot.waitUntil(lambda: worker.pause_event.seen_set >= 3, timeout=5_000)
    step = worker._trainer.global_step
    seen = worker.pause_event.seen_set
    qtbot.waitUntil(lambda: worker.pause_event.seen_set >= seen + 5, timeout=5_000)
    assert worker._trainer.global_step == step
    worker.resume()
    qtbot.waitUntil(lambda: worker._trainer.global_step > step + 2, timeout=10_000)
    worker.stop()
    qtbot.waitUntil(lambda: bool(rec.results), timeout=10_000)
    assert thread.wait(5_000)
    assert rec.results[-1]["status"] == "stopped"


def test_stop_while_paused_ends_the_thread(qtbot, make_tiny_model, digits_train):
    worker = make_worker(make_tiny_model("ae"), digits_train, epochs=200)
    rec = Recorder(worker)
    thread = start_worker_thread(worker)
    qtbot.waitUntil(lambda: bool(rec.progress), timeout=10_000)
    worker.pause()
    assert join_worker_thread(worker, thread, 10_000)
    assert thread.isFinished()


class NanAfter(AE):
    """An AE whose reconstruction term turns NaN after a few steps (as a diverging run would)."""

    def __init__(self, config, good_steps: int) -> None:
        super().__init__(config)
        self.good_steps = good_steps
        self.steps = 0

    def loss(self, x, x_input, labels=None):
        terms = super().loss(x, x_input, labels)
        self.steps += 1
        if self.steps > self.good_steps:
            terms = {k: v * float("nan") for k, v in terms.items()}
        return terms


def test_nan_fails_with_a_message_and_the_last_snapshot_is_finite(qtbot, make_tiny_model, digits_train):
    config = make_tiny_model("ae").config
    worker = make_worker(NanAfter(config, good_steps=5), digits_train)
    rec, _ = run_to_end(qtbot, worker)
    assert rec.results[-1]["status"] == "failed"
    assert rec.failures and "nan" in rec.failures[0].lower()
    assert all(torch.isfinite(t).all() for t in rec.snapshots[-1].values() if t.is_floating_point())


def test_missing_training_data_fails_with_a_one_line_message(qtbot, make_tiny_model, tmp_path, monkeypatch):
    import aeviewer.data.sources as sources

    monkeypatch.setattr(sources, "BUNDLED_DATA_DIR", tmp_path / "nothing")
    monkeypatch.setattr(sources, "SYSTEM_DIRS", {})
    worker = TrainingWorker(make_tiny_model("ae"), "mnist", TrainConfig(epochs=1, device="cpu"), data_dir=tmp_path)
    rec, thread = run_to_end(qtbot, worker)
    assert thread.isFinished()
    assert rec.results[-1]["status"] == "failed"
    assert len(rec.failures) == 1 and "\n" not in rec.failures[0]
    assert "aeviewer data fetch mnist" in rec.failures[0]


def test_out_of_memory_becomes_a_message(qtbot, make_tiny_model, digits_train, monkeypatch):
    import aeviewer.training.trainer as trainer

    def boom(self):
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    monkeypatch.setattr(trainer.Trainer, "run", boom)
    rec, _ = run_to_end(qtbot, make_worker(make_tiny_model("ae"), digits_train))
    assert rec.results[-1]["status"] == "failed"
    assert rec.failures[0].startswith("out of memory") and "batch size" in rec.failures[0]


def test_warm_up_frees_cyclic_garbage_then_freezes_what_is_alive(qapp):
    """A full collection must not walk the start-up heap mid-training (it held the GIL for up to a
    second and stalled the window): the warm-up collects once and freezes what survives."""

    class Node:
        pass

    gc.unfreeze()  # an earlier test's warm-up may have frozen the heap already
    garbage = Node()
    garbage.me = garbage  # a reference cycle: only the collector frees it
    freed = weakref.ref(garbage)
    del garbage
    alive = [Node()]
    alive_count = len(gc.get_objects())
    WarmUp().join()
    try:
        assert freed() is None
        assert not any(o is alive for o in gc.get_objects())  # frozen: full collections skip it
        assert len(gc.get_objects()) < alive_count // 10 < gc.get_freeze_count()
    finally:
        gc.unfreeze()


def test_a_training_run_passes_on_throttled_snapshots_joins_its_thread_and_resolves_the_device_once(
        qtbot, make_tiny_model, digits_train, monkeypatch):
    import time

    import aeviewer.gui.training.worker as worker_module
    from aeviewer.gui.training.worker import TrainingRun

    monkeypatch.setattr(worker_module, "SNAPSHOT_MIN_INTERVAL_S", 0.3)
    run = TrainingRun(lambda: 0.0)
    arrivals, notices = [], []
    run.weights.connect(lambda state: arrivals.append(time.monotonic()))
    run.notice.connect(notices.append)
    cfg = TrainConfig(epochs=6, batch_size=16, device="cuda" if not torch.cuda.is_available() else "cpu")
    with qtbot.waitSignal(run.finished, timeout=60_000) as blocker:
        run.start(make_tiny_model("ae"), "digits", cfg, train_set=digits_train, snapshot_interval_s=0.0, num_threads=1)
        assert run.is_running() and run.device == "cpu" and run.worker.train_config.device == "cpu"
    assert blocker.args[0]["status"] == "finished" and run.thread.isFinished()
    assert arrivals, "the final weights always arrive"
    gaps = [b - a for a, b in zip(arrivals, arrivals[1:-1])]  # the last one comes at once, unthrottled
    assert all(gap >= 0.25 for gap in gaps)
    assert notices == ([] if torch.cuda.is_available() else ["cuda was asked for but CUDA is not available; using the CPU"])
