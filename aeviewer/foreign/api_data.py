"""What a caller of ``aeviewer.show`` may pass as data, turned into the ImageSet every view reads.

Accepted: an ImageSet; a NumPy array or torch tensor of images ``(N, H, W)``, ``(N, C, H, W)`` or
``(N, H, W, C)`` (uint8 0..255, bool, or floating point in [0, 1]); a torch ``Dataset`` (anything with
``__len__`` and ``__getitem__``) whose items are ``(image, label)`` or bare images; a name or path that
:func:`load_data_path` reads. ``labels`` (N,) and ``class_names`` override or supply the set's own.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, Sequence

import numpy as np
import torch

from aeviewer.data.imageset import UNLABELLED, ImageSet
from aeviewer.errors import DataError

Layout = Literal["nchw", "nhwc"]
CHANNEL_COUNTS = (1, 3, 4)  # grey, RGB, RGBA: how a channel axis is told from an image axis


def load_data_path(path: str | Path, data_dir: str | Path | None = None) -> ImageSet:
    """The one loader of data named by a string: the test split of a named set (digits, mnist, ...) or of a
    path (an image folder, .npz/.npy, a CIFAR binary folder; split and prepared as aeviewer.data.loader does)."""
    from aeviewer.data.loader import load_split

    return load_split(str(path), "test", data_dir)


def as_image_set(data: Any, labels: Any = None, class_names: Sequence[str] | None = None,
                 data_dir: str | Path | None = None) -> tuple[ImageSet, Layout]:
    """``data`` as an ImageSet, and the layout its arrays came in (a hint for probing the model's layout)."""
    layout: Layout = "nchw"
    if isinstance(data, ImageSet):
        images = data
    elif isinstance(data, (str, Path)):
        images = load_data_path(data, data_dir)
    elif isinstance(data, (np.ndarray, torch.Tensor)):
        tensor, layout = _images_tensor(data)
        images = ImageSet(tensor, torch.zeros(len(tensor), dtype=torch.long), (UNLABELLED,))
    elif hasattr(data, "__len__") and hasattr(data, "__getitem__"):
        images, layout = _from_dataset(data)
    else:
        raise DataError(f"data must be an array or tensor of images, an ImageSet, a data set name or path, "
                        f"or a torch Dataset; got a {type(data).__name__}")
    return _relabelled(images, labels, class_names), layout


def _images_tensor(data: np.ndarray | torch.Tensor) -> tuple[torch.Tensor, Layout]:
    """uint8 (N, C, H, W) from an array of images in any of the accepted layouts and types."""
    array = data.detach().cpu().numpy() if isinstance(data, torch.Tensor) else np.asarray(data)
    if array.ndim == 3:
        array = array[:, None]
    if array.ndim != 4:
        raise DataError(f"images must be (N, H, W), (N, C, H, W) or (N, H, W, C); got shape {array.shape}")
    layout = _layout_of(array.shape, torch_first=isinstance(data, torch.Tensor))
    if layout == "nhwc":
        array = array.transpose(0, 3, 1, 2)
    return torch.from_numpy(np.ascontiguousarray(_as_uint8(array))), layout


def _layout_of(shape: tuple[int, ...], torch_first: bool) -> Layout:
    channels_first, channels_last = shape[1] in CHANNEL_COUNTS, shape[3] in CHANNEL_COUNTS
    if channels_first and channels_last:  # e.g. (N, 3, 4, 3): torch's habit for tensors, NumPy's for arrays
        return "nchw" if torch_first else "nhwc"
    if channels_first or channels_last:
        return "nchw" if channels_first else "nhwc"
    raise DataError(f"images of shape {shape} have no channel axis of 1, 3 or 4 (first or last)")


def _as_uint8(array: np.ndarray) -> np.ndarray:
    if array.dtype == np.uint8:
        return array
    if array.dtype == np.bool_:
        return array.astype(np.uint8) * 255
    if array.dtype.kind not in "fiu":
        raise DataError(f"images must be numbers, got {array.dtype}")
    if array.dtype.kind in "iu":  # integers: 0..255 like uint8
        low, high = (int(array.min()), int(array.max())) if array.size else (0, 0)
        if low < 0 or high > 255:
            raise DataError(f"integer images must be in 0..255; these go from {low} to {high}")
        return array.astype(np.uint8)
    if array.size and not np.isfinite(array).all():
        raise DataError("the images hold NaN or infinite values")
    low, high = (float(array.min()), float(array.max())) if array.size else (0.0, 0.0)
    if low < -1e-3 or high > 1 + 1e-3:
        raise DataError(f"floating-point images must be in [0, 1]; these go from {low:.3g} to {high:.3g}")
    return np.rint(np.clip(array, 0.0, 1.0) * 255.0).astype(np.uint8)


def _from_dataset(dataset: Any) -> tuple[ImageSet, Layout]:
    """Every item of a Dataset-like object: ``(image, label)`` pairs or bare images."""
    images, labels = [], []
    for i in range(len(dataset)):
        item = dataset[i]
        image, label = (item[0], item[1]) if isinstance(item, (tuple, list)) and len(item) >= 2 else (item, 0)
        images.append(image)
        labels.append(int(label))
    if not images:
        raise DataError("the data set is empty")
    arrays = [im.detach().cpu().numpy() if isinstance(im, torch.Tensor) else np.asarray(im) for im in images]
    try:
        stacked = np.stack(arrays)
    except ValueError:
        raise DataError(f"the data set's images differ in shape (the first is {arrays[0].shape})") from None
    tensor, layout = _images_tensor(torch.from_numpy(stacked) if isinstance(images[0], torch.Tensor) else stacked)
    names = tuple(str(k) for k in range(max(labels) + 1)) if max(labels) > 0 else (UNLABELLED,)
    return ImageSet(tensor, torch.tensor(labels, dtype=torch.long), names), layout


def _relabelled(images: ImageSet, labels: Any, class_names: Sequence[str] | None) -> ImageSet:
    if labels is None and class_names is None:
        return images
    values = images.labels
    if labels is not None:
        array = np.asarray(labels.cpu() if isinstance(labels, torch.Tensor) else labels).reshape(-1)
        if len(array) != len(images) or array.dtype.kind not in "iu" or (array.size and array.min() < 0):
            raise DataError(f"labels must be {len(images)} whole numbers of 0 or more (one per image); "
                            f"got {len(array)} of {array.dtype}")
        values = torch.from_numpy(array.astype(np.int64))
    top = int(values.max()) + 1 if len(values) else 1
    names = tuple(class_names) if class_names is not None else tuple(str(k) for k in range(top))
    if len(names) < top:
        raise DataError(f"{len(names)} class names for labels up to {top - 1}")
    return ImageSet(images.images, values, names, images.name)
