"""BackgroundEncoder: encodes a test split and projects it to 2-D off the GUI thread, so that opening a model
or a live snapshot never blocks the window.

Each job works on its own deep copy of a trainable model (a live snapshot may load new weights into the session's
model while a job runs; the GUI thread keeps decoding with the session's copy). Jobs are numbered: a newer
job supersedes an older one, whose result is dropped when it arrives. The result reaches the GUI thread
through a queued signal; ``wait`` instead joins the job and hands its result over at once (tests, scripts).
"""
from __future__ import annotations

import copy
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import torch
from PySide6.QtCore import QObject, Signal

from aeviewer.explore import latent_space
from aeviewer.data.imageset import ImageSet
from aeviewer.errors import ConfigError
from aeviewer.models.base import Autoencoder
from aeviewer.projections.registry import MAP_KINDS

CHUNK = 2000  # images a step: progress a few times a second on 2 cores, small enough to stop soon when superseded


@dataclass
class Encoded:
    """A test split's codes and, for a kind that needs no map worker, their projection (None: project on the
    GUI thread, e.g. a map of the same model, or a kind the latents cannot take)."""

    latents: np.ndarray
    test_codes: np.ndarray | None
    projection: Any
    coords: np.ndarray | None
    seconds: float
    kind: str


def encode_split(model: Autoencoder, test_set: ImageSet, step: Callable[[float], bool] | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """``(latents (N, L), code maps (N, H', W') or None)`` of ``test_set``, a chunk at a time; ``step(fraction)``
    after each chunk, returning False to stop (then the partial arrays are returned)."""
    n = len(test_set)
    latents = np.zeros((n, model.latent_size), np.float32)
    codes = np.zeros((n, *model.code_grid_shape), np.int64) if model.has_codebook else None
    with torch.inference_mode():
        for start in range(0, n, CHUNK):
            part = test_set.subset(slice(start, start + CHUNK))
            if codes is not None:  # the codebook view needs the code maps too
                c = latent_space.encode_codes_set(model, part)
                codes[start:start + len(c)] = c
                latents[start:start + len(c)] = model.latents_of_codes(torch.from_numpy(c)).float().numpy()
            else:
                latents[start:start + len(part)] = latent_space.encode_set(model, part)
            if step is not None and not step(min(1.0, (start + CHUNK) / n)):
                break
    return latents, codes


def encode_and_project(model: Autoencoder, test_set: ImageSet, kind: str, dims: tuple[int, int],
                       step: Callable[[float], bool] | None = None) -> Encoded:
    start = time.perf_counter()
    latents, codes = encode_split(model, test_set, step)
    seconds = time.perf_counter() - start
    projection = coords = None
    if kind not in MAP_KINDS:
        try:
            projection = latent_space.make_projection(kind, latents, dims=dims)
            coords = np.asarray(projection.to_2d(latents), np.float32)
        except ConfigError:
            projection = None  # the GUI thread projects again and says why
    return Encoded(latents, codes, projection, coords, seconds, kind)


class BackgroundEncoder(QObject):
    """Signals: ``progress(int job, float fraction)``, ``ready(int job)`` (call ``take(job)`` for its result)."""

    progress = Signal(int, float)
    ready = Signal(int)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.job = 0  # the newest job's number; results of older ones are dropped
        self._open: int | None = None  # the newest job while its result has not been taken
        self._thread: threading.Thread | None = None
        self._results: dict[int, Encoded | Exception] = {}
        self._lock = threading.Lock()

    @property
    def pending(self) -> bool:
        """The newest job's result has not been taken yet: it is still running, or its queued ``ready`` has not
        arrived (a finished thread alone does not put the encodings in place)."""
        return self._open is not None

    def submit(self, model: Autoencoder, test_set: ImageSet, kind: str, dims: tuple[int, int]) -> int:
        """Start encoding ``test_set`` with a copy of ``model``; returns the job's number."""
        self.job += 1
        job = self._open = self.job
        # Only a trainable model's weights change under a running job (live snapshots); a foreign model (an ONNX
        # session cannot be copied at all) is encoded as it is.
        own = copy.deepcopy(model).eval() if model.trainable else model
        self._thread = threading.Thread(target=self._run, args=(job, own, test_set, kind, dims),
                                        name=f"aeviewer-encode-{job}", daemon=True)
        self._thread.start()
        return job

    def supersede(self) -> None:
        """Drop whatever job is running (a new model with nothing to encode)."""
        self.job += 1
        self._open = None

    def take(self, job: int) -> Encoded | Exception | None:
        """The result of ``job`` if it is the newest and has finished (once), else None."""
        with self._lock:
            result = self._results.pop(job, None)
            if result is not None and job == self._open:
                self._open = None
            # Older results are stale; a newer one stays: a late ready() of a job already taken by
            # wait() must not drop the next job's result (its ready() would then find nothing).
            for stale in [k for k in self._results if k < self.job]:
                del self._results[stale]
        return result if job == self.job else None

    def wait(self, timeout: float | None = None) -> int:
        """Block until the newest job has finished; returns its number."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        return self.job

    def _run(self, job: int, model: Autoencoder, test_set: ImageSet, kind: str, dims: tuple[int, int]) -> None:
        def step(fraction: float) -> bool:
            if job != self.job:
                return False  # superseded: stop early
            self.progress.emit(job, fraction)
            return True

        try:
            result: Encoded | Exception = encode_and_project(model, test_set, kind, dims, step)
        except Exception as err:  # noqa: BLE001 - handed to the GUI thread, which shows one line
            result = err
        if job == self.job:
            with self._lock:
                self._results[job] = result
            self.ready.emit(job)
