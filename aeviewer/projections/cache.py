"""Finished maps on disk, so the same map opens at once the second time.

One ``.npz`` per map in ``<user dir>/maps`` (the user folder of :mod:`aeviewer.util.paths`: the tests point
it at a temp folder through ``AEVIEWER_USER_DIR``), named by a hash of what made the map: the codes
themselves (which stand for the model's weights and the data) plus the kind and its parameters.
Written atomically (a temp file, then a rename); read with ``allow_pickle=False``; a damaged file is a miss.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from aeviewer.util import atomic
from aeviewer.util.paths import user_dir

FORMAT = 1  # bumped when what a cached map means changes (fitting code, seed, reduction)


def cache_dir() -> Path:
    return user_dir() / "maps"


def map_key(kind: str, latents: np.ndarray, params: Mapping[str, Any]) -> str:
    """A hex digest of the codes (shape and bytes), the kind and its parameters."""
    codes = np.ascontiguousarray(latents, np.float32)
    numbers = {name: float(value) for name, value in sorted(params.items())}  # 30 and 30.0 are one perplexity
    digest = hashlib.sha256()
    digest.update(json.dumps({"format": FORMAT, "kind": kind, "params": numbers,
                              "shape": list(codes.shape)}, sort_keys=True).encode())
    digest.update(codes.tobytes())
    return digest.hexdigest()[:32]


def save_map(key: str, coords: np.ndarray, directory: Path | None = None) -> Path | None:
    """Write ``coords`` under ``key``; None (and nothing left behind) when the folder cannot be written."""
    folder = directory or cache_dir()
    target = folder / f"{key}.npz"
    try:
        with atomic.replacing(target, error=None) as tmp, open(tmp, "wb") as f:
            np.savez(f, coords=np.ascontiguousarray(coords, np.float32))
    except OSError:
        return None
    return target


def load_map(key: str, rows: int, directory: Path | None = None) -> np.ndarray | None:
    """The cached coords (rows, 2) under ``key``, or None when absent, damaged or of another size."""
    path = (directory or cache_dir()) / f"{key}.npz"
    try:
        with np.load(path, allow_pickle=False) as data:
            coords = np.asarray(data["coords"], np.float32)
    except (OSError, KeyError, ValueError, EOFError):
        return None
    if coords.shape != (rows, 2) or not np.isfinite(coords).all():
        return None
    return coords
