"""UMAP / t-SNE in a separate process, so numba's and openTSNE's threads never compete with the GUI thread.

:class:`MapWorker` owns one "spawn" child process: ``warm_up()`` starts it early and has it import umap-learn
and openTSNE (28 s cold, 4 s warm here) before anyone asks for a map; ``start()`` sends the codes;
``poll()`` (the GUI calls it from a QTimer) returns what came back since: progress, intermediate layouts,
the final map, errors, and the positions of new points placed by ``transform()``. ``cancel()`` terminates
the process (and waits until it is gone); the next ``start`` spawns a fresh one. A finished map is saved
to the cache (:mod:`aeviewer.projections.cache`) and a second ``start`` of the same map answers from it
without the process. No Qt here: the GUI, scripts and tests drive it the same way.
"""
from __future__ import annotations

import contextlib
import itertools
import multiprocessing as mp
import os
import queue
import sys
import traceback
import types
from dataclasses import dataclass
from typing import Any, Iterator, Mapping

import numpy as np

from aeviewer.util.paths import numba_cache_dir
from aeviewer.projections import cache
from aeviewer.projections.registry import MAP_KINDS, checked_params, kind_of, require_module

PARENT_CHECK_S = 1.0  # how often an idle child checks that its parent is still alive (else it exits)
NUMBA_CACHE_ENV = "NUMBA_CACHE_DIR"


@dataclass(frozen=True)
class MapEvent:
    """One thing the worker reports. ``what``: "progress" (``stage``, ``fraction``, maybe ``coords``: a
    layout as it forms), "done" (``coords``: the final map; ``cached`` when it came from the cache),
    "placed" (``coords``: positions of the points sent to ``transform``, ``request`` its id), "error"
    (``message``: one line)."""

    what: str
    job: int
    stage: str = ""
    fraction: float = 0.0
    coords: np.ndarray | None = None
    message: str = ""
    request: int = 0
    cached: bool = False


