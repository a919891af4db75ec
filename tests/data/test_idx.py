"""The IDX reader accepts good files (gzip or raw) and refuses bad ones with one line naming the file."""
from __future__ import annotations

import gzip
import struct
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from aeviewer.data.idx import read_idx, write_idx
from aeviewer.data.sources import BUNDLED_DATA_DIR
from aeviewer.errors import DataError


def idx_bytes(shape: tuple[int, ...], data: bytes, dtype: int = 0x08) -> bytes:
    return bytes([0, 0, dtype, len(shape)]) + struct.pack(f">{len(shape)}I", *shape) + data


def assert_one_line_naming(err: pytest.ExceptionInfo, path: Path, *words: str) -> None:
    text = str(err.value)
    assert "\n" not in text
    assert str(path) in text
    for word in words:
        assert word in text, text


@pytest.fixture
def images() -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, size=(5, 4, 3), dtype=np.uint8)


@pytest.mark.parametrize("name", ["x-idx3-ubyte", "x-idx3-ubyte.gz"])
def test_round_trip_raw_and_gzip(tmp_path, images, name):
    path = write_idx(tmp_path / name, images)
    assert (path.read_bytes()[:2] == b"\x1f\x8b") == name.endswith(".gz")
    back = read_idx(path, ndim=3)
    assert back.dtype == np.uint8 and back.shape == (5, 4, 3)
    np.testing.assert_array_equal(back, images)
    back[0, 0, 0] = 7  # writable: torch.from_numpy must not warn about read-only memory


def test_gzip_content_under_a_plain_name_is_read(tmp_path, images):
    path = tmp_path / "renamed"
    path.write_bytes(gzip.compress(idx_bytes(images.shape, images.tobytes())))
    np.testing.assert_array_equal(read_idx(path), images)


def test_labels_are_one_dimensional(tmp_path):
    path = write_idx(tmp_path / "labels.gz", np.arange(10, dtype=np.uint8))
    assert read_idx(path, ndim=1).tolist() == list(range(10))
    with pytest.raises(DataError) as err:
        read_idx(path, ndim=3)
    assert_one_line_naming(err, path, "expected 3 dimension")


@pytest.mark.parametrize("compress", [False, True])
def test_truncated_file_is_refused(tmp_path, images, compress):
    payload = idx_bytes(images.shape, images.tobytes()[:-7])
    path = tmp_path / ("cut.gz" if compress else "cut")
    path.write_bytes(gzip.compress(payload) if compress else payload)
    with pytest.raises(DataError) as err:
        read_idx(path)
    assert_one_line_naming(err, path, "truncated", "5x4x3 = 60 bytes")


@pytest.mark.parametrize("compress", [False, True])
def test_too_long_file_is_refused(tmp_path, images, compress):
    payload = idx_bytes(images.shape, images.tobytes() + b"extra")
    path = tmp_path / ("long.gz" if compress else "long")
    path.write_bytes(gzip.compress(payload) if compress else payload)
    with pytest.raises(DataError) as err:
        read_idx(path)
    assert_one_line_naming(err, path, "too long")


def test_cut_gzip_stream_is_refused(tmp_path, images):
    path = tmp_path / "stream.gz"
    path.write_bytes(gzip.compress(idx_bytes(images.shape, images.tobytes()))[:-12])
    with pytest.raises(DataError) as err:
        read_idx(path)
    assert_one_line_naming(err, path, "gzip")


def test_gzip_with_bad_crc_is_refused(tmp_path, images):
    blob = bytearray(gzip.compress(idx_bytes(images.shape, images.tobytes())))
    blob[-8] ^= 0xFF  # the CRC-32 trailer
    path = tmp_path / "crc.gz"
    path.write_bytes(bytes(blob))
    with pytest.raises(DataError) as err:
        read_idx(path)
    assert_one_line_naming(err, path, "corrupt gzip")


def test_plain_file_named_gz_is_refused(tmp_path, images):
    path = tmp_path / "fake.gz"
    path.write_bytes(idx_bytes(images.shape, images.tobytes()))
    with pytest.raises(DataError) as err:
        read_idx(path)
    assert_one_line_naming(err, path, "not a gzip file")


