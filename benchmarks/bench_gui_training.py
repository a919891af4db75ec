"""Training from the GUI against headless training of the same model, interleaved in one run.

GUI: the main window (offscreen) with the Training panel's own path — ``TrainingPanel.start()``
builds the model from its fields and runs the core Trainer in a ``TrainingWorker`` on a QThread,
while the window draws live loss curves, applies weight snapshots (re-encoding the test set into
the scatter) and re-decodes the canvas; the GUI thread sits in a real ``QEventLoop`` as in the app.
Headless: the core ``Trainer`` on the same config, seed, training split and batch size, with a
no-op step callback, like the CLI. Throughput is the Trainer's own samples/s (EpochInfo), so data
loading and start-up count for neither. Rounds alternate which goes first. The cpu columns are
the process's CPU seconds per wall second while training: about 1.0 headless with one torch thread
on a quiet machine (below that, other programs took the CPU and the ratio says little); the GUI's
excess over headless is what the window costs.

Note: the worker lowers its thread's priority (nice 10) so the GUI wins the CPU. On a machine that
other programs load, that alone slows GUI training; ``--headless-nice 10`` runs the headless trainer
on a thread niced the same way, to compare like with like there.

    python benchmarks/bench_gui_training.py --quick              # seconds: digits, 1 round (CI smoke)
    python benchmarks/bench_gui_training.py                      # the figure: VAE mlp on MNIST, 3 rounds (target >= 0.90)
    python benchmarks/bench_gui_training.py --dataset digits --epochs 20
"""
from __future__ import annotations

import argparse
import threading
import time
from typing import Any

import torch

from common import PaintCounter, header, median, offscreen_qt, verdict

TARGET = 0.90


def select(box: Any, value: Any) -> None:
    index = box.findData(value)
    if index < 0:
        raise SystemExit(f"{box.objectName()}: no item {value!r}")
    box.setCurrentIndex(index)


def rate(epochs: list[dict[str, Any]] | list[Any], n_train: int) -> float:
    """Samples per second over all epochs: total samples / total epoch seconds."""
    seconds = sum(e["seconds"] if isinstance(e, dict) else e.seconds for e in epochs)
    return n_train * len(epochs) / seconds


class GuiRun:
    """The main window, set up once; ``run()`` trains through the panel and counts what the GUI did."""

    def __init__(self, kind: str, dataset: str, latent_dim: int, epochs: int, batch_size: int, threads: int) -> None:
        from aeviewer.gui.window.main_window import MainWindow
        from aeviewer.gui.startup.warm_up import warm_up_training_imports

        self.window = MainWindow()
        warm_up_training_imports().join()
        panel = self.panel = self.window.training_panel
        select(panel.kind, kind)
        select(panel.dataset, dataset)
        select(panel.arch, "mlp")
        select(panel.device, "cpu")
        panel.latent_dim.setValue(latent_dim)
        panel.epochs.setValue(epochs)
        panel.batch_size.setValue(batch_size)
        panel.train_threads = threads
        self.window.show()
        self.latent_paints = PaintCounter(self.window.latent_view.plot.viewport())
        self.canvas_paints = PaintCounter(self.window.decoder_canvas.plots.viewport())
        self.counts = {"snapshots": 0, "encodings": 0}
        session = self.window.session
        session.weightsUpdated.connect(lambda: self._count("snapshots"))
        session.encodingsChanged.connect(lambda: self._count("encodings"))

    def _count(self, name: str) -> None:
        self.counts[name] += 1

    def run(self, seed: int) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        from PySide6.QtCore import QEventLoop

        panel, canvas = self.panel, self.window.decoder_canvas
        panel.seed.setValue(seed)
        before = {**self.counts, "latent paints": self.latent_paints.count, "canvas paints": self.canvas_paints.count,
                  "frames": canvas.render_count}
        epochs: list[dict[str, Any]] = []
        activity: dict[str, Any] = {}
        progress = [0]
        loop = QEventLoop()
        panel.trainingFinished.connect(loop.quit)
        wall, cpu = time.perf_counter(), time.process_time()
        if not panel.start():
            raise SystemExit(f"the panel did not start training: {panel.error_text()}")
        panel.worker.epochFinished.connect(epochs.append)
        panel.worker.progress.connect(lambda _info: progress.__setitem__(0, progress[0] + 1))
        loop.exec()  # the GUI thread waits in the event loop, as in the app
        activity["cpu share"] = (time.process_time() - cpu) / (time.perf_counter() - wall)
        panel.trainingFinished.disconnect(loop.quit)
        result = panel.last_result or {}
        if result.get("status") != "finished":
            raise SystemExit(f"GUI training did not finish: {result}")
        share = activity.pop("cpu share")
        after = {**self.counts, "latent paints": self.latent_paints.count, "canvas paints": self.canvas_paints.count,
                 "frames": canvas.render_count}
        activity = {k: after[k] - before[k] for k in after}
        activity["cpu share"] = share
        activity["progress"] = progress[0]
        activity["loss points"] = len(panel.loss_plot.series("total")[0])
        return epochs, activity


