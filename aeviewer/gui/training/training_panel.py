"""TrainingPanel: choose a model and its training settings, run it as a background job, watch it learn."""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import torch
from PySide6.QtCore import QEvent, QObject, QSize, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QFormLayout, QHBoxLayout, QLabel, QProgressBar, QScrollArea, QSizePolicy, QVBoxLayout, QWidget,
)

from aeviewer.gui.jobs import Job
from aeviewer.gui.widgets.coalescing import CoalescingTimer
from aeviewer.training.autosave import AutoSaver
from aeviewer.data.loader import load_split
from aeviewer.data.sources import SOURCES, locate_split, resolve_data_dir
from aeviewer.errors import AeviewerError, DataError
from aeviewer.gui.training.data_source import DataSourceRow
from aeviewer.gui.widgets.fitting_label import BreakingLabel, ElidedLabel
from aeviewer.gui.training.panel_data import PanelData
from aeviewer.gui.training.prior_stage import PriorStage
from aeviewer.gui.widgets.image_utils import make_button
from aeviewer.gui.training.loss_plot import LossPlot
from aeviewer.gui.training.option_form import OptionForm, changed_signal
from aeviewer.gui.training.run_display import RunDisplay
from aeviewer.gui.state.session import Session
from aeviewer.gui.training.worker import TrainingRun, TrainingWorker
from aeviewer.models import default_config, parameter_count, size_text
from aeviewer.models.aae import default_adversarial_weight
from aeviewer.models.config import ModelConfig
from aeviewer.spec.options import Option, applicable, options, train_record
from aeviewer.training import trainer  # a module reference: tests replace its functions
from aeviewer.training.precision import resolved_config
from aeviewer.training.trainer import TrainConfig
from aeviewer.spec.vocabulary import CONV_ARCHS

ERROR_STYLE = "color: #d62728; font-weight: bold;"


def cuda_devices() -> list[tuple[str, str]]:
    """(spec, label) of every CUDA device torch sees."""
    if not torch.cuda.is_available():
        return []
    return [(f"cuda:{i}", f"cuda:{i} — {torch.cuda.get_device_name(i)}") for i in range(torch.cuda.device_count())]


def missing_train_message(name: str, data_dir: Path) -> str:
    return (f"The {name} training split is not in {data_dir}. Set the data directory (File › Data directory…) "
            f"or run `aeviewer data fetch {name}`.")


COMBO_MIN_CHARS = 6  # the panel's lists are at least this wide, in characters
FORM_ROW_SPACING = 3
LOSS_PLOT_MIN_HEIGHT = 140  # its legend row and a readable y axis

class FormScroll(QScrollArea):
    """The panel's form, scrolled when the dock is short or narrow (an AAE's or a colour set's form has twenty
    rows), so that Start, Pause, Stop, the progress and the loss chart below it stay in view. It asks for the
    form's whole height, so a tall dock shows every row without a scroll bar."""

    MIN_HEIGHT = 96  # a few rows of the form stay visible however short the dock

    def __init__(self, form: QFormLayout) -> None:
        super().__init__()
        self.setObjectName("trainingFormScroll")
        holder = QWidget()
        holder.setLayout(form)
        self.setWidget(holder)
        holder.installEventFilter(self)
        self.setWidgetResizable(True)
        self.setFrameShape(QScrollArea.Shape.NoFrame)
        self.setMinimumHeight(self.MIN_HEIGHT)
        # its whole height and no more: the loss chart (Expanding) takes what is left
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.widget() and event.type() == QEvent.Type.LayoutRequest:
            self.updateGeometry()  # rows came or went (another kind): the panel's layout asks again
        return super().eventFilter(watched, event)

    def sizeHint(self) -> QSize:
        hint = self.widget().sizeHint()  # QScrollArea's own caps it at 24 lines of text
        bar = self.verticalScrollBar().sizeHint().width()
        return QSize(hint.width() + bar, hint.height())

    def minimumSizeHint(self) -> QSize:
        return QSize(self.verticalScrollBar().sizeHint().width() * 3, self.MIN_HEIGHT)


