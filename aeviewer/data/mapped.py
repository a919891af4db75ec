"""Image sets larger than memory: a read-only memory-mapped uint8 array, its pages dropped as batches are read.

An ``.npy`` or ``.npz`` whose images would take more than ``--max-memory`` is converted once into a cache
entry (``mapped-KEY.npy``: (N, C, H, W) uint8, the train images then the test images, so that each split is a
slice of one mapping; ``mapped-KEY.npz``: labels, class names, how many are train images; written last). The
key hashes the source's path, size, modification time and the preparation. Later loads open the entry with
``np.load(mmap_mode="r")``: nothing is read until a batch gathers its rows.

``--max-memory`` then bounds what is held in RAM rather than the set's size: a :class:`PageBudget` counts the
bytes gathered through the mapping and, past the limit, tells the kernel this process no longer needs the
mapped pages (``madvise(MADV_DONTNEED)``; the page cache may keep them, and they read back from it or the disk).
The conversion reads and writes in chunks under the same rule.
"""
from __future__ import annotations

import hashlib
import json
import warnings
import zipfile
from pathlib import Path

import numpy as np
import torch

from aeviewer.util import atomic
from aeviewer.data.imageset import ImageSet
from aeviewer.data.labels import checked_labels
from aeviewer.data.page_budget import PageBudget
from aeviewer.data.loaded import LoadedSource
from aeviewer.data.preparation import Preparation
from aeviewer.data.split import stratified_split
from aeviewer.errors import DataError
from aeviewer.util.paths import cache_dir

MAPPED_VERSION = 1
CHUNK_BYTES = 64 << 20  # rows copied per conversion step


def load_mapped_arrays(path: Path, preparation: Preparation, max_memory: int) -> LoadedSource:
    """Both splits of the array file ``path`` as slices of one memory-mapped cache entry (converted once)."""
    key = _key(path, preparation)
    images_path, meta_path = _paths(key)
    if not meta_path.is_file():
        _convert(path, preparation, images_path, meta_path, max_memory)
    return open_mapped(images_path, meta_path, path, preparation, max_memory)


def open_mapped(images_path: Path, meta_path: Path, source: Path, preparation: Preparation | None,
                max_memory: int) -> LoadedSource:
    with np.load(meta_path, allow_pickle=False) as z:
        n_train, labels = int(z["n_train"]), torch.from_numpy(z["labels"].astype(np.int64))
        class_names, name = tuple(str(c) for c in z["class_names"]), str(z["name"])
    mapping = np.load(images_path, mmap_mode="r", allow_pickle=False)
    budget = PageBudget(mapping, max_memory)
    with warnings.catch_warnings():  # read-only by design: nothing writes into a data set's images
        warnings.simplefilter("ignore", UserWarning)
        images = torch.from_numpy(mapping)
    sets = [ImageSet(images[part], labels[part], class_names, name, budget=budget)
            for part in (slice(0, n_train), slice(n_train, None))]
    return LoadedSource(sets[0], sets[1], str(source), preparation, from_cache=True)


def _key(path: Path, preparation: Preparation) -> str:
    stat = path.stat()
    header = {"version": MAPPED_VERSION, "path": str(path), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns,
              "preparation": preparation.to_dict()}
    return hashlib.sha256(json.dumps(header, sort_keys=True).encode()).hexdigest()[:32]


def _paths(key: str) -> tuple[Path, Path]:
    base = cache_dir() / f"mapped-{key}"
    return base.with_suffix(".npy"), base.with_suffix(".npz")


def source_images(path: Path) -> np.ndarray:
    """The images of an .npy, or of an .npz's stored (uncompressed) ``images`` member, memory-mapped in place."""
    if path.suffix.lower() == ".npy":
        return np.load(path, mmap_mode="r", allow_pickle=False)
    with zipfile.ZipFile(path) as zf:
        try:
            info = zf.getinfo("images.npy")
        except KeyError:
            raise DataError(f"{path}: no 'images' array") from None
        if info.compress_type != zipfile.ZIP_STORED:
            raise DataError(f"{path}: its images are compressed, so they cannot be memory-mapped; save them with "
                            "np.savez (not savez_compressed) or as an .npy, or raise --max-memory")
    with open(path, "rb") as f:
        f.seek(info.header_offset + 26)  # the local header's name and extra-field lengths
        name_len, extra_len = np.frombuffer(f.read(4), "<u2")
        f.seek(info.header_offset + 30 + int(name_len) + int(extra_len))
        version = np.lib.format.read_magic(f)
        read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, fortran, dtype = read_header(f)
        offset = f.tell()
    if fortran:
        raise DataError(f"{path}: its images are stored in Fortran order; save them C-ordered to memory-map them")
    return np.memmap(path, dtype=dtype, mode="r", offset=offset, shape=shape)