def headless(config: Any, train_config: Any, train_set: Any, seed: int, nice: int, threads: int) -> tuple[list[Any], float]:
    """The core Trainer on the calling thread (or a thread niced like the GUI worker's, when ``nice``)."""
    from aeviewer.gui.training.worker import lower_thread_priority
    from aeviewer.training.trainer import Trainer, seeded_build

    epochs: list[Any] = []
    failures: list[str] = []

    def work() -> None:
        if nice:
            lower_thread_priority(nice)
        torch.set_num_threads(threads)
        model = seeded_build(config, seed)
        result = Trainer(model, train_set, train_config, on_step=lambda info: None, on_epoch=epochs.append).run()
        if result.status != "finished":
            failures.append(result.message)

    wall, cpu = time.perf_counter(), time.process_time()
    if nice:
        thread = threading.Thread(target=work, name="headless-trainer")
        thread.start()
        thread.join()
    else:
        work()
    share = (time.process_time() - cpu) / (time.perf_counter() - wall)
    if failures:
        raise SystemExit(f"headless training did not finish: {failures[0]}")
    return epochs, share


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="digits, 2 epochs, 1 round")
    parser.add_argument("--kind", default="vae")
    parser.add_argument("--dataset", default="mnist")
    parser.add_argument("--latent-dim", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=1, help="epochs per run")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1, help="torch threads for training (the shared machine wants 1)")
    parser.add_argument("--headless-nice", type=int, default=0, help="run headless on a thread niced like the worker's (10)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    dataset, epochs, rounds = args.dataset, args.epochs, args.rounds
    if args.quick:
        dataset, epochs, rounds = "digits", 2, 1
    offscreen_qt()
    from aeviewer.data.loader import load_split

    gui = GuiRun(args.kind, dataset, args.latent_dim, epochs, args.batch_size, args.threads)
    train_set = load_split(dataset, "train", gui.window.data_dir)
    config, train_config = gui.panel.model_config(), gui.panel.train_config()
    header(f"GUI vs headless training: {args.kind} {config.arch} hidden {config.hidden} latent {config.latent_dim}, "
           f"{dataset} ({len(train_set):,} images), batch {args.batch_size}, {epochs} epoch(s) per run, {rounds} rounds, "
           f"headless nice {args.headless_nice}")
    rates: dict[str, list[float]] = {"gui": [], "headless": []}
    print(f"{'round':>6}  {'headless /s':>12}  {'gui /s':>9}  {'ratio':>6}  {'headless cpu':>13}  {'gui cpu':>8}  GUI activity during the run")
    for r in range(rounds):
        activity: dict[str, Any] = {}
        for name in (("headless", "gui") if r % 2 == 0 else ("gui", "headless")):
            if name == "gui":
                gui_epochs, activity = gui.run(seed=r)
                rates["gui"].append(rate(gui_epochs, len(train_set)))
            else:
                epochs_done, headless_share = headless(config, train_config, train_set, r, args.headless_nice, args.threads)
                rates["headless"].append(rate(epochs_done, len(train_set)))
        gui_share = activity.pop("cpu share")
        shown = ", ".join(f"{k} {v}" for k, v in activity.items())
        print(f"{r + 1:>6}  {rates['headless'][-1]:>12,.0f}  {rates['gui'][-1]:>9,.0f}  "
              f"{rates['gui'][-1] / rates['headless'][-1]:>6.3f}  {headless_share:>13.2f}  {gui_share:>8.2f}  {shown}")
    mid = {k: median(v) for k, v in rates.items()}
    ratio = mid["gui"] / mid["headless"]
    print(f"{'median':>6}  {mid['headless']:>12,.0f}  {mid['gui']:>9,.0f}  {ratio:>6.3f}")
    print(f"figure: ratio GUI/headless samples/s {ratio:.3f} (target >= {TARGET}): {verdict(ratio, TARGET, True)}")
    gui.window.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