class MapWorker:
    """Computes maps in a child process; see the module docstring. Not thread-safe: one caller."""

    def __init__(self, n_jobs: int = 1, use_cache: bool = True) -> None:
        self.n_jobs = n_jobs  # numba / openTSNE threads in the child (1 leaves a core to the GUI on 2 cores)
        self.use_cache = use_cache
        self._ctx = mp.get_context("spawn")
        self._process: Any = None
        self._commands: Any = None
        self._events: Any = None
        self._jobs = itertools.count(1)
        self._requests = itertools.count(1)
        self.job = 0  # the current job; events of older jobs are dropped
        self._pending: list[MapEvent] = []  # answers that needed no process (cache hits, errors)
        self._key: str | None = None
        self.busy = False
        self.from_cache = False  # the current job's map came from the cache (no estimator for transform)
        self.ready = False  # the child has imported and compiled the map packages (see warm_up)

    # -- the process ----------------------------------------------------------------------------------
    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def warm_up(self, kinds: tuple[str, ...] = MAP_KINDS) -> None:
        """Start the child now and have it import and compile ``kinds`` (those installed) on a tiny map, so the
        first real map skips the imports (4-28 s) and numba's compiling (a minute here); ``ready`` turns
        True once that is done."""
        self._ensure_process()
        self._commands.put(("warm", [k for k in kinds if _installed(kind_of(k).module)], self.n_jobs))

    def _ensure_process(self) -> None:
        if self._process is not None and self._process.is_alive():
            return
        os.environ.setdefault(NUMBA_CACHE_ENV, str(numba_cache_dir()))  # the child inherits it; one already set wins
        self._commands, self._events = self._ctx.Queue(), self._ctx.Queue()
        self._process = self._ctx.Process(target=_serve, args=(self._commands, self._events, os.getpid()),
                                          name="aeviewer-maps", daemon=True)
        with _main_module_hidden():
            self._process.start()

    # -- jobs ---------------------------------------------------------------------------------------
    def start(self, kind: str, latents: np.ndarray, params: Mapping[str, Any] | None = None) -> int:
        """Ask for a ``kind`` map of ``latents`` (N, L); returns the job id its events carry.

        A bad kind or parameter raises ConfigError at once (a missing package names the extra to install)."""
        checked = checked_params(kind, params)
        if kind_of(kind).linear:
            raise ValueError(f"{kind} is computed directly, not by the map worker")
        require_module(kind)
        latents = np.ascontiguousarray(latents, np.float32)
        if self.busy:  # the child works one map at a time: a new one must not queue behind the old
            self.cancel()
        self.job = next(self._jobs)
        self._key = cache.map_key(kind, latents, checked) if self.use_cache else None
        found = cache.load_map(self._key, len(latents)) if self._key else None
        self.from_cache = found is not None
        if found is not None:
            self.busy = False
            self._pending.append(MapEvent("done", self.job, "cached", 1.0, found, cached=True))
            return self.job
        self._ensure_process()
        self.busy = True
        self._commands.put(("fit", self.job, kind, latents, checked, self.n_jobs))
        return self.job

    def transform(self, z: np.ndarray) -> int | None:
        """Place new codes ``z`` (M, L) on the current job's fitted map in the background; the answer is a
        "placed" event with this request id. None when the map came from the cache (no fitted estimator
        in the process: place them with ``MapProjection.to_2d`` instead) or none is running."""
        if self.from_cache or self._process is None or not self._process.is_alive():
            return None
        request = next(self._requests)
        self._commands.put(("transform", self.job, request, np.ascontiguousarray(z, np.float32)))
        return request

    def poll(self, max_events: int = 1000) -> list[MapEvent]:
        """Events of the current job since the last poll (never blocks). Of several layouts in a row only the
        newest is kept (the GUI draws one per poll anyway)."""
        events, self._pending = self._pending, []
        if self._events is not None:
            for _ in range(max_events):
                try:
                    raw = self._events.get_nowait()
                except (queue.Empty, OSError, ValueError, EOFError):
                    break
                event = MapEvent(**raw)
                if event.what == "ready":
                    self.ready = True
                elif event.job == self.job:
                    events.append(event)
        if self.busy and not events and self._process is not None and not self._process.is_alive():
            events.append(MapEvent("error", self.job, message=f"the map worker stopped (exit code {self._process.exitcode})"))
        for event in events:
            self._finish(event)
        return _newest_layouts(events)

    def _finish(self, event: MapEvent) -> None:
        if event.what == "done" and not event.cached:
            if self._key is not None and event.coords is not None:
                cache.save_map(self._key, event.coords)
            self.busy = False
        elif event.what == "error":
            self.busy = False

    def cancel(self) -> None:
        """Stop the current job by ending the child process (waits until it has exited)."""
        self.job = next(self._jobs)
        self.busy = False
        self._stop_process(graceful=False)

    def close(self) -> None:
        """End the child: asked to exit first, terminated if it does not within a second."""
        self._stop_process(graceful=True)

    def _stop_process(self, graceful: bool) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if graceful and process.is_alive():
            try:
                self._commands.put(("stop",))
            except (OSError, ValueError):
                pass
            process.join(1.0)
        self.ready = False
        if process.is_alive():
            process.terminate()
            process.join(2.0)
        if process.is_alive():
            process.kill()
            process.join(2.0)
        for q in (self._commands, self._events):
            if q is not None:
                q.cancel_join_thread()  # a queue with unsent data must not block our exit
                q.close()
        self._commands = self._events = None


@contextlib.contextmanager
def _main_module_hidden() -> Iterator[None]:
    """A bare ``__main__`` while the child is spawned. "spawn" re-imports the parent's main module in the child:
    a script without a main guard would run again there, and the app's would import Qt; the child needs
    nothing from it (its target lives in this module)."""
    main = sys.modules["__main__"]
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        sys.modules["__main__"] = main


