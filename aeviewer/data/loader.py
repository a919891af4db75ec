"""The one entry point from a source spec to train/test ImageSets: a named set, or a PATH.

A path names one of the kinds in PATH_KINDS, recognised in that order:

- ``.npz`` / ``.npy`` file (:mod:`aeviewer.data.arrays`);
- a folder of CIFAR-10/100 binary batches (:mod:`aeviewer.data.cifar`);
- any other folder: an image folder (:mod:`aeviewer.data.folder`).

Where a folder is absent but aeviewer ships its test split (``resources/data/<name>/test.npz``, made with
the same preparation), the test split comes from there, so that the pretrained models open offline.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from aeviewer.data.decode import DEFAULT_MAX_PIXELS
from aeviewer.data.imageset import ImageSet
from aeviewer.data.loaded import DEFAULT_MAX_MEMORY, CancelFlag, LoadedSource, Progress
from aeviewer.data.preparation import Preparation
from aeviewer.errors import ConfigError, DataError

PATH_KINDS = (
    ("arrays", "a .npz (images, labels, class_names) or .npy (images) file"),
    ("cifar", "a folder of CIFAR-10/100 binary batches"),
    ("folder", "an image folder: one subfolder per class, or none (unlabelled); train/ and test/ as the split"),
)
BUNDLED_SPLIT = "test.npz"  # resources/data/<folder name>/test.npz


def _bare_name(text: str) -> bool:
    return not any(sep in text for sep in ("/", "\\", ".")) and not text.startswith("~")


def is_named(spec: str) -> bool:
    from aeviewer.data.sources import SOURCES

    return spec in SOURCES


def path_kind(path: Path) -> str:
    """Which of PATH_KINDS ``path`` is (DataError for a file of another type)."""
    from aeviewer.data.arrays import SUFFIXES
    from aeviewer.data.cifar import cifar_layout

    if path.is_file():
        if path.suffix.lower() in SUFFIXES:
            return "arrays"
        raise DataError(f"{path}: a data set is a folder, a .npz or a .npy file (this is a {path.suffix or 'plain'} file)")
    return "cifar" if cifar_layout(path) else "folder"


def resolve_spec(spec: str | Path) -> str:
    """A named set as it is, a path made absolute: what a checkpoint records as its data set."""
    text = str(spec)
    if is_named(text) or (_bare_name(text) and not Path(text).exists()):  # "emnist" stays a name, refused later
        return text
    return str(Path(text).expanduser().resolve())


def load_source(spec: str | Path, preparation: Preparation | None = None, data_dir: str | Path | None = None, *,
                progress: Progress | None = None, cancel: CancelFlag = None,
                max_memory: int = DEFAULT_MAX_MEMORY, max_pixels: int = DEFAULT_MAX_PIXELS,
                use_cache: bool = True) -> LoadedSource:
    """Both splits of ``spec``: a named set (digits, mnist, fashion-mnist) as it always was, or a path
    prepared by ``preparation`` (the defaults when None)."""
    from aeviewer.data.sources import SOURCE_NAMES, load_split

    text = str(spec)
    if is_named(text):
        return LoadedSource(load_split(text, "train", data_dir), load_split(text, "test", data_dir), text, None)
    preparation = preparation or Preparation()
    path = Path(text).expanduser().resolve()
    if not path.exists():
        bundled = bundled_test_split(path, preparation)
        if bundled is not None:
            return bundled
        if _bare_name(text):  # "emnist": a set this aeviewer does not know, not a missing file
            raise ConfigError(f"unknown data set {text!r} (known: {', '.join(SOURCE_NAMES)}, or a path to an "
                              "image folder, .npz, .npy or CIFAR folder)")
        raise DataError(f"{path}: no such file or folder")
    kind = path_kind(path)
    if kind == "arrays":
        from aeviewer.data.arrays import load_array_file

        return load_array_file(path, preparation, max_memory)
    if kind == "cifar":
        from aeviewer.data.cifar import load_cifar

        return load_cifar(path, preparation, max_memory)
    from aeviewer.data.folder import load_folder

    return load_folder(path, preparation, progress=progress, cancel=cancel, max_memory=max_memory,
                       max_pixels=max_pixels, use_cache=use_cache)


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
    from aeviewer.data.sources import BUNDLED_DATA_DIR

    return BUNDLED_DATA_DIR / folder_name / BUNDLED_SPLIT


def bundled_test_split(path: Path, preparation: Preparation) -> LoadedSource | None:
    """The shipped test split of the folder ``path`` names, when one was made with ``preparation``."""
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
                        note=f"{path} is absent: its test split shipped with aeviewer ({shipped})")


def write_bundled_split(loaded: LoadedSource, out: Path) -> Path:
    """Save ``loaded``'s test split as a shipped split (compressed, no pickles)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    test = loaded.test
    tmp = out.with_name(out.name + ".tmp.npz")
    np.savez_compressed(tmp, images=test.images.numpy(), labels=test.labels.numpy().astype(np.uint8 if
                        len(test.class_names) <= 256 else np.int64),
                        class_names=np.array(test.class_names, dtype=str),
                        preparation=np.array(json.dumps(loaded.preparation.to_dict() if loaded.preparation else {})))
    tmp.replace(out)
    return out
