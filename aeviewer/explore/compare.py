"""Models side by side without Qt: load 2–4 checkpoints of one data set, encode a test split with each,
and the selection they share (hovered index, selected indices, clicked index).

The Compare view, ``aeviewer compare`` and the tests drive this the same way; the view only draws it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import torch

from aeviewer.explore import latent_space
from aeviewer.data.imageset import ImageSet
from aeviewer.errors import ConfigError
from aeviewer.models.base import Autoencoder

MIN_MODELS, MAX_MODELS = 2, 4


@dataclass(eq=False)
class ComparedModel:
    """One model of a comparison, its data set, and (once encoded) its test latents."""

    model: Autoencoder
    dataset: str
    name: str  # what the window calls it: the file's name, or "open model"
    latents: np.ndarray | None = None  # (N, L) float32 once encoded
    preparation: Any = None  # a path source's recorded preparation (checkpoint.preparation), else None

    @property
    def kind(self) -> str:
        return self.model.config.kind

    @property
    def latent_size(self) -> int:
        return int(self.model.latent_size)

    @property
    def title(self) -> str:
        """``VAE · 2-D latent · vae-mnist-2d.safetensors``"""
        return f"{self.kind.upper()} · {self.latent_size}-D latent · {self.name}"


def load_models(paths: Sequence[str | Path], data_dir: str | Path | None = None) -> list[ComparedModel]:
    """Load the checkpoints at ``paths`` (2 to 4), refusing models of different data sets with one line (each
    named portably: an older checkpoint's absolute path of the data directory is the same set as its name)."""
    from aeviewer.data.loader import portable_spec
    from aeviewer.training.checkpoint import load_checkpoint

    check_count(len(paths))
    models = []
    for path in paths:
        checkpoint = load_checkpoint(path)
        models.append(ComparedModel(checkpoint.model, portable_spec(checkpoint.dataset, data_dir), Path(path).name,
                                    preparation=getattr(checkpoint, "preparation", None)))
    check_same_dataset(models)
    return models


def check_count(n: int) -> None:
    if not MIN_MODELS <= n <= MAX_MODELS:
        raise ConfigError(f"compare takes {MIN_MODELS} to {MAX_MODELS} models, got {n}")


def check_same_dataset(models: Sequence[ComparedModel]) -> None:
    """One line naming the first model whose data set (or image shape) differs from the first model's."""
    first = models[0]
    for other in models[1:]:
        if other.dataset != first.dataset:
            raise ConfigError(f"{first.name} was trained on {first.dataset or 'an unnamed data set'} but "
                              f"{other.name} on {other.dataset or 'an unnamed data set'}; "
                              f"compare models of one data set")
        if tuple(other.model.config.image_shape) != tuple(first.model.config.image_shape):
            raise ConfigError(f"{first.name} takes images of shape {tuple(first.model.config.image_shape)} but "
                              f"{other.name} takes {tuple(other.model.config.image_shape)}; compare models of one data set")


def scatter_latents(model: Autoencoder, images: ImageSet) -> np.ndarray:
    """The latents the scatter shows: ``encode`` of each image; a VQ-VAE's quantized code vectors."""
    with torch.inference_mode():
        if model.has_codebook:
            codes = latent_space.encode_codes_set(model, images)
            return model.latents_of_codes(torch.from_numpy(codes)).float().numpy()
        return np.asarray(latent_space.encode_set(model, images), np.float32)


def encode_all(models: Sequence[ComparedModel], images: ImageSet,
               on_encoded: Callable[[int, np.ndarray], None] | None = None) -> None:
    """Encode ``images`` with each model in turn, storing ``latents``; ``on_encoded(k, latents)`` after each."""
    for k, entry in enumerate(models):
        entry.latents = scatter_latents(entry.model, images)
        if on_encoded is not None:
            on_encoded(k, entry.latents)


def reconstructions(models: Sequence[ComparedModel], index: int) -> list[np.ndarray]:
    """Each model's reconstruction of test image ``index`` (the decode of its own code of that image)."""
    out = []
    for entry in models:
        if entry.latents is None:
            raise ConfigError(f"{entry.name} is not encoded yet")
        out.append(latent_space.decode_points(entry.model, entry.latents[index:index + 1])[0])
    return out


# -- geometry of a selection, in one scatter's 2-D coordinates -------------------------------------------
def points_in_rect(points: np.ndarray, corner_a: Sequence[float], corner_b: Sequence[float]) -> np.ndarray:
    """Indices of ``points`` (N, 2) inside the axis-aligned rectangle with opposite corners a and b."""
    points = np.asarray(points, np.float64).reshape(-1, 2)
    lo = np.minimum(corner_a, corner_b)
    hi = np.maximum(corner_a, corner_b)
    inside = (points >= lo).all(1) & (points <= hi).all(1)
    return np.flatnonzero(inside)


def points_in_polygon(points: np.ndarray, polygon: np.ndarray) -> np.ndarray:
    """Indices of ``points`` (N, 2) inside the closed ``polygon`` (M, 2), by the even-odd rule.

    A horizontal ray from each point crosses edge (p_j, p_{j+1}) when the edge spans the point's y
    and the crossing lies to the right of it; an odd number of crossings means inside. Vectorised over
    the points, one pass per edge: 10,000 points and a 200-vertex lasso take a few ms.
    """
    points = np.asarray(points, np.float64).reshape(-1, 2)
    poly = np.asarray(polygon, np.float64).reshape(-1, 2)
    if len(poly) < 3 or len(points) == 0:
        return np.zeros(0, np.int64)
    x, y = points[:, 0], points[:, 1]
    inside = np.zeros(len(points), bool)
    for (x1, y1), (x2, y2) in zip(poly, np.roll(poly, -1, axis=0)):
        if y1 == y2:
            continue  # a horizontal edge: the ray runs along it, no crossing
        spans = (y1 > y) != (y2 > y)
        cross_x = x1 + (y - y1) * (x2 - x1) / (y2 - y1)
        inside ^= spans & (x < cross_x)
    return np.flatnonzero(inside)


def nearest_index(points: np.ndarray, x: float, y: float, scale: Sequence[float] = (1.0, 1.0),
                  radius: float = float("inf")) -> int:
    """Index of the point nearest (x, y) after dividing each axis by ``scale`` (e.g. view units per
    screen pixel), or -1 when none lies within ``radius`` in those units."""
    points = np.asarray(points)
    if len(points) == 0:
        return -1
    d2 = ((points[:, 0] - x) / scale[0]) ** 2 + ((points[:, 1] - y) / scale[1]) ** 2
    i = int(np.argmin(d2))
    return i if d2[i] <= radius**2 else -1


@dataclass
class LinkedSelection:
    """What every scatter of a comparison highlights: one test-image index each for hover and click, and
    a set of selected indices. ``listeners`` are called with the part that changed ("hover", "selection",
    "click")."""

    hovered: int = -1
    clicked: int = -1
    selected: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    listeners: list[Callable[[str], None]] = field(default_factory=list)

    def hover(self, index: int) -> None:
        if index != self.hovered:
            self.hovered = int(index)
            self._tell("hover")

    def select(self, indices: Sequence[int] | np.ndarray) -> None:
        self.selected = np.unique(np.asarray(indices, np.int64))
        self._tell("selection")

    def click(self, index: int) -> None:
        self.clicked = int(index)
        self._tell("click")

    def _tell(self, what: str) -> None:
        for listener in list(self.listeners):
            listener(what)
