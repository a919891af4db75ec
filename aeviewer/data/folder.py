"""Image folders: the class of an image is its first-level subfolder, train/ and test/ give the split.

- ``root/<class>/**/<file>``: labelled; files deeper down belong to their first-level folder.
- ``root/<file>`` with no subfolders: one unlabelled set (class name "unlabelled").
- ``root/train/...`` and ``root/test/...``: the split, each laid out as above; otherwise a seeded,
  stratified split (:mod:`aeviewer.data.split`).

Every file is tried (any format Pillow reads); one that cannot be read is skipped with its reason,
never stopping the load. Files are decoded in a thread pool (Pillow releases the GIL in decoding and
resizing), the result is cached (:mod:`aeviewer.data.cache`), and a load can report progress and be
cancelled. Hidden files and folders (a leading dot) are left out.
"""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import torch

from aeviewer.data import cache
from aeviewer.data.decode import DEFAULT_MAX_PIXELS, BadImage, decode_file, is_grey, luma
from aeviewer.data.folder_listing import FolderFile, FolderListing
from aeviewer.data.imageset import UNLABELLED, ImageSet
from aeviewer.data.loaded import DEFAULT_MAX_MEMORY, CancelFlag, LoadedSource, Progress, check_cancel, check_memory
from aeviewer.data.preparation import Preparation
from aeviewer.data.skipped import SkipReport
from aeviewer.data.split import stratified_split
from aeviewer.errors import DataError

SPLIT_FOLDERS = ("train", "test")
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm", ".pbm", ".tga", ".ico"}
CHUNK = 64  # files per task: few enough for prompt cancelling, enough to keep the pool's overhead small


def scan_folder(root: str | Path) -> FolderListing:
    """The candidate image files under ``root`` with their class and split; nothing is decoded."""
    root = Path(root)
    skipped = SkipReport()
    top = _subfolders(root, skipped)
    has_split = all(name in top for name in SPLIT_FOLDERS)
    parts = [(root / name, name) for name in SPLIT_FOLDERS] if has_split else [(root, "")]
    classes = sorted({c for base, _ in parts for c in _subfolders(base, skipped)}) if has_split else top
    class_names = tuple(classes) or (UNLABELLED,)
    files: list[FolderFile] = []
    for base, split in parts:
        prefix = f"{split}/" if split else ""
        if classes:
            _note_loose_images(base, prefix, skipped)
            for label, name in enumerate(classes):
                if (base / name).is_dir():
                    files += _walk_class(base / name, f"{prefix}{name}/", label, split, skipped, root)
        else:
            files += _files_in(base, prefix, 0, split, skipped)
    files.sort(key=lambda f: f.path)
    return FolderListing(root, files, class_names, has_split, skipped)


def _subfolders(folder: Path, skipped: SkipReport) -> list[str]:
    try:
        with os.scandir(folder) as entries:
            return sorted(e.name for e in entries if not e.name.startswith(".") and _is_dir(e))
    except OSError as err:
        skipped.add(str(folder), f"cannot list folder ({err.strerror or err})")
        return []


def _is_dir(entry: os.DirEntry) -> bool:
    try:
        return entry.is_dir()  # follows a symlink; a dangling one is not a folder
    except OSError:
        return False


def _files_in(folder: Path, prefix: str, label: int, split: str, skipped: SkipReport) -> list[FolderFile]:
    """The non-hidden regular files directly in ``folder``."""
    found = []
    try:
        with os.scandir(folder) as entries:
            for e in entries:
                if e.name.startswith("."):
                    continue
                try:
                    if not e.is_file():
                        continue
                    st = e.stat()
                except OSError as err:
                    skipped.add(prefix + e.name, f"cannot read ({err.strerror or err})")
                    continue
                found.append(FolderFile(prefix + e.name, label, split, st.st_size, st.st_mtime_ns))
    except OSError as err:
        skipped.add(prefix.rstrip("/") or str(folder), f"cannot list folder ({err.strerror or err})")
    return found


def _walk_class(folder: Path, prefix: str, label: int, split: str, skipped: SkipReport,
                root: Path) -> list[FolderFile]:
    """Every file under a class folder, following symlinked folders once each (a loop is cut where a
    folder's real path was seen before, the root's included) and reporting a folder that cannot be listed."""
    found: list[FolderFile] = []
    seen: set[str] = {os.path.realpath(root)}
    pending = [(folder, prefix)]
    while pending:
        directory, rel = pending.pop()
        real = os.path.realpath(directory)
        if real in seen:
            continue
        seen.add(real)
        found += _files_in(directory, rel, label, split, skipped)
        for name in _subfolders(directory, skipped):
            pending.append((directory / name, f"{rel}{name}/"))
    return found


