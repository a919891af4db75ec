"""The one background-job mechanism (aeviewer.gui.jobs): progress on the GUI thread, cancel, newest wins,
one-line errors, wait."""
from __future__ import annotations

import threading

import pytest

from aeviewer.errors import ConfigError
from aeviewer.gui.jobs import Jobs, one_line


@pytest.fixture
def runner(qtbot):
    return Jobs()


def test_progress_and_the_result_arrive_on_the_gui_thread(qtbot, runner):
    gui, seen, results = threading.current_thread(), [], []

    def work(job):
        for step in range(5):
            job.send(step)
        return "done"

    runner.submit(work, on_progress=lambda p: seen.append((p, threading.current_thread() is gui)),
                  on_result=lambda r: results.append((r, threading.current_thread() is gui)))
    qtbot.waitUntil(lambda: bool(results), timeout=5000)
    assert seen == [(k, True) for k in range(5)]
    assert results == [("done", True)]


def test_coalesced_progress_never_goes_backwards(qtbot, runner):
    seen = []
    job = runner.submit(lambda job: [job.progress(k) for k in range(1000)] and None, on_progress=seen.append)
    runner.wait(job, 5)
    assert seen and seen[-1] == 999 and seen == sorted(seen)


def test_cancel_stops_a_job_between_steps(qtbot, runner):
    steps, cancelled, results = [], [], []
    release = threading.Event()

    def work(job):
        for step in range(100):
            job.check()
            steps.append(step)
            release.wait(5)
        return "finished"

    job = runner.submit(work, key="k", on_result=results.append, on_cancel=lambda: cancelled.append(True))
    qtbot.waitUntil(lambda: bool(steps), timeout=5000)
    runner.cancel("k")
    release.set()
    assert job.wait(5)
    qtbot.wait(50)
    assert len(steps) <= 2 and cancelled == [True] and results == []


def test_newest_wins_an_older_result_never_arrives_after_a_newer_one(qtbot, runner):
    results = []
    hold = threading.Event()
    old = runner.submit(lambda job: hold.wait(5) and "old", key="encode", on_result=results.append)
    new = runner.submit(lambda job: "new", key="encode", on_result=results.append)
    qtbot.waitUntil(lambda: bool(results), timeout=5000)
    hold.set()
    assert old.wait(5) and not new.running
    qtbot.wait(50)
    assert results == ["new"] and old.cancelled


def test_an_exception_becomes_one_line(qtbot, runner):
    errors = []

    def bug(job):
        raise ValueError("bad shape\nsecond line")

    runner.submit(bug, on_error=errors.append)
    runner.submit(lambda job: (_ for _ in ()).throw(ConfigError("no such file: x.npz\nmore")), on_error=errors.append)
    qtbot.waitUntil(lambda: len(errors) == 2, timeout=5000)
    assert sorted(errors) == ["ValueError: bad shape", "no such file: x.npz"]
    assert one_line(RuntimeError()) == "RuntimeError"


def test_wait_returns_the_result_and_delivers_it_once(qtbot, runner):
    results = []
    job = runner.submit(lambda job: 42, on_result=results.append)
    assert runner.wait(job, 5) == 42
    qtbot.wait(50)
    assert results == [42]


def test_at_exit_a_running_job_is_cancelled_and_waited_for(tmp_path):
    """The interpreter's exit cancels running jobs and waits for them (a daemon thread still in torch at
    finalisation aborted the process); the job sees the cancel and ends before the process does."""
    import subprocess
    import sys
    import textwrap

    marker = tmp_path / "saw-cancel"
    script = textwrap.dedent(f"""
        import time
        from PySide6.QtCore import QCoreApplication
        from aeviewer.gui.jobs import Jobs
        app = QCoreApplication([])
        def work(job):
            while not job.cancelled:
                time.sleep(0.01)
            time.sleep(0.2)  # a last step after the cancel, as a decode's chunk
            open({str(marker)!r}, "w").write("yes")
        Jobs().submit(work)
        time.sleep(0.1)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert marker.read_text() == "yes"
