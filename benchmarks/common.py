"""Helpers shared by the GUI and exploration benchmarks: machine header, data, models, timing, Qt set-up.

The benchmarks are run as scripts (``python benchmarks/bench_x.py``), so this folder is first on
``sys.path`` and they import this file as ``common``.
"""
from __future__ import annotations

import atexit
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import torch

from aeviewer.data.imageset import ImageSet
from aeviewer.errors import AeviewerError

REPO = Path(__file__).resolve().parents[1]


# -- the machine ----------------------------------------------------------------------------------------
def load_average() -> str:
    """The 1/5/15-minute load averages, e.g. "load 4.12 3.80 2.95 on 2 cores" (figures on a busy machine are noisy)."""
    try:
        one, five, fifteen = os.getloadavg()
    except OSError:
        return f"load unknown on {os.cpu_count()} cores"
    return f"load {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} cores"


def header(title: str) -> None:
    """One line naming what runs where: Python, torch and its threads, the Qt platform, the load."""
    qpa = os.environ.get("QT_QPA_PLATFORM", "default")
    print(f"{title}")
    print(f"  {platform.node()} · Python {platform.python_version()} · torch {torch.__version__} "
          f"({torch.get_num_threads()} thread(s)) · QT_QPA_PLATFORM={qpa} · {load_average()}")


# -- statistics -------------------------------------------------------------------------------------------
def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100), linear between order statistics like numpy's default."""
    return float(np.percentile(np.asarray(values, np.float64), q)) if len(values) else float("nan")


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


def verdict(value: float, target: float, higher_is_better: bool = False) -> str:
    ok = value >= target if higher_is_better else value <= target
    return "meets target" if ok else "MISSES target"


def table(rows: list[Sequence[Any]], headings: Sequence[str]) -> None:
    """A plain right-aligned text table."""
    cells = [[str(h) for h in headings]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headings))]
    for row in cells:
        print("  ".join(c.rjust(w) for c, w in zip(row, widths)))


def time_repeats(fn: Callable[[], Any], repeats: int, warmup: int = 1) -> list[float]:
    """Wall seconds of ``repeats`` calls of ``fn`` after ``warmup`` untimed calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


# -- data and models ----------------------------------------------------------------------------------------
def load_set(dataset: str, split: str, limit: int | None = None) -> tuple[ImageSet, str]:
    """A real split, or random 28x28 images with ten labels when that data set is missing (named in the result)."""
    try:
        from aeviewer.data.loader import load_split

        data = load_split(dataset, split)
    except AeviewerError as err:
        print(f"note: {err}; using random 28x28 images instead", file=sys.stderr)
        n = 10_000 if split == "test" else 60_000
        gen = torch.Generator().manual_seed(0)
        images = torch.randint(0, 256, (n, 1, 28, 28), generator=gen, dtype=torch.uint8)
        labels = torch.randint(0, 10, (n,), generator=gen)
        data, dataset = ImageSet(images, labels, tuple(str(k) for k in range(10)), "random"), "random"
    if limit:
        data = data.subset(slice(0, limit))
    return data, dataset


def build(kind: str, image_shape: tuple[int, int, int] = (1, 28, 28), seed: int = 0, **overrides: Any) -> Any:
    """An untrained model of ``kind`` with the default config (timings do not depend on the weights)."""
    from aeviewer.models import build_model, default_config

    torch.manual_seed(seed)
    return build_model(default_config(kind, image_shape=image_shape, **overrides)).eval()


# -- Qt ------------------------------------------------------------------------------------------------------
def offscreen_qt() -> Any:
    """A QApplication on the offscreen platform (unless one is chosen), with QSettings in a temp folder
    so a benchmark never reads or writes the user's window layout and recent files."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QSettings

    settings_dir = tempfile.mkdtemp(prefix="aeviewer-bench-settings-")
    atexit.register(shutil.rmtree, settings_dir, ignore_errors=True)
    for fmt in (QSettings.Format.NativeFormat, QSettings.Format.IniFormat):
        QSettings.setPath(fmt, QSettings.Scope.UserScope, settings_dir)
    from aeviewer.gui.app import ensure_app

    return ensure_app(["aeviewer-bench"])


def process_events_for(seconds: float) -> None:
    """Run the event loop for ``seconds`` (timers fire, repaints happen)."""
    from PySide6.QtCore import QEventLoop
    from PySide6.QtWidgets import QApplication

    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        QApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 5)


def wait_until(condition: Callable[[], bool], timeout_s: float) -> bool:
    """Process events until ``condition()`` holds (True) or ``timeout_s`` passes (False)."""
    from PySide6.QtCore import QEventLoop
    from PySide6.QtWidgets import QApplication

    end = time.perf_counter() + timeout_s
    while not condition():
        if time.perf_counter() > end:
            return False
        QApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 5)
        # Let a worker thread take the GIL, as the app's event loop does while it sleeps in poll(): spinning here
        # kept it, and a background decode's every return from C++ waited out the 5 ms switch interval
        # (bench_map_layers' first tiles read 0.4 s where the decode itself took 3 ms)
        time.sleep(0.0005)
    return True


def send_mouse(widget: Any, kind: Any, pos: Any, button: Any, buttons: Any) -> None:
    """A real QMouseEvent delivered to ``widget`` (QTest.mouseMove cannot hold a button down)."""
    from PySide6.QtCore import QPointF, Qt
    from PySide6.QtGui import QMouseEvent
    from PySide6.QtWidgets import QApplication

    pos = QPointF(pos)
    event = QMouseEvent(kind, pos, QPointF(widget.mapToGlobal(pos.toPoint())), button, buttons,
                        Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, event)


class PaintCounter:
    """Counts Paint events reaching ``widget``; ``last`` is when the last one arrived and ``last_done`` when
    its painting finished (the filter hands the event to the widget itself, as Qt would next, to time it)."""

    def __init__(self, widget: Any) -> None:
        from PySide6.QtCore import QEvent, QObject

        outer = self

        class _Filter(QObject):
            def eventFilter(self, obj: Any, event: Any) -> bool:  # noqa: N802 - Qt's name
                if event.type() == QEvent.Type.Paint:
                    outer.count += 1
                    outer.last = time.perf_counter()
                    obj.event(event)
                    outer.last_done = time.perf_counter()
                    return True
                return False

        self.count = 0
        self.last = self.last_done = 0.0
        self._filter = _Filter()
        widget.installEventFilter(self._filter)
