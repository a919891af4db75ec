"""Hostile IDX files: read_idx and load_split answer with the data or one line naming the file, never more.

Hypothesis feeds the reader truncated, bit-flipped, random and crafted files (raw and gzip), and
``load_split`` a data folder holding them. The only acceptable outcomes are an array the header
describes (or an ImageSet) and a :class:`DataError` on one line naming the file. Huge declared sizes
must cost no memory of that size. The number of inputs tried is printed at the end of the module and
written to ``<pytest basetemp>/fuzz_counts.json``.
"""
from __future__ import annotations

import collections
import contextlib
import gzip
import json
import math
import os
import struct
import tracemalloc
from pathlib import Path
from typing import Iterator

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aeviewer.data import sources
from aeviewer.data.idx import read_idx
from aeviewer.data.imageset import ImageSet
from aeviewer.data.loader import load_split
from aeviewer.errors import DataError

FUZZ = settings(derandomize=True, database=None, deadline=None, max_examples=200,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
TRIED: collections.Counter[str] = collections.Counter()  # inputs handed to read_idx / load_split, per family

HUGE_SIZES = [60000, 2**16, 2**24, 2**31, 2**32 - 1]
RNG = np.random.default_rng(0)
IMAGES = RNG.integers(0, 256, size=(3, 28, 28), dtype=np.uint8)
LABELS = RNG.integers(0, 10, size=(3,), dtype=np.uint8)


def idx_bytes(array: np.ndarray) -> bytes:
    return bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape) + array.tobytes()


SEEDS = {"images": idx_bytes(IMAGES), "labels": idx_bytes(LABELS)}
SEEDS.update({f"{name}.gz": gzip.compress(data, mtime=0) for name, data in list(SEEDS.items())})


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[Path]:
    folder = tmp_path_factory.mktemp("fuzz_idx")
    with pytest.MonkeyPatch.context() as patch:
        # load_split must see only the fuzzed folder: no system copy, no bundled MNIST test split to fall back on.
        patch.setattr(sources, "SYSTEM_DIRS", {})
        patch.setattr(sources, "BUNDLED_DATA_DIR", folder / "no-bundled-data")
        yield folder
    record = tmp_path_factory.getbasetemp() / "fuzz_counts.json"
    counts = json.loads(record.read_text()) if record.exists() else {}
    counts["read_idx"] = dict(TRIED, total=sum(TRIED.values()))
    record.write_text(json.dumps(counts, indent=1))
    capture = request.config.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
        print(f"\nfuzz: read_idx/load_split tried {sum(TRIED.values())} inputs {dict(TRIED)} -> {record}")


# -- the oracles --------------------------------------------------------------------------------------
def assert_one_line(err: DataError, *names: Path) -> None:
    message = str(err)
    assert message.splitlines() == [message], f"not one line: {message!r}"
    assert any(str(name) in message for name in names), f"names none of {names}: {message!r}"


def attempt_read(folder: Path, data: bytes, family: str, gz_name: bool, ndim: int | None) -> np.ndarray | DataError:
    path = folder / ("fuzzed-idx-ubyte.gz" if gz_name else "fuzzed-idx-ubyte")
    path.write_bytes(data)
    TRIED[family] += 1
    try:
        array = read_idx(path, ndim=ndim)
    except DataError as err:
        assert_one_line(err, path)
        return err
    except Exception as err:  # noqa: BLE001 -- the point of the test: any other type is a bug
        pytest.fail(f"{family}: {type(err).__name__} escaped read_idx: {err!r}; input {data[:200]!r}")
    # Accepted: then it is exactly what an honest header describes, in memory the caller may write to.
    raw = gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data
    assert array.dtype == np.uint8 and array.flags.writeable
    assert raw[:3] == b"\0\0\x08" and array.ndim == raw[3] and (ndim is None or array.ndim == ndim)
    assert array.shape == struct.unpack(f">{raw[3]}I", raw[4:4 + 4 * raw[3]])
    assert array.tobytes() == raw[4 + 4 * raw[3]:]
    return array