def _note_loose_images(base: Path, prefix: str, skipped: SkipReport) -> None:
    """Images beside the class folders belong to no class: reported (other loose files, a README, are not)."""
    for f in _files_in(base, prefix, 0, "", SkipReport()):
        if Path(f.path).suffix.lower() in IMAGE_SUFFIXES:
            skipped.add(f.path, "outside any class folder")


# -- loading ------------------------------------------------------------------------------------
def load_folder(root: str | Path, preparation: Preparation, *, progress: Progress | None = None,
                cancel: CancelFlag = None, max_memory: int = DEFAULT_MAX_MEMORY,
                max_pixels: int = DEFAULT_MAX_PIXELS, workers: int | None = None,
                use_cache: bool = True) -> LoadedSource:
    """The folder's train and test ImageSets, from the cache when its files and the preparation are unchanged."""
    root = Path(root).expanduser().resolve()
    if not root.is_dir():
        raise DataError(f"{root}: no such folder")
    listing = scan_folder(root)
    check_cancel(cancel)
    key = cache.folder_key(root, listing.files, preparation, max_pixels)
    if use_cache:
        cached = cache.load(key, max_memory)
        if cached is not None:
            cached.source, cached.preparation, cached.from_cache = str(root), preparation, True
            return cached
    if not listing.files:
        raise DataError(f"{root}: no image files found (an image folder holds images, or one subfolder of them per class)")
    size = preparation.size_for_folder()
    channels = 1 if preparation.channels == "1" else 3
    check_memory(len(listing.files), channels, size, size, max_memory, str(root))
    images, ok, grey = _decode_all(root, listing.files, preparation, max_pixels, progress, cancel, workers)
    skipped = SkipReport(list(listing.skipped.entries))
    for f, good in zip(listing.files, ok):
        if isinstance(good, str):
            skipped.add(f.path, good)
    keep = np.array([good is True for good in ok], bool)
    if not keep.any():
        raise DataError(f"{root}: no readable image among {len(listing.files):,} files ({skipped.summary()})")
    loaded = _assemble(root, listing, images, keep, bool(np.all(grey[keep])), preparation, skipped)
    if use_cache:
        cache.store(key, loaded)
    return loaded


def _decode_all(root: Path, files: list[FolderFile], preparation: Preparation, max_pixels: int,
                progress: Progress | None, cancel: CancelFlag, workers: int | None
                ) -> tuple[np.ndarray, list[bool | str], np.ndarray]:
    """Decode every file into one (N, S, S, C) uint8 buffer; per file True or the reason it was skipped."""
    size, background = preparation.size_for_folder(), preparation.background_value
    to_grey = preparation.channels == "1"
    buffer = np.empty((len(files), size, size, 1 if to_grey else 3), np.uint8)
    ok: list[bool | str] = [False] * len(files)
    grey = np.zeros(len(files), bool)

    def decode_chunk(start: int) -> int:
        for i in range(start, min(start + CHUNK, len(files))):
            check_cancel(cancel)
            try:
                rgb = decode_file(root / files[i].path, size, preparation.fit, background, max_pixels)
            except BadImage as err:
                ok[i] = str(err)
                continue
            grey[i] = is_grey(rgb)
            buffer[i] = luma(rgb)[..., None] if to_grey else rgb
            ok[i] = True
        return min(start + CHUNK, len(files)) - start

    done = 0
    pool = ThreadPoolExecutor(max_workers=workers or min(8, os.cpu_count() or 1), thread_name_prefix="decode")
    try:
        for n in pool.map(decode_chunk, range(0, len(files), CHUNK)):
            done += n
            if progress is not None:
                progress(done, len(files))
            check_cancel(cancel)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return buffer, ok, grey


def _assemble(root: Path, listing: FolderListing, buffer: np.ndarray, keep: np.ndarray, all_grey: bool,
              preparation: Preparation, skipped: SkipReport) -> LoadedSource:
    images = buffer[keep]
    if preparation.channels == "auto" and all_grey:
        images = images[..., :1]
    images = np.ascontiguousarray(images.transpose(0, 3, 1, 2))  # (N, C, S, S)
    files = [f for f, k in zip(listing.files, keep) if k]
    labels = np.array([f.label for f in files], np.int64)
    if listing.has_split:
        test_mask = np.array([f.split == "test" for f in files], bool)
        train_index, test_index = np.flatnonzero(~test_mask), np.flatnonzero(test_mask)
    else:
        train_index, test_index = stratified_split(labels, preparation.test_fraction, preparation.seed)
    name = root.name

    def image_set(index: np.ndarray) -> ImageSet:
        return ImageSet(torch.from_numpy(images[index]), torch.from_numpy(labels[index]), listing.class_names, name)

    return LoadedSource(image_set(train_index), image_set(test_index), str(root), preparation, skipped)
