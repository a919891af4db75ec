"""projections.worker.MapWorker: a map computed in a child process streams its layout, finishes, is cached,
places new points, and cancel ends the process."""
from __future__ import annotations

import os
import queue
import tempfile
import threading
import time

import numpy as np
import pytest

from aeviewer.errors import ConfigError
from aeviewer.projections.worker import MapEvent, MapWorker, _serve

pytest.importorskip("openTSNE")  # the maps extra: pip install -e ".[maps]"

# One numba cache for every test run: a cold one costs pynndescent's compile (minutes on 2 busy cores).
os.environ.setdefault("NUMBA_CACHE_DIR", os.path.join(tempfile.gettempdir(), f"aeviewer-test-numba-{os.getuid()}"))


def blobs(n: int = 300, latent: int = 8, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(3, latent)) * 10
    return (centres[rng.integers(0, 3, n)] + rng.normal(size=(n, latent))).astype(np.float32)


def events_until(worker: MapWorker, what: str, timeout_s: float = 300.0) -> list[MapEvent]:
    seen: list[MapEvent] = []
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        seen += worker.poll()
        if any(e.what in (what, "error") for e in seen):
            return seen
        time.sleep(0.05)
    raise AssertionError(f"no {what!r} event within {timeout_s} s; saw {[e.what for e in seen]}")


@pytest.fixture
def worker():
    w = MapWorker()
    yield w
    w.close()


@pytest.mark.slow
def test_a_tsne_map_streams_its_layout_then_finishes_then_comes_from_the_cache(worker):
    codes = blobs()
    job = worker.start("tsne", codes, {"perplexity": 20})
    seen = events_until(worker, "done")
    assert [e.message for e in seen if e.what == "error"] == []
    layouts = [e for e in seen if e.what == "progress" and e.coords is not None]
    assert layouts and all(e.coords.shape == (300, 2) for e in layouts)
    fractions = [e.fraction for e in seen if e.what == "progress"]
    assert fractions == sorted(fractions) and 0 < fractions[-1] <= 1
    done = seen[-1]
    assert done.what == "done" and done.job == job and not done.cached and done.coords.shape == (300, 2)
    assert not np.array_equal(layouts[0].coords, done.coords)  # the layout moved while it formed

    placed_request = worker.transform(codes[:3])
    placed = [e for e in events_until(worker, "placed", 30) if e.what == "placed"][0]
    assert placed.request == placed_request and placed.coords.shape == (3, 2)
    spread = np.ptp(done.coords, axis=0).max()
    assert np.linalg.norm(placed.coords - done.coords[:3], axis=1).max() < 0.2 * spread  # near their own points

    worker.close()
    started = time.perf_counter()
    again = MapWorker()
    again.start("tsne", codes, {"perplexity": 20})
    hit = again.poll()
    assert time.perf_counter() - started < 1.0
    assert [e.what for e in hit] == ["done"] and hit[0].cached
    np.testing.assert_array_equal(hit[0].coords, done.coords)
    assert again.pid is None  # answered without a process


def test_cancel_ends_the_child_process(worker):
    worker.start("tsne", blobs(3000))
    pid = worker.pid
    assert pid is not None
    time.sleep(0.5)
    worker.cancel()
    assert worker.pid is None and not worker.busy
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # gone and reaped: no orphan, no zombie
    assert worker.poll() == []  # nothing of the cancelled job comes back


def test_the_child_runs_below_the_windows_priority(worker):
    worker.start("tsne", blobs(3000))
    pid = worker.pid
    deadline = time.monotonic() + 30
    while os.getpriority(os.PRIO_PROCESS, pid) == os.getpriority(os.PRIO_PROCESS, 0) and time.monotonic() < deadline:
        time.sleep(0.05)  # the child lowers its own priority once it has started
    assert os.getpriority(os.PRIO_PROCESS, pid) > os.getpriority(os.PRIO_PROCESS, 0)
    worker.cancel()


def test_bad_parameters_are_refused_before_any_process_starts(worker):
    with pytest.raises(ConfigError, match="perplexity"):
        worker.start("tsne", blobs(), {"perplexity": 0})
    with pytest.raises(ValueError):
        worker.start("pca", blobs())
    assert worker.pid is None


def test_the_child_leaves_when_its_parent_is_gone():
    commands: queue.Queue = queue.Queue()
    loop = threading.Thread(target=_serve, args=(commands, queue.Queue(), -1), daemon=True)  # -1: never our parent
    loop.start()
    loop.join(5.0)
    assert not loop.is_alive()


def test_a_script_without_a_main_guard_can_start_the_worker(tmp_path):
    """spawn re-imports the parent's main module; the worker hides it, so such a script does not run twice."""
    import subprocess
    import sys
    from pathlib import Path

    script = tmp_path / "no_guard.py"
    script.write_text(
        "import time, numpy as np\n"
        "from aeviewer.projections.worker import MapWorker\n"
        "print('script ran', flush=True)\n"
        "w = MapWorker(use_cache=False)\n"
        "w.start('tsne', np.random.default_rng(0).normal(size=(3000, 5)).astype(np.float32))\n"
        "time.sleep(2)\n"
        "print('alive', w._process.is_alive(), flush=True)\n"
        "w.cancel()\n")
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=120)
    assert done.stdout.split("\n")[:2] == ["script ran", "alive True"], done.stdout + done.stderr


def test_a_worker_that_dies_is_reported_as_an_error(worker):
    worker.start("tsne", blobs(3000))
    worker._process.kill()
    worker._process.join(5)
    events = worker.poll()
    assert [e.what for e in events] == ["error"] and "stopped" in events[0].message and not worker.busy


def test_a_new_map_replaces_one_still_forming(worker):
    worker.start("tsne", blobs(3000))
    first_pid = worker.pid
    job = worker.start("tsne", blobs(3000, seed=1), {"perplexity": 10})
    assert worker.pid != first_pid and worker.busy and worker.job == job
    with pytest.raises(ProcessLookupError):
        os.kill(first_pid, 0)
