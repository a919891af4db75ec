"""WarmUp: the one-time import the first optimiser pulls in, done as a background job after the first paint."""
from __future__ import annotations

import gc

import torch

from aeviewer.gui.jobs import Job, shared_jobs


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
    """Imports what the first optimizer construction pulls in (torch._dynamo, ~1 s) in a background job,
    once, then freezes the start-up heap (:func:`freeze_startup_heap`) on the GUI thread, since a
    collection must not run on another thread (gui_thread_gc.py): the job's result arrives there, or
    ``join()`` freezes once the job is done. ``start()`` is idempotent; ``join()`` starts it first if
    nobody has. Make it on the GUI thread."""

    def __init__(self) -> None:
        self._job: Job | None = None
        self.frozen = False

    @staticmethod
    def _work(job: Job) -> None:
        torch.optim.Adam([torch.zeros(1, requires_grad=True)])

    def start(self) -> "WarmUp":
        if self._job is None:
            self._job = shared_jobs().submit(self._work, on_result=lambda _: self._freeze_when_done(),
                                             name="aeviewer-warm-up")
        return self

    def join(self, timeout: float | None = None) -> None:
        self.start()
        self._job.wait(timeout)
        self._freeze_when_done()

    @property
    def started(self) -> bool:
        return self._job is not None

    def is_alive(self) -> bool:
        return self._job is not None and self._job.running

    def _freeze_when_done(self) -> None:
        if self.frozen or self._job is None or self._job.running:
            return
        self.frozen = True
        freeze_startup_heap()  # after the import, so its modules are frozen too


def warm_up_training_imports() -> WarmUp:
    """Start the warm-up import now (the app defers it to after its first paint: see app.py), so
    pressing Start later does not stall the GUI on the import lock. Returns it (join it to wait)."""
    return WarmUp().start()
