"""PanelData: the training panel's data set when it is a path: its load (with the preparation the rows
describe), what it loaded, and the image shape and class count a new model is built for.

The panel keeps the rows (OptionForm) and the data set row (DataSourceRow); this keeps the loading.
"""
from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import QObject, Signal

from aeviewer.data.loader import source_path
from aeviewer.data.sources import SOURCES, resolve_data_dir
from aeviewer.data.options import max_memory_of, preparation_from_values, preparation_values
from aeviewer.errors import ConfigError
from aeviewer.gui.training.data_source import DataSourceRow, SourceLoad, skip_note
from aeviewer.gui.training.option_form import OptionForm, changed_signal
from aeviewer.spec.options import options


def loaded_text(loaded: Any) -> str:
    """'29 train + 7 test images, 3×16×16, 3 classes; 1 file skipped: ...'."""
    train, test = loaded.train, loaded.test
    text = (f"{len(train):,} train + {len(test):,} test images, {'×'.join(map(str, test.image_shape))}, "
            f"{len(test.class_names) or 'no'} classes")
    note = skip_note(loaded)
    return f"{text}; {note}" if note else text


def absent_html(spec: str, data_dir: Any, shows_test_split: bool) -> str:
    """The note for an open model whose training images this machine lacks, with the link that asks for them."""
    scatter = ("the scatter shows its test split, which ships with aeviewer" if shows_test_split
               else "the scatter needs them too")
    return (f"The <b>{escape(Path(spec).name or spec)}</b> training images are not on this machine (looked for "
            f"<code>{escape(spec)}</code> in the data directory {escape(str(resolve_data_dir(data_dir)))}); "
            f"{scatter}. <a href=\"open-data\">Open data…</a> finds them, to train on them.")


class PanelData(QObject):
    """Signals: ``loaded(object)`` (a LoadedSource), ``failed(str)`` (one line; "" when cancelled)."""

    loaded = Signal(object)
    failed = Signal(str)

    def __init__(self, fields: OptionForm, row: DataSourceRow, data_dir: Callable[[], Any], session: Any,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.fields, self.row, self.data_dir = fields, row, data_dir
        self.session = session  # the open model: its config gives the shape its data set had
        self.load_job = SourceLoad(self)
        self.source: Any = None  # the LoadedSource, once loaded
        self.load_job.progressed.connect(row.show_loading)
        self.load_job.loaded.connect(self._on_loaded)
        self.load_job.failed.connect(self._on_failed)
        row.cancel_button.clicked.connect(self.load_job.cancel)
        for option in options("data", panel=True, path_only=True):
            changed_signal(fields.widget(option.name)).connect(lambda *_: self._on_preparation_changed())

    def spec(self) -> Any:
        return self.fields.widget("dataset").currentData()  # type: ignore[attr-defined]

    def is_path(self) -> bool:
        return self.spec() is not None and self.spec() not in SOURCES

    def preparation(self) -> Any:
        """The Preparation the rows describe."""
        return preparation_from_values(self.fields.values())

    def show_preparation(self, preparation: Any) -> None:
        for name, value in preparation_values(preparation).items():
            self.fields.show(name, value)

    def is_loaded(self) -> bool:
        """Whether the path data set has loaded with the preparation the rows describe now."""
        return self.source is not None and self.load_job.key == (self.spec(), self.preparation())

    def load(self) -> None:
        """Load the path data set with the rows' preparation, unless it is loaded or loading already."""
        key = (self.spec(), self.preparation())
        if self.load_job.key == key:
            return
        self.source = None
        self.row.show_note("")
        self.load_job.start(key[0], key[1], self.data_dir(), max_memory_of(self.fields.values()))

    def shape(self) -> tuple[tuple[int, int, int], int]:
        """The image shape and class count of the data set (a path: once it has loaded)."""
        spec = self.spec()
        if spec in SOURCES:
            return SOURCES[spec].image_shape, len(SOURCES[spec].class_names)
        if self.is_loaded():
            test = self.source.test
            return tuple(test.image_shape), max(len(test.class_names), 1)
        recorded = self._open_model_shape()
        if recorded is None:
            raise ConfigError("the data set has not loaded yet")
        return recorded

    def _open_model_shape(self) -> tuple[tuple[int, int, int], int] | None:
        """The open model's image shape and class count while the rows name its data set, prepared as it was:
        an opened model's size needs no loaded data (its images may not even be on this machine)."""
        model, session = self.session.model, self.session
        if model is None or not session.dataset_name or self.spec() != session.dataset_name:
            return None
        if session.document.preparation is not None and self.preparation() != session.document.preparation:
            return None
        config = model.config
        return tuple(config.image_shape), max(int(config.n_classes), 1)

    def show_presence(self) -> None:
        """The row's note says when the open model's training images are not on this machine (with Open
        data…); otherwise it is empty, unless this data set has loaded and its load's note stands."""
        if self.is_loaded():
            return
        spec, session = self.spec(), self.session
        absent = (session.model is not None and spec == session.dataset_name and self.is_path()
                  and not source_path(spec, self.data_dir()).exists())
        self.row.show_note(absent_html(spec, self.data_dir(), session.test_set is not None) if absent else "",
                           rich=absent)

    def image_shape_or_none(self) -> tuple[int, int, int] | None:
        try:
            return self.shape()[0]
        except ConfigError:
            return None

    def _on_preparation_changed(self) -> None:
        if self.is_path() and self.load_job.key is not None:
            self.load_job.cancel()  # a load with the old preparation; Start loads with the new one
            self.source = None

    def _on_loaded(self, loaded: Any) -> None:
        self.source = loaded
        self.row.show_note(loaded_text(loaded))
        self.loaded.emit(loaded)

    def _on_failed(self, text: str) -> None:
        self.row.show_note("" if text else "Loading cancelled")
        self.failed.emit(text)

    def shutdown(self) -> None:
        self.load_job.shutdown()
