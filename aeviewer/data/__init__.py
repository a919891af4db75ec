"""Data sets held in memory as uint8 ImageSets, their files on disk, and input corruptions.

Downloading lives in ``aeviewer.data.download`` (imported on demand: it pulls in urllib).
"""
from aeviewer.data.imageset import ImageSet
from aeviewer.data.loader import load_split
from aeviewer.data.noise import NoiseSpec, corrupt
from aeviewer.data.sources import (
    SOURCE_NAMES,
    SOURCES,
    SourceInfo,
    SourceStatus,
    format_status_table,
    resolve_data_dir,
    source_status,
)

__all__ = [
    "ImageSet",
    "NoiseSpec",
    "corrupt",
    "SOURCE_NAMES",
    "SOURCES",
    "SourceInfo",
    "SourceStatus",
    "format_status_table",
    "load_split",
    "resolve_data_dir",
    "source_status",
]
