"""The registry of image sources (digits, mnist, fashion-mnist): where their files live and how to load them."""
from __future__ import annotations

import gzip
import importlib.util
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from aeviewer.data.idx import read_idx
from aeviewer.data.imageset import ImageSet
from aeviewer.errors import ConfigError, DataError
from aeviewer.util.paths import shipped_dir, user_data_dir

SPLITS = ("train", "test")
DIGIT_NAMES = tuple(str(d) for d in range(10))
FASHION_NAMES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)
# Base names of the IDX files per split; on disk each may be gzip-compressed (.gz) or not.
IDX_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
DIGITS_SEED = 0  # fixes the digits train/test split; RandomState's stream never changes across NumPy versions
DIGITS_TEST_FRACTION = 0.2

# Read-only places searched after the data directory. Module attributes so tests can point them elsewhere.
SYSTEM_DIRS: dict[str, tuple[Path, ...]] = {"fashion-mnist": (Path("/usr/share/datasets/fashion-mnist"),)}
BUNDLED_DATA_DIR = shipped_dir("resources") / "data"


@dataclass(frozen=True)
class SourceInfo:
    name: str
    description: str
    image_shape: tuple[int, int, int]
    class_names: tuple[str, ...]
    idx: bool  # stored as IDX files (fetchable) rather than bundled with a library


SOURCES: dict[str, SourceInfo] = {
    "digits": SourceInfo(
        "digits", "scikit-learn's bundled 8x8 handwritten digits (1,797 images)", (1, 8, 8), DIGIT_NAMES, False
    ),
    "mnist": SourceInfo(
        "mnist", "MNIST handwritten digits, 28x28 (60,000 train / 10,000 test)", (1, 28, 28), DIGIT_NAMES, True
    ),
    "fashion-mnist": SourceInfo(
        "fashion-mnist", "Zalando Fashion-MNIST, 28x28 (60,000 train / 10,000 test)", (1, 28, 28), FASHION_NAMES, True
    ),
}
SOURCE_NAMES: tuple[str, ...] = tuple(SOURCES)


@dataclass(frozen=True)
class SourceStatus:
    """What ``aeviewer data list`` shows for one source."""

    name: str
    present: dict[str, bool]  # split -> found
    path: Path | None  # where it was found (or, when missing, where `aeviewer data fetch` puts it)
    size_bytes: int  # total size of the files found
    note: str = ""
    paths: dict[str, Path | None] = field(default_factory=dict)  # split -> directory holding it

    @property
    def complete(self) -> bool:
        return all(self.present.values())


def resolve_data_dir(explicit: str | Path | None = None) -> Path:
    """The data directory: ``explicit`` (--data-dir), else $AEVIEWER_DATA, else the platform's user data folder."""
    if explicit is not None and str(explicit) != "":
        return Path(explicit).expanduser()
    env = os.environ.get("AEVIEWER_DATA")
    if env:
        return Path(env).expanduser()
    return user_data_dir()


def source_info(name: str) -> SourceInfo:
    try:
        return SOURCES[name]
    except KeyError:
        raise ConfigError(f"unknown data set {name!r} (known: {', '.join(SOURCE_NAMES)})") from None


def search_dirs(name: str, data_dir: str | Path | None = None) -> list[Path]:
    """Directories that may hold ``name``'s IDX files, in the order they are tried."""
    return [resolve_data_dir(data_dir) / name, *SYSTEM_DIRS.get(name, ()), BUNDLED_DATA_DIR / name]


def find_file(directory: Path, base: str) -> Path | None:
    """``base``.gz or ``base`` (uncompressed) in ``directory``, whichever exists (gzip preferred)."""
    for candidate in (directory / f"{base}.gz", directory / base):
        if candidate.is_file():
            return candidate
    return None


def locate_split(name: str, split: str, data_dir: str | Path | None = None) -> tuple[Path, Path] | None:
    """(images file, labels file) of the first search directory that holds both, or None."""
    images_base, labels_base = IDX_FILES[check_split(split)]
    for directory in search_dirs(name, data_dir):
        images, labels = find_file(directory, images_base), find_file(directory, labels_base)
        if images is not None and labels is not None:
            return images, labels
    return None


def load_named_split(name: str, split: str = "train", data_dir: str | Path | None = None) -> ImageSet:
    """The ``split`` ("train" or "test") of the named set ``name`` (one of SOURCES) as an in-memory uint8
    ImageSet. A spec that may also be a path goes through :func:`aeviewer.data.loader.load_split`."""
    check_split(split)
    info = source_info(name)
    if not info.idx:
        return _load_digits(split)
    found = locate_split(name, split, data_dir)
    if found is None:
        looked = ", ".join(str(d) for d in search_dirs(name, data_dir))
        raise DataError(
            f"{name} {split} split not found (looked in {looked}); run `aeviewer data fetch {name}` or pass --data-dir"
        )
    return _load_idx_pair(info, *found)


def check_split(split: str) -> str:
    if split not in SPLITS:
        raise ConfigError(f"unknown split {split!r} (use train or test)")
    return split