def attempt_split(folder: Path, images: bytes, labels: bytes, family: str, gz: tuple[bool, bool]) -> None:
    """Write a data folder whose mnist train split is (images, labels) and load it."""
    data_dir = folder / "data"
    target = data_dir / "mnist"
    target.mkdir(parents=True, exist_ok=True)
    for old in target.iterdir():
        old.unlink()
    image_path = target / ("train-images-idx3-ubyte" + (".gz" if gz[0] else ""))
    label_path = target / ("train-labels-idx1-ubyte" + (".gz" if gz[1] else ""))
    image_path.write_bytes(images)
    label_path.write_bytes(labels)
    TRIED[family] += 1
    try:
        loaded = load_split("mnist", "train", data_dir=data_dir)
    except DataError as err:
        assert_one_line(err, image_path, label_path, target)
        return
    except Exception as err:  # noqa: BLE001
        pytest.fail(f"{family}: {type(err).__name__} escaped load_split: {err!r}; "
                    f"images {images[:80]!r}, labels {labels[:80]!r}")
    assert isinstance(loaded, ImageSet) and loaded.image_shape == (1, 28, 28)
    assert len(loaded.labels) == len(loaded) and (len(loaded) == 0 or int(loaded.labels.max()) < 10)


# -- strategies -----------------------------------------------------------------------------------------
seed_names = st.sampled_from(sorted(SEEDS))


@st.composite
def truncated(draw: st.DrawFn) -> bytes:
    data = SEEDS[draw(seed_names)]
    return data[:draw(st.integers(0, len(data) - 1))]


@st.composite
def bit_flipped(draw: st.DrawFn) -> bytes:
    data = bytearray(SEEDS[draw(seed_names)])
    # Half the flips hit the first 24 bytes: the IDX header, or the gzip header and the start of the stream.
    where = st.one_of(st.integers(0, min(23, len(data) - 1)), st.integers(0, len(data) - 1))
    for position, bit in draw(st.lists(st.tuples(where, st.integers(0, 7)), min_size=1, max_size=6)):
        data[position] ^= 1 << bit
    return bytes(data)


@st.composite
def crafted(draw: st.DrawFn) -> bytes:
    """A hand-made header: any magic, element type and dimension count, sizes small or huge, body honest or not."""
    lead = draw(st.one_of(st.just(b"\0\0"), st.binary(min_size=2, max_size=2)))
    dtype = draw(st.one_of(st.just(0x08), st.sampled_from([0x09, 0x0B, 0x0C, 0x0D, 0x0E]), st.integers(0, 255)))
    ndims = draw(st.one_of(st.integers(0, 5), st.integers(0, 255)))
    shape = draw(st.lists(st.one_of(st.integers(0, 5), st.sampled_from(HUGE_SIZES)), min_size=ndims, max_size=ndims))
    sizes = struct.pack(f">{ndims}I", *shape)[:draw(st.integers(0, 4 * ndims))] if draw(st.booleans()) else \
        struct.pack(f">{ndims}I", *shape)
    honest = math.prod(shape) if math.prod(shape) <= 4096 else 0
    body = draw(st.one_of(st.just(bytes(honest)), st.binary(max_size=256)))
    data = lead + bytes([dtype, ndims]) + sizes + body
    if draw(st.booleans()):
        data = gzip.compress(data, mtime=0)
        data = data[:draw(st.integers(0, len(data)))] if draw(st.booleans()) else data
    return data


@st.composite
def random_files(draw: st.DrawFn) -> bytes:
    data = draw(st.one_of(st.binary(max_size=1024), st.binary(max_size=64).map(lambda b: b"\0\0\x08\x03" + b),
                          st.binary(max_size=64).map(lambda b: b"\x1f\x8b" + b)))
    return gzip.compress(data, mtime=0) if draw(st.integers(0, 3)) == 0 else data


hostile_files = st.one_of(truncated(), bit_flipped(), crafted(), random_files())


# -- read_idx -----------------------------------------------------------------------------------------
def test_seed_files_read(workdir):
    # The oracle must accept the real thing, or every refusal below would prove nothing.
    for name, data in SEEDS.items():
        array = attempt_read(workdir, data, "seed", name.endswith(".gz"), None)
        assert isinstance(array, np.ndarray)
        np.testing.assert_array_equal(array, IMAGES if name.startswith("images") else LABELS)


@FUZZ
@given(data=truncated(), gz_name=st.booleans())
def test_truncated_files_are_refused(workdir, data, gz_name):
    assert isinstance(attempt_read(workdir, data, "truncated", gz_name, None), DataError)


@FUZZ
@given(data=bit_flipped(), gz_name=st.booleans(), ndim=st.sampled_from([None, 1, 3]))
def test_bit_flipped_files_read_or_are_refused(workdir, data, gz_name, ndim):
    attempt_read(workdir, data, "bit_flipped", gz_name, ndim)


@FUZZ
@given(data=crafted(), gz_name=st.booleans(), ndim=st.sampled_from([None, 1, 3]))
def test_crafted_headers_read_or_are_refused(workdir, data, gz_name, ndim):
    attempt_read(workdir, data, "crafted", gz_name, ndim)


