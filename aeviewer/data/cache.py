"""The decoded-folder cache: uint8 arrays in one .npz per (folder, file list, preparation), no pickles.

The folder is ``$AEVIEWER_USER_DIR/cache`` when that variable is set (the tests set it), else the
per-user cache folder (platformdirs). The key hashes the folder's path, every file's name, size and
modification time, and the preparation, so a changed, added or removed file, or another preparation,
misses the cache and decodes afresh. Writes are atomic; a damaged entry is ignored and rewritten.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import numpy as np
import torch

from aeviewer.data.imageset import ImageSet
from aeviewer.data.preparation import Preparation
from aeviewer.data.skipped import SkipReport

if TYPE_CHECKING:
    from aeviewer.data.folder import FolderFile
    from aeviewer.data.loaded import LoadedSource

CACHE_VERSION = 1  # bump when decoding changes what a file turns into
USER_DIR_ENV = "AEVIEWER_USER_DIR"


def cache_dir() -> Path:
    override = os.environ.get(USER_DIR_ENV)
    if override:
        return Path(override) / "cache"
    import platformdirs  # imported late: only needed when nothing else names the folder

    return Path(platformdirs.user_cache_dir("aeviewer", appauthor=False))


def folder_key(root: Path, files: Sequence["FolderFile"], preparation: Preparation, max_pixels: int) -> str:
    digest = hashlib.sha256()
    header = {"version": CACHE_VERSION, "root": str(root), "preparation": preparation.to_dict(), "max_pixels": max_pixels}
    digest.update(json.dumps(header, sort_keys=True).encode())
    for f in files:
        digest.update(f"\0{f.path}\0{f.size}\0{f.mtime_ns}\0{f.label}\0{f.split}".encode("utf-8", "surrogateescape"))
    return digest.hexdigest()[:32]


def _path(key: str) -> Path:
    return cache_dir() / f"folder-{key}.npz"


def load(key: str) -> "LoadedSource | None":
    """The cached load for ``key``, or None (absent, or unreadable: then it is decoded and written again)."""
    from aeviewer.data.loaded import LoadedSource

    path = _path(key)
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {name: z[name] for name in z.files}
        class_names = tuple(str(c) for c in arrays["class_names"])
        name = str(arrays["name"])
        sets = [ImageSet(torch.from_numpy(arrays[f"{s}_images"]), torch.from_numpy(arrays[f"{s}_labels"]),
                         class_names, name) for s in ("train", "test")]
        skipped = SkipReport(list(zip(map(str, arrays["skipped_names"]), map(str, arrays["skipped_reasons"]))))
    except (OSError, KeyError, ValueError, zipfile.BadZipFile, EOFError):
        return None
    return LoadedSource(sets[0], sets[1], "", None, skipped)


def store(key: str, loaded: "LoadedSource") -> Path | None:
    """Write ``loaded`` for ``key`` atomically; a cache that cannot be written is only a slower next load."""
    path = _path(key)
    arrays = {
        "train_images": loaded.train.images.numpy(), "train_labels": loaded.train.labels.numpy(),
        "test_images": loaded.test.images.numpy(), "test_labels": loaded.test.labels.numpy(),
        "class_names": np.array(loaded.train.class_names, dtype=str), "name": np.array(loaded.train.name),
        "skipped_names": np.array([n for n, _ in loaded.skipped.entries], dtype=str),
        "skipped_reasons": np.array([r for _, r in loaded.skipped.entries], dtype=str),
    }
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".folder-", suffix=".npz.tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as f:
                np.savez(f, **arrays)  # uncompressed: a cached load is a plain read of the arrays
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError:
        return None
    return path