def _newest_layouts(events: list[MapEvent]) -> list[MapEvent]:
    """Drop a progress layout that a later layout of the same job replaces (their progress lines stay)."""
    last_layout = max((i for i, e in enumerate(events) if e.coords is not None and e.what == "progress"), default=-1)
    return [e if (e.what != "progress" or e.coords is None or i == last_layout) else
            MapEvent("progress", e.job, e.stage, e.fraction) for i, e in enumerate(events)]


def _installed(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


# -- the child process ----------------------------------------------------------------------------------------
CHILD_NICENESS = 10  # on 2 cores a map's optimisation would otherwise take turns with the window's event loop


def _yield_to_the_window() -> None:
    """Run the child below the GUI's priority: the map may take longer, the window never waits for it."""
    try:
        os.nice(CHILD_NICENESS)
    except (AttributeError, OSError):  # no nice on Windows; a refused one leaves the priority as it was
        pass


def _serve(commands: Any, events: Any, parent: int) -> None:
    """The child's loop: one command at a time, until "stop" or the parent is gone."""
    from aeviewer.projections.maps import fit_map

    _yield_to_the_window()
    fitted: dict[int, Any] = {}
    while True:
        try:
            command = commands.get(timeout=PARENT_CHECK_S)
        except queue.Empty:
            if os.getppid() != parent:  # the GUI died without closing us: do not linger as an orphan
                return
            continue
        what = command[0]
        if what == "stop":
            return
        if what == "warm":
            _warm(command[1], command[2], fit_map)
            events.put(dict(what="ready", job=0))
        elif what == "fit":
            _, job, kind, latents, params, n_jobs = command
            fitted.clear()  # only the newest map answers transforms; older estimators are freed
            fitted[job] = _fit(job, kind, latents, params, n_jobs, events, fit_map)
        elif what == "transform":
            _, job, request, z = command
            _place(job, request, z, fitted.get(job), events)


def _warm(kinds: list[str], n_jobs: int, fit_map: Any) -> None:
    """A tiny map of each kind: imports the package and has numba compile what a real map will run."""
    tiny = np.random.default_rng(0).normal(size=(64, 4)).astype(np.float32)
    for kind in kinds:
        try:
            fit_map(kind, tiny, {"n_neighbors": 5} if kind == "umap" else {"perplexity": 5}, n_jobs=n_jobs)
        except Exception:  # noqa: BLE001 - a failed warm-up only means the real map starts cold
            traceback.print_exc()


def _fit(job: int, kind: str, latents: np.ndarray, params: dict, n_jobs: int, events: Any, fit_map: Any) -> Any:
    def report(stage: str, fraction: float, layout: np.ndarray | None) -> None:
        if stage != "done":
            events.put(dict(what="progress", job=job, stage=stage, fraction=fraction, coords=layout))

    try:
        result = fit_map(kind, latents, params, report, n_jobs=n_jobs)
    except Exception as err:  # noqa: BLE001 - the child reports every failure as one line instead of dying
        events.put(dict(what="error", job=job, message=_one_line(err)))
        traceback.print_exc()
        return None
    events.put(dict(what="done", job=job, stage="done", fraction=1.0, coords=result.coords))
    return result


def _place(job: int, request: int, z: np.ndarray, fitted: Any, events: Any) -> None:
    if fitted is None:
        events.put(dict(what="error", job=job, request=request, message="no fitted map to place points on"))
        return
    try:
        events.put(dict(what="placed", job=job, request=request, coords=fitted.transform(z)))
    except Exception as err:  # noqa: BLE001
        events.put(dict(what="error", job=job, request=request, message=_one_line(err)))


def _one_line(err: BaseException) -> str:
    text = " ".join(str(err).split()) or type(err).__name__
    return f"{type(err).__name__}: {text}"
