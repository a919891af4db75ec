"""Parquet files and Hugging Face ``save_to_disk`` folders as image sets, read with pyarrow alone.

- a ``.parquet`` file, or a folder of them (also under ``data/``, as the Hub lays them out); a file whose name
  starts with ``train`` or ``test`` (``validation``) gives that split;
- a ``datasets.save_to_disk`` folder: ``state.json`` names its Arrow IPC stream shards, ``dataset_info.json``
  its features; a ``DatasetDict`` (``dataset_dict.json``) holds one such folder per split.

The image column holds ``{bytes, path}`` structs (what ``datasets`` writes for an ``Image`` feature) or raw
bytes; the label column integers (``ClassLabel`` names from the features where present) or strings. Columns
default to the usual names (``image``/``img``, ``label``/``labels``) and are chosen with ``--image-column`` /
``--label-column``; a missing one is one line listing the columns. Record batches are decoded in a thread pool
into the same cache as image folders; a row that cannot be used is skipped with its reason, like a bad file.
"""
from __future__ import annotations

import hashlib
import json
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import torch

from aeviewer.data import cache
from aeviewer.data.decode import DEFAULT_MAX_PIXELS, BadImage, decode_bytes, is_grey, luma
from aeviewer.data.imageset import UNLABELLED, ImageSet
from aeviewer.data.loaded import DEFAULT_MAX_MEMORY, CancelFlag, LoadedSource, Progress, check_cancel, check_memory
from aeviewer.data.preparation import Preparation
from aeviewer.data.skipped import SkipReport
from aeviewer.data.split import stratified_split
from aeviewer.errors import DataError

IMAGE_COLUMNS = ("image", "img", "images", "picture", "pixel_values")
LABEL_COLUMNS = ("label", "labels", "fine_label", "coarse_label", "class", "target")
ROWS_PER_BATCH = 256
TEST_SPLITS = ("test", "validation", "valid", "val")
PARQUET_VERSION = 1


@dataclass(frozen=True)
class Shard:
    path: Path
    split: str  # "train", "test" or "" (no split given: a seeded stratified one)
    arrow: bool  # an Arrow IPC stream (save_to_disk) rather than Parquet


def is_table_source(path: Path) -> bool:
    """Whether ``path`` is a Parquet file, a folder of them, or a save_to_disk folder."""
    if path.is_file():
        return path.suffix.lower() == ".parquet"
    if not path.is_dir():
        return False
    if (path / "state.json").is_file() or (path / "dataset_dict.json").is_file():
        return True
    return any(True for folder in (path, path / "data") if folder.is_dir() for _ in folder.glob("*.parquet"))


def shards(path: Path) -> list[Shard]:
    """The files of a table source, each with the split its name or folder gives."""
    if path.is_file():
        return [Shard(path, "", False)]
    if (path / "dataset_dict.json").is_file():
        splits = _json(path / "dataset_dict.json").get("splits", [])
        return [s for name in splits if isinstance(name, str) for s in _arrow_shards(path / name, _split_of(name))]
    if (path / "state.json").is_file():
        return _arrow_shards(path, "")
    files = sorted(f for folder in (path, path / "data") if folder.is_dir() for f in folder.glob("*.parquet"))
    return [Shard(f, _split_of(f.name), False) for f in files]


def _split_of(name: str) -> str:
    lower = name.lower()
    if lower.startswith(TEST_SPLITS):
        return "test"
    return "train" if lower.startswith("train") else ""


def _arrow_shards(folder: Path, split: str) -> list[Shard]:
    files = _json(folder / "state.json").get("_data_files", [])
    names = [f.get("filename") for f in files if isinstance(f, dict)]
    bad = [n for n in names if not isinstance(n, str) or Path(n).name != n]
    if bad or not names:
        raise DataError(f"{folder}/state.json: names no data files a save_to_disk folder holds")
    return [Shard(folder / n, split, True) for n in names]


def _json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise DataError(f"{path}: cannot read ({str(err).splitlines()[0][:100]})") from None
    if not isinstance(data, dict):
        raise DataError(f"{path}: not a JSON object")
    return data


