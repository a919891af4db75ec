""".npz/.npy sources (every accepted layout, never a pickle) and CIFAR-10/100 binary folders."""
import numpy as np
import pytest

from aeviewer.data.arrays import load_array_file
from aeviewer.data.cifar import load_cifar
from aeviewer.data.loader import load_source, path_kind
from aeviewer.data.preparation import Preparation
from aeviewer.errors import ConfigError, DataError

PREP = Preparation(test_fraction=0.25)


def _images(n=8, h=6, w=5, c=None, seed=0):
    shape = (n, h, w) if c is None else (n, h, w, c)
    return np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)


@pytest.mark.parametrize("layout", ["nhw", "nhwc", "nchw"])
def test_each_layout_gives_n_c_h_w(tmp_path, layout):
    base = _images(c=3)
    images = {"nhw": base[..., 0], "nhwc": base, "nchw": base.transpose(0, 3, 1, 2)}[layout]
    np.savez(tmp_path / "a.npz", images=images, labels=np.arange(8) % 2)
    loaded = load_array_file(tmp_path / "a.npz", PREP)
    both = np.concatenate([loaded.train.images.numpy(), loaded.test.images.numpy()])
    channels = 1 if layout == "nhw" else 3
    assert loaded.train.image_shape == (channels, 6, 5)
    expected = base[..., :1] if layout == "nhw" else base
    order = np.concatenate([loaded.train.labels.numpy(), loaded.test.labels.numpy()])
    assert len(both) == 8 and sorted(order.tolist()) == [0, 0, 0, 0, 1, 1, 1, 1]
    assert {bytes(x.transpose(1, 2, 0).tobytes()) for x in both} == {bytes(x.tobytes()) for x in expected}


def test_floats_in_0_1_become_uint8_and_class_names_are_read_without_pickle(tmp_path):
    images = np.linspace(0, 1, 8 * 4 * 4, dtype=np.float32).reshape(8, 4, 4)
    np.savez(tmp_path / "f.npz", images=images, labels=np.arange(8) % 2, class_names=np.array(["cat", "dog"]))
    loaded = load_array_file(tmp_path / "f.npz", PREP)
    assert loaded.train.class_names == ("cat", "dog")
    assert loaded.train.images.max() <= 255 and int(loaded.test.images.max()) > 0


def test_a_npy_holds_images_only_and_is_one_unlabelled_set(tmp_path):
    np.save(tmp_path / "x.npy", _images(n=5))
    loaded = load_source(tmp_path / "x.npy", PREP)
    assert loaded.train.class_names == ("unlabelled",) and len(loaded.train) + len(loaded.test) == 5


def test_an_image_size_resizes_arrays_and_rgba_is_composited(tmp_path):
    rgba = np.zeros((4, 8, 8, 4), np.uint8)  # fully transparent
    np.savez(tmp_path / "r.npz", images=rgba)
    loaded = load_array_file(tmp_path / "r.npz", Preparation(image_size=4, background="white", channels="3"))
    assert loaded.train.image_shape == (3, 4, 4) and (loaded.train.images == 255).all()


@pytest.mark.parametrize("images, fragment", [
    (np.array([object()] * 3, dtype=object), "pickle"),
    (np.full((3, 4, 4), 2.0), r"\[0, 1\]"),
    (np.full((3, 4, 4), np.nan), "NaN"),
    (np.zeros((3, 4, 4), np.int16), "uint8 or floats"),
    (np.zeros((3, 9, 9, 9), np.uint8), "channel axis"),
    (np.zeros((3, 4), np.uint8), "must be"),
])
def test_bad_arrays_are_one_line(tmp_path, images, fragment):
    np.savez(tmp_path / "bad.npz", images=images)
    with pytest.raises(DataError, match=fragment) as err:
        load_array_file(tmp_path / "bad.npz", PREP)
    assert "\n" not in str(err.value)


def test_labels_must_match_the_images(tmp_path):
    np.savez(tmp_path / "l.npz", images=_images(n=4), labels=np.arange(3))
    with pytest.raises(DataError, match="one per image"):
        load_array_file(tmp_path / "l.npz", PREP)
    np.savez(tmp_path / "m.npz", images=_images(n=4), labels=np.arange(4), class_names=np.array(["a"]))
    with pytest.raises(DataError, match="no class name"):
        load_array_file(tmp_path / "m.npz", PREP)


