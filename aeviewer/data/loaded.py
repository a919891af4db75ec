"""LoadedSource: what loading a source gives — the train and test ImageSets and what was passed over."""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Callable

from aeviewer.data.imageset import ImageSet
from aeviewer.data.preparation import Preparation
from aeviewer.data.skipped import SkipReport
from aeviewer.errors import Cancelled, DataError

Progress = Callable[[int, int], object]  # (files done, files in all)
CancelFlag = threading.Event | Callable[[], bool] | None
DEFAULT_MAX_MEMORY = 4_000_000_000  # bytes the decoded images of one source may take


@dataclass
class LoadedSource:
    train: ImageSet
    test: ImageSet
    source: str  # the spec it was loaded by: a named set, a path relative to the data directory, or an absolute path
    preparation: Preparation | None  # None for the named sets, which have one fixed form
    skipped: SkipReport = field(default_factory=SkipReport)
    from_cache: bool = False
    note: str = ""  # e.g. "the folder is absent: the test split shipped with aeviewer"

    def split(self, name: str) -> ImageSet:
        return self.train if name == "train" else self.test


def check_cancel(cancel: CancelFlag) -> None:
    """Raise Cancelled once ``cancel`` (an Event, or a callable returning True) says so."""
    if cancel is None:
        return
    stop = cancel.is_set() if isinstance(cancel, threading.Event) else cancel()
    if stop:
        raise Cancelled("loading cancelled")


def check_memory(n_images: int, channels: int, height: int, width: int, limit: int, what: str) -> None:
    """One line, before anything is decoded, when the images would not fit in ``limit`` bytes."""
    need = n_images * channels * height * width
    if need > limit:
        raise MemoryLimitError(
            f"{what}: {n_images:,} images at {height}x{width} with {channels} channel{'s' if channels > 1 else ''} "
            f"would take {need / 1e9:.1f} GB, over the {limit / 1e9:.1f} GB limit; lower --image-size "
            f"{'or use --channels 1 ' if channels > 1 else ''}or raise --max-memory")


class MemoryLimitError(DataError):
    """The decoded images would exceed the memory limit."""
