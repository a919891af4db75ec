"""File › Open ONNX pair…: a dialog for an encoder and a decoder .onnx, loaded off the GUI thread and opened
in the window over its current data set, as ``aeviewer gui --encoder --decoder`` and ``aeviewer.show`` do.

:class:`OnnxPairDialog` is the form (two file fields, OK once both files exist). :class:`OnnxPairOpener`
owns it for the window: it checks and loads the pair with ``onnx_model`` and probes it with ``adapt`` in a
worker thread (a QTimer polls the future, so no Qt object crosses threads), then hands the model to
``window.open_foreign``. Whatever fails before that is one line in a message box and the open model stays.
"""
from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import (
    QDialog, QDialogButtonBox, QFileDialog, QFormLayout, QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout,
    QWidget,
)

from aeviewer.data.imageset import ImageSet
from aeviewer.errors import AeviewerError
from aeviewer.gui.dialogs.file_dialogs import dialog_folder, remember_folder
from aeviewer.foreign.onnx_pair import decoder_beside

ONNX_FILTER = "ONNX models (*.onnx);;All files (*)"
POLL_MS = 30


class OnnxPairDialog(QDialog):
    """Two file fields, encoder and decoder .onnx, each with Browse…; OK is enabled once both are files.
    Choosing an encoder fills in the decoder its name implies (``encoder.onnx`` → ``decoder.onnx``) when the
    decoder field is empty or holds the previous such guess."""

    def __init__(self, parent: QWidget | None = None, start_dir: str = "") -> None:
        super().__init__(parent)
        self.setObjectName("onnxPairDialog")
        self.setWindowTitle("Open ONNX pair")
        self.start_dir = start_dir
        self._guessed_decoder = ""  # the decoder path filled in from the encoder's name, until someone edits it
        self.data_label = QLabel()
        self.data_label.setObjectName("onnxDataLabel")
        self.data_label.setWordWrap(True)
        self.encoder_field, encoder_row = self._file_row("encoder")
        self.decoder_field, decoder_row = self._file_row("decoder")
        self.problem_label = QLabel()
        self.problem_label.setObjectName("onnxProblemLabel")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        form = QFormLayout()
        form.addRow("Encoder:", encoder_row)
        form.addRow("Decoder:", decoder_row)
        layout = QVBoxLayout(self)
        layout.addWidget(self.data_label)
        layout.addLayout(form)
        layout.addWidget(self.problem_label)
        layout.addWidget(self.buttons)
        self.encoder_field.textChanged.connect(self._on_encoder_changed)
        self.decoder_field.textChanged.connect(self._update_ok)
        self.setMinimumWidth(560)
        self._update_ok()

    def _file_row(self, role: str) -> tuple[QLineEdit, QWidget]:
        field = QLineEdit()
        field.setObjectName(f"{role}Field")
        field.setPlaceholderText(f"{role}.onnx")
        field.setToolTip(f"The {role} exported as ONNX (one floating-point input)")
        browse = QPushButton("Browse…")
        browse.setObjectName(f"{role}Browse")
        browse.setToolTip(f"Choose the {role} .onnx file")
        browse.clicked.connect(lambda: self._browse(field, role))
        row = QWidget()
        box = QHBoxLayout(row)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(field, 1)
        box.addWidget(browse)
        return field, row

    def _browse(self, field: QLineEdit, role: str) -> None:
        start = field.text() or self.encoder_field.text() or self.start_dir
        path, _ = QFileDialog.getOpenFileName(self, f"Open the {role}", start, ONNX_FILTER)
        remember_folder(path)
        if path:
            field.setText(path)

    def set_data_name(self, name: str) -> None:
        """Say which data set the pair will be explored over."""
        self.data_label.setText(f"An encoder and a decoder exported from any framework, explored over "
                                f"<b>{name or 'the training panel’s data set'}</b>.")

    def set_paths(self, encoder: str | Path, decoder: str | Path | None = None) -> None:
        """Fill the fields (the decoder is guessed from the encoder's name when not given)."""
        self.encoder_field.setText(str(encoder))
        if decoder is not None:
            self.decoder_field.setText(str(decoder))

    def paths(self) -> tuple[Path, Path]:
        return Path(self.encoder_field.text().strip()), Path(self.decoder_field.text().strip())

    def _on_encoder_changed(self, text: str) -> None:
        if self.decoder_field.text() in ("", self._guessed_decoder):  # never overwrite a decoder someone chose
            guess = decoder_beside(text.strip()) if text.strip() else None
            self._guessed_decoder = str(guess) if guess is not None else ""
            self.decoder_field.setText(self._guessed_decoder)
        self._update_ok()

    def _update_ok(self) -> None:
        problem = self._problem()
        self.problem_label.setText(problem)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(not problem)

    def _problem(self) -> str:
        """Why OK is disabled ("" when it is not)."""
        for role, field in (("encoder", self.encoder_field), ("decoder", self.decoder_field)):
            text = field.text().strip()
            if not text:
                return f"Choose the {role} .onnx file."
            if not Path(text).is_file():
                return f"No such {role} file: {text}"
        return ""


