"""Garbage is collected on the GUI thread only (gui_thread_gc.py): a collection on the training thread
that frees Qt objects made on the GUI thread deadlocked the two."""
from __future__ import annotations

import gc
import threading

from aeviewer.gui.startup.gui_thread_gc import collect_on_gui_thread
from aeviewer.gui.startup.warm_up import WarmUp


class Cycle:
    """A reference cycle that records the thread its finaliser ran on."""

    def __init__(self, record: list[threading.Thread]) -> None:
        self.me = self
        self.record = record

    def __del__(self) -> None:
        self.record.append(threading.current_thread())


def test_garbage_dropped_while_another_thread_allocates_is_freed_on_the_gui_thread(qtbot, qapp):
    collect_on_gui_thread(qapp)
    freed_on: list[threading.Thread] = []
    Cycle(freed_on)  # unreachable at once: only a collection frees it

    kept: list[list[list]] = []

    def allocate() -> None:  # far past every threshold: automatic collection would run right here
        kept.append([[] for _ in range(50_000)])

    worker = threading.Thread(target=allocate, name="allocator")
    worker.start()
    worker.join()
    assert freed_on == []
    qtbot.waitUntil(lambda: bool(freed_on), timeout=3000)
    assert freed_on == [threading.main_thread()]
    kept.clear()


def test_the_collector_collects_only_what_is_due_and_stop_gives_collection_back(qapp):
    collector = collect_on_gui_thread(qapp)
    assert collector is collect_on_gui_thread(qapp) and collector.is_active() and not gc.isenabled()
    gc.collect()
    assert gc.get_count()[0] <= collector.thresholds[0]
    freed_on: list[threading.Thread] = []
    Cycle(freed_on)
    assert collector.collect_due() == 0 and freed_on == []  # below the threshold: nothing yet
    kept = [[] for _ in range(collector.thresholds[0] + 1)]
    assert collector.collect_due() >= 1 and len(freed_on) == 1
    assert gc.get_count()[0] < collector.thresholds[0]
    del kept
    collector.stop()
    try:
        assert gc.isenabled() and not collector.is_active()
    finally:
        collect_on_gui_thread(qapp)  # the rest of the GUI tests run as the app does


def test_installing_from_another_thread_is_refused(qapp):
    errors: list[BaseException] = []

    def install() -> None:
        try:
            collect_on_gui_thread(qapp)
        except RuntimeError as err:
            errors.append(err)

    thread = threading.Thread(target=install)
    thread.start()
    thread.join()
    assert len(errors) == 1 and "GUI thread" in str(errors[0])


def test_the_warm_up_freezes_the_heap_on_the_gui_thread_once_its_import_is_done(qtbot):
    gc.unfreeze()
    warm_up = WarmUp().start()
    assert not warm_up.frozen  # the import thread never collects
    qtbot.waitUntil(lambda: warm_up.frozen, timeout=60_000)
    try:
        assert not warm_up.is_alive() and gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
