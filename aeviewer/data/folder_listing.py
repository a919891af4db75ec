"""What a scan of an image folder finds, before anything is decoded: its files with their class and split.

A module of its own so that the scan (:mod:`aeviewer.data.folder`) and the cache key that hashes the file list
(:mod:`aeviewer.data.cache`) both use it without importing each other.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from aeviewer.data.skipped import SkipReport


@dataclass(frozen=True)
class FolderFile:
    path: str  # relative to the root, "/"-separated
    label: int
    split: str  # "train", "test", or "" where the folder has no split
    size: int
    mtime_ns: int


@dataclass
class FolderListing:
    root: Path
    files: list[FolderFile]  # sorted by path
    class_names: tuple[str, ...]
    has_split: bool
    skipped: SkipReport  # images outside a class folder, unreadable subfolders