class TrainingPanel(RunDisplay, QWidget):
    """Model and training settings, Start / Pause-Resume / Stop, progress, live loss curves.

    Each run autosaves its model after every epoch (``autosave_enabled``; into ``autosave_dir``, by
    default the user data folder's ``autosave``); the info line names the file (``last_autosave``).

    The run itself (worker, job, weight snapshots into the session) is a :class:`TrainingRun`.

    Signals: ``trainingStarted(bool)`` (whether the run continues the open model), ``trainingFinished(dict)``
    (status, message, epochs_done, history, train: the run's train record), ``stateChanged(str)``
    ("idle" | "running" | "paused"; the device line may have changed too), ``message(str)`` (for the status bar).
    """

    trainingStarted = Signal(bool)
    dataLoaded = Signal(object)  # the LoadedSource of a path data set
    trainingFinished = Signal(dict)
    stateChanged = Signal(str)
    message = Signal(str)

    def __init__(self, session: Session, data_dir: str | Path | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("trainingPanel")
        self.session = session
        self.data_dir = data_dir
        self.train_threads: int | None = None  # torch threads in the worker (None: torch's default)
        self.snapshot_interval_s = 1.0
        self.run = TrainingRun(lambda: session.last_encode_seconds, self, views_busy=lambda: session.encoding)
        self._run_record: dict[str, Any] = {}  # the train record of the current run
        self.last_result: dict[str, Any] | None = None
        self.history: list[dict[str, Any]] = []
        self.autosave_enabled = True
        self.autosave_dir: str | Path | None = None  # None: aeviewer.training.autosave.autosave_dir()
        self.last_autosave: Path | None = None
        self._info = {"notice": "", "epoch": "", "autosave": ""}  # the info label's lines, in this order
        self._build()
        self._on_kind_changed()
        self._on_dataset_changed()
        self._watch_model_fields()
        self._connect_run()
        self._set_state("idle")
        session.modelChanged.connect(self._on_session_model)

    # -- building the form --------------------------------------------------------------------------
    def _build(self) -> None:
        self.form = QFormLayout()
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        # A narrow dock puts a field under its label rather than cutting it off at the side
        self.form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        self.continue_box = QCheckBox("Continue training the open model")
        self.continue_box.setObjectName("continueBox")
        self.continue_box.setToolTip("Train the model that is open now (its kind, size and data set) instead of a new one.")
        self.continue_box.setEnabled(False)
        self.continue_box.toggled.connect(self._on_continue_toggled)
        self.form.addRow(self.continue_box)

        self._start_when_loaded = False
        self._showing_config = False  # an opened model's path is shown, not loaded (Start or Open data… loads it)
        self.fields = OptionForm(self.form, options(panel=True), self._items, self._wrap)
        self.data = PanelData(self.fields, self.data_row, lambda: self.data_dir, self.session, self)
        row = self.form.getWidgetPosition(self.data_row)[0]
        self.form.insertRow(row + 1, self.data_row.note)  # the load's progress and note, full width
        self.form.insertRow(row + 1, self.data_row.loading)
        self.data.loaded.connect(self._on_data_loaded)
        self.data.failed.connect(self._on_data_failed)
        for name, widget in self.fields.widgets.items():
            setattr(self, name, widget)  # panel.kind, panel.latent_dim, ...: what the tests and the window use
        if self.device.count() > 1:
            self.device.setCurrentIndex(1)  # the first CUDA device
        # The rows follow the options whose values others depend on (the kind, the shape, the prior, ...).
        deciding = {"kind", "arch"} | {name for o in options() for name in o.requires}
        for name in deciding:
            changed_signal(self.fields.widget(name)).connect(self._on_kind_changed)
        self.dataset.currentIndexChanged.connect(self._on_dataset_changed)
        self.device.currentIndexChanged.connect(lambda _: self.stateChanged.emit(self._state))  # the device line
        self.size_label = QLabel()
        self.size_label.setObjectName("modelSize")
        self.size_label.setWordWrap(True)
        self.size_label.setToolTip("Weights of the model these fields describe (a discriminator included), and their "
                                   "size in float32; training needs about four times that (gradients, Adam's two moments).")
        self.form.addRow("Model size", self.size_label)

        self.start_button = make_button(self, "Start", "startButton", "Start training (Space)", self.start)
        self.pause_button = make_button(self, "Pause", "pauseButton", "Pause or resume training (Space)", self.toggle_pause)
        self.stop_button = make_button(self, "Stop", "stopButton", "Stop training; the weights so far stay loaded (Esc)", self.stop)
        buttons = QHBoxLayout()
        for b in (self.start_button, self.pause_button, self.stop_button):
            buttons.addWidget(b)

        self.progress = QProgressBar()
        self.progress.setObjectName("trainingProgress")
        self.progress.setRange(0, 1000)
        self.progress.setValue(0)
        self.progress.setTextVisible(True)
        self.progress.setFormat("%p%")
        self.progress.setToolTip("Share of the run done")
        # these labels may show a long message or a path: cut or wrapped, never wider than the panel
        self.progress_label = ElidedLabel("Not training")
        self.progress_label.setObjectName("trainingProgressText")
        self.progress_label.setToolTip("Epoch, batch, throughput and estimated time left")
        self.error_label = BreakingLabel()
        self.error_label.setObjectName("trainingError")
        self.error_label.setStyleSheet(ERROR_STYLE)
        self.error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error_label.hide()
        self.info_label = BreakingLabel()
        self.info_label.setObjectName("trainingInfo")
        self.loss_plot = LossPlot(self)

        layout = QVBoxLayout(self)
        layout.addWidget(FormScroll(self.form))  # only the form scrolls: the run's controls stay in view
        layout.addLayout(buttons)
        layout.addWidget(self.progress)
        layout.addWidget(self.progress_label)
        layout.addWidget(self.error_label)
        layout.addWidget(self.info_label)
        layout.addWidget(self.loss_plot)  # no stretch factor: one took space from the form below its height
        # stage 2 for a model with a codebook: a prior over its code maps (issue 31)
        self.prior_stage = PriorStage(self.session, lambda: self.data_dir, self.is_running, self.loss_plot, self)
        self.stateChanged.connect(self.prior_stage.update_buttons)
        layout.addWidget(self.prior_stage)
        self._compact_for_small_screens()  # once the fields are the panel's children

    def _compact_for_small_screens(self) -> None:
        """On a 1366x768 screen the panel took 423 px of width (its lists as wide as their longest entry) and
        its form pushed the loss chart below the fold: lists shrink to a few characters (the open one shows
        every entry whole), rows sit closer, and the chart asks for less height."""
        for combo in self.findChildren(QComboBox):
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(COMBO_MIN_CHARS)
        self.form.setVerticalSpacing(FORM_ROW_SPACING)
        self.layout().setSpacing(FORM_ROW_SPACING)
        self.layout().setContentsMargins(6, 4, 6, 4)
        self.loss_plot.setMinimumHeight(LOSS_PLOT_MIN_HEIGHT)

    def _wrap(self, name: str, widget: QWidget) -> QWidget:
        if name != "dataset":
            return widget
        self.data_row = DataSourceRow(widget, self, lambda: self.data_dir)  # type: ignore[arg-type]
        return self.data_row

    @staticmethod
    def _items(option: Option) -> list[tuple[str, str]]:
        """The entries of the lists the option table leaves to the running program: data sets, devices."""
        if option.type == "dataset":
            return [(name, name) for name in SOURCES]
        return [("cpu", "CPU")] + cuda_devices()

    # -- which fields apply -----------------------------------------------------------------------------
    def _on_kind_changed(self, *_: Any) -> None:
        self.fields.update_visibility()

    def _watch_model_fields(self) -> None:
        """Recount the model's size after any model field changes; once per burst (opening a model sets them all)."""
        self._size_timer = CoalescingTimer(self, self._update_size, 0)
        for widget in self._model_fields():
            changed_signal(widget).connect(lambda *_: self._size_timer.request())
        self._update_size()

    def _update_size(self) -> None:
        try:
            self.size_label.setText(size_text(parameter_count(self.model_config())))
        except AeviewerError as err:
            self.size_label.setText(f"— ({err})")

    def _on_dataset_changed(self, *_: Any) -> None:
        """Convolutions take square images of 16 to 256 px, a multiple of 4: offer them only where the data set
        has such images; the AAE's adversarial weight follows the image size; a path loads (in a worker
        thread) and shows its preparation rows."""
        self.fields.update_visibility()
        self.set_error("")
        if self.data.is_path() and not self.is_running() and not self._showing_config:
            self.data.load()
        shape = self.data.image_shape_or_none()
        if shape is not None:
            self.adversarial_weight.setValue(default_adversarial_weight(shape))
        conv_ok = shape is not None and shape[1] == shape[2] and 16 <= shape[1] <= 256 and shape[1] % 4 == 0
        for arch in CONV_ARCHS:
            self.arch.model().item(self.arch.findData(arch)).setEnabled(conv_ok)
        if not conv_ok and self.arch.currentData() in CONV_ARCHS:
            self.arch.setCurrentIndex(self.arch.findData("mlp"))

    # -- a data set given by path (PanelData loads it) --------------------------------------------------
    def choose_data(self) -> None:
        """Ask for an image folder or a .npz/.npy file to train on or show (File › Open data…, the banner's link)."""
        self.data_row.choose()

    def set_data_source(self, spec: str | Path) -> None:
        """Make ``spec`` (a named set or a path) the panel's data set; a path starts loading."""
        self.data_row.set_path(spec)

    def data_spec(self) -> str:
        """The data set the panel names: a named set or a path."""
        return self.data.spec()

    @property
    def loaded_source(self) -> Any:
        return self.data.source

    @property
    def source_load(self) -> Any:
        return self.data.load_job

    def _on_data_loaded(self, loaded: Any) -> None:
        self._on_dataset_changed()
        self.message.emit(f"Loaded {loaded.source}")
        self.dataLoaded.emit(loaded)
        if self._start_when_loaded:
            self._start_when_loaded = False
            self.start()

    def _on_data_failed(self, text: str) -> None:
        self._start_when_loaded = False
        if text:
            self.set_error(text)
        self.progress_label.setText("Not training")

    def _on_continue_toggled(self, checked: bool) -> None:
        for widget in self._model_fields():
            widget.setEnabled(not checked)
        if checked and self.session.model is not None:
            self.show_config(self.session.model.config, self.session.dataset_name)

    def _model_fields(self) -> list[QWidget]:
        """The fields that describe the model and its data (a continued run keeps the open model's)."""
        return [self.fields.widget(o.name) for o in options(panel=True) if o.group != "train"]

    def _train_fields(self) -> list[QWidget]:
        return [self.fields.widget(o.name) for o in options("train", panel=True)]

    def _on_session_model(self) -> None:
        if self.is_running():
            return
        self.reset_progress()  # another model (opened, or a new run's): an earlier run's share is not its own
        has_model = self.session.model is not None and self.session.model.trainable
        self.continue_box.setEnabled(has_model)
        if has_model:
            self.show_config(self.session.model.config, self.session.dataset_name)
        else:
            self.continue_box.setChecked(False)
        self.data.show_presence()

    def show_config(self, config: ModelConfig, dataset: str = "") -> None:
        """Fill the fields from a model's config (so Start trains the same shape again)."""
        self.fields.show("kind", config.kind)
        if dataset:
            if dataset not in SOURCES:  # a path: an entry of its own, prepared as the open model's was
                self.data_row.add(dataset)
                if self.session.document.preparation is not None:
                    self.data.show_preparation(self.session.document.preparation)
            self._showing_config = True
            try:
                self.fields.show("dataset", dataset)
            finally:
                self._showing_config = False  # before the AAE's λ, which the data set's default would replace
        for option in options("model", panel=True):
            if option.name != "kind" and hasattr(config, option.name):
                self.fields.show(option.name, getattr(config, option.name))
        if config.noise and config.noise != "none" and ":" in config.noise:
            noise_kind, level = config.noise.split(":", 1)
            self.fields.show("noise_kind", noise_kind)
            self.fields.show("noise_level", float(level))

    # -- the configuration the fields describe --------------------------------------------------------
    def model_config(self) -> ModelConfig:
        """The ModelConfig for a new model from the fields that apply (raises ConfigError for impossible ones)."""
        values = self.fields.values()
        image_shape, n_classes = self.data.shape()
        overrides = {o.name: self.fields.read(o.name) for o in applicable(values, "model")}
        kind = overrides.pop("kind")
        if "noise_kind" in overrides:  # two fields, one config entry: "gaussian:0.5"
            overrides["noise"] = f"{overrides.pop('noise_kind')}:{overrides.pop('noise_level'):g}"
        return default_config(kind, image_shape=image_shape, n_classes=n_classes, **overrides)

    def train_config(self) -> TrainConfig:
        return TrainConfig(**{o.name: self.fields.read(o.name) for o in options("train", panel=True)})

    # -- running ----------------------------------------------------------------------------------------------
    @property
    def worker(self) -> TrainingWorker | None:
        return self.run.worker

    @property
    def job(self) -> Job | None:
        """The current (or last) run's background job."""
        return self.run.job

    @property
    def train_device(self) -> str:
        return self.run.device

    def is_running(self) -> bool:
        return self.run.is_running()

    def is_paused(self) -> bool:
        return self.run.is_paused()

    def device_text(self) -> str:
        """Where training runs (or would run), for the status bar."""
        if self.is_running():
            return f"Device: {self.run.device} (training)"
        return f"Device: {self.device.currentData()}"

    def set_data_dir(self, directory: str | Path | None) -> None:
        self.data_dir = directory

    def start(self) -> bool:
        """Start training (a new model from the fields, or the open one); False when it could not start."""
        if self.is_running():
            return False
        if self.prior_stage.running:  # the prior learns the open model's codes: new weights would pull them away
            self.set_error("A prior over the code maps is training: stop it first (Stage 2's Stop)")
            return False
        self.set_error("")
        if self._needs_loading():
            self._start_when_loaded = True
            self.data.load()
            self.progress_label.setText("Loading the data set; training starts when it has loaded…")
            return False
        try:
            model, dataset, fresh = self._prepare_model()
        except torch.OutOfMemoryError as err:
            self.set_error(f"Out of memory while building the model: {str(err).splitlines()[0][:80]}")
            return False
        except AeviewerError as err:
            self.set_error(str(err))
            return False
        try:  # the record names the precision used ("auto" resolved), a refused one (fp16 on the CPU) is one line
            config = resolved_config(dataclasses.replace(self.train_config(), start_at_mean=fresh),
                                     trainer.resolve_device(self.device.currentData())[0])
        except AeviewerError as err:
            self.set_error(str(err))
            return False
        self._run_record = train_record(config)
        self.loss_plot.clear_curves()
        self.history = []
        self.last_result = None
        self.last_autosave = None
        self.progress.setValue(0)
        self.progress_label.setText("Loading the training split…")
        self._info = {"notice": "", "epoch": "", "autosave": ""}
        self._refresh_info()
        preparation = self.session.document.preparation
        self.run.start(model, dataset, config, data_dir=self.data_dir, train_set=self._small_train_set(dataset),
                       snapshot_interval_s=self.snapshot_interval_s, num_threads=self.train_threads,
                       autosave=self._autosaver(dataset, config, preparation), preparation=preparation)
        self._set_state("running")
        self.trainingStarted.emit(not fresh)
        self.message.emit(f"Training {model.config.kind} on {dataset}")
        return True

    def _prepare_model(self) -> tuple[Any, str, bool]:
        """The model to train, its data set, and whether it is new; the session shows it (a new one starts untrained)."""
        if self.continue_box.isChecked() and self.session.model is not None:
            if not self.session.dataset_name:
                raise DataError("the open model records no data set; untick 'Continue' and train a new one")
            return self.session.model, self.session.dataset_name, False
        dataset = self.dataset.currentData()
        if dataset in SOURCES and SOURCES[dataset].idx and locate_split(dataset, "train", self.data_dir) is None:
            raise DataError(missing_train_message(dataset, resolve_data_dir(self.data_dir)))
        config = self.model_config()
        trainer.check_fits(config, trainer.resolve_device(self.device.currentData())[0])
        model = trainer.seeded_build(config, self.seed.value())
        loaded = self.loaded_source if dataset not in SOURCES else None
        if loaded is not None and loaded.note:  # only its shipped test split was found
            raise DataError(f"{dataset}: no such folder; training needs the folder")
        test_set = loaded.test if loaded is not None else load_split(dataset, "test", self.data_dir)
        self.session.set_model(model, dataset, test_set, path=None)
        self.session.document.preparation = loaded.preparation if loaded is not None else None
        return model, dataset, True

    def _needs_loading(self) -> bool:
        """Whether Start must wait for the path data set to load (a new model on a path not loaded yet)."""
        if self.continue_box.isChecked() and self.session.model is not None:
            return False
        return self.data.is_path() and not self.data.is_loaded()

    def _autosaver(self, dataset: str, config: TrainConfig, preparation: Any = None) -> AutoSaver | None:
        if not self.autosave_enabled:
            return None
        return AutoSaver(dataset, directory=self.autosave_dir, extra={"train": train_record(config)},
                         preparation=preparation)

    def _small_train_set(self, dataset: str) -> Any:
        """A bundled set (digits) loads in a blink here; parsing it in the worker would hold the GIL
        while the GUI redraws. IDX sets (MNIST: seconds of gunzip) load in the worker instead."""
        if dataset in SOURCES and not SOURCES[dataset].idx:
            return load_split(dataset, "train", self.data_dir)
        if self.loaded_source is not None and self.loaded_source.source == dataset:
            return self.loaded_source.train  # loaded already, with its progress and Cancel
        return None

    def toggle_pause(self) -> None:
        if self.is_paused():
            self.resume()
        else:
            self.pause()

    def pause(self) -> None:
        if self.run.can_pause_or_resume():
            self.run.pause()
            self._set_state("paused")
            self.message.emit("Training paused")

    def resume(self) -> None:
        if self.run.can_pause_or_resume():
            self.run.resume()
            self._set_state("running")
            self.message.emit("Training resumed")

    def stop(self) -> None:
        """Ask the run to stop (takes effect within one batch); ``trainingFinished`` follows."""
        if self.run.stop():
            self.progress_label.setText("Stopping…")
            self.stop_button.setEnabled(False)
            self.pause_button.setEnabled(False)

    def shutdown(self, timeout_ms: int = 10_000) -> bool:
        """Stop and join the training job (used when the window closes); True when it has ended."""
        self.data.shutdown()
        self.prior_stage.shutdown(timeout_ms / 1000)
        ended = self.run.shutdown(timeout_ms)
        if ended and self.run.worker is not None:
            self._set_state("idle")
        return ended

    # -- what the run says (the current run's only: TrainingRun drops an earlier one's) -------------------
    def _connect_run(self) -> None:
        self.run.progress.connect(self._on_progress)
        self.run.epochFinished.connect(self._on_epoch)
        self.run.notice.connect(self._on_notice)
        self.run.failed.connect(self.set_error)
        self.run.autosaved.connect(self._on_autosaved)
        self.run.weights.connect(self._load_weights)
        self.run.finished.connect(self._on_finished)

    def _set_state(self, state: str) -> None:
        self._state = state
        running = state in ("running", "paused")
        self.start_button.setEnabled(not running)
        self.pause_button.setEnabled(running)
        self.stop_button.setEnabled(running)
        self.pause_button.setText("Resume" if state == "paused" else "Pause")
        self.continue_box.setEnabled(not running and self.session.model is not None)
        for widget in self._model_fields() + self._train_fields():
            widget.setEnabled(not running and not (self.continue_box.isChecked() and widget in self._model_fields()))
        self.stateChanged.emit(state)
