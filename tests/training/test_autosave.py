"""Autosaves: the folder, names and listing; atomic per-epoch saves; a training killed mid-epoch loses nothing."""
from __future__ import annotations

import datetime
import math
import os
import queue
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
import torch

from aeviewer.training.autosave import AutoSaver, autosave_dir, autosave_name, list_autosaves, newest_autosave, prune
from aeviewer.errors import CheckpointError
from aeviewer.models import build_model, default_config
from aeviewer.training.checkpoint import load_checkpoint
from shared_data import idx_files, require_data


def small_model(kind: str = "ae") -> torch.nn.Module:
    torch.manual_seed(0)
    return build_model(default_config(kind, image_shape=(1, 8, 8), hidden=(16,)))


def test_the_folder_follows_the_environment_variable(tmp_path, monkeypatch):
    monkeypatch.setenv("AEVIEWER_USER_DIR", str(tmp_path / "mine"))
    assert autosave_dir() == tmp_path / "mine" / "autosave"


def test_without_the_variable_the_folder_is_the_user_data_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("AEVIEWER_USER_DIR")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))  # where platformdirs looks on Linux
    assert autosave_dir() == tmp_path / "xdg" / "aeviewer" / "autosave"


def test_names_sort_by_start_time_and_keep_to_safe_characters():
    early = autosave_name("vae", "fashion-mnist", datetime.datetime(2024, 5, 1, 9, 0, 0, 1))
    late = autosave_name("vae", "fashion-mnist", datetime.datetime(2024, 5, 1, 10, 0, 0))
    assert early == "vae-fashion-mnist-20240501-090000-000001.safetensors" and early < late
    assert "/" not in autosave_name("ae", "../../etc/passwd")


def test_listing_is_newest_first_and_ignores_temp_and_other_files(tmp_path):
    assert list_autosaves(tmp_path / "absent") == [] and newest_autosave(tmp_path / "absent") is None
    paths = [tmp_path / f"ae-digits-{i}.safetensors" for i in range(3)]
    for i, path in enumerate(paths):
        path.write_bytes(b"x")
        os.utime(path, (1_000_000 + i, 1_000_000 + i))
    (tmp_path / ".ae-digits-9.safetensors.abc.tmp").write_bytes(b"half")  # a save cut short
    (tmp_path / "notes.txt").write_text("mine")
    (tmp_path / "folder.safetensors").mkdir()
    assert list_autosaves(tmp_path) == paths[::-1]
    assert newest_autosave(tmp_path) == paths[2]


def test_each_epoch_replaces_the_one_file_of_the_run(tmp_path):
    saver = AutoSaver("digits", directory=tmp_path, extra={"train": {"epochs": 3}})
    model = small_model()
    first = saver.save(model, 1, [{"epoch": 1, "total": 5.0}])
    with torch.no_grad():
        next(model.parameters()).add_(1.0)
    second = saver.save(model, 2, [{"epoch": 1, "total": 5.0}, {"epoch": 2, "total": 4.0}])
    assert first == second and list_autosaves(tmp_path) == [first]
    loaded = load_checkpoint(second)
    assert loaded.extra == {"train": {"epochs": 3}, "status": "autosave", "epoch": 2}
    assert loaded.dataset == "digits" and len(loaded.history) == 2
    assert all(torch.equal(v, loaded.model.state_dict()[k]) for k, v in model.state_dict().items())
    assert sorted(p.name for p in tmp_path.iterdir()) == [first.name]  # no temp file left behind


def test_non_finite_weights_are_not_saved_and_the_previous_file_stays(tmp_path):
    saver = AutoSaver("digits", directory=tmp_path)
    model = small_model()
    path = saver.save(model, 1)
    before = path.read_bytes()
    with torch.no_grad():
        next(model.parameters())[0] = float("nan")
    assert saver.save(model, 2) is None
    assert path.read_bytes() == before


