"""The labels and class names an array set brings, checked: one whole number per image, a name per class."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from aeviewer.data.imageset import UNLABELLED
from aeviewer.errors import DataError


def checked_labels(labels: np.ndarray | None, class_names: tuple[str, ...] | None, n: int, path: Path
                   ) -> tuple[np.ndarray, tuple[str, ...]]:
    """Labels as int64, one per image, and a name for each class (0..max); unlabelled sets get one class."""
    if labels is None:
        return np.zeros(n, np.int64), class_names if class_names and len(class_names) == 1 else (UNLABELLED,)
    labels = np.asarray(labels)
    if labels.shape != (n,) or not (np.issubdtype(labels.dtype, np.integer) or labels.dtype == np.bool_):
        raise DataError(f"{path}: labels must be {n} whole numbers, one per image, got {labels.dtype} {labels.shape}")
    labels = labels.astype(np.int64)
    if labels.min() < 0:
        raise DataError(f"{path}: labels must be 0 or more, found {int(labels.min())}")
    n_classes = int(labels.max()) + 1
    if class_names is None:
        return labels, tuple(str(k) for k in range(n_classes))
    if len(class_names) < n_classes:
        raise DataError(f"{path}: label {n_classes - 1} has no class name ({len(class_names)} names)")
    return labels, class_names
