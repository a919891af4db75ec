"""aeviewer: a desktop latent-space explorer for autoencoders."""
from __future__ import annotations

from typing import TYPE_CHECKING

__version__ = "0.1.0"

if TYPE_CHECKING:
    from aeviewer.models.base import Autoencoder


def load_model(path: str) -> "Autoencoder":
    """The model a checkpoint holds (weights and config; never unpickles)."""
    from aeviewer.training.checkpoint import load_checkpoint

    return load_checkpoint(path).model
