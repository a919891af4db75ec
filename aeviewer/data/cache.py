"""The decoded-folder cache: uint8 arrays per (folder, file list, preparation), no pickles.

An entry is two files: ``folder-KEY.npy``, the train images then the test images (a plain .npy reads
straight into memory; a zip member would be CRC-checked on the way, a third of a cached load), and
``folder-KEY.npz``, the labels, class names, skipped files and how many images are train images. The
.npz is written last, so an entry without it is incomplete and ignored.

The folder is :func:`aeviewer.util.paths.cache_dir`: ``$AEVIEWER_USER_DIR/cache`` when that variable is set (the
tests set it), else the per-user cache folder. The key hashes the folder's path, every file's name, size and
modification time, and the preparation, so a changed, added or removed file, or another preparation,
misses the cache and decodes afresh. Writes are atomic; a damaged entry is ignored and rewritten.
"""
from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import numpy as np
import torch

from aeviewer.util import atomic
from aeviewer.data.imageset import ImageSet
from aeviewer.data.preparation import Preparation
from aeviewer.data.skipped import SkipReport
from aeviewer.util.paths import cache_dir

if TYPE_CHECKING:
    from aeviewer.data.folder_listing import FolderFile
    from aeviewer.data.loaded import LoadedSource

CACHE_VERSION = 1  # bump when decoding changes what a file turns into


def folder_key(root: Path, files: Sequence["FolderFile"], preparation: Preparation, max_pixels: int) -> str:
    digest = hashlib.sha256()
    header = {"version": CACHE_VERSION, "root": str(root), "preparation": preparation.to_dict(), "max_pixels": max_pixels}
    digest.update(json.dumps(header, sort_keys=True).encode())
    for f in files:
        digest.update(f"\0{f.path}\0{f.size}\0{f.mtime_ns}\0{f.label}\0{f.split}".encode("utf-8", "surrogateescape"))
    return digest.hexdigest()[:32]


def _paths(key: str) -> tuple[Path, Path]:
    base = cache_dir() / f"folder-{key}"
    return base.with_suffix(".npy"), base.with_suffix(".npz")


def load(key: str, max_memory: int | None = None) -> "LoadedSource | None":
    """The cached load for ``key``, or None (absent, or unreadable: then it is decoded and written again). Images
    larger than ``max_memory`` bytes are memory-mapped read-only (:mod:`aeviewer.data.mapped`), not read."""
    from aeviewer.data.loaded import LoadedSource

    images_path, meta_path = _paths(key)
    if not meta_path.is_file():
        return None
    try:
        with np.load(meta_path, allow_pickle=False) as z:
            meta = {name: z[name] for name in z.files}
        if max_memory is not None and images_path.stat().st_size > max_memory:
            from aeviewer.data.mapped import open_mapped

            return open_mapped(images_path, meta_path, Path(""), None, max_memory)
        images = torch.from_numpy(np.load(images_path, allow_pickle=False))
        n_train = int(meta["n_train"])
        class_names = tuple(str(c) for c in meta["class_names"])
        name = str(meta["name"])
        labels = torch.from_numpy(meta["labels"])
        sets = [ImageSet(images[part], labels[part], class_names, name) for part in (slice(0, n_train), slice(n_train, None))]
        skipped = SkipReport(list(zip(map(str, meta["skipped_names"]), map(str, meta["skipped_reasons"]))))
    except (OSError, KeyError, ValueError, zipfile.BadZipFile, EOFError):
        return None
    return LoadedSource(sets[0], sets[1], "", None, skipped)


def store(key: str, loaded: "LoadedSource") -> Path | None:
    """Write ``loaded`` for ``key`` atomically; a cache that cannot be written is only a slower next load."""
    images_path, meta_path = _paths(key)
    train, test = loaded.train, loaded.test
    meta = {
        "n_train": np.array(len(train)), "labels": np.concatenate([train.labels.numpy(), test.labels.numpy()]),
        "class_names": np.array(train.class_names, dtype=str), "name": np.array(train.name),
        "skipped_names": np.array([n for n, _ in loaded.skipped.entries], dtype=str),
        "skipped_reasons": np.array([r for _, r in loaded.skipped.entries], dtype=str),
    }
    try:
        with atomic.replacing(images_path, error=None) as tmp, open(tmp, "wb") as f:
            np.save(f, np.concatenate([train.images.numpy(), test.images.numpy()]))
        with atomic.replacing(meta_path, error=None) as tmp, open(tmp, "wb") as f:
            np.savez(f, **meta)
    except OSError:
        return None
    return meta_path

