"""NumPy sources: a ``.npz`` with ``images`` (and optional ``labels``, ``class_names``) or a ``.npy`` of images.

``images`` may be (N, H, W), (N, H, W, C) or (N, C, H, W) with C in 1..4 (2: grey + alpha, 4: RGBA),
uint8 or floats in [0, 1]. Always read with ``allow_pickle=False``: an object array is refused, never
unpickled. ``class_names`` is a string array (a unicode array needs no pickle).
"""
from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import torch

from aeviewer.data.decode import luma, resize_array
from aeviewer.data.imageset import ImageSet
from aeviewer.data.labels import checked_labels
from aeviewer.data.loaded import DEFAULT_MAX_MEMORY, LoadedSource, MemoryLimitError, check_memory
from aeviewer.data.preparation import Preparation
from aeviewer.data.split import stratified_split
from aeviewer.errors import DataError

SUFFIXES = (".npz", ".npy")


def load_array_file(path: str | Path, preparation: Preparation, max_memory: int = DEFAULT_MAX_MEMORY) -> LoadedSource:
    path = Path(path).expanduser().resolve()
    try:
        images, labels, class_names = _read(path, max_memory, preparation)
    except MemoryLimitError:  # larger than memory: a read-only mapping of a converted copy, read batch by batch
        from aeviewer.data.mapped import load_mapped_arrays

        return load_mapped_arrays(path, preparation, max_memory)
    rgb_or_grey = to_nhwc_uint8(images, path, preparation.background_value)
    return prepare_arrays(rgb_or_grey, labels, class_names, path, preparation)


def _read(path: Path, max_memory: int, preparation: Preparation
          ) -> tuple[np.ndarray, np.ndarray | None, tuple[str, ...] | None]:
    try:
        if path.suffix.lower() == ".npy":
            _guard(path, _npy_shape(path), max_memory, preparation)
            return np.load(path, allow_pickle=False), None, None
        with np.load(path, allow_pickle=False) as z:
            if "images" not in z.files:
                raise DataError(f"{path}: no 'images' array (it holds {', '.join(z.files) or 'nothing'})")
            _guard(path, _npz_shape(path, "images"), max_memory, preparation)
            images = z["images"]
            labels = z["labels"] if "labels" in z.files else None
            names = tuple(str(n) for n in z["class_names"]) if "class_names" in z.files else None
    except DataError:
        raise
    except ValueError as err:
        if "pickle" in str(err).lower():
            raise DataError(f"{path}: holds Python objects (a pickle), which aeviewer never loads; "
                            "save plain arrays (class_names as a string array)") from None
        raise DataError(f"{path}: not a NumPy array file ({_first_line(err)})") from None
    except (OSError, zipfile.BadZipFile, EOFError) as err:
        raise DataError(f"{path}: cannot read ({_first_line(err)})") from None
    return images, labels, names


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0][:120] if text else type(err).__name__


def _npy_shape(path: Path) -> tuple[int, ...] | None:
    try:
        with open(path, "rb") as f:
            return _header_shape(f)
    except (OSError, ValueError):
        return None


def _npz_shape(path: Path, key: str) -> tuple[int, ...] | None:
    try:
        with zipfile.ZipFile(path) as zf, zf.open(f"{key}.npy") as f:
            return _header_shape(f)
    except (OSError, ValueError, KeyError, zipfile.BadZipFile):
        return None


def _header_shape(f) -> tuple[int, ...]:
    version = np.lib.format.read_magic(f)
    readers = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}
    if version not in readers:
        raise ValueError(f"npy format {version}")
    shape, _, _ = readers[version](f)
    return tuple(shape)


def _guard(path: Path, shape: tuple[int, ...] | None, max_memory: int, preparation: Preparation) -> None:
    """The memory guard from the array's header, before its data is read."""
    if shape is None or len(shape) not in (3, 4):
        return
    n, h, w = shape[0], *(shape[1:3] if len(shape) == 3 or shape[-1] <= 4 else shape[2:4])
    if preparation.image_size:
        h = w = preparation.image_size
    check_memory(n, 1 if preparation.channels == "1" else 3, h, w, max_memory, str(path))


