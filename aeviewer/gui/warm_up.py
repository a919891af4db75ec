"""WarmUp: the one-time import the first optimiser pulls in, done on a background thread after the first paint."""
from __future__ import annotations

import gc
import threading

import torch


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
    thread, once, then freezes the start-up heap (:func:`freeze_startup_heap`). ``start()`` is
    idempotent; ``join()`` starts it first if nobody has."""

    def __init__(self) -> None:
        self._thread = threading.Thread(target=self._work, name="aeviewer-warm-up", daemon=True)
        self._started = False

    @staticmethod
    def _work() -> None:
        torch.optim.Adam([torch.zeros(1, requires_grad=True)])
        freeze_startup_heap()  # after the import, so its modules are frozen too

    def start(self) -> "WarmUp":
        if not self._started:
            self._started = True
            self._thread.start()
        return self

    def join(self, timeout: float | None = None) -> None:
        self.start()
        self._thread.join(timeout)

    def is_alive(self) -> bool:
        return self._thread.is_alive()


def warm_up_training_imports() -> WarmUp:
    """Start the warm-up import now (the app defers it to after its first paint: see app.py), so
    pressing Start later does not stall the GUI on the import lock. Returns it (join it to wait)."""
    return WarmUp().start()