def _load_idx_pair(info: SourceInfo, images_path: Path, labels_path: Path) -> ImageSet:
    images = read_idx(images_path, ndim=3)
    labels = read_idx(labels_path, ndim=1)
    _, height, width = info.image_shape
    if images.shape[1:] != (height, width):
        found = "x".join(map(str, images.shape[1:]))
        raise DataError(f"{images_path}: images are {found}, {info.name} has {height}x{width}")
    if len(labels) != len(images):
        raise DataError(f"{labels_path}: {len(labels)} labels for {len(images)} images in {images_path.name}")
    if len(labels) and int(labels.max()) >= len(info.class_names):
        raise DataError(f"{labels_path}: label {int(labels.max())} out of range (0 to {len(info.class_names) - 1})")
    return ImageSet(
        images=torch.from_numpy(images).unsqueeze(1),  # (N, H, W) -> (N, 1, H, W), no copy
        labels=torch.from_numpy(labels.astype(np.int64)),
        class_names=info.class_names,
        name=info.name,
    )


def digits_split_indices() -> dict[str, np.ndarray]:
    """The fixed, seeded 80/20 split of scikit-learn's 1,797 digits: sorted indices per split."""
    n = 1797
    order = np.random.RandomState(DIGITS_SEED).permutation(n)
    n_test = round(n * DIGITS_TEST_FRACTION)
    return {"train": np.sort(order[n_test:]), "test": np.sort(order[:n_test])}


def digits_file() -> Path:
    """scikit-learn's ``digits.csv.gz``, found without importing scikit-learn (its import takes 1.5-2.5 s,
    most of a digits model's start-up)."""
    spec = importlib.util.find_spec("sklearn")
    if spec is None or not spec.submodule_search_locations:
        raise DataError("the digits data set needs scikit-learn: pip install scikit-learn")
    return Path(list(spec.submodule_search_locations)[0]) / "datasets" / "data" / "digits.csv.gz"


def _digits_table() -> np.ndarray:
    """(1797, 65): 64 pixel values 0..16 then the label, as ``sklearn.datasets.load_digits`` reads it."""
    path = digits_file()
    try:
        with gzip.open(path) as raw:
            table = np.loadtxt(raw, delimiter=",")
    except (OSError, ValueError) as err:
        raise DataError(f"cannot read scikit-learn's digits at {path}: {err}") from err
    if table.shape != (1797, 65):
        raise DataError(f"scikit-learn's digits at {path} has shape {table.shape}, expected (1797, 65)")
    return table


def _load_digits(split: str) -> ImageSet:
    table = _digits_table()
    values = table[:, :64].astype(np.int64).reshape(-1, 8, 8)  # integers 0..16
    index = digits_split_indices()[split]
    scaled = (values[index] * 255 // 16).astype(np.uint8)  # 0..16 -> 0..255: v*255//16
    return ImageSet(
        images=torch.from_numpy(scaled).unsqueeze(1),
        labels=torch.from_numpy(table[index, 64].astype(np.int64)),
        class_names=DIGIT_NAMES,
        name="digits",
    )


def source_status(data_dir: str | Path | None = None) -> list[SourceStatus]:
    """Presence, location and size of every source, for ``aeviewer data list``."""
    return [_digits_status() if not info.idx else _idx_status(info, data_dir) for info in SOURCES.values()]


def _idx_status(info: SourceInfo, data_dir: str | Path | None) -> SourceStatus:
    present: dict[str, bool] = {}
    paths: dict[str, Path | None] = {}
    size = 0
    for split in SPLITS:
        found = locate_split(info.name, split, data_dir)
        present[split] = found is not None
        paths[split] = found[0].parent if found else None
        size += sum(p.stat().st_size for p in found) if found else 0
    where = paths["train"] or paths["test"]
    note = "" if all(present.values()) else f"run `aeviewer data fetch {info.name}`"
    return SourceStatus(info.name, present, where or resolve_data_dir(data_dir) / info.name, size, note, paths)


def _digits_status() -> SourceStatus:
    path = digits_file()  # the digits ship inside scikit-learn's package data
    size = path.stat().st_size if path.is_file() else 0
    present = {split: path.is_file() for split in SPLITS}
    paths: dict[str, Path | None] = {split: path if path.is_file() else None for split in SPLITS}
    return SourceStatus("digits", present, path, size, "bundled with scikit-learn", paths)


def format_status_table(statuses: list[SourceStatus]) -> str:
    """A plain-text table of ``statuses``: name, train/test presence, size and location."""
    rows = [("NAME", "TRAIN", "TEST", "SIZE", "PATH")]
    for s in statuses:
        mark = {split: "yes" if s.present.get(split) else "-" for split in SPLITS}
        where = str(s.path) if s.path is not None else ""
        if s.note:
            where = f"{where}  ({s.note})"
        rows.append((s.name, mark["train"], mark["test"], _human_size(s.size_bytes) if s.size_bytes else "-", where))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row[:4], widths)) + "  " + row[4] for row in rows]
    return "\n".join(line.rstrip() for line in lines)


def _human_size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB"):
        if size < 1000:
            return f"{n} B" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} GB"
