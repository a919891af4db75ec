"""Session: the current model, its test set and their encodings, published as Qt signals.

The views observe one Session; they never own a model. The Session's model is a GUI-owned CPU copy
in eval mode, so decoding on a click never races with the optimizer of a training run (the worker
trains its own deep copy and sends weight snapshots, which ``load_weights`` copies in here).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import torch
from PySide6.QtCore import QObject, Signal

from aeviewer.explore import latent_space
from aeviewer.data.imageset import ImageSet
from aeviewer.errors import ConfigError
from aeviewer.gui.state.bookmarks import PointNavigation
from aeviewer.gui.state.selection import Selection
from aeviewer.gui.state.background_encode import BackgroundEncoder, Encoded, encode_and_project
from aeviewer.gui.state.document import Document
from aeviewer.gui.state.selections import Selections
from aeviewer.models.base import Autoencoder
from aeviewer.projections.registry import MAP_KINDS


def default_projection_kind(latent_size: int) -> str:
    """A 2-D latent is drawn as it is; anything wider through PCA (which has an inverse)."""
    return "identity" if latent_size == 2 else "pca"


@dataclass(frozen=True)
class CompletionRequest:
    """A test image to complete with the learned prior, keeping the codes of ``codes`` (H', W') where ``keep``
    (bool, same shape) holds: the region painted in the codebook view."""

    index: int
    codes: np.ndarray
    keep: np.ndarray


class Session(QObject):
    """The one piece of shared state the views observe.

    Signals: ``modelChanged()`` (a new model, data set or path), ``encodingsChanged()``
    (``latents``/``coords``/``projection`` replaced), ``currentPointChanged(object)`` (the new
    ``current_z``, np ``(L,)``), ``weightsUpdated()`` (a live snapshot was loaded: views re-decode
    what they show), ``message(str)`` (a one-line status for the status bar), ``flushRequested()``
    (a person is waiting on the current point, e.g. a click: views that coalesce frames draw it now
    instead of on the next event-loop turn), ``movingChanged(bool)`` (a move of many steps, such as a path
    playing, begins or ends: ``moving``), ``drawnPointChanged(object)`` (the drawing's code z ``(L,)``,
    or None: the draw canvas says it, the latent view marks it), ``completionRequested(CompletionRequest)`` (a
    region of a code map to keep, painted in the codebook view: the decoder's Prior tab completes the rest).

    ``encode_in_background``: encode the test split and project it on a worker thread (the app sets it; off,
    as in tests and scripts, ``set_model`` returns with the encodings in place). Until a background encode
    arrives the scatter is empty and the current point is the origin (the prior's mean); ``encoding`` says
    one is pending, ``wait_for_encodings`` waits for it, and ``encodingProgress(float)`` and ``encodingStatus(str)`` (a
    lower-case phrase: "encoding 10,000 test images… 40%", then "encoded … in 0.4 s") report it.

    Its parts, each a QObject with its own signals: ``selection`` (the test images chosen for a closer look,
    gui/state/selection.py), ``navigation`` (the current point's undo history and the open model's bookmarks,
    gui/state/bookmarks.py), ``selections`` (the map's highlighted and kept selections, gui/state/selections.py,
    emptied when the test images change) and ``document`` (what a save writes beside the weights). A new model empties the
    selection before ``modelChanged``; the navigation reacts to ``modelChanged`` itself. Views read these and
    write to them, never to each other, so a model switch leaves nothing of the old model in any view.

    ``visible_region`` is the latent view's visible ((x0, x1), (y0, y1)), kept current by it (None
    without one): the decoder's traversal grid covers it.
    """

    modelChanged = Signal()
    encodingsChanged = Signal()
    currentPointChanged = Signal(object)
    weightsUpdated = Signal()
    message = Signal(str)
    flushRequested = Signal()
    drawnPointChanged = Signal(object)
    encodingProgress = Signal(float)
    encodingStatus = Signal(str)
    movingChanged = Signal(bool)
    priorChanged = Signal()  # a learned prior was attached to the model (a prior training's live or final one)
    completionRequested = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.model: Autoencoder | None = None
        self.model_path: Path | None = None
        self.dataset_name: str = ""
        self.test_set: ImageSet | None = None
        self.latents: np.ndarray = np.zeros((0, 2), np.float32)
        self.test_codes: np.ndarray | None = None  # a VQ-VAE's code maps of the test images (N, H', W')
        self.projection: latent_space.Projection | None = None
        self.coords: np.ndarray = np.zeros((0, 2), np.float32)
        self.current_z: np.ndarray | None = None
        self.projection_kind: str = "identity"
        self.projection_dims: tuple[int, int] = (0, 1)
        self.last_encode_seconds: float = 0.0  # lets the training run throttle live re-encoding
        self.visible_region: tuple[tuple[float, float], tuple[float, float]] | None = None
        self.moving = False  # the current point is being moved step by step (a path playing): one move in all
        self.document = Document()  # what a save writes beside the weights, and whether it is saved
        self.selection = Selection(self)  # the images the denoise view compares
        self.navigation = PointNavigation(self)
        self.selections = Selections(self)  # the map's highlighted selection and the named ones kept (issue 34)
        self.encode_in_background = False
        self._encoder = BackgroundEncoder(self)
        self._encoder.ready.connect(self._on_encoded)
        self._encoder.progress.connect(self._on_encode_progress)
        self._job_shows_progress = False
        self._placeholder_z: np.ndarray | None = None  # the origin shown while the first encodings are pending

    @property
    def encoding(self) -> bool:
        """A background encode is pending: submitted, and its encodings not yet in place (the encoder's thread
        may have ended while its queued result still waits for the GUI thread)."""
        return self._encoder.pending

    def wait_for_encodings(self, timeout: float | None = None) -> None:
        """Block until a pending background encode has finished and its encodings are in place."""
        self._on_encoded(self._encoder.wait(timeout))

    # -- read-only conveniences -----------------------------------------------------------------
    @property
    def kind(self) -> str:
        return self.model.config.kind if self.model is not None else ""

    @property
    def labels(self) -> np.ndarray:
        """Labels of the encoded test images, ``(N,)`` int64 (empty without a test set)."""
        if self.test_set is None:
            return np.zeros((0,), np.int64)
        return self.test_set.labels.numpy()

    @property
    def class_names(self) -> tuple[str, ...]:
        return self.test_set.class_names if self.test_set is not None else ()

    # -- changing the model ---------------------------------------------------------------------
    def set_model(
        self,
        model: Autoencoder | None,
        dataset_name: str,
        test_set: ImageSet | None,
        path: str | Path | None = None,
    ) -> None:
        """Make ``model`` (moved to CPU, eval mode) current and encode ``test_set`` with it."""
        same_images = self._same_images(dataset_name, test_set)
        self.model = model.to("cpu").eval() if model is not None else None
        self.dataset_name = dataset_name
        self.test_set = test_set
        self.model_path = Path(path) if path is not None else None
        self.projection_kind = default_projection_kind(model.latent_size) if model is not None else "identity"
        self.projection_dims = (0, 1)
        submitted = self._encode(progress=True)
        self.current_z = self._initial_z()
        self._placeholder_z = self.current_z if submitted else None
        self.selection.clear()  # indices into the old test set mean nothing now
        if not same_images:  # kept map selections are of the images, not the model: they stay with them
            self.selections.reset()
        self.modelChanged.emit()
        self.encodingsChanged.emit()
        if self.current_z is not None:
            self.currentPointChanged.emit(self.current_z)

    def _same_images(self, dataset_name: str, test_set: ImageSet | None) -> bool:
        old = self.test_set
        if old is None or test_set is None:
            return False
        return dataset_name == self.dataset_name and len(old) == len(test_set)

    def load_weights(self, state_dict: Mapping[str, torch.Tensor]) -> None:
        """Copy a live snapshot into the GUI's model and re-encode (the caller throttles this)."""
        if self.model is None:
            return
        with torch.no_grad():
            self.model.load_state_dict(state_dict)
        self.model.eval()
        if not self._encode():
            self.encodingsChanged.emit()
        self.weightsUpdated.emit()

    def attach_prior(self, prior: Any, final: bool = True) -> None:
        """Make ``prior`` the open model's learned prior over its code maps (the model must take one); ``final``
        marks the model unsaved, so that Save writes the prior into its checkpoint."""
        if self.model is None:
            return
        self.model.attach_prior(prior)  # type: ignore[attr-defined]
        if final:
            self.document.unsaved = True
        self.priorChanged.emit()

    def request_completion(self, index: int, codes: np.ndarray, keep: np.ndarray) -> None:
        """Ask for completions of test image ``index`` that keep ``codes`` where ``keep`` holds."""
        self.completionRequested.emit(CompletionRequest(int(index), np.array(codes), np.array(keep, bool)))

    def set_projection(self, kind: str, dims: Sequence[int] = (0, 1)) -> None:
        """Project the latents with ``kind`` ("identity" | "pair" | "pca") over ``dims``."""
        self.projection_kind = kind
        self.projection_dims = (int(dims[0]), int(dims[1]))
        self._project()
        self.encodingsChanged.emit()

    def show_map(self, projection: Any) -> None:
        """Make a UMAP / t-SNE map (a ``projections.maps.MapProjection`` of the current latents, fitted by the
        map worker) the projection; each intermediate layout of a forming map comes through here too."""
        self.projection_kind = projection.kind
        self.projection = projection
        self.coords = np.asarray(projection.coords, np.float32)
        self.encodingsChanged.emit()

    # -- the current latent point -----------------------------------------------------------------
    def set_current_point_2d(self, x: float, y: float, now: bool = False) -> None:
        """Map a point of the 2-D view back to a full latent vector and make it current; ``now``: a click
        someone waits on, so coalescing views render it at once (``flushRequested``)."""
        if self.projection is None:
            return
        # A pair projection keeps the other dims of the current point (the sliders stay where they were).
        base = self.current_z if self.projection.kind == "pair" else None
        z = self.projection.from_2d(np.array([[x, y]], np.float32), base=base)[0]
        self.set_current_z(z)
        if now:
            self.flushRequested.emit()

    def set_current_z(self, z: Any) -> None:
        self.current_z = np.asarray(z, np.float32).reshape(-1).copy()
        self.currentPointChanged.emit(self.current_z)

    def set_moving(self, moving: bool) -> None:
        """Begin or end a move made of many steps (a path playing): the undo history records where it ends."""
        if moving != self.moving:
            self.moving = moving
            self.movingChanged.emit(moving)

    def decode(self, z: Any) -> np.ndarray:
        """Decode ``(L,)`` to one image ``(H, W)`` or ``(N, L)`` to ``(N, H, W)`` float32 in [0, 1]."""
        if self.model is None:
            raise RuntimeError("no model is loaded")
        z = np.asarray(z, np.float32)
        single = z.ndim == 1
        with torch.inference_mode():
            images = latent_space.decode_points(self.model, z.reshape(1, -1) if single else z)
        images = np.asarray(images, np.float32)
        return images[0] if single else images

    # -- internals ----------------------------------------------------------------------------------
    def _encode(self, progress: bool = False) -> bool:
        """Encode the test set and project it: at once, or (``encode_in_background``) on the encoder's thread,
        which supersedes any encode still running; ``progress``: say it in the status bar. True: submitted
        to the thread (``encodingsChanged`` follows when it is done)."""
        if self.model is None or self.test_set is None or len(self.test_set) == 0:
            self._encoder.supersede()
            size = self.model.latent_size if self.model is not None else 2
            self.latents = np.zeros((0, size), np.float32)
            self.test_codes = None
            self.projection = None
            self.coords = np.zeros((0, 2), np.float32)
            return False
        if not self.encode_in_background:
            self._encoder.supersede()
            self._take_encoded(encode_and_project(self.model, self.test_set, self.projection_kind, self.projection_dims))
            return False
        if progress:  # a new model: nothing of the old one stays in the scatter while the new one encodes
            self.latents = np.zeros((0, self.model.latent_size), np.float32)
            self.test_codes = None
            self.projection = None
            self.coords = np.zeros((0, 2), np.float32)
            self.encodingStatus.emit(f"encoding {len(self.test_set):,} test images…")
        self._job_shows_progress = progress
        self._encoder.submit(self.model, self.test_set, self.projection_kind, self.projection_dims)
        return True

    def _on_encode_progress(self, job: int, fraction: float) -> None:
        if job == self._encoder.job:
            self.encodingProgress.emit(fraction)
            if self._job_shows_progress and fraction < 1.0:
                self.encodingStatus.emit(f"encoding {len(self.test_set or ()):,} test images… {fraction:.0%}")

    def _on_encoded(self, job: int) -> None:
        """A background encode finished (on the GUI thread): its encodings replace the shown ones."""
        result = self._encoder.take(job)
        if result is None:
            return  # stale, or already taken by wait_for_encodings
        if isinstance(result, Exception):
            self.message.emit(f"Could not encode the test images: {result}")
            return
        self._take_encoded(result)
        if self._job_shows_progress:
            self.encodingStatus.emit(f"encoded {len(result.latents):,} test images in {result.seconds:.1f} s")
        self.encodingsChanged.emit()
        if self._placeholder_z is not None and self.current_z is self._placeholder_z:
            self._placeholder_z = None
            self.set_current_z(self._initial_z())  # nobody moved the point yet: the first test image's code
        self._placeholder_z = None

    def _take_encoded(self, encoded: Encoded) -> None:
        self.latents, self.test_codes = encoded.latents, encoded.test_codes
        self.last_encode_seconds = encoded.seconds
        if encoded.projection is not None and encoded.kind == self.projection_kind:
            self.projection, self.coords = encoded.projection, encoded.coords
        else:
            self._project()

    def _project(self) -> None:
        if self.model is None or len(self.latents) == 0:
            self.projection = None
            self.coords = np.zeros((0, 2), np.float32)
            return
        if self.projection_kind in MAP_KINDS:  # new codes of the same model (a live snapshot): placed on the map
            if self.projection is not None and self.projection.latent_size == self.latents.shape[1]:
                self.coords = np.asarray(self.projection.to_2d(self.latents), np.float32)
                return
            self.projection_kind = default_projection_kind(self.latents.shape[1])
        try:
            self.projection = latent_space.make_projection(self.projection_kind, self.latents, dims=self.projection_dims)
        except ConfigError as err:  # e.g. a 1-dim latent: drawn along x
            self.message.emit(str(err))
            self.projection = None
            self.coords = np.pad(self.latents[:, :1], ((0, 0), (0, 1))).astype(np.float32)
            return
        self.coords = np.asarray(self.projection.to_2d(self.latents), np.float32)

    def _initial_z(self) -> np.ndarray | None:
        """The first test image's latent (a real code map for the VQ-VAE), else the origin."""
        if self.model is None:
            return None
        if len(self.latents):
            return self.latents[0].copy()
        return np.zeros(self.model.latent_size, np.float32)
