"""StallClock: watches the GUI thread's event loop for stalls, and tells the app's own from the machine's.

A zero-interval QTimer ticks as fast as the event loop turns; a gap between two ticks longer than GAP_S is kept
with what filled it, from Linux's per-thread schedstat: the GUI thread on a core (its own work), runnable but
queued for a core (the machine gave both cores to others: a loaded CI machine), or neither (blocked: waiting for
the GIL, a lock, a read). A GUI thread waiting for the GIL while the thread that holds it is queued for a core is
the machine's doing too, so the longest queue of any of this process's threads in the gap counts as the
machine's. A stall of the app is the rest; a wall-clock gap alone fails on a loaded machine without saying
anything about the app.
"""
from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass

from PySide6.QtCore import QTimer

GAP_S = 0.02  # shorter gaps are an event loop at work; only longer ones are kept (a tick list grew to millions)


def thread_schedule(tid: int | None = None) -> tuple[float, float]:
    """(seconds on a core, seconds runnable but queued for one) of thread ``tid`` (the calling one by default);
    zeros without schedstat."""
    try:
        with open(f"/proc/self/task/{tid or threading.get_native_id()}/schedstat") as stat:
            ran, queued, _ = stat.read().split()
    except (OSError, ValueError):
        return 0.0, 0.0
    return int(ran) / 1e9, int(queued) / 1e9


def queued_by_thread() -> dict[int, float]:
    """Seconds each thread of this process has been runnable but queued for a core."""
    try:
        tids = [int(t) for t in os.listdir("/proc/self/task")]
    except OSError:
        return {}
    return {tid: thread_schedule(tid)[1] for tid in tids}


@dataclass
class Gap:
    """A pause of over GAP_S between two ticks, ending at ``at`` (perf_counter), and what filled it."""

    seconds: float
    at: float
    process_cpu: float  # every thread of this process: the GUI thread, or another holding the GIL
    ran: float  # the GUI thread on a core
    queued: float  # the GUI thread runnable, waiting for a core
    longest_queue: float  # the longest any thread of this process waited for a core (a GIL holder, say)

    @property
    def own(self) -> float:
        """The app's share: the gap less the time the machine kept the GUI thread, or the thread it waited for,
        from a core."""
        return self.seconds - max(self.queued, self.longest_queue)

    @property
    def blocked(self) -> float:
        """The GUI thread neither running nor queued: the GIL, a lock, a blocking read, a sleep."""
        return self.seconds - self.ran - self.queued

    def describe(self, start: float) -> str:
        return (f"{self.seconds * 1000:.0f} ms at {self.at - start:.2f} s (GUI thread ran {self.ran * 1000:.0f}, "
                f"queued {self.queued * 1000:.0f}; a thread queued {self.longest_queue * 1000:.0f}; "
                f"process CPU {self.process_cpu * 1000:.0f} ms)")


class StallClock:
    """Start it on the GUI thread; ``ticks`` counts the event loop's turns, ``gaps`` keeps the long ones."""

    def __init__(self) -> None:
        self.ticks = 0
        self.gaps: list[Gap] = []
        self.started = time.perf_counter()
        self._last = (self.started, time.process_time(), *thread_schedule())
        self._queues = queued_by_thread()
        self._timer = QTimer()
        self._timer.setInterval(0)
        self._timer.timeout.connect(self._tick)

    def start(self) -> None:
        self.started = time.perf_counter()
        self._last = (self.started, time.process_time(), *thread_schedule())
        self._queues = queued_by_thread()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def longest(self, gaps: list[Gap] | None = None, n: int = 3) -> str:
        chosen = sorted(self.gaps if gaps is None else gaps, key=lambda g: g.seconds)[-n:]
        return f"{self.ticks} ticks; longest gaps: " + "; ".join(g.describe(self.started) for g in chosen)

    def _tick(self) -> None:
        now, cpu, (ran, queued), queues = time.perf_counter(), time.process_time(), thread_schedule(), queued_by_thread()
        last_now, last_cpu, last_ran, last_queued = self._last
        if now - last_now > GAP_S:
            longest = max((q - self._queues[t] for t, q in queues.items() if t in self._queues), default=0.0)
            self.gaps.append(Gap(now - last_now, now, cpu - last_cpu, ran - last_ran, queued - last_queued, longest))
        self.ticks += 1
        self._last = (now, cpu, ran, queued)
        self._queues = queues
