"""Document: what a save writes beside the open model's weights, whether it is saved, and why it has no scatter.

Plain Python, no widgets or signals: the Session holds one (``session.document``), the window shows it (title, data
banner) and saves ``records``; the training panel's start and finish move it along.
"""
from __future__ import annotations

from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aeviewer.data.imageset import ImageSet
from aeviewer.data.loader import is_named
from aeviewer.data.loader import load_split
from aeviewer.errors import AeviewerError, DataError
from aeviewer.gui.dialogs.model_picker import as_number

if TYPE_CHECKING:
    from aeviewer.training.checkpoint import Checkpoint


def empty_records() -> dict[str, Any]:
    return {"metrics": {}, "history": [], "extra": {}}


def shape_text(shape: tuple[int, ...]) -> str:
    """(1, 28, 28) -> "28×28" (grey), (3, 32, 32) -> "3×32×32"."""
    return "×".join(map(str, shape[1:] if shape[0] == 1 else shape))


def test_split_of(checkpoint: Checkpoint, data_dir: str | Path | None) -> tuple[ImageSet | None, str, bool]:
    """The checkpoint's test split for the scatter, else None, why not (one line), and whether a data
    directory or `aeviewer data fetch` would help. The model opens either way: only the scatter needs data."""
    if not checkpoint.dataset:
        return None, "the checkpoint names no data set", False
    try:
        test_set = load_split(checkpoint.dataset, "test", data_dir, checkpoint.preparation)
    except DataError as err:
        return None, str(err).splitlines()[0], True
    except AeviewerError as err:  # a data set this aeviewer does not know
        return None, str(err).splitlines()[0], False
    want = tuple(checkpoint.model.config.image_shape)
    if tuple(test_set.image_shape) != want:  # a checkpoint whose data set does not fit its own model
        return None, (f"the {checkpoint.dataset} test images are {shape_text(test_set.image_shape)}, "
                      f"the model takes {shape_text(want)}"), False
    return test_set, "", False


class Document:
    """The open model's records (metrics, history, extra: saved beside the weights), ``unsaved`` (trained
    weights no save has written yet), and ``data_problem``/``data_fetchable`` (why there is no scatter,
    and whether a data directory or ``aeviewer data fetch`` would cure it)."""

    def __init__(self) -> None:
        self.records: dict[str, Any] = empty_records()
        self.unsaved = False
        self.data_problem = ""
        self.data_fetchable = True
        self._records_before_run: dict[str, Any] | None = None  # the open model's, while a run continues it
        self.outside_name: str | None = None  # the name of a model trained outside aeviewer (None: one of ours)
        self.preparation: Any = None  # a path data set's Preparation, saved with the weights (None: a named set)

    def opened(self, checkpoint: Checkpoint, data_problem: str, data_fetchable: bool) -> None:
        self.records = {"metrics": dict(checkpoint.metrics), "history": list(checkpoint.history),
                        "extra": dict(checkpoint.extra)}
        self.unsaved = False
        self.outside_name = None
        self.preparation = checkpoint.preparation
        self.data_problem, self.data_fetchable = data_problem, data_fetchable

    def opened_foreign(self, outside_name: str | None) -> None:
        """A model handed over by a script: nothing to save beside it; ``outside_name`` titles one trained
        outside aeviewer (None for one of ours)."""
        self.records = empty_records()
        self.unsaved = False
        self.outside_name = outside_name
        self.preparation = None
        self.data_problem, self.data_fetchable = "", False

    def saved(self) -> None:
        self.unsaved = False

    def run_started(self, continues: bool) -> None:
        # A continued model keeps what it went through (history, provenance) for the save after the run.
        self._records_before_run = self.records if continues else None
        self.records = empty_records()

    def run_finished(self, result: dict[str, Any]) -> None:
        """What a save writes after a run. A continued model's history goes on from its last epoch and its
        earlier record is kept under ``continued_from``; its metrics are dropped, since they measured the
        weights before this run (``aeviewer evaluate`` measures them again)."""
        run = {"status": result.get("status", ""), "train": result["train"]}
        history = list(result["history"])
        before = self._records_before_run
        self.unsaved = True
        if before is None:
            self.records = {"metrics": {}, "history": history, "extra": run}
            return
        epochs = [r["epoch"] for r in before["history"] if isinstance(r, dict) and as_number(r.get("epoch")) is not None]
        offset = max(epochs, default=0)
        history = list(before["history"]) + [{**r, "epoch": r["epoch"] + offset} for r in history]
        self.records = {"metrics": {}, "history": history, "extra": {**run, "continued_from": dict(before["extra"])}}

    def prior_trained(self, record: dict[str, Any]) -> None:
        """A prior trained in the app: recorded beside the weights as ``aeviewer train-prior`` records one (extra's
        ``prior``); the metrics of the prior it replaced are dropped (``aeviewer evaluate`` measures the new one)."""
        stale = ("prior_", "nll_bound")
        self.records["metrics"] = {k: v for k, v in self.records["metrics"].items() if not k.startswith(stale)}
        self.records["extra"] = {**self.records["extra"], "prior": record}
        self.unsaved = True

    def no_scatter_html(self, dataset_name: str, has_prior: bool) -> str:
        """Why the open model has no scatter, what works without it, and how to cure it (rich text)."""
        problem = self.data_problem or f"the {dataset_name or 'data set'} test split is not loaded"
        works = "The decoder, its sliders and prior samples work" if has_prior else "The decoder and its sliders work"
        if dataset_name and not is_named(dataset_name):  # a path that has moved: find it again
            cure = (f"; it looked for <code>{escape(dataset_name)}</code>. <a href=\"open-data\">Open data…</a> "
                    "(Ctrl+Shift+O) shows the data where it is now")
        elif self.data_fetchable or not self.data_problem:
            cure = (f"; to see the scatter, set <b>File › Data directory…</b> or run <code>aeviewer data fetch "
                    f"{escape(dataset_name or 'mnist')}</code>, then open the model again")
        else:
            cure = ""
        return f"<b>No scatter:</b> {escape(problem)}.<br>{works} without data{cure}."

    def title(self, kind: str, path: Path | None) -> str:
        """The window title for the open model of ``kind`` ("" for none) saved at ``path`` (None: never)."""
        if not kind:
            name = "no model"
        elif self.outside_name is not None:
            name = self.outside_name
        elif path is None:
            name = f"untitled {kind} (unsaved)"
        else:
            name = f"{path.name}{' (trained, not saved)' if self.unsaved else ''}"
        return f"{name} — aeviewer"
