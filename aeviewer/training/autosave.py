"""Autosaves: where a training run's per-epoch checkpoint lives, how it is named, and finding the newest.

The folder is ``$AEVIEWER_USER_DIR/autosave`` when that variable is set (the tests set it), else the
per-user data folder (platformdirs) ``/autosave``. One run writes one file, replaced atomically at
each epoch (``save_checkpoint`` writes a temp file and renames it), so a crash or a kill mid-epoch
leaves the last complete epoch on disk. No Qt here: the GUI worker and scripts call the same code.
"""
from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any, Mapping

import torch

from aeviewer.models.base import Autoencoder
from aeviewer.util.paths import user_dir

SUFFIX = ".safetensors"
KEEP = 20  # autosaves kept in the folder; older ones are removed when a new run first saves


def autosave_dir() -> Path:
    return user_dir() / "autosave"


def autosave_name(kind: str, dataset: str, started: datetime.datetime | None = None) -> str:
    """``<kind>-<dataset>-<YYYYmmdd-HHMMSS-ffffff>.safetensors``: sorts by start time, one per run."""
    started = started or datetime.datetime.now()
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in f"{kind}-{dataset or 'data'}")
    return f"{safe}-{started.strftime('%Y%m%d-%H%M%S-%f')}{SUFFIX}"


def list_autosaves(directory: str | Path | None = None) -> list[Path]:
    """The autosaves in ``directory`` (default: :func:`autosave_dir`), newest first; [] when none."""
    folder = Path(directory) if directory is not None else autosave_dir()
    try:
        files = [p for p in folder.iterdir() if p.suffix == SUFFIX and not p.name.startswith(".") and p.is_file()]
    except OSError:  # no folder yet, or not a folder
        return []
    return sorted(files, key=_mtime, reverse=True)


def newest_autosave(directory: str | Path | None = None) -> Path | None:
    found = list_autosaves(directory)
    return found[0] if found else None


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:  # removed between listing and sorting
        return 0.0


def weights_finite(model: torch.nn.Module) -> bool:
    """True when every floating-point tensor of the model is finite (never autosave a diverged model)."""
    return all(bool(torch.isfinite(t).all()) for t in model.state_dict().values() if t.is_floating_point())


class AutoSaver:
    """Saves one run's model after each epoch to ``directory/<autosave_name>``.

    ``save`` raises :class:`~aeviewer.errors.CheckpointError` when the folder cannot be written (the
    previous autosave stays as it was); it returns None and keeps the previous file when the
    weights are not finite.
    """

    def __init__(self, dataset: str, *, directory: str | Path | None = None, extra: Mapping[str, Any] | None = None,
                 keep: int = KEEP, preparation: Any = None) -> None:
        self.dataset = dataset
        self.preparation = preparation  # a path source's, recorded so that the model finds its data again
        self.directory = Path(directory) if directory is not None else autosave_dir()
        self.extra = dict(extra or {})
        self.keep = keep
        self.path: Path | None = None  # chosen at the first save, then replaced at each epoch

    def save(self, model: Autoencoder, epoch: int, history: list[dict[str, Any]] | None = None) -> Path | None:
        from aeviewer.training.checkpoint import save_checkpoint

        if not weights_finite(model):
            return None
        first = self.path is None
        if first:
            self.path = self.directory / autosave_name(model.config.kind, self.dataset)
        extra = {**self.extra, "status": "autosave", "epoch": epoch}
        saved = save_checkpoint(self.path, model, dataset=self.dataset, history=list(history or []), extra=extra,
                                preparation=self.preparation)
        if first:
            prune(self.directory, self.keep)
        return saved


def prune(directory: str | Path, keep: int = KEEP) -> list[Path]:
    """Remove all but the ``keep`` newest autosaves; returns the removed paths (failures are skipped)."""
    removed = []
    for old in list_autosaves(directory)[keep:]:
        try:
            old.unlink()
            removed.append(old)
        except OSError:
            pass
    return removed
