"""CIFAR-10 and CIFAR-100, binary version, read directly (the Python version is pickles: refused).

CIFAR-10: ``data_batch_1.bin`` ... ``data_batch_5.bin`` and ``test_batch.bin``, records of 1 label byte
+ 3,072 pixel bytes (32x32, red plane, green, blue). CIFAR-100: ``train.bin`` and ``test.bin``, records
of 2 label bytes (coarse, fine) + 3,072; the fine label (100 classes) is used. Class names come from
``batches.meta.txt`` / ``fine_label_names.txt`` beside them when present.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from aeviewer.data.arrays import prepare_arrays
from aeviewer.data.loaded import DEFAULT_MAX_MEMORY, LoadedSource, check_memory
from aeviewer.data.preparation import Preparation
from aeviewer.errors import DataError

PIXELS = 3 * 32 * 32
CIFAR10_NAMES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
PICKLE_NAMES = ("data_batch_1", "test_batch", "batches.meta", "meta")  # the Python version's files
BINARY_HINT = ("aeviewer reads the binary version (cifar-10-binary.tar.gz or cifar-100-binary.tar.gz from "
               "https://www.cs.toronto.edu/~kriz/cifar.html), never pickles")


def cifar_layout(folder: Path) -> str | None:
    """'cifar10', 'cifar100', 'pickle' (the Python version) or None (not a CIFAR folder)."""
    if (folder / "test_batch.bin").is_file() and sorted(folder.glob("data_batch_*.bin")):
        return "cifar10"
    if (folder / "train.bin").is_file() and (folder / "test.bin").is_file():
        return "cifar100"
    if any((folder / name).is_file() for name in PICKLE_NAMES) and not any(folder.glob("*.bin")):
        return "pickle"
    return None


def load_cifar(folder: str | Path, preparation: Preparation, max_memory: int = DEFAULT_MAX_MEMORY) -> LoadedSource:
    folder = Path(folder).expanduser().resolve()
    layout = cifar_layout(folder)
    if layout == "pickle":
        raise DataError(f"{folder}: this is CIFAR's Python version (pickled batches); {BINARY_HINT}")
    if layout is None:
        raise DataError(f"{folder}: no CIFAR binary files (data_batch_*.bin + test_batch.bin, or train.bin + test.bin)")
    label_bytes = 1 if layout == "cifar10" else 2
    train_files = sorted(folder.glob("data_batch_*.bin")) if layout == "cifar10" else [folder / "train.bin"]
    test_files = [folder / ("test_batch.bin" if layout == "cifar10" else "test.bin")]
    record = label_bytes + PIXELS
    n = sum(_records(p, record) for p in train_files + test_files)
    size = preparation.image_size or 32
    check_memory(n, 1 if preparation.channels == "1" else 3, size, size, max_memory, str(folder))
    train_images, train_labels = _read_records(train_files, record)
    test_images, test_labels = _read_records(test_files, record)
    images = np.concatenate([train_images, test_images])
    labels = np.concatenate([train_labels, test_labels])
    test_mask = np.arange(len(images)) >= len(train_images)
    names = _class_names(folder, layout)
    return prepare_arrays(images, labels, names, folder, preparation, test_mask)


def _records(path: Path, record: int) -> int:
    size = path.stat().st_size
    if size == 0 or size % record:
        kind = "CIFAR-10 (1 label byte" if record == PIXELS + 1 else "CIFAR-100 (2 label bytes"
        raise DataError(f"{path}: {size:,} bytes is not a whole number of {kind} + 3,072 pixels) records")
    return size // record


def _read_records(paths: list[Path], record: int) -> tuple[np.ndarray, np.ndarray]:
    """(N, 32, 32, 3) uint8 images and (N,) int64 labels (the last label byte: CIFAR-100's fine label)."""
    raw = np.concatenate([np.fromfile(p, np.uint8).reshape(-1, record) for p in paths])
    labels = raw[:, record - PIXELS - 1].astype(np.int64)
    images = raw[:, record - PIXELS:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    return images, labels


def _class_names(folder: Path, layout: str) -> tuple[str, ...]:
    meta = folder / ("batches.meta.txt" if layout == "cifar10" else "fine_label_names.txt")
    if meta.is_file():
        names = tuple(line.strip() for line in meta.read_text(errors="replace").splitlines() if line.strip())
        if names:
            return names
    return CIFAR10_NAMES if layout == "cifar10" else tuple(str(k) for k in range(100))
