"""Sources load as uint8 ImageSets from wherever their files are, and say clearly when they are missing."""
from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from aeviewer.data import sources
from aeviewer.data.idx import write_idx
from aeviewer.data.loader import load_split
from aeviewer.data.sources import (
    FASHION_NAMES,
    SOURCE_NAMES,
    digits_split_indices,
    format_status_table,
    resolve_data_dir,
    source_status,
)
from aeviewer.errors import ConfigError, DataError
from shared_data import idx_files, require_data

# From ../shared/data/mnist/README.txt.
MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
MNIST_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]


@pytest.fixture
def nowhere_else(monkeypatch, tmp_path):
    """Only the data directory counts: no Debian folder, no bundled resources."""
    monkeypatch.setattr(sources, "SYSTEM_DIRS", {})
    monkeypatch.setattr(sources, "BUNDLED_DATA_DIR", tmp_path / "no-bundled-data")


def write_tiny_source(directory: Path, split: str = "test", n: int = 12, gz: bool = True, labels=None) -> np.ndarray:
    """A small MNIST-shaped IDX pair in ``directory``; returns its images."""
    directory.mkdir(parents=True, exist_ok=True)
    images = np.random.default_rng(0).integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    labels = np.arange(n, dtype=np.uint8) % 10 if labels is None else np.asarray(labels, dtype=np.uint8)
    suffix = ".gz" if gz else ""
    img_name, lbl_name = sources.IDX_FILES[split]
    write_idx(directory / f"{img_name}{suffix}", images)
    write_idx(directory / f"{lbl_name}{suffix}", labels)
    return images


def test_source_names():
    assert SOURCE_NAMES == ("digits", "mnist", "fashion-mnist")


def test_mnist_test_split_has_the_published_class_counts():
    test = load_split("mnist", "test")  # $AEVIEWER_DATA's, else the one the app ships
    assert test.images.shape == (10000, 1, 28, 28) and test.images.dtype == torch.uint8
    assert test.labels.dtype == torch.int64
    assert torch.bincount(test.labels, minlength=10).tolist() == MNIST_TEST_COUNTS
    assert test.class_names == tuple("0123456789") and test.name == "mnist"


def test_mnist_train_loads_quickly_with_published_counts():
    data_dir = require_data(*idx_files("mnist", "train"))
    start = time.perf_counter()
    train = load_split("mnist", "train", data_dir)
    seconds = time.perf_counter() - start
    assert len(train) == 60000 and train.image_shape == (1, 28, 28)
    assert torch.bincount(train.labels, minlength=10).tolist() == MNIST_TRAIN_COUNTS
    assert seconds < 5.0, f"loading MNIST train took {seconds:.2f} s (about 0.3 s expected)"
    assert 0 <= train.float_batch(slice(0, 8)).min() and train.float_batch(slice(0, 8)).max() <= 1


def test_fashion_mnist_has_its_class_names_and_balanced_test_split():
    test = load_split("fashion-mnist", "test", require_data(*idx_files("fashion-mnist", "test")))
    assert test.class_names == FASHION_NAMES
    assert test.class_names[0] == "T-shirt/top" and test.class_names[9] == "Ankle boot"
    assert torch.bincount(test.labels, minlength=10).tolist() == [1000] * 10


def test_env_var_names_the_data_dir_by_default(tmp_path, monkeypatch):
    write_tiny_source(tmp_path / "mnist", n=7)
    monkeypatch.setenv("AEVIEWER_DATA", str(tmp_path))
    assert resolve_data_dir() == tmp_path
    assert len(load_split("mnist", "test")) == 7  # not the shipped 10,000


def test_data_dir_precedence(monkeypatch, tmp_path):
    monkeypatch.setenv("AEVIEWER_DATA", str(tmp_path / "env"))
    assert resolve_data_dir(tmp_path / "explicit") == tmp_path / "explicit"
    assert resolve_data_dir() == tmp_path / "env"
    monkeypatch.delenv("AEVIEWER_DATA")
    default = resolve_data_dir()
    assert default.name == "aeviewer"
    assert str(default).startswith(os.environ["XDG_DATA_HOME"])  # conftest isolates the user folders


def test_digits_split_is_fixed_disjoint_and_80_20():
    split = digits_split_indices()
    train, test = set(split["train"].tolist()), set(split["test"].tolist())
    assert not train & test and len(train | test) == 1797
    assert len(test) == 359
    assert all(np.array_equal(a, b) for a, b in zip(split.values(), digits_split_indices().values()))
    # Pinned: a change here would silently move images between train and test of saved models.
    assert split["test"][:8].tolist() == [4, 5, 6, 9, 14, 17, 18, 19]