def test_an_unwritable_folder_raises_a_one_line_error(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    saver = AutoSaver("digits", directory=blocker / "autosave")  # a folder below a file: not even root can
    with pytest.raises(CheckpointError) as err:
        saver.save(small_model(), 1)
    assert "\n" not in str(err.value) and "cannot write" in str(err.value)


def test_a_full_disk_keeps_the_previous_autosave(tmp_path, monkeypatch):
    import errno

    saver = AutoSaver("digits", directory=tmp_path)
    model = small_model()
    path = saver.save(model, 1)
    before = path.read_bytes()

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr("aeviewer.util.atomic.os.replace", full)
    with pytest.raises(CheckpointError, match="No space left"):
        saver.save(model, 2)
    assert path.read_bytes() == before and list(tmp_path.iterdir()) == [path]


def test_old_autosaves_are_pruned_to_the_newest(tmp_path):
    for i in range(5):
        path = tmp_path / f"ae-digits-{i}.safetensors"
        path.write_bytes(b"x")
        os.utime(path, (1_000_000 + i, 1_000_000 + i))
    assert [p.name for p in prune(tmp_path, keep=2)] == [f"ae-digits-{i}.safetensors" for i in (2, 1, 0)]
    saver = AutoSaver("digits", directory=tmp_path, keep=3)
    new = saver.save(small_model(), 1)
    assert len(list_autosaves(tmp_path)) == 3 and new in list_autosaves(tmp_path)


# -- a real training process, killed mid-epoch -------------------------------------------------------
# The GUI's own path: a TrainingWorker in a QThread with an AutoSaver, signals printed as lines.
TRAIN_SCRIPT = textwrap.dedent("""
    import sys
    import torch
    from PySide6.QtCore import QCoreApplication, QObject, Slot
    from aeviewer.training.autosave import AutoSaver
    from aeviewer.gui.training.worker import TrainingWorker, start_worker_thread
    from aeviewer.models import default_config
    from aeviewer.training.trainer import TrainConfig, seeded_build

    torch.set_num_threads(1)
    dataset = sys.argv[1]
    app = QCoreApplication([])
    shape = (1, 28, 28) if dataset != "digits" else (1, 8, 8)
    model = seeded_build(default_config("ae", image_shape=shape, hidden=(128,)), 0)
    worker = TrainingWorker(model, dataset, TrainConfig(epochs=50, batch_size=64, device="cpu"),
                            num_threads=1, autosave=AutoSaver(dataset))

    class Printer(QObject):
        @Slot(dict)
        def progress(self, info):
            print("progress", info["epoch"], info["batch"], info["n_batches"], flush=True)

        @Slot(dict)
        def autosaved(self, info):
            print("autosaved", info["epoch"], info["path"], flush=True)

        @Slot(str)
        def failed(self, text):
            print("failed", text, flush=True)

    printer = Printer()
    worker.progress.connect(printer.progress)
    worker.autosaved.connect(printer.autosaved)
    worker.autosaveFailed.connect(printer.failed)
    worker.failed.connect(printer.failed)
    worker.finished.connect(app.quit)
    thread = start_worker_thread(worker)
    app.exec()
    thread.wait()
""")


def _read_lines(stream, lines: queue.Queue) -> None:
    for line in stream:
        lines.put(line.split())
    lines.put(None)


@pytest.mark.slow
def test_sigkill_mid_epoch_leaves_the_last_epoch_loadable(tmp_path):
    from aeviewer.data.loader import load_split
    from aeviewer.training.metrics import evaluate

    dataset = "mnist"  # epochs long enough to be killed well inside one
    data_dir = require_data(*idx_files(dataset, "train"))
    script = tmp_path / "train.py"
    script.write_text(TRAIN_SCRIPT)
    env = {**os.environ, "AEVIEWER_USER_DIR": str(tmp_path / "user"), "AEVIEWER_DATA": str(data_dir),
           "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    proc = subprocess.Popen([sys.executable, str(script), dataset], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env)
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=_read_lines, args=(proc.stdout, lines), daemon=True).start()
    saved: list[tuple[int, str]] = []
    mid_epoch = None
    deadline = time.monotonic() + 150
    try:
        while mid_epoch is None and time.monotonic() < deadline:
            try:
                words = lines.get(timeout=1.0)
            except queue.Empty:
                continue
            assert words is not None, f"the training ended early: {proc.stderr.read()[-2000:]}"
            assert words[0] != "failed", " ".join(words)
            if words[0] == "autosaved":
                saved.append((int(words[1]), words[2]))
            elif words[0] == "progress" and saved:
                epoch, batch, n_batches = map(int, words[1:])
                # Well inside the epoch after the last save: neither at its start nor about to save again.
                if epoch == saved[-1][0] + 1 and 2 <= batch <= n_batches - 5:
                    mid_epoch = (epoch, batch, n_batches)
        assert mid_epoch is not None, "no epoch was saved and under way within the time limit"
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(30) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    print(f"\nkilled {dataset} training at epoch {mid_epoch[0]}, batch {mid_epoch[1]}/{mid_epoch[2]}; "
          f"last autosave: epoch {saved[-1][0]}")

    folder = tmp_path / "user" / "autosave"
    newest = newest_autosave(folder)
    assert newest == Path(saved[-1][1]) and list_autosaves(folder) == [newest]
    checkpoint = load_checkpoint(newest)
    assert checkpoint.extra["epoch"] == saved[-1][0] and checkpoint.dataset == dataset
    assert len(checkpoint.history) == saved[-1][0]
    test_set = load_split(dataset, "test", data_dir)
    metrics = evaluate(checkpoint.model, test_set.subset(slice(0, 2000)) if len(test_set) > 2000 else test_set)
    print(f"evaluated the autosave: {metrics}")
    assert all(math.isfinite(v) for v in metrics.values())
    assert metrics["psnr_db"] > 10.0  # a trained model, not the random initial weights
