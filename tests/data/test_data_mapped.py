"""Data larger than --max-memory: an .npz converted once into a memory-mapped cache, trained on batch by batch."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from aeviewer.data.loader import load_source
from aeviewer.data.preparation import Preparation
from aeviewer.errors import DataError
from aeviewer.models import default_config
from aeviewer.training.trainer import TrainConfig, Trainer, seeded_build

LIMIT = 100_000  # bytes: the set below takes 460,800


@pytest.fixture
def big_npz(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (600, 16, 16, 3), dtype=np.uint8)
    labels = rng.integers(0, 4, 600)
    path = tmp_path / "big.npz"
    np.savez(path, images=images, labels=labels, class_names=np.array(["a", "b", "c", "d"]))
    return path


def test_a_set_over_the_limit_is_mapped_with_the_in_memory_splits(big_npz):
    mapped = load_source(big_npz, Preparation(), max_memory=LIMIT)
    in_ram = load_source(big_npz, Preparation())
    assert mapped.train.budget is not None and in_ram.train.budget is None
    for split in ("train", "test"):
        a, b = mapped.split(split), in_ram.split(split)
        assert torch.equal(a.images, b.images) and torch.equal(a.labels, b.labels)
        assert a.class_names == ("a", "b", "c", "d")
    again = load_source(big_npz, Preparation(), max_memory=LIMIT)  # the converted cache, opened again
    assert again.train.budget is not None and torch.equal(again.train.images, mapped.train.images)


def test_a_memory_mapped_epoch_trains_as_the_in_memory_one(big_npz):
    torch.set_num_threads(1)
    weights = []
    for limit in (LIMIT, None):
        train = load_source(big_npz, Preparation(), **({"max_memory": limit} if limit else {})).train
        model = seeded_build(default_config("vae", image_shape=(3, 16, 16), hidden=(16,), latent_dim=2), 1)
        result = Trainer(model, train, TrainConfig(epochs=1, batch_size=64, seed=2, device="cpu")).run()
        assert result.status == "finished"
        if limit:
            assert train.budget.releases > 0  # pages were dropped: RAM held stays under the limit
        weights.append(model.state_dict())
    for name, tensor in weights[0].items():
        assert torch.allclose(tensor, weights[1][name]), name


def test_a_compressed_set_over_the_limit_says_how_to_map_it(tmp_path):
    path = tmp_path / "packed.npz"
    np.savez_compressed(path, images=np.zeros((600, 16, 16, 3), np.uint8))
    with pytest.raises(DataError, match="compressed.*np.savez"):
        load_source(path, Preparation(), max_memory=LIMIT)


def test_a_mapped_set_is_not_resized(big_npz):
    with pytest.raises(DataError, match="own size"):
        load_source(big_npz, Preparation(image_size=8), max_memory=LIMIT)



def held_after_random_batches(tmp_path: Path, limit: int) -> int:
    """The most file memory held over the start, after any batch of a random read of a 64 MB mapped set."""
    from aeviewer.data import page_budget

    path = tmp_path / "rows.npy"
    rows = np.lib.format.open_memmap(path, mode="w+", dtype=np.uint8, shape=(16_384, 4096))
    rows[:] = 1
    rows.flush()
    del rows
    mapping = np.load(path, mmap_mode="r")
    budget = page_budget.PageBudget(mapping, limit)
    baseline, held = page_budget.resident_file_bytes() or 0, 0
    order = np.random.default_rng(0).permutation(len(mapping))
    for start in range(0, len(order), 16):
        budget.spent(np.asarray(mapping[np.sort(order[start:start + 16])]).nbytes)
        held = max(held, (page_budget.resident_file_bytes() or 0) - baseline)
    return held


@pytest.mark.skipif(not Path("/proc/self/status").is_file(), reason="needs Linux's /proc/self/status")
def test_a_random_read_holds_no_more_file_memory_than_the_budget(tmp_path):
    limit = 8_000_000
    assert held_after_random_batches(tmp_path, limit) <= limit + 4_000_000  # one batch's folios may come on top
