"""Python's cyclic garbage collector, run only on the GUI thread.

An automatic collection runs in whichever thread happens to allocate when a threshold is crossed. When
one on the training thread frees a cycle that holds Qt objects made on the GUI thread, their C++
destructors run there: ``~QObject`` takes a Qt lock and then waits for the GIL, while the GUI thread,
holding the GIL, waits for that lock to delete an object of its own. The app hangs for good (seen in
tests/gui/training/test_training_panel.py about one run in four, with py-spy showing exactly those two stacks).
So automatic collection is off while the app runs, and a GUI-thread timer collects by the same
generation thresholds instead, as pyqtgraph's ``GarbageCollector`` does; this one can also be stopped.
"""
from __future__ import annotations

import gc

from PySide6.QtCore import QCoreApplication, QObject, QThread, QTimer

CHECK_INTERVAL_MS = 250  # allocations pile up at most this long; a check that finds nothing costs ~1 µs


class GuiThreadCollector(QObject):
    """Collects from a timer on the thread that made it, while automatic collection is off."""

    def __init__(self, interval_ms: int = CHECK_INTERVAL_MS, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.thresholds = gc.get_threshold()
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.collect_due)

    def start(self) -> None:
        gc.disable()
        self._timer.start()

    def stop(self) -> None:
        """Automatic collection on again (the GUI tests end and the core tests follow)."""
        self._timer.stop()
        gc.enable()

    def is_active(self) -> bool:
        return self._timer.isActive()

    def collect_due(self) -> int:
        """Collect what the automatic collector would have by now: a generation is due when its count and
        every younger one's passed their thresholds. Returns the number of unreachable objects found."""
        counts = gc.get_count()
        due = -1
        for generation in range(3):
            if counts[generation] <= self.thresholds[generation]:
                break
            due = generation
        return gc.collect(due) if due >= 0 else 0


_collector: GuiThreadCollector | None = None


def collect_on_gui_thread(app: QCoreApplication) -> GuiThreadCollector:
    """Turn automatic collection off and collect on ``app``'s thread from now on; the call must come from
    that thread. Idempotent: every call returns the one collector, running."""
    global _collector
    if QThread.currentThread() is not app.thread():
        raise RuntimeError("collect_on_gui_thread must be called on the GUI thread")
    if _collector is None:
        _collector = GuiThreadCollector(parent=app)
    _collector.start()
    return _collector