def test_digits_load_scaled_to_uint8():
    train, test = load_split("digits", "train"), load_split("digits", "test")
    assert train.images.shape == (1438, 1, 8, 8) and test.images.shape == (359, 1, 8, 8)
    assert train.images.dtype == torch.uint8 and int(train.images.max()) == 255
    from sklearn.datasets import load_digits

    bunch = load_digits()
    first = int(digits_split_indices()["test"][0])
    expected = (bunch.images[first].astype(np.int64) * 255 // 16).astype(np.uint8)  # v*255//16
    assert np.array_equal(test.images[0, 0].numpy(), expected)
    assert int(test.labels[0]) == int(bunch.target[first])
    assert len(torch.unique(train.labels)) == 10 and len(torch.unique(test.labels)) == 10


@pytest.mark.parametrize("name", ["mnist", "fashion-mnist"])
def test_missing_data_says_how_to_fetch(tmp_path, nowhere_else, name):
    with pytest.raises(DataError) as err:
        load_split(name, "train", tmp_path)
    message = str(err.value)
    assert "\n" not in message
    assert f"aeviewer data fetch {name}" in message
    assert str(tmp_path / name) in message


def test_unknown_source_and_split_are_config_errors(tmp_path):
    with pytest.raises(ConfigError, match="known: digits, mnist, fashion-mnist"):
        load_split("cifar", "train", tmp_path)
    with pytest.raises(ConfigError, match="split"):
        load_split("mnist", "validation", tmp_path)


@pytest.mark.parametrize("gz", [True, False])
def test_gzip_and_uncompressed_files_load(tmp_path, nowhere_else, gz):
    images = write_tiny_source(tmp_path / "mnist", gz=gz)
    test = load_split("mnist", "test", tmp_path)
    assert np.array_equal(test.images[:, 0].numpy(), images)


def test_bundled_resources_are_a_read_only_fallback(tmp_path, nowhere_else, monkeypatch):
    bundled = tmp_path / "resources"
    images = write_tiny_source(bundled / "mnist", "test")
    monkeypatch.setattr(sources, "BUNDLED_DATA_DIR", bundled)
    empty = tmp_path / "empty"
    assert np.array_equal(load_split("mnist", "test", empty).images[:, 0].numpy(), images)
    with pytest.raises(DataError, match="train split not found"):
        load_split("mnist", "train", empty)
    status = {s.name: s for s in source_status(empty)}["mnist"]
    assert status.present == {"train": False, "test": True} and not status.complete
    assert status.paths["test"] == bundled / "mnist"


def test_system_folder_is_searched_for_fashion_mnist(tmp_path, nowhere_else, monkeypatch):
    debian = tmp_path / "usr-share-datasets-fashion-mnist"
    write_tiny_source(debian, "train")
    monkeypatch.setattr(sources, "SYSTEM_DIRS", {"fashion-mnist": (debian,)})
    assert len(load_split("fashion-mnist", "train", tmp_path / "empty")) == 12
    with pytest.raises(DataError):
        load_split("mnist", "train", tmp_path / "empty")


def test_data_dir_wins_over_fallbacks(tmp_path, nowhere_else, monkeypatch):
    write_tiny_source(tmp_path / "bundled" / "mnist", n=5)
    write_tiny_source(tmp_path / "data" / "mnist", n=7)
    monkeypatch.setattr(sources, "BUNDLED_DATA_DIR", tmp_path / "bundled")
    assert len(load_split("mnist", "test", tmp_path / "data")) == 7


def test_labels_out_of_range_are_refused(tmp_path, nowhere_else):
    write_tiny_source(tmp_path / "mnist", n=3, labels=[1, 10, 2])
    with pytest.raises(DataError, match="label 10 out of range") as err:
        load_split("mnist", "test", tmp_path)
    assert "t10k-labels-idx1-ubyte.gz" in str(err.value)


def test_label_count_must_match_images(tmp_path, nowhere_else):
    directory = tmp_path / "mnist"
    write_tiny_source(directory, n=4)
    write_idx(directory / "t10k-labels-idx1-ubyte.gz", np.zeros(3, np.uint8))
    with pytest.raises(DataError, match="3 labels for 4 images"):
        load_split("mnist", "test", tmp_path)


def test_wrong_image_size_is_refused(tmp_path, nowhere_else):
    directory = tmp_path / "mnist"
    directory.mkdir()
    write_idx(directory / "t10k-images-idx3-ubyte.gz", np.zeros((2, 8, 8), np.uint8))
    write_idx(directory / "t10k-labels-idx1-ubyte.gz", np.zeros(2, np.uint8))
    with pytest.raises(DataError, match="8x8, mnist has 28x28"):
        load_split("mnist", "test", tmp_path)


def test_status_of_the_shared_data(data_dir):
    status = {s.name: s for s in source_status(data_dir)}
    assert list(status) == list(SOURCE_NAMES)
    for name in ("mnist", "fashion-mnist"):
        assert status[name].complete and status[name].path == data_dir / name
        on_disk = sum(p.stat().st_size for p in (data_dir / name).glob("*-ubyte.gz"))
        assert status[name].size_bytes == on_disk
    assert status["digits"].complete and status["digits"].size_bytes > 0


def test_status_table_shows_missing_sources_and_where_they_go(tmp_path, nowhere_else):
    table = format_status_table(source_status(tmp_path))
    lines = table.splitlines()
    assert lines[0].split() == ["NAME", "TRAIN", "TEST", "SIZE", "PATH"]
    mnist = next(line for line in lines if line.startswith("mnist "))
    assert str(tmp_path / "mnist") in mnist and "aeviewer data fetch mnist" in mnist
    assert mnist.split()[1:4] == ["-", "-", "-"]
    digits = next(line for line in lines if line.startswith("digits "))
    assert digits.split()[1:3] == ["yes", "yes"]