# -- reading ----------------------------------------------------------------------------------------
def _schema(shard: Shard) -> Any:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        if shard.arrow:
            with pa.memory_map(str(shard.path)) as source:
                return pa.ipc.open_stream(source).schema
        return pq.read_schema(shard.path)
    except (OSError, pa.ArrowException) as err:
        raise DataError(f"{shard.path}: cannot read ({_first_line(err)})") from None


def _batches(shard: Shard, columns: list[str]) -> Iterator[Any]:
    """Record batches of ``columns``, a few hundred rows at a time."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        if shard.arrow:
            with pa.memory_map(str(shard.path)) as source:
                for batch in pa.ipc.open_stream(source):
                    for start in range(0, batch.num_rows, ROWS_PER_BATCH):
                        yield batch.select(columns).slice(start, ROWS_PER_BATCH)
            return
        yield from pq.ParquetFile(shard.path).iter_batches(batch_size=ROWS_PER_BATCH, columns=columns)
    except (OSError, pa.ArrowException) as err:
        raise DataError(f"{shard.path}: cannot read ({_first_line(err)})") from None


def _row_count(shard: Shard) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        if shard.arrow:
            with pa.memory_map(str(shard.path)) as source:  # zero-copy: only the batches' lengths are read
                return sum(batch.num_rows for batch in pa.ipc.open_stream(source))
        return pq.ParquetFile(shard.path).metadata.num_rows
    except (OSError, pa.ArrowException) as err:
        raise DataError(f"{shard.path}: cannot read ({_first_line(err)})") from None


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0][:120] if text else type(err).__name__


# -- columns ----------------------------------------------------------------------------------------
def features(root: Path, shard: Shard, schema: Any) -> dict[str, Any]:
    """The ``datasets`` features: from the schema's ``huggingface`` metadata, or a save_to_disk dataset_info.json."""
    meta = (schema.metadata or {}).get(b"huggingface")
    if meta:
        try:
            found = json.loads(meta).get("info", {}).get("features", {})
            return found if isinstance(found, dict) else {}
        except (ValueError, AttributeError):
            return {}
    info = shard.path.parent / "dataset_info.json"
    if shard.arrow and info.is_file():
        found = _json(info).get("features", {})
        return found if isinstance(found, dict) else {}
    return {}


def choose_columns(schema: Any, image_column: str | None, label_column: str | None, where: Path
                   ) -> tuple[str, str | None]:
    """The image column and the label column (None: unlabelled), checked against ``schema``."""
    names = list(schema.names)
    listing = ", ".join(names) or "none"
    if image_column is None:
        image_column = next((n for n in IMAGE_COLUMNS if n in names), None) or next(
            (n for n in names if _holds_bytes(schema.field(n).type)), None)
        if image_column is None:
            raise DataError(f"{where}: no image column found; choose one with --image-column (columns: {listing})")
    elif image_column not in names:
        raise DataError(f"{where}: no column {image_column!r} (columns: {listing})")
    if not _holds_bytes(schema.field(image_column).type):
        raise DataError(f"{where}: column {image_column!r} holds {schema.field(image_column).type}, not encoded "
                        "images (binary, or {bytes, path} structs)")
    if label_column is None:
        label_column = next((n for n in LABEL_COLUMNS if n in names), None)
    elif label_column not in names:
        raise DataError(f"{where}: no column {label_column!r} (columns: {listing})")
    if label_column is not None and not _label_type(schema.field(label_column).type):
        raise DataError(f"{where}: column {label_column!r} holds {schema.field(label_column).type}, not labels "
                        "(whole numbers or strings)")
    return image_column, label_column


def _holds_bytes(kind: Any) -> bool:
    import pyarrow as pa

    if pa.types.is_struct(kind):
        index = kind.get_field_index("bytes")
        return index >= 0 and _holds_bytes(kind.field(index).type)
    return pa.types.is_binary(kind) or pa.types.is_large_binary(kind)


def _label_type(kind: Any) -> bool:
    import pyarrow as pa

    return pa.types.is_integer(kind) or pa.types.is_string(kind) or pa.types.is_large_string(kind)


