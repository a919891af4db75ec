"""aeviewer: a desktop latent-space explorer for autoencoders."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from aeviewer.api import show as show  # "as": re-exported (lazily, by __getattr__ below)
    from aeviewer.models.base import Autoencoder
    from aeviewer.foreign.onnx_pair import onnx_model as onnx_model


def load_model(path: str) -> "Autoencoder":
    """The model a checkpoint holds (weights and config; never unpickles)."""
    from aeviewer.training.checkpoint import load_checkpoint

    return load_checkpoint(path).model


_LAZY = {"show": "aeviewer.api", "onnx_model": "aeviewer.foreign.onnx_pair"}  # imported on first use: no Qt or ORT at import


def __getattr__(name: str) -> Any:
    """``aeviewer.show`` (aeviewer.api.show) and ``aeviewer.onnx_model`` (aeviewer.foreign.onnx_pair.onnx_model)."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'aeviewer' has no attribute {name!r}")