class BackgroundCall(QObject):
    """Runs one function at a time in a worker thread; ``done(result)`` or ``failed(one line)`` on the GUI thread."""

    done = Signal(object)
    failed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="aeviewer-onnx")
        self._future: Future | None = None
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self._poll)

    def is_running(self) -> bool:
        return self._future is not None

    def start(self, fn: Callable[[], Any]) -> None:
        self._future = self._pool.submit(fn)
        self._timer.start()

    def _poll(self) -> None:
        future = self._future
        if future is None or not future.done():
            return
        self._future = None
        self._timer.stop()
        err = future.exception()
        if err is None:
            self.done.emit(future.result())
        elif isinstance(err, AeviewerError):
            self.failed.emit(str(err).splitlines()[0])
        else:  # a bug or an exporter's surprise must not become a traceback in the window
            self.failed.emit(f"{type(err).__name__}: {(str(err).splitlines() or [''])[0]}")


def load_explorable(encoder: Path, decoder: Path, images: Callable[[], ImageSet]) -> tuple[Any, ImageSet]:
    """The pair checked, loaded and probed on one batch of ``images()`` (runs in the worker thread)."""
    from aeviewer.foreign.adapters import adapt
    from aeviewer.foreign.onnx_pair import onnx_model

    pair = onnx_model(encoder, decoder)
    test_set = images()
    return adapt(pair, test_set), test_set


class OnnxPairOpener(QObject):
    """The window's File › Open ONNX pair…: asks with the dialog, loads in the background, opens the model.
    Signals ``opened(name)`` and ``failed(one line)`` say how a load ended (tests wait on them)."""

    opened = Signal(str)
    failed = Signal(str)

    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.window = window
        self.dialog: OnnxPairDialog | None = None  # kept, so that a second try starts from the last paths
        self.job = BackgroundCall(self)
        self.job.done.connect(self._on_loaded)
        self.job.failed.connect(self._on_failed)
        self._dataset_name = ""

    def ask(self) -> OnnxPairDialog:
        """Show the dialog (window-modal, returns at once); OK loads the pair."""
        if self.dialog is None:
            self.dialog = OnnxPairDialog(self.window, str(dialog_folder()))
            self.dialog.accepted.connect(lambda: self.load(*self.dialog.paths()))
        self.dialog.set_data_name(self._data()[0])
        self.dialog.open()
        return self.dialog

    def load(self, encoder: str | Path, decoder: str | Path) -> bool:
        """Start loading the pair; False (and a message) when it cannot start now."""
        if self.window.training_panel.is_running():
            self._refuse("Stop training (Esc) before opening another model.")
            return False
        if self.job.is_running():
            self._refuse("An ONNX pair is still loading; wait for it first.")
            return False
        self._dataset_name, images = self._data()
        self.window.set_last_action(f"Loading {Path(encoder).name} + {Path(decoder).name}…")
        self.job.start(lambda: load_explorable(Path(encoder), Path(decoder), images))
        return True

    def _data(self) -> tuple[str, Callable[[], ImageSet]]:
        """The window's current data set: the open model's test images, else the panel's data set's test
        split (loaded in the worker thread when the panel has not loaded it)."""
        session, panel = self.window.session, self.window.training_panel
        if session.test_set is not None:
            test_set = session.test_set
            return session.dataset_name, lambda: test_set
        spec, loaded = panel.data_spec(), panel.loaded_source
        if loaded is not None and loaded.source == spec:
            return spec, lambda: loaded.test
        from aeviewer.data.loader import load_split

        data_dir = self.window.data_dir
        return spec, lambda: load_split(spec, "test", data_dir)

    def _on_loaded(self, result: tuple[Any, ImageSet]) -> None:
        model, test_set = result
        if self.window.training_panel.is_running():  # started while the pair loaded: a run owns the session
            self._on_failed("training started while the pair loaded; stop it and open the pair again")
            return
        try:
            self.window.open_foreign(model, test_set, dataset_name=self._dataset_name)
        except AeviewerError as err:  # it passed the probe but failed on the whole set
            self._on_failed(str(err).splitlines()[0])
            return
        self.opened.emit(model.name)

    def _on_failed(self, text: str) -> None:
        self.window.set_last_action("Could not open the ONNX pair")
        self._refuse(text)
        self.failed.emit(text)

    def _refuse(self, text: str) -> None:
        self.window.show_error("Could not open the ONNX pair", text)
