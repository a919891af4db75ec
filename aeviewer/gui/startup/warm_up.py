"""WarmUp: the one-time import the first optimiser pulls in, done on a background thread after the first paint."""
from __future__ import annotations

import gc
import threading

import torch
from PySide6.QtCore import QTimer


def freeze_startup_heap() -> None:
    """Collect once, then exempt every object alive now from later full collections.

    A full collection walks every tracked object (~330,000 once torch, pyqtgraph and the window are
    up) while holding the GIL: 0.1-0.3 s on a 2-core machine, long enough to stall a repaint mid-training.
    What is alive after start-up lives as long as the app, so it is frozen (``gc.freeze``) and later
    full collections walk only what the session itself made.
    """
    gc.collect()
    gc.freeze()


class WarmUp:
    """Imports what the first optimizer construction pulls in (torch._dynamo, ~1 s) on a background
    thread, once, then freezes the start-up heap (:func:`freeze_startup_heap`) on the GUI thread, since a
    collection must not run on another thread (gui_thread_gc.py): a GUI-thread timer sees the import end,
    or ``join()`` freezes once the thread is done. ``start()`` is idempotent; ``join()`` starts it first if
    nobody has. Make it on the GUI thread."""

    POLL_MS = 100

    def __init__(self) -> None:
        self._thread = threading.Thread(target=self._work, name="aeviewer-warm-up", daemon=True)
        self._started = False
        self.frozen = False
        self._poll = QTimer()
        self._poll.setInterval(self.POLL_MS)
        self._poll.timeout.connect(self._freeze_when_done)

    @staticmethod
    def _work() -> None:
        torch.optim.Adam([torch.zeros(1, requires_grad=True)])

    def start(self) -> "WarmUp":
        if not self._started:
            self._started = True
            self._thread.start()
            self._poll.start()
        return self

    def join(self, timeout: float | None = None) -> None:
        self.start()
        self._thread.join(timeout)
        self._freeze_when_done()

    def is_alive(self) -> bool:
        return self._thread.is_alive()

    def _freeze_when_done(self) -> None:
        if self.frozen or self._thread.is_alive():
            return
        self._poll.stop()
        self.frozen = True
        freeze_startup_heap()  # after the import, so its modules are frozen too


def warm_up_training_imports() -> WarmUp:
    """Start the warm-up import now (the app defers it to after its first paint: see app.py), so
    pressing Start later does not stall the GUI on the import lock. Returns it (join it to wait)."""
    return WarmUp().start()
