"""CoalescingTimer: run a slot once after a burst of requests (many changes, one redraw)."""
from __future__ import annotations

from typing import Any, Callable

from PySide6.QtCore import QObject, QTimer


class CoalescingTimer(QTimer):
    """A single-shot timer: ``request()`` schedules ``slot`` ``interval_ms`` from now (0: the next event-loop
    turn) unless it is already scheduled, so a burst of requests costs one call; ``stop()`` cancels it."""

    def __init__(self, parent: QObject, slot: Callable[[], Any], interval_ms: int = 0) -> None:
        super().__init__(parent)
        self.setSingleShot(True)
        self.setInterval(interval_ms)
        self.timeout.connect(slot)

    def request(self, delay_ms: int | None = None) -> None:
        """Schedule the slot (after ``delay_ms`` instead of the interval, if given) unless it is pending."""
        if not self.isActive():
            self.start() if delay_ms is None else self.start(delay_ms)