def _image_bytes(column: Any) -> tuple[list[Any], list[Any]]:
    """(bytes or None, path or None) per row of an image column."""
    import pyarrow as pa

    if pa.types.is_struct(column.type):
        paths = column.field("path").to_pylist() if column.type.get_field_index("path") >= 0 else [None] * len(column)
        return column.field("bytes").to_pylist(), paths
    return column.to_pylist(), [None] * len(column)


# -- loading ----------------------------------------------------------------------------------------
def load_table(path: str | Path, preparation: Preparation, *, progress: Progress | None = None,
               cancel: CancelFlag = None, max_memory: int = DEFAULT_MAX_MEMORY, max_pixels: int = DEFAULT_MAX_PIXELS,
               image_column: str | None = None, label_column: str | None = None, workers: int | None = None,
               use_cache: bool = True) -> LoadedSource:
    """Both splits of a Parquet or save_to_disk source, from the cache when its files and choices are unchanged."""
    root = Path(path).expanduser().resolve()
    found = shards(root)
    if not found:
        raise DataError(f"{root}: holds no Parquet or Arrow files")
    schema = _schema(found[0])
    image_col, label_col = choose_columns(schema, image_column, label_column, found[0].path)
    key = _key(root, found, preparation, max_pixels, image_col, label_col)
    if use_cache:
        cached = cache.load(key, max_memory)
        if cached is not None:
            cached.source, cached.preparation, cached.from_cache = str(root), preparation, True
            return cached
    n_rows = sum(_row_count(s) for s in found)
    size, channels = preparation.size_for_folder(), 1 if preparation.channels == "1" else 3
    check_memory(n_rows, channels, size, size, max_memory, str(root))
    rows = _Rows(n_rows, size, channels, label_col is not None)
    class_names = _class_names(features(root, found[0], schema), label_col)
    decode = _Decoder(preparation, max_pixels, workers)
    try:
        for shard in found:
            _read_shard(shard, image_col, label_col, rows, decode, progress, cancel)
    finally:
        decode.close()
    loaded = rows.assemble(root, preparation, class_names)
    if use_cache:
        cache.store(key, loaded)
    return loaded


def _key(root: Path, found: list[Shard], preparation: Preparation, max_pixels: int, image: str, label: str | None) -> str:
    digest = hashlib.sha256(json.dumps({"version": PARQUET_VERSION, "root": str(root), "preparation":
                                        preparation.to_dict(), "max_pixels": max_pixels, "image": image,
                                        "label": label}, sort_keys=True).encode())
    for s in found:
        stat = s.path.stat()
        digest.update(f"\0{s.path}\0{stat.st_size}\0{stat.st_mtime_ns}\0{s.split}".encode("utf-8", "surrogateescape"))
    return "table-" + digest.hexdigest()[:32]


def _class_names(found: dict[str, Any], label: str | None) -> tuple[str, ...] | None:
    feature = found.get(label) if label else None
    names = feature.get("names") if isinstance(feature, dict) else None
    if isinstance(names, list) and names and all(isinstance(n, str) for n in names):
        return tuple(names)
    return None


class _Decoder:
    """Decodes a record batch's encoded images in a thread pool (Pillow releases the GIL)."""

    def __init__(self, preparation: Preparation, max_pixels: int, workers: int | None) -> None:
        self.size, self.fit = preparation.size_for_folder(), preparation.fit
        self.background, self.max_pixels = preparation.background_value, max_pixels
        self.pool = ThreadPoolExecutor(max_workers=workers or min(8, os.cpu_count() or 1), thread_name_prefix="decode")

    def one(self, data: Any) -> np.ndarray | str:
        if data is None:
            return "no image bytes in this row"
        try:
            return decode_bytes(data, self.size, self.fit, self.background, self.max_pixels)
        except BadImage as err:
            return str(err)

    def many(self, items: list[Any]) -> list[np.ndarray | str]:
        return list(self.pool.map(self.one, items))

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