def test_a_corrupt_or_foreign_file_is_one_line(tmp_path):
    (tmp_path / "c.npz").write_bytes(b"PK\x03\x04 garbage")
    with pytest.raises(DataError, match="cannot read|not a NumPy"):
        load_source(tmp_path / "c.npz", PREP)
    (tmp_path / "x.csv").write_text("1,2")
    with pytest.raises(DataError, match="a folder, a .npz, .npy or .parquet"):
        load_source(tmp_path / "x.csv", PREP)


def test_the_memory_guard_reads_the_array_header_first(tmp_path):
    """Over --max-memory, uint8 images are memory-mapped (tests/data/test_data_mapped.py); float ones are refused
    before their data is read."""
    np.save(tmp_path / "big.npy", _images(n=10, h=32, w=32).astype(np.float32) / 255)
    with pytest.raises(DataError, match="larger than --max-memory is memory-mapped as it is, which needs uint8"):
        load_source(tmp_path / "big.npy", PREP, max_memory=1000)
    np.save(tmp_path / "big.npy", _images(n=10, h=32, w=32))
    assert load_source(tmp_path / "big.npy", PREP, max_memory=1000).train.budget is not None


def _cifar_records(n, label_bytes, seed):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10 if label_bytes == 1 else 100, (n, label_bytes), dtype=np.uint8)
    pixels = rng.integers(0, 256, (n, 3072), dtype=np.uint8)
    return np.concatenate([labels, pixels], axis=1), labels[:, -1], pixels


def test_cifar10_binary_batches_load_with_their_split_and_names(tmp_path):
    for name, seed in (("data_batch_1.bin", 1), ("data_batch_2.bin", 2), ("test_batch.bin", 3)):
        _cifar_records(4, 1, seed)[0].tofile(tmp_path / name)
    _, test_labels, test_pixels = _cifar_records(4, 1, 3)
    assert path_kind(tmp_path) == "cifar"
    loaded = load_source(tmp_path, Preparation())
    assert len(loaded.train) == 8 and loaded.test.labels.tolist() == test_labels.tolist()
    assert loaded.train.class_names[0] == "airplane" and loaded.test.image_shape == (3, 32, 32)
    assert np.array_equal(loaded.test.images.numpy().reshape(4, 3072), test_pixels)  # planes R, G, B


def test_cifar100_uses_the_fine_label_of_its_two_label_bytes(tmp_path):
    for name, seed in (("train.bin", 1), ("test.bin", 2)):
        _cifar_records(3, 2, seed)[0].tofile(tmp_path / name)
    (tmp_path / "fine_label_names.txt").write_text("\n".join(f"class{k}" for k in range(100)))
    loaded = load_cifar(tmp_path, Preparation())
    assert loaded.test.labels.tolist() == _cifar_records(3, 2, 2)[1].tolist()
    assert len(loaded.train.class_names) == 100 and loaded.train.class_names[5] == "class5"


def test_the_python_version_of_cifar_is_refused_naming_the_binary_one(tmp_path):
    (tmp_path / "data_batch_1").write_bytes(b"\x80\x04pickle")
    (tmp_path / "batches.meta").write_bytes(b"\x80\x04pickle")
    with pytest.raises(DataError, match="Python version.*binary version") as err:
        load_source(tmp_path, Preparation())
    assert "\n" not in str(err.value)


def test_a_cifar_file_of_the_wrong_size_is_one_line(tmp_path):
    (tmp_path / "data_batch_1.bin").write_bytes(b"\0" * 3000)
    (tmp_path / "test_batch.bin").write_bytes(b"\0" * 3073)
    with pytest.raises(DataError, match="not a whole number of CIFAR-10"):
        load_source(tmp_path, Preparation())


def test_an_unknown_name_is_still_a_config_error_and_a_missing_path_a_data_error(tmp_path):
    with pytest.raises(ConfigError, match="unknown data set 'emnist'"):
        load_source("emnist")
    with pytest.raises(DataError, match="no such file or folder"):
        load_source(tmp_path / "gone")