@FUZZ
@given(data=random_files(), gz_name=st.booleans())
def test_random_bytes_read_or_are_refused(workdir, data, gz_name):
    attempt_read(workdir, data, "random", gz_name, None)


@settings(FUZZ, max_examples=60)
@given(shape=st.lists(st.sampled_from(HUGE_SIZES), min_size=1, max_size=4), present=st.integers(0, 4096),
       compress=st.booleans())
def test_huge_declared_sizes_cost_no_memory_of_that_size(workdir, shape, present, compress):
    declared = math.prod(shape)
    data = bytes([0, 0, 0x08, len(shape)]) + struct.pack(f">{len(shape)}I", *shape) + bytes(present)
    tracemalloc.start()
    try:
        outcome = attempt_read(workdir, gzip.compress(data, mtime=0) if compress else data, "huge_declared",
                               compress, None)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert isinstance(outcome, DataError) or declared == present
    assert peak < 16 * 2**20, f"peak {peak} bytes traced reading a file that declares {declared} bytes"


def test_things_that_are_not_idx_files(workdir):
    odd = workdir / "odd"
    odd.mkdir()
    (odd / "folder-idx3-ubyte").mkdir()
    (odd / "loop-idx3-ubyte").symlink_to(odd / "loop-idx3-ubyte")
    (odd / "dangling-idx3-ubyte.gz").symlink_to(odd / "absent")
    (odd / "empty-idx3-ubyte").write_bytes(b"")
    (odd / "empty-idx3-ubyte.gz").write_bytes(b"")
    for path in [*sorted(odd.iterdir()), odd / ("x" * 300), odd / "absent" / "t10k-images-idx3-ubyte.gz"]:
        TRIED["not_a_file"] += 1
        with pytest.raises(DataError) as err:
            read_idx(path)
        assert_one_line(err.value, path)


# -- load_split over a data folder holding the fuzzed files ------------------------------------------------
@st.composite
def lying_pairs(draw: st.DrawFn) -> tuple[bytes, bytes]:
    """Well-formed IDX files that disagree with MNIST or each other: other sizes, counts, label values."""
    n = draw(st.integers(0, 4))
    height, width = draw(st.sampled_from([(28, 28), (28, 27), (8, 8), (0, 28)]))
    images = np.zeros((n, height, width), dtype=np.uint8)
    labels = np.asarray(draw(st.lists(st.integers(0, 255), min_size=0, max_size=5)), dtype=np.uint8)
    if draw(st.booleans()):  # a label file of the wrong rank, or images of the wrong rank
        labels = labels.reshape(len(labels), 1)
    elif draw(st.booleans()):
        images = images.reshape(n, height * width)
    return idx_bytes(images), idx_bytes(labels)


@FUZZ
@given(data=st.data(), gz=st.tuples(st.booleans(), st.booleans()))
def test_load_split_over_hostile_files(workdir, data, gz):
    which = data.draw(st.sampled_from(["images", "labels", "both", "lying"]))
    images, labels = SEEDS["images"], SEEDS["labels"]
    if which == "lying":
        images, labels = data.draw(lying_pairs())
    if which in ("images", "both"):
        images = data.draw(hostile_files)
    if which in ("labels", "both"):
        labels = data.draw(hostile_files)
    attempt_split(workdir, images, labels, "load_split", gz)


def test_load_split_over_things_that_are_not_files(workdir):
    data_dir = workdir / "odd-data"
    target = data_dir / "mnist"
    target.mkdir(parents=True)
    (target / "train-labels-idx1-ubyte").write_bytes(SEEDS["labels"])
    makers = {
        "folder": lambda p: p.mkdir(),
        "loop": lambda p: p.symlink_to(p),
        "dangling": lambda p: p.symlink_to(target / "absent"),
        "fifo": lambda p: os.mkfifo(p),
        "empty": lambda p: p.write_bytes(b""),
    }
    for kind, make in makers.items():
        images = target / "train-images-idx3-ubyte"
        make(images)
        TRIED["not_a_file"] += 1
        with pytest.raises(DataError) as err:
            load_split("mnist", "train", data_dir=data_dir)
        assert_one_line(err.value, images, target)
        images.rmdir() if kind == "folder" else images.unlink()


@pytest.mark.slow
@settings(FUZZ, max_examples=2000)
@given(data=hostile_files, gz_name=st.booleans(), ndim=st.sampled_from([None, 1, 3]))
def test_mixed_hostile_files_long_run(workdir, data, gz_name, ndim):
    attempt_read(workdir, data, "mixed_slow", gz_name, ndim)
