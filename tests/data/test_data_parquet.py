"""Parquet files and Hugging Face save_to_disk folders as data sets: made here with pyarrow alone."""
from __future__ import annotations

import io
import json
import resource
import struct
import zlib

import numpy as np
import pytest

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

from aeviewer.data.loader import load_source  # noqa: E402
from aeviewer.data.preparation import Preparation  # noqa: E402
from aeviewer.errors import DataError  # noqa: E402

PREP = Preparation(image_size=8, test_fraction=0.25)
NAMES = ["cat", "dog", "owl"]
IMAGE_STRUCT = pa.struct([("bytes", pa.binary()), ("path", pa.string())])
FEATURES = {"image": {"_type": "Image"}, "label": {"names": NAMES, "_type": "ClassLabel"}}


def png(value: int, size: int = 8) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.fromarray(np.full((size, size, 3), value, np.uint8)).save(out, "PNG")
    return out.getvalue()


def image_table(n: int, offset: int = 0) -> pa.Table:
    images = pa.array([{"bytes": png(10 * (i % 20)), "path": f"{i + offset}.png"} for i in range(n)], IMAGE_STRUCT)
    return pa.table({"image": images, "label": pa.array([i % 3 for i in range(n)], pa.int64())})


def with_hf_features(table: pa.Table) -> pa.Table:
    return table.replace_schema_metadata({"huggingface": json.dumps({"info": {"features": FEATURES}})})


def write_save_to_disk_split(folder, table: pa.Table) -> None:
    """As datasets' Dataset.save_to_disk writes it: Arrow IPC stream shards, dataset_info.json, state.json."""
    folder.mkdir(parents=True)
    with pa.OSFile(str(folder / "data-00000-of-00001.arrow"), "wb") as sink, pa.ipc.new_stream(sink, table.schema) as w:
        w.write_table(table, max_chunksize=7)
    (folder / "dataset_info.json").write_text(json.dumps({"features": FEATURES}))
    (folder / "state.json").write_text(json.dumps({"_data_files": [{"filename": "data-00000-of-00001.arrow"}],
                                                   "_fingerprint": "f", "_format_type": None, "_split": folder.name}))


def test_a_parquet_file_loads_with_labels_and_class_names(tmp_path):
    pq.write_table(with_hf_features(image_table(40)), tmp_path / "set.parquet")
    loaded = load_source(tmp_path / "set.parquet", PREP)
    assert len(loaded.train) + len(loaded.test) == 40 and len(loaded.test) == 10
    assert loaded.train.class_names == tuple(NAMES) and loaded.train.image_shape == (1, 8, 8)  # grey PNGs
    assert sorted(set(loaded.train.labels.tolist())) == [0, 1, 2]
    again = load_source(tmp_path / "set.parquet", PREP)
    assert again.from_cache and np.array_equal(again.train.images.numpy(), loaded.train.images.numpy())


def test_a_save_to_disk_folder_loads_its_splits(tmp_path):
    (tmp_path / "dd").mkdir()
    (tmp_path / "dd" / "dataset_dict.json").write_text(json.dumps({"splits": ["train", "test"]}))
    write_save_to_disk_split(tmp_path / "dd" / "train", image_table(30))
    write_save_to_disk_split(tmp_path / "dd" / "test", image_table(9, offset=30))
    loaded = load_source(tmp_path / "dd", PREP)
    assert (len(loaded.train), len(loaded.test)) == (30, 9)
    assert loaded.test.class_names == tuple(NAMES)


def test_raw_bytes_and_string_labels_and_a_chosen_column(tmp_path):
    table = pa.table({"picture_png": pa.array([png(i * 30) for i in range(8)], pa.binary()),
                      "kind": pa.array(["b", "a"] * 4)})
    pq.write_table(table, tmp_path / "raw.parquet")
    loaded = load_source(tmp_path / "raw.parquet", PREP, columns=("picture_png", "kind"))
    assert loaded.train.class_names == ("a", "b")
    with pytest.raises(DataError, match=r"no column 'nope' \(columns: picture_png, kind\)"):
        load_source(tmp_path / "raw.parquet", PREP, columns=("nope", None))


def bomb_png(side: int = 60_000) -> bytes:
    """A PNG whose header says side x side pixels (10.8 GB decoded) over a few bytes of data."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    header = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def test_a_hostile_parquet_file_is_refused_or_its_bad_rows_skipped(tmp_path):
    good = [{"bytes": png(100), "path": "ok.png"}] * 6
    rows = good + [{"bytes": png(50)[:30], "path": "cut.png"}, {"bytes": bomb_png(), "path": "bomb.png"},
                   {"bytes": None, "path": "none.png"}, {"bytes": b"", "path": "empty.png"}]
    pq.write_table(pa.table({"image": pa.array(rows, IMAGE_STRUCT)}), tmp_path / "h.parquet")
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    loaded = load_source(tmp_path / "h.parquet", PREP)
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 500_000  # KiB: the bomb never decoded
    reasons = dict(loaded.skipped.entries)
    assert len(loaded.train) + len(loaded.test) == 6 and len(reasons) == 4
    assert "megapixel limit" in reasons["h.parquet row 7 (bomb.png)"]
    assert reasons["h.parquet row 6 (cut.png)"] in ("not an image Pillow can read", "cannot decode (image file is truncated)")
    assert loaded.train.class_names == ("unlabelled",)

    pq.write_table(pa.table({"image": pa.array([1, 2, 3])}), tmp_path / "ints.parquet")
    with pytest.raises(DataError, match="'image' holds int64, not encoded images"):
        load_source(tmp_path / "ints.parquet", PREP)
    pq.write_table(pa.table({"image": pa.array(rows[:2], IMAGE_STRUCT), "label": pa.array([0.5, 1.5])}),
                   tmp_path / "floats.parquet")
    with pytest.raises(DataError, match="'label' holds double, not labels"):
        load_source(tmp_path / "floats.parquet", PREP)
    pq.write_table(pa.table({"pixels": pa.array([1.0])}), tmp_path / "none.parquet")
    with pytest.raises(DataError, match=r"no image column found.*\(columns: pixels\)"):
        load_source(tmp_path / "none.parquet", PREP)
    data = (tmp_path / "h.parquet").read_bytes()
    (tmp_path / "cut.parquet").write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError, match="cut.parquet: cannot read"):
        load_source(tmp_path / "cut.parquet", PREP)


def test_train_names_the_columns_in_one_line(tmp_path, capsys):
    from aeviewer.cli.commands import main

    pq.write_table(image_table(8), tmp_path / "s.parquet")
    code = main(["train", "--dataset", str(tmp_path / "s.parquet"), "--label-column", "kind", "--epochs", "1",
                 "--model", "ae"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "no column 'kind' (columns: image, label)" in err[0]