def to_nhwc_uint8(images: np.ndarray, path: Path, background: int) -> np.ndarray:
    """Any accepted layout and dtype -> (N, H, W, 1 or 3) uint8, alpha composited on ``background``."""
    if images.ndim == 3:
        images = images[..., None]
    elif images.ndim == 4:
        if images.shape[-1] <= 4:
            pass
        elif images.shape[1] <= 4:
            images = images.transpose(0, 2, 3, 1)
        else:
            raise DataError(f"{path}: images of shape {images.shape} have no channel axis of 1 to 4 "
                            "(expected (N,H,W), (N,H,W,C) or (N,C,H,W))")
    else:
        raise DataError(f"{path}: images must be (N,H,W), (N,H,W,C) or (N,C,H,W), got shape {images.shape}")
    if len(images) == 0:
        raise DataError(f"{path}: holds no images")
    values = _as_uint8(images, path)
    channels = values.shape[-1]
    if channels in (2, 4):  # grey + alpha, RGBA: composite on the background
        alpha = values[..., -1:].astype(np.uint16)
        colour = values[..., :-1].astype(np.uint16)
        values = ((colour * alpha + background * (255 - alpha) + 127) // 255).astype(np.uint8)
    return values


def _as_uint8(images: np.ndarray, path: Path) -> np.ndarray:
    if images.dtype == np.uint8:
        return images
    if images.dtype == np.bool_:
        return images.astype(np.uint8) * 255
    if np.issubdtype(images.dtype, np.floating):
        if not np.isfinite(images).all():
            raise DataError(f"{path}: images hold NaN or infinite values")
        low, high = float(images.min()), float(images.max())
        if low < 0.0 or high > 1.0:
            raise DataError(f"{path}: float images must lie in [0, 1], these span [{low:.3g}, {high:.3g}]")
        return np.rint(images * 255.0).astype(np.uint8)
    raise DataError(f"{path}: images must be uint8 or floats in [0, 1], got {images.dtype}")


def prepare_arrays(images: np.ndarray, labels: np.ndarray | None, class_names: tuple[str, ...] | None,
                   path: Path, preparation: Preparation, test_mask: np.ndarray | None = None) -> LoadedSource:
    """(N, H, W, C) uint8 -> train and test ImageSets: resized, channels set, split by ``test_mask`` or seeded."""
    labels, class_names = checked_labels(labels, class_names, len(images), path)
    images = _resized(images, preparation)
    images = _channels(images, preparation.channels)
    chw = torch.from_numpy(np.ascontiguousarray(images.transpose(0, 3, 1, 2)))
    if test_mask is None:
        train_index, test_index = stratified_split(labels, preparation.test_fraction, preparation.seed)
    else:
        train_index, test_index = np.flatnonzero(~test_mask), np.flatnonzero(test_mask)
    lab = torch.from_numpy(labels)
    name = path.stem if path.is_file() else path.name

    def image_set(index: np.ndarray) -> ImageSet:
        t = torch.from_numpy(index)
        return ImageSet(chw[t], lab[t], class_names, name)

    return LoadedSource(image_set(train_index), image_set(test_index), str(path), preparation)


def _resized(images: np.ndarray, preparation: Preparation) -> np.ndarray:
    size = preparation.image_size
    if not size or images.shape[1:3] == (size, size):
        return images
    grey = images.shape[-1] == 1
    out = np.empty((len(images), size, size, 1 if grey else 3), np.uint8)
    for i, image in enumerate(images):
        rgb = np.repeat(image, 3, axis=-1) if grey else image
        resized = resize_array(rgb, size, preparation.fit, preparation.background_value)
        out[i] = resized[..., :1] if grey else resized
    return out


def _channels(images: np.ndarray, channels: str) -> np.ndarray:
    have = images.shape[-1]
    if channels == "1" and have == 3:
        return luma(images)[..., None]
    if channels == "3" and have == 1:
        return np.repeat(images, 3, axis=-1)
    if channels == "auto" and have == 3 and np.array_equal(images[..., 0], images[..., 1]) \
            and np.array_equal(images[..., 1], images[..., 2]):
        return images[..., :1]
    return images
