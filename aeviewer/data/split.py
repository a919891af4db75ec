"""The seeded, stratified train/test split of a source that has none: the same on every run and machine."""
from __future__ import annotations

import numpy as np


def stratified_split(labels: np.ndarray, test_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(train indices, test indices), each sorted: round(n_k · fraction) images of each class k go to test,
    chosen by NumPy's PCG64 generator (its stream is fixed across versions and platforms) seeded with
    ``seed`` and drawn class by class in label order. A class of one image stays in training."""
    labels = np.asarray(labels, dtype=np.int64)
    rng = np.random.default_rng(seed)
    test: list[np.ndarray] = []
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        n_test = min(int(round(len(members) * test_fraction)), len(members) - 1)
        test.append(rng.permutation(members)[:max(n_test, 0)])
    test_index = np.sort(np.concatenate(test)) if test else np.zeros(0, np.int64)
    train_mask = np.ones(len(labels), bool)
    train_mask[test_index] = False
    return np.flatnonzero(train_mask), test_index