@pytest.mark.parametrize("content", [b"\x89PNG\r\n\x1a\n" + bytes(100), b"hello world, not idx", b""])
def test_foreign_file_is_refused(tmp_path, content):
    path = tmp_path / "foreign"
    path.write_bytes(content)
    with pytest.raises(DataError) as err:
        read_idx(path)
    assert_one_line_naming(err, path)


def test_foreign_content_inside_gzip_is_refused(tmp_path):
    path = tmp_path / "foreign.gz"
    path.write_bytes(gzip.compress(b"PK\x03\x04 a zip file, not idx"))
    with pytest.raises(DataError) as err:
        read_idx(path)
    assert_one_line_naming(err, path, "not an IDX file")


def test_other_element_types_are_refused(tmp_path):
    path = tmp_path / "floats"
    path.write_bytes(idx_bytes((2,), np.zeros(2, ">f4").tobytes(), dtype=0x0D))
    with pytest.raises(DataError) as err:
        read_idx(path)
    assert_one_line_naming(err, path, "0x0d", "float32")


@pytest.mark.parametrize("dims", [0, 9])
def test_impossible_number_of_dimensions_is_refused(tmp_path, dims):
    path = tmp_path / "dims"
    path.write_bytes(bytes([0, 0, 8, dims]) + bytes(4 * dims + 16))
    with pytest.raises(DataError) as err:
        read_idx(path)
    assert_one_line_naming(err, path, "dimensions")


def test_header_cut_inside_the_sizes_is_refused(tmp_path):
    path = tmp_path / "header"
    path.write_bytes(bytes([0, 0, 8, 3]) + struct.pack(">I", 10))
    with pytest.raises(DataError) as err:
        read_idx(path)
    assert_one_line_naming(err, path, "truncated IDX header")


@pytest.mark.parametrize("compress", [False, True])
@pytest.mark.parametrize("shape", [(60000, 2800, 2800), (0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF)])
def test_huge_declared_size_allocates_nothing_of_that_size(tmp_path, compress, shape):
    # 470 GB / 8e28 bytes declared, 1 KB present: the reader must compare lengths before allocating.
    payload = idx_bytes(shape, bytes(1024))
    path = tmp_path / ("huge.gz" if compress else "huge")
    path.write_bytes(gzip.compress(payload) if compress else payload)
    tracemalloc.start()
    try:
        with pytest.raises(DataError) as err:
            read_idx(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert_one_line_naming(err, path)
    assert "truncated" in str(err.value) or "too large" in str(err.value)
    assert peak < 16 * 2**20, f"peak allocation {peak} bytes for a 1 KB file"


def test_missing_file_is_a_data_error(tmp_path):
    with pytest.raises(DataError) as err:
        read_idx(tmp_path / "absent.gz")
    assert_one_line_naming(err, tmp_path / "absent.gz", "no such file")


def test_the_shipped_mnist_test_images_read():
    images = read_idx(BUNDLED_DATA_DIR / "mnist" / "t10k-images-idx3-ubyte.gz", ndim=3)
    assert images.shape == (10000, 28, 28) and images.max() == 255 and images.min() == 0


@pytest.mark.parametrize("compress", [False, True])
def test_empty_set_with_absurd_other_dimensions_is_refused(tmp_path, compress):
    """Found by the fuzzer: 0 x 60000 x 2**24 x 2**24 holds no bytes, yet numpy cannot even shape it."""
    raw = idx_bytes((0, 60000, 2**24, 2**24), b"")
    path = tmp_path / ("odd-idx4-ubyte" + (".gz" if compress else ""))
    path.write_bytes(gzip.compress(raw) if compress else raw)
    with pytest.raises(DataError) as err:
        read_idx(path)
    assert_one_line_naming(err, path, "too large")


def test_empty_set_of_real_images_is_read(tmp_path):
    path = tmp_path / "none-idx3-ubyte"
    path.write_bytes(idx_bytes((0, 28, 28), b""))
    assert read_idx(path).shape == (0, 28, 28)
