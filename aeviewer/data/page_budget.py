"""PageBudget: how much of a memory-mapped image set this process may hold before its pages are handed back."""
from __future__ import annotations

import mmap
from pathlib import Path

import numpy as np

STATUS = Path("/proc/self/status")


def resident_file_bytes() -> int | None:
    """This process's file-backed resident memory (Linux's RssFile), None where /proc does not say."""
    try:
        with STATUS.open() as status:
            for line in status:
                if line.startswith("RssFile:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


class PageBudget:
    """Drops a read-only mapping's pages from this process once it holds ``limit`` bytes more of file pages than
    when the budget was made.

    Why the resident size and not the bytes read: the kernel maps a file's page cache in large folios (up to 2 MB),
    so one random 12 KB image can bring a whole folio into this process. Counting the bytes read, a 4.9 GB set read
    in random batches reached 5 GB of RSS under a 1 GB budget (benchmarks/bench_mmap.py). Where /proc is missing,
    the bytes read are counted instead."""

    def __init__(self, mapping: np.memmap, limit: int) -> None:
        self._mmap = getattr(mapping, "_mmap", None)  # numpy's mmap.mmap object (None: not a real mapping)
        self.limit = max(int(limit), 1)
        self._baseline = resident_file_bytes()  # the libraries' pages: not ours to drop
        self.read_since_release = 0
        self.releases = 0

    def spent(self, n_bytes: int) -> None:
        self.read_since_release += n_bytes
        if self._over_budget():
            self.release()

    def _over_budget(self) -> bool:
        resident = resident_file_bytes() if self._baseline is not None else None
        if resident is None:
            return self.read_since_release >= self.limit
        return resident - self._baseline >= self.limit

    def release(self) -> None:
        if self._mmap is not None and hasattr(self._mmap, "madvise") and hasattr(mmap, "MADV_DONTNEED"):
            self._mmap.madvise(mmap.MADV_DONTNEED)  # a clean, read-only, file-backed mapping: re-read on demand
        self.read_since_release = 0
        self.releases += 1
