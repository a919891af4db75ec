"""ProgressLine: the training commands' one-line progress bar on stderr."""
from __future__ import annotations

import sys
import time
from typing import Any


class ProgressLine:
    """A one-line progress bar on stderr, redrawn at most 10 times a second."""

    def __init__(self) -> None:
        self._last = 0.0
        self._shown = False
        self._tty = sys.stderr.isatty()

    def step(self, info: Any) -> None:
        now = time.monotonic()
        if not self._tty or now - self._last < 0.1:
            return
        self._last = now
        done = info.batch / max(1, info.n_batches)
        bar = "#" * int(done * 30)
        sys.stderr.write(f"\repoch {info.epoch}/{info.epochs} [{bar:<30}] {info.batch}/{info.n_batches}"
                         f"  {info.samples_per_s:,.0f} samples/s  ETA {info.eta_s:.0f} s ")
        sys.stderr.flush()
        self._shown = True

    def clear(self) -> None:
        if self._shown:
            sys.stderr.write("\r" + " " * 100 + "\r")
            sys.stderr.flush()
            self._shown = False
