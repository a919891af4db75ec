"""Background jobs: aeviewer.gui.jobs against superqt's create_worker, measured in one run.

Three measures, the same work written in each:
- latency: submit a tiny job (returns a number) and take the time until its result callback runs on the GUI
  thread; one job at a time, p50 and p99 over N jobs;
- supersede: submit M jobs in a row where each new one supersedes the one before (each job loops in small steps
  until told to stop); the time from the first submit to the newest result delivered, and how many stale
  results reached the GUI thread (newest wins: must be 0). superqt has no key, so the superseding is written by
  hand around it (quit the previous worker, drop any result that is not the newest's);
- import: a fresh interpreter importing PySide6.QtCore plus each (subprocess, best of 3).
superqt is optional (not a dependency of aeviewer): without it only our figures print.

    python benchmarks/bench_jobs.py --quick   # seconds: 40 tiny jobs, 100 superseded (CI smoke)
    python benchmarks/bench_jobs.py           # the figures: 200 tiny jobs, 1,000 superseded
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import time
from typing import Any, Callable

from common import header, offscreen_qt, percentile

STEP_S = 0.0005  # one step of a superseded job: sleeps, as work that releases the GIL does


def pump_until(done: Callable[[], bool], timeout_s: float = 30.0) -> None:
    from PySide6.QtCore import QCoreApplication, QEventLoop

    end = time.perf_counter() + timeout_s
    while not done() and time.perf_counter() < end:
        QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 5)


# -- ours ---------------------------------------------------------------------------------------------------------
def ours_latency(n: int) -> list[float]:
    from aeviewer.gui.jobs import Jobs

    runner, times = Jobs(), []
    for _ in range(n):
        got: list[float] = []
        start = time.perf_counter()
        runner.submit(lambda job: 1, on_result=lambda r: got.append(time.perf_counter()))
        pump_until(lambda: bool(got))
        times.append(got[0] - start)
    return times


def steps_until_cancelled(cancelled: Callable[[], bool], k: int) -> int:
    for _ in range(200):
        if cancelled():
            return -1
        time.sleep(STEP_S)
    return k


def ours_supersede(m: int) -> tuple[float, int]:
    from aeviewer.gui.jobs import Jobs

    runner, results = Jobs(), []
    start = time.perf_counter()
    for k in range(m):
        runner.submit(lambda job, k=k: steps_until_cancelled(lambda: job.cancelled, k), key="lane",
                      on_result=results.append)
    pump_until(lambda: bool(results))
    seconds = time.perf_counter() - start
    pump_until(lambda: False, 0.3)  # any late stale result would arrive now
    return seconds, sum(r != m - 1 for r in results)


# -- superqt ----------------------------------------------------------------------------------------------------
def superqt_latency(n: int) -> list[float]:
    from superqt.utils import create_worker

    times = []
    for _ in range(n):
        got: list[float] = []
        start = time.perf_counter()
        create_worker(lambda: 1, _connect={"returned": lambda r: got.append(time.perf_counter())})
        pump_until(lambda: bool(got))
        times.append(got[0] - start)
    return times


def superqt_supersede(m: int) -> tuple[float, int]:
    from superqt.utils import create_worker

    results: list[int] = []
    newest: dict[str, Any] = {}

    def steps(k: int):  # a generator worker: superqt checks quit() only at a yield
        for _ in range(200):
            yield
            time.sleep(STEP_S)
        return k

    def keep(r: int) -> None:
        results.append(r)

    start = time.perf_counter()
    for k in range(m):
        if "lane" in newest:
            newest["lane"].quit()
        worker = create_worker(steps, k, _start_thread=False)
        worker.returned.connect(keep)
        newest["lane"] = worker
        worker.start()
    pump_until(lambda: m - 1 in results, 120)
    seconds = time.perf_counter() - start
    pump_until(lambda: False, 0.3)
    return seconds, sum(r != m - 1 for r in results)


def import_seconds(module: str) -> float:
    code = f"import PySide6.QtCore{'; import ' + module if module else ''}"
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run of a few seconds")
    args = parser.parse_args()
    n, m = (40, 100) if args.quick else (200, 1000)
    offscreen_qt()
    header(f"bench_jobs: {n} tiny jobs, {m} superseded jobs")
    try:
        import superqt  # noqa: F401
        have_superqt = True
    except ImportError:
        have_superqt = False
        print("  superqt is not installed: only aeviewer.gui.jobs is measured")

    ours = ours_latency(n)
    print(f"latency submit->result, jobs.py: p50 {percentile(ours, 50) * 1e3:.3f} ms, p99 {percentile(ours, 99) * 1e3:.3f} ms")
    ours_s, ours_stale = ours_supersede(m)
    print(f"{m} superseded, jobs.py: {ours_s:.3f} s to the newest result, {ours_stale} stale results delivered")
    if have_superqt:
        theirs = superqt_latency(n)
        print(f"latency submit->result, superqt: p50 {percentile(theirs, 50) * 1e3:.3f} ms, "
              f"p99 {percentile(theirs, 99) * 1e3:.3f} ms")
        theirs_s, theirs_stale = superqt_supersede(m)
        print(f"{m} superseded, superqt: {theirs_s:.3f} s to the newest result, {theirs_stale} stale results delivered")
        if not args.quick:
            base = import_seconds("")
            print(f"import on top of PySide6.QtCore: jobs.py {import_seconds('aeviewer.gui.jobs') - base:.3f} s, "
                  f"superqt.utils {import_seconds('superqt.utils') - base:.3f} s")
        print(f"ratio superqt/jobs.py: latency p50 {percentile(theirs, 50) / percentile(ours, 50):.2f}, "
              f"p99 {percentile(theirs, 99) / percentile(ours, 99):.2f}, superseded {theirs_s / ours_s:.2f}")
    print(f"figure: jobs.py latency p50 {percentile(ours, 50) * 1e3:.3f} ms, {m} superseded in {ours_s:.3f} s")


if __name__ == "__main__":
    main()