def _small_arrays(path: Path) -> tuple[np.ndarray | None, tuple[str, ...] | None]:
    if path.suffix.lower() == ".npy":
        return None, None
    with np.load(path, allow_pickle=False) as z:
        labels = z["labels"] if "labels" in z.files else None
        names = tuple(str(c) for c in z["class_names"]) if "class_names" in z.files else None
    return labels, names


def _layout(images: np.ndarray, path: Path, preparation: Preparation) -> bool:
    """Whether ``images`` are (N, H, W, C) (else (N, C, H, W)); DataError where a mapped set cannot be used as it is."""
    if images.dtype != np.uint8 or images.ndim not in (3, 4):
        raise DataError(f"{path}: a set larger than --max-memory is memory-mapped as it is, which needs uint8 "
                        f"(N, H, W[, C]) or (N, C, H, W) images; it holds {images.dtype} {images.shape}")
    if images.ndim == 3:
        return True
    channels_last = images.shape[-1] in (1, 3)
    if not channels_last and images.shape[1] not in (1, 3):
        raise DataError(f"{path}: a memory-mapped set needs 1 or 3 channels, got shape {images.shape}")
    h, c = (images.shape[1], images.shape[3]) if channels_last else (images.shape[2], images.shape[1])
    if preparation.image_size and preparation.image_size != h:
        raise DataError(f"{path}: a set larger than --max-memory is used at its own size ({h} px), not resized to "
                        f"{preparation.image_size}; drop --image-size or raise --max-memory")
    if preparation.channels in ("1", "3") and int(preparation.channels) != c:
        raise DataError(f"{path}: a set larger than --max-memory keeps its {c} channel(s); drop --channels "
                        "or raise --max-memory")
    return channels_last


def _convert(path: Path, preparation: Preparation, images_path: Path, meta_path: Path, max_memory: int) -> None:
    """Write the cache entry: rows in train-then-test order, (N, C, H, W), in chunks under ``max_memory``."""
    try:
        source = source_images(path)
    except (OSError, ValueError, zipfile.BadZipFile) as err:
        raise DataError(f"{path}: cannot read ({str(err).strip().splitlines()[0][:120] if str(err).strip() else err})") from None
    channels_last = _layout(source, path, preparation)
    raw_labels, names = _small_arrays(path)
    labels, class_names = checked_labels(raw_labels, names, len(source), path)
    train, test = stratified_split(labels, preparation.test_fraction, preparation.seed)
    order = np.concatenate([train, test])
    row = int(np.prod(source.shape[1:]))
    out_shape = (len(source), *_chw_shape(source.shape, channels_last))
    budget = PageBudget(source, max_memory)
    step = max(1, min(CHUNK_BYTES, max_memory // 4) // max(row, 1))
    with atomic.replacing(images_path, error=None) as tmp, open(tmp, "wb") as f:
        np.lib.format.write_array_header_1_0(f, {"descr": "|u1", "fortran_order": False, "shape": out_shape})
        for start in range(0, len(order), step):
            chunk = np.asarray(source[np.sort(order[start:start + step])])
            chunk = chunk[np.argsort(np.argsort(order[start:start + step]))]  # back to the split's order
            f.write(np.ascontiguousarray(_to_chw(chunk, channels_last)).tobytes())
            budget.spent(chunk.nbytes)
    meta = {"n_train": np.array(len(train)), "labels": labels[order], "class_names": np.array(class_names, dtype=str),
            "name": np.array(path.stem)}
    with atomic.replacing(meta_path, error=None) as tmp, open(tmp, "wb") as f:
        np.savez(f, **meta)


def _chw_shape(shape: tuple[int, ...], channels_last: bool) -> tuple[int, int, int]:
    if len(shape) == 3:
        return 1, shape[1], shape[2]
    return (shape[3], shape[1], shape[2]) if channels_last else (shape[1], shape[2], shape[3])


def _to_chw(chunk: np.ndarray, channels_last: bool) -> np.ndarray:
    if chunk.ndim == 3:
        return chunk[:, None]
    return chunk.transpose(0, 3, 1, 2) if channels_last else chunk