class _Rows:
    """The decoded rows so far: one (N, S, S, C) buffer, and per row its label, split and whether it was kept."""

    def __init__(self, n: int, size: int, channels: int, labelled: bool) -> None:
        self.labelled = labelled
        self.buffer = np.empty((n, size, size, channels), np.uint8)
        self.keep, self.grey = np.zeros(n, bool), np.zeros(n, bool)
        self.labels: list[Any] = []
        self.splits: list[str] = []
        self.skipped = SkipReport()
        self.count = 0

    def add(self, decoded: list[np.ndarray | str], labels: list[Any], split: str, names: list[str]) -> None:
        if self.count + len(decoded) > len(self.buffer):
            raise DataError(f"{names[0]}: more rows than the file's metadata counts; the file is damaged")
        for picture, label, name in zip(decoded, labels, names):
            i = self.count
            self.count += 1
            self.labels.append(label)
            self.splits.append(split)
            if isinstance(picture, str):
                self.skipped.add(name, picture)
            elif label is None and self.labelled:
                self.skipped.add(name, "no label in this row")
            else:
                self.grey[i] = is_grey(picture)
                self.buffer[i] = luma(picture)[..., None] if self.buffer.shape[-1] == 1 else picture
                self.keep[i] = True

    def assemble(self, root: Path, preparation: Preparation, class_names: tuple[str, ...] | None) -> LoadedSource:
        keep = self.keep[:self.count]
        if not keep.any():
            raise DataError(f"{root}: no usable image among {self.count:,} rows ({self.skipped.summary()})")
        images = self.buffer[:self.count][keep]
        if preparation.channels == "auto" and bool(np.all(self.grey[:self.count][keep])):
            images = images[..., :1]
        chw = torch.from_numpy(np.ascontiguousarray(images.transpose(0, 3, 1, 2)))
        labels, names = _labels([v for v, k in zip(self.labels, keep) if k], class_names, root)
        splits = np.array([s for s, k in zip(self.splits, keep) if k])
        if {"train", "test"} <= set(splits.tolist()):
            train_index, test_index = np.flatnonzero(splits != "test"), np.flatnonzero(splits == "test")
        else:
            train_index, test_index = stratified_split(labels, preparation.test_fraction, preparation.seed)
        lab = torch.from_numpy(labels)

        def image_set(index: np.ndarray) -> ImageSet:
            t = torch.from_numpy(index)
            return ImageSet(chw[t], lab[t], names, root.stem if root.is_file() else root.name)

        return LoadedSource(image_set(train_index), image_set(test_index), str(root), preparation, self.skipped)


def _labels(values: list[Any], class_names: tuple[str, ...] | None, root: Path) -> tuple[np.ndarray, tuple[str, ...]]:
    """Integer labels and the class names: ClassLabel names, the strings' sorted values, or the numbers."""
    if not values or all(v is None for v in values):
        return np.zeros(len(values), np.int64), (UNLABELLED,)
    if isinstance(values[0], str):
        names = tuple(sorted(set(values)))
        index = {n: i for i, n in enumerate(names)}
        return np.array([index[v] for v in values], np.int64), names
    labels = np.array(values, np.int64)
    if labels.min() < 0:
        raise DataError(f"{root}: labels must be 0 or more, found {int(labels.min())}")
    n_classes = int(labels.max()) + 1
    if class_names is not None and len(class_names) >= n_classes:
        return labels, class_names
    return labels, tuple(str(k) for k in range(n_classes))


def _read_shard(shard: Shard, image_col: str, label_col: str | None, rows: _Rows, decode: _Decoder,
                progress: Progress | None, cancel: CancelFlag) -> None:
    columns = [image_col] + ([label_col] if label_col else [])
    shard_start = rows.count
    for batch in _batches(shard, columns):
        check_cancel(cancel)
        data, paths = _image_bytes(batch.column(0))
        labels = batch.column(1).to_pylist() if label_col else [None] * batch.num_rows
        first = rows.count - shard_start
        names = [f"{shard.path.name} row {first + i}" + (f" ({p})" if p else "") for i, p in enumerate(paths)]
        rows.add(decode.many(data), labels, shard.split, names)
        if progress is not None:
            progress(rows.count, len(rows.buffer))
