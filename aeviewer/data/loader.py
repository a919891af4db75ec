"""The one entry point from a source spec to train/test ImageSets: a named set, or a PATH.

A path names one of the kinds in PATH_KINDS, recognised in that order:

- a Parquet file or folder, or a Hugging Face ``save_to_disk`` folder (:mod:`aeviewer.data.parquet`);
- ``.npz`` / ``.npy`` file (:mod:`aeviewer.data.arrays`);
- a folder of CIFAR-10/100 binary batches (:mod:`aeviewer.data.cifar`);
- any other folder: an image folder (:mod:`aeviewer.data.folder`).

A path inside the data directory is recorded relative to it (``emoji``: the folder ``$AEVIEWER_DATA/emoji``),
so that a model made on one machine finds its data on another (:func:`portable_spec`); a relative path is
looked for there first. An absolute path that is absent (a checkpoint from another machine) is looked for in
the data directory by its last name. Where a folder is absent but aeviewer ships its test split
(``resources/data/<name>/test.npz``, made with the same preparation), the test split comes from there, so
that the pretrained models open offline.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import torch

from aeviewer.util import atomic
from aeviewer.data.decode import DEFAULT_MAX_PIXELS
from aeviewer.data.imageset import ImageSet
from aeviewer.data.loaded import DEFAULT_MAX_MEMORY, CancelFlag, LoadedSource, Progress
from aeviewer.data.preparation import Preparation
from aeviewer.data import sources  # sources.BUNDLED_DATA_DIR read when used: tests point it elsewhere
from aeviewer.data.sources import SOURCE_NAMES, SOURCES, check_split, load_named_split, resolve_data_dir
from aeviewer.errors import ConfigError, DataError

PATH_KINDS = (
    ("arrays", "a .npz (images, labels, class_names) or .npy (images) file"),
    ("table", "a Parquet file or folder of them, or a Hugging Face datasets save_to_disk folder"),
    ("cifar", "a folder of CIFAR-10/100 binary batches"),
    ("folder", "an image folder: one subfolder per class, or none (unlabelled); train/ and test/ as the split"),
)
BUNDLED_SPLIT = "test.npz"  # resources/data/<folder name>/test.npz


def _bare_name(text: str) -> bool:
    return not any(sep in text for sep in ("/", "\\", ".")) and not text.startswith("~")


def is_named(spec: str) -> bool:
    return spec in SOURCES


def path_kind(path: Path) -> str:
    """Which of PATH_KINDS ``path`` is (DataError for a file of another type)."""
    from aeviewer.data.arrays import SUFFIXES
    from aeviewer.data.cifar import cifar_layout
    from aeviewer.data.parquet import is_table_source

    if is_table_source(path):
        return "table"
    if path.is_file():
        if path.suffix.lower() in SUFFIXES:
            return "arrays"
        raise DataError(f"{path}: a data set is a folder, a .npz, .npy or .parquet file (this is a "
                        f"{path.suffix or 'plain'} file)")
    return "cifar" if cifar_layout(path) else "folder"


def resolve_spec(spec: str | Path, data_dir: str | Path | None = None) -> str:
    """What a checkpoint records as its data set for ``spec`` as typed: a named set as it is; a path made
    absolute (a relative one from the current folder), then relative to the data directory when inside it;
    a relative one that only the data directory holds as it is ("emnist" stays a name, refused later)."""
    text = str(spec)
    if is_named(text):
        return text
    path = Path(text).expanduser()
    if not path.is_absolute() and not path.exists() and ((_data_root(data_dir) / path).exists() or _bare_name(text)):
        return path.as_posix()
    path = path.resolve()
    return _inside(path, _data_root(data_dir)) or str(path)


def portable_spec(spec: str | Path, data_dir: str | Path | None = None) -> str:
    """``spec`` as a checkpoint records it and the window shows it: a named set, or a relative path, as it is;
    an absolute path inside the data directory relative to it, one elsewhere on this machine as it is, and one
    that is absent here (from another machine) by its last name, which is looked for in the data directory."""
    text = str(spec)
    path = Path(text).expanduser()
    if not text or is_named(text) or not path.is_absolute():
        return Path(text).as_posix() if text and not is_named(text) else text
    inside = _inside(path, _data_root(data_dir))
    if inside is not None:
        return inside
    return text if path.exists() or not path.name or is_named(path.name) else path.name


def source_path(spec: str | Path, data_dir: str | Path | None = None) -> Path:
    """Where the path source ``spec`` lies on this machine (absent when it is nowhere): a relative one in the
    data directory, else the current folder; an absolute one as it is, or, where that is absent, the folder
    of its last name in the data directory."""
    path = Path(str(spec)).expanduser()
    root = _data_root(data_dir)
    if not path.is_absolute():
        in_data = root / path
        return in_data.resolve() if in_data.exists() else path.resolve()
    if not path.exists() and path.name and (root / path.name).exists():
        return (root / path.name).resolve()
    return path.resolve()


def _data_root(data_dir: str | Path | None) -> Path:
    return resolve_data_dir(data_dir)


def _inside(path: Path, root: Path) -> str | None:
    """``path`` relative to ``root`` (POSIX separators) when it lies inside it; as written or with links resolved."""
    for a, b in ((Path(os.path.abspath(path)), Path(os.path.abspath(root))), (path.resolve(), root.resolve())):
        try:
            relative = a.relative_to(b)
        except ValueError:
            continue
        if relative.parts:
            return relative.as_posix()
    return None


def load_source(spec: str | Path, preparation: Preparation | None = None, data_dir: str | Path | None = None, *,
                progress: Progress | None = None, cancel: CancelFlag = None,
                max_memory: int = DEFAULT_MAX_MEMORY, max_pixels: int = DEFAULT_MAX_PIXELS,
                use_cache: bool = True, columns: tuple[str | None, str | None] = (None, None)) -> LoadedSource:
    """Both splits of ``spec``: a named set (digits, mnist, fashion-mnist) as it always was, or a path
    prepared by ``preparation`` (the defaults when None). ``columns``: a table source's image and label
    columns (None: the usual names)."""
    text = str(spec)
    if is_named(text):
        return LoadedSource(load_named_split(text, "train", data_dir), load_named_split(text, "test", data_dir),
                            text, None)
    preparation = preparation or Preparation()
    path = source_path(text, data_dir)
    if not path.exists():
        bundled = bundled_test_split(path, preparation, _absent_note(text, data_dir))
        if bundled is not None:
            bundled.source = text
            return bundled
        if _bare_name(text):  # "emnist": a set this aeviewer does not know, not a missing file
            raise ConfigError(f"unknown data set {text!r} (known: {', '.join(SOURCE_NAMES)}, a folder in the data "
                              f"directory {_data_root(data_dir)}, or a path to an image folder, .npz, .npy or "
                              "CIFAR folder)")
        raise DataError(f"{_absent_note(text, data_dir)}: no such file or folder")
    loaded = _load_path(path, preparation, progress=progress, cancel=cancel, max_memory=max_memory,
                        max_pixels=max_pixels, use_cache=use_cache, columns=columns)
    if not Path(text).expanduser().is_absolute():
        loaded.source = Path(text).as_posix()  # as recorded: relative to the data directory
    return loaded


def _absent_note(spec: str, data_dir: str | Path | None) -> str:
    """Where an absent source was looked for, for its one-line message."""
    root = _data_root(data_dir)
    name = Path(spec).expanduser()
    if name.is_absolute():
        return f"{spec} (nor {name.name} in the data directory {root})" if name.name else spec
    return f"{spec} (in the data directory {root} or the current folder)"


def _load_path(path: Path, preparation: Preparation, *, progress: Progress | None, cancel: CancelFlag,
               max_memory: int, max_pixels: int, use_cache: bool,
               columns: tuple[str | None, str | None] = (None, None)) -> LoadedSource:
    kind = path_kind(path)
    if kind == "table":
        from aeviewer.data.parquet import load_table

        return load_table(path, preparation, progress=progress, cancel=cancel, max_memory=max_memory,
                          max_pixels=max_pixels, image_column=columns[0], label_column=columns[1], use_cache=use_cache)
    if kind == "arrays":
        from aeviewer.data.arrays import load_array_file

        return load_array_file(path, preparation, max_memory)
    if kind == "cifar":
        from aeviewer.data.cifar import load_cifar

        return load_cifar(path, preparation, max_memory)
    from aeviewer.data.folder import load_folder

    return load_folder(path, preparation, progress=progress, cancel=cancel, max_memory=max_memory,
                       max_pixels=max_pixels, use_cache=use_cache)


def load_split(spec: str | Path, split: str = "train", data_dir: str | Path | None = None,
               preparation: Preparation | None = None, **options: object) -> ImageSet:
    """The ``split`` ("train" or "test") of ``spec`` as an in-memory uint8 ImageSet.

    ``spec`` is a named set or a path (folder, .npz/.npy, CIFAR), which ``preparation`` prepares and
    ``options`` (progress, cancel, max_memory, ...) go with: see :func:`load_source`.
    """
    check_split(split)
    if spec in SOURCES:
        return load_named_split(spec, split, data_dir)  # type: ignore[arg-type]
    return load_path_split(spec, split, preparation, data_dir, **options)


def load_path_split(spec: str | Path, split: str, preparation: Preparation | None = None,
                    data_dir: str | Path | None = None, **options: object) -> ImageSet:
    """One split of a path source (see :func:`split_of`)."""
    return split_of(load_source(spec, preparation, data_dir, **options), split)  # type: ignore[arg-type]


def split_of(loaded: LoadedSource, split: str) -> ImageSet:
    """``loaded``'s train or test set; the train split of an absent folder (only its shipped test split
    was found) is one line naming the path it looked for."""
    if split == "train" and loaded.note:
        raise DataError(f"{loaded.source}: no such folder; only its test split ships with aeviewer, "
                        "and training needs the folder")
    return loaded.split(split)


# -- the test splits shipped in resources/ ------------------------------------------------------
def bundled_path(folder_name: str) -> Path:
    return sources.BUNDLED_DATA_DIR / folder_name / BUNDLED_SPLIT


def bundled_test_split(path: Path, preparation: Preparation, looked: str = "") -> LoadedSource | None:
    """The shipped test split of the folder ``path`` names, when one was made with ``preparation``
    (``looked``: where the folder was looked for, for its note)."""
    shipped = bundled_path(path.name)
    if not shipped.is_file():
        return None
    with np.load(shipped, allow_pickle=False) as z:
        if Preparation.from_dict(json.loads(str(z["preparation"]))) != preparation:
            return None
        test = ImageSet(torch.from_numpy(z["images"]), torch.from_numpy(z["labels"].astype(np.int64)),
                        tuple(str(c) for c in z["class_names"]), path.name)
    empty = ImageSet(test.images[:0], test.labels[:0], test.class_names, test.name)
    return LoadedSource(empty, test, str(path), preparation,
                        note=f"the {path.name} training images are not on this machine ({looked or path} is "
                             f"absent): its test split shipped with aeviewer")


def write_bundled_split(loaded: LoadedSource, out: Path) -> Path:
    """Save ``loaded``'s test split as a shipped split (compressed, no pickles)."""
    test = loaded.test
    with atomic.replacing(out, error=None) as tmp:
        np.savez_compressed(tmp, images=test.images.numpy(), labels=test.labels.numpy().astype(np.uint8 if
                            len(test.class_names) <= 256 else np.int64),
                            class_names=np.array(test.class_names, dtype=str),
                            preparation=np.array(json.dumps(loaded.preparation.to_dict() if loaded.preparation else {})))
    return out
