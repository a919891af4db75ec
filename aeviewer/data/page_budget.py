"""PageBudget: how much a memory-mapped image set may have read before its pages are handed back to the kernel."""
from __future__ import annotations

import mmap

import numpy as np


class PageBudget:
    """Drops a read-only mapping's pages from this process once ``limit`` bytes have been read through it."""

    def __init__(self, mapping: np.memmap, limit: int) -> None:
        self._mmap = getattr(mapping, "_mmap", None)  # numpy's mmap.mmap object (None: not a real mapping)
        self.limit = max(int(limit), 1)
        self.read_since_release = 0
        self.releases = 0

    def spent(self, n_bytes: int) -> None:
        self.read_since_release += n_bytes
        if self.read_since_release >= self.limit:
            self.release()

    def release(self) -> None:
        if self._mmap is not None and hasattr(self._mmap, "madvise") and hasattr(mmap, "MADV_DONTNEED"):
            self._mmap.madvise(mmap.MADV_DONTNEED)  # a clean, read-only, file-backed mapping: re-read on demand
        self.read_since_release = 0
        self.releases += 1
