"""TrainingPanel: choose a model and its training settings, run it in a worker thread, watch it learn."""
from __future__ import annotations

import dataclasses
import datetime
from pathlib import Path
from typing import Any

import torch
from PySide6.QtCore import QRegularExpression, QThread, Qt, QTimer, Signal
from PySide6.QtGui import QRegularExpressionValidator
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QHBoxLayout, QLabel, QLineEdit, QProgressBar,
    QVBoxLayout, QWidget,
)

from aeviewer.autosave import AutoSaver
from aeviewer.errors import AeviewerError, ConfigError, DataError
from aeviewer.gui.image_utils import make_button, make_spin
from aeviewer.gui.loss_plot import LossPlot
from aeviewer.gui.session import Session
from aeviewer.gui.worker import TrainingWorker, join_worker_thread, start_worker_thread
from aeviewer.models import parameter_count, size_text
from aeviewer.models.aae import default_adversarial_weight
from aeviewer.models.config import ModelConfig, parse_widths, widths_text
from aeviewer.training.trainer import LR_SCHEDULES

KIND_LABELS = {
    "ae": "Autoencoder (AE)",
    "dae": "Denoising autoencoder (DAE)",
    "vae": "Variational autoencoder (VAE)",
    "aae": "Adversarial autoencoder (AAE)",
    "vqvae": "Vector-quantised VAE (VQ-VAE)",
}
NOISE_KINDS = ("gaussian", "masking", "salt_pepper")
PRIORS = ("gaussian", "mixture10", "swissroll")
LR_SCHEDULE_LABELS = {"constant": "Constant", "cosine": "Cosine decay", "drop": "Drop to a tenth at 90%"}
ERROR_STYLE = "color: #d62728; font-weight: bold;"


def cuda_devices() -> list[tuple[str, str]]:
    """(spec, label) of every CUDA device torch sees."""
    if not torch.cuda.is_available():
        return []
    return [(f"cuda:{i}", f"cuda:{i} — {torch.cuda.get_device_name(i)}") for i in range(torch.cuda.device_count())]


def format_eta(seconds: float) -> str:
    if not seconds == seconds or seconds == float("inf"):  # NaN or inf before the first batches
        return "–"
    return str(datetime.timedelta(seconds=int(round(seconds))))


def progress_text(info: dict[str, Any]) -> str:
    return (f"Epoch {info['epoch']}/{info['epochs']} · batch {info['batch']}/{info['n_batches']}\n"
            f"{info['samples_per_s']:,.0f} samples/s · ETA {format_eta(info['eta_s'])}")


def missing_train_message(name: str, data_dir: Path) -> str:
    return (f"The {name} training split is not in {data_dir}. Set the data directory (File › Data directory…) "
            f"or run `aeviewer data fetch {name}`.")


class TrainingPanel(QWidget):
    """Model and training settings, Start / Pause-Resume / Stop, progress, live loss curves.

    Each run autosaves its model after every epoch (``autosave_enabled``; into ``autosave_dir``, by
    default the user data folder's ``autosave``); the info line names the file (``last_autosave``).

    Signals: ``trainingStarted()``, ``snapshotReady(dict)`` (a CPU state_dict from the worker),
    ``trainingFinished(dict)`` (status, message, epochs_done, history), ``stateChanged(str)``
    ("idle" | "running" | "paused"), ``message(str)`` (for the status bar).
    """

    trainingStarted = Signal()
    snapshotReady = Signal(dict)
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
        self.worker: TrainingWorker | None = None
        self.thread: QThread | None = None
        self.last_result: dict[str, Any] | None = None
        self.history: list[dict[str, Any]] = []
        self.run_is_new = True  # False while (and after) a run continues the open model
        self.train_device = "cpu"
        self.autosave_enabled = True
        self.autosave_dir: str | Path | None = None  # None: aeviewer.autosave.autosave_dir()
        self.last_autosave: Path | None = None
        self._unfinished: list[TrainingWorker] = []
        self._info = {"notice": "", "epoch": "", "autosave": ""}  # the info label's lines, in this order
        self._build()
        self._on_kind_changed()
        self._on_dataset_changed()
        self._watch_model_fields()
        self._set_state("idle")
        session.modelChanged.connect(self._on_session_model)

    # -- building the form --------------------------------------------------------------------------
    def _build(self) -> None:
        self.form = QFormLayout()
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.continue_box = QCheckBox("Continue training the open model")
        self.continue_box.setObjectName("continueBox")
        self.continue_box.setToolTip("Train the model that is open now (its kind, size and data set) instead of a new one.")
        self.continue_box.setEnabled(False)
        self.continue_box.toggled.connect(self._on_continue_toggled)
        self.form.addRow(self.continue_box)

        self.kind = self._combo("kind", [(k, v) for k, v in KIND_LABELS.items()],
                                "Which autoencoder to train. DAE: trained on corrupted inputs; VAE and AAE: "
                                "latent pulled to a prior; VQ-VAE: discrete codes from a codebook.")
        self.kind.currentIndexChanged.connect(self._on_kind_changed)
        self.dataset = self._combo("dataset", self._dataset_items(), "Training images (the test split is drawn in the scatter).")
        self.dataset.currentIndexChanged.connect(self._on_dataset_changed)
        self.arch = self._combo("arch", [("mlp", "MLP (any size)"), ("conv", "Convolutional (28×28)")],
                                "Network shape: fully connected layers, or convolutions (28×28 images only).")
        self.arch.currentIndexChanged.connect(self._on_kind_changed)
        self.hidden = self._widths("hidden", ModelConfig.hidden,
                                   "MLP: widths of the encoder's hidden layers, input side first, e.g. 512, 256; "
                                   "the decoder mirrors them. Wider layers fit better and train slower.")
        self.latent_dim = make_spin(self, "latentDim", 2, 512, 2, tooltip="Size of the latent code; 2 is drawn as it is, more through PCA or a pair of dimensions.")
        self.codebook_size = make_spin(self, "codebookSize", 2, 8192, 512, tooltip="VQ-VAE: number of codebook vectors K.")
        self.code_dim = make_spin(self, "codeDim", 1, 512, 64, tooltip="VQ-VAE: length D of each codebook vector.")
        self.recon = self._combo("recon", [("bce", "Bernoulli (BCE)"), ("gaussian", "Gaussian (MSE / c)")],
                                 "VAE: the decoder's likelihood p(x|z).")
        self.recon.currentIndexChanged.connect(self._on_kind_changed)
        self.beta = self._dspin("beta", 0.0, 100.0, 1.0, 0.1, 3, "VAE: weight β of the KL term (β-VAE when > 1).")
        self.c = self._dspin("c", 1e-4, 100.0, 1.0, 0.1, 4, "VAE (Gaussian decoder): variance c of p(x|z) = N(f(z), cI).")
        self.noise_kind = self._combo("noiseKind", [(k, k.replace("_", " ")) for k in NOISE_KINDS],
                                      "DAE: how inputs are corrupted during training.")
        self.noise_level = self._dspin("noiseLevel", 0.0, 2.0, 0.5, 0.05, 2,
                                       "DAE: gaussian σ, or the fraction of pixels masked / set to salt and pepper.")
        self.prior = self._combo("prior", [(p, p) for p in PRIORS], "AAE: the distribution the latent codes are pushed towards.")
        self.prior.currentIndexChanged.connect(self._on_kind_changed)
        self.conditional_prior = self._check(
            "conditionalPrior", "Class k from component k",
            "AAE with a mixture or swiss-roll prior: the discriminator is told each image's class, and the codes of "
            "class k are pushed onto the prior's component k (Makhzani et al.'s semi-supervised prior), so the "
            "classes land where you chose.")
        self.adversarial_weight = self._dspin("adversarialWeight", 0.0, 1000.0, 10.0, 1.0, 2,
                                              "AAE: weight λ of the adversarial term in recon + λ·gen; larger pulls the codes "
                                              "harder onto the prior, smaller keeps reconstructions sharper.")
        self.adversarial_growth = self._dspin("adversarialGrowth", 1.0, 100.0, 1.0, 0.5, 2,
                                              "AAE: λ grows linearly over the run from λ to this many times λ; a strong "
                                              "adversary from the first step can collapse the codes. 1 keeps λ constant.")
        self.adversarial_growth.setSuffix(" ×")
        self.posterior_std = self._dspin("posteriorStd", 0.0, 10.0, 0.0, 0.05, 2,
                                         "AAE: spread s of a Gaussian posterior q(z|x) = N(encoder(x), s²I); "
                                         "0 keeps the encoder deterministic.")
        self.decoder_dropout = self._dspin("decoderDropout", 0.0, 0.9, 0.0, 0.05, 2,
                                           "MLP decoder: each hidden activation is dropped with this probability while "
                                           "training (not when decoding). A regulariser: 0.1 lifted the 8-dim AAE's "
                                           "Parzen figure above the paper's (README).")
        self.channels = self._widths("channels", ModelConfig.channels,
                                     "Convolutions (and the VQ-VAE): channels of the encoder's two convolution layers, "
                                     "e.g. 32, 64 (the VQ-VAE also takes one); the decoder mirrors them.")
        self.disc_hidden = self._widths("discHidden", ModelConfig.disc_hidden,
                                        "AAE: widths of the discriminator's hidden layers (Makhzani et al. use 1000, 1000).")
        self.learned_posterior = self._check(
            "learnedPosterior", "Encoder predicts the spread",
            "AAE: q(z|x) = N(μ(x), diag σ²(x)), the encoder predicting σ per image and dimension, as a VAE's does. "
            "Watch for collapse: the adversary is as content with pure prior noise, so a dimension can end unused "
            "(μ = 0, σ = 1 for every image).")
        self.learned_posterior.toggled.connect(self._on_kind_changed)
        self.epochs = make_spin(self, "epochs", 1, 10_000, 10, tooltip="Passes over the training split.")
        self.batch_size = make_spin(self, "batchSize", 1, 8192, 128, tooltip="Images per optimisation step.")
        self.lr = self._dspin("lr", 1e-6, 1.0, 1e-3, 1e-4, 6, "Adam learning rate.")
        self.lr_schedule = self._combo("lrSchedule", [(k, LR_SCHEDULE_LABELS[k]) for k in LR_SCHEDULES],
                                       "How the learning rate changes over the run. Cosine: decays to zero. Drop: "
                                       "a tenth of it for the last tenth of the run, which lets the weights settle.")
        self.seed = make_spin(self, "seed", 0, 2**31 - 1, 0, tooltip="Same seed, same settings: same weights.")
        devices = [("cpu", "CPU")] + cuda_devices()
        self.device = self._combo("device", devices, "Where training runs (the views always decode on the CPU).")
        if len(devices) > 1:
            self.device.setCurrentIndex(1)
        self.size_label = QLabel()
        self.size_label.setObjectName("modelSize")
        self.size_label.setWordWrap(True)
        self.size_label.setToolTip("Weights of the model these fields describe (a discriminator included), and their "
                                   "size in float32; training needs about four times that (gradients, Adam's two moments).")
        rows = [
            ("Kind", self.kind), ("Data set", self.dataset), ("Architecture", self.arch),
            ("Hidden layers", self.hidden), ("Decoder dropout", self.decoder_dropout), ("Channels", self.channels),
            ("Latent dim", self.latent_dim),
            ("Codebook size K", self.codebook_size), ("Code dim D", self.code_dim), ("Likelihood", self.recon),
            ("β (KL weight)", self.beta), ("c (variance)", self.c), ("Noise", self.noise_kind),
            ("Noise level", self.noise_level), ("Prior", self.prior), ("Label-conditioned", self.conditional_prior),
            ("Adversarial weight λ", self.adversarial_weight), ("λ growth over the run", self.adversarial_growth),
            ("Discriminator layers", self.disc_hidden),
            ("Learned posterior", self.learned_posterior), ("Posterior spread s", self.posterior_std),
            ("Epochs", self.epochs),
            ("Batch size", self.batch_size), ("Learning rate", self.lr),
            ("Learning-rate schedule", self.lr_schedule), ("Seed", self.seed), ("Device", self.device),
            ("Model size", self.size_label),
        ]
        for label, widget in rows:
            self.form.addRow(label, widget)

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
        self.progress_label = QLabel("Not training")
        self.progress_label.setObjectName("trainingProgressText")
        self.progress_label.setToolTip("Epoch, batch, throughput and estimated time left")
        self.error_label = QLabel()
        self.error_label.setObjectName("trainingError")
        self.error_label.setStyleSheet(ERROR_STYLE)
        self.error_label.setWordWrap(True)
        self.error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error_label.hide()
        self.info_label = QLabel()
        self.info_label.setObjectName("trainingInfo")
        self.info_label.setWordWrap(True)
        self.loss_plot = LossPlot(self)

        layout = QVBoxLayout(self)
        layout.addLayout(self.form)
        layout.addLayout(buttons)
        layout.addWidget(self.progress)
        layout.addWidget(self.progress_label)
        layout.addWidget(self.error_label)
        layout.addWidget(self.info_label)
        layout.addWidget(self.loss_plot, 1)

    def _combo(self, name: str, items: list[tuple[str, str]], tip: str) -> QComboBox:
        box = QComboBox()
        box.setObjectName(name)
        for value, label in items:
            box.addItem(label, value)
        box.setToolTip(tip)
        return box

    def _dspin(self, name: str, low: float, high: float, value: float, step: float, decimals: int, tip: str) -> QDoubleSpinBox:
        box = QDoubleSpinBox()
        box.setObjectName(name)
        box.setDecimals(decimals)
        box.setRange(low, high)
        box.setSingleStep(step)
        box.setValue(value)
        box.setToolTip(tip)
        return box

    @staticmethod
    def _check(name: str, text: str, tip: str) -> QCheckBox:
        box = QCheckBox(text)
        box.setObjectName(name)
        box.setToolTip(tip)
        return box

    def _widths(self, name: str, value: tuple[int, ...], tip: str) -> QLineEdit:
        edit = QLineEdit(widths_text(value))
        edit.setObjectName(name)
        edit.setValidator(QRegularExpressionValidator(QRegularExpression(r"[0-9, ]*"), edit))
        edit.setPlaceholderText("e.g. 512, 256")
        edit.setToolTip(tip)
        return edit

    def _dataset_items(self) -> list[tuple[str, str]]:
        from aeviewer.data.sources import SOURCES

        return [(name, name) for name in SOURCES]

    # -- which fields apply -----------------------------------------------------------------------------
    def _on_kind_changed(self, *_: Any) -> None:
        kind = self.kind.currentData()
        shown = {
            self.arch: kind != "vqvae",  # the VQ-VAE is always convolutional (any image size)
            self.hidden: self._arch() == "mlp", self.decoder_dropout: self._arch() == "mlp",
            self.channels: self._arch() == "conv",
            self.disc_hidden: kind == "aae",
            self.latent_dim: kind != "vqvae", self.codebook_size: kind == "vqvae", self.code_dim: kind == "vqvae",
            self.recon: kind == "vae", self.beta: kind == "vae", self.c: kind == "vae" and self.recon.currentData() == "gaussian",
            self.noise_kind: kind == "dae", self.noise_level: kind == "dae", self.prior: kind == "aae",
            self.conditional_prior: kind == "aae" and self.prior.currentData() != "gaussian",
            self.adversarial_weight: kind == "aae", self.adversarial_growth: kind == "aae",
            self.learned_posterior: kind == "aae", self.posterior_std: kind == "aae" and not self.learned_posterior.isChecked(),
        }
        for widget, visible in shown.items():
            self.form.setRowVisible(widget, visible)

    def _arch(self) -> str:
        """The network shape the fields describe: the VQ-VAE is always convolutional, whatever the arch box says."""
        return "conv" if self.kind.currentData() == "vqvae" else self.arch.currentData()

    def _watch_model_fields(self) -> None:
        """Recount the model's size after any model field changes; once per burst (opening a model sets them all)."""
        self._size_timer = QTimer(self)
        self._size_timer.setSingleShot(True)
        self._size_timer.setInterval(0)
        self._size_timer.timeout.connect(self._update_size)
        for widget in self._model_fields():
            changed = {QComboBox: "currentIndexChanged", QCheckBox: "toggled", QLineEdit: "textChanged"}
            getattr(widget, changed.get(type(widget), "valueChanged")).connect(self._size_timer.start)
        self._update_size()

    def _update_size(self) -> None:
        try:
            self.size_label.setText(size_text(parameter_count(self.model_config())))
        except AeviewerError as err:
            self.size_label.setText(f"— ({err})")

    def _on_dataset_changed(self, *_: Any) -> None:
        """Convolutions are built for 28×28 images: offer them only where the data set has that size;
        the AAE's adversarial weight follows the image size."""
        from aeviewer.data.sources import SOURCES

        info = SOURCES.get(self.dataset.currentData())
        if info is not None:
            self.adversarial_weight.setValue(default_adversarial_weight(info.image_shape))
        conv_ok = info is not None and info.image_shape[1:] == (28, 28)
        item = self.arch.model().item(self.arch.findData("conv"))
        item.setEnabled(conv_ok)
        if not conv_ok and self.arch.currentData() == "conv":
            self.arch.setCurrentIndex(self.arch.findData("mlp"))

    def _on_continue_toggled(self, checked: bool) -> None:
        for widget in self._model_fields():
            widget.setEnabled(not checked)
        if checked and self.session.model is not None:
            self.show_config(self.session.model.config, self.session.dataset_name)

    def _model_fields(self) -> list[QWidget]:
        return [self.kind, self.dataset, self.arch, self.hidden, self.decoder_dropout, self.channels, self.disc_hidden,
                self.latent_dim, self.codebook_size, self.code_dim, self.recon, self.beta, self.c, self.noise_kind, self.noise_level,
                self.prior, self.conditional_prior, self.adversarial_weight, self.adversarial_growth,
                self.learned_posterior, self.posterior_std]

    def _on_session_model(self) -> None:
        if self.is_running():
            return
        has_model = self.session.model is not None and getattr(self.session.model, "trainable", True)
        self.continue_box.setEnabled(has_model)
        if has_model:
            self.show_config(self.session.model.config, self.session.dataset_name)
        else:
            self.continue_box.setChecked(False)

    def show_config(self, config: ModelConfig, dataset: str = "") -> None:
        """Fill the fields from a model's config (so Start trains the same shape again)."""
        self._select(self.kind, config.kind)
        if dataset:
            self._select(self.dataset, dataset)
        self._select(self.arch, config.arch)
        self.hidden.setText(widths_text(config.hidden))
        self.decoder_dropout.setValue(config.decoder_dropout)
        self.channels.setText(widths_text(config.channels))
        self.disc_hidden.setText(widths_text(config.disc_hidden))
        self.latent_dim.setValue(config.latent_dim)
        self.codebook_size.setValue(config.codebook_size)
        self.code_dim.setValue(config.code_dim)
        self._select(self.recon, "gaussian" if config.recon == "gaussian" else "bce")
        self.beta.setValue(config.beta)
        self.c.setValue(config.c)
        if config.noise and config.noise != "none" and ":" in config.noise:
            noise_kind, level = config.noise.split(":", 1)
            self._select(self.noise_kind, noise_kind)
            self.noise_level.setValue(float(level))
        self._select(self.prior, config.prior)
        self.conditional_prior.setChecked(config.conditional_prior)
        self.adversarial_weight.setValue(config.adversarial_weight)
        self.adversarial_growth.setValue(config.adversarial_growth)
        self.posterior_std.setValue(config.posterior_std)
        self.learned_posterior.setChecked(config.learned_posterior)

    @staticmethod
    def _select(box: QComboBox, value: str) -> None:
        index = box.findData(value)
        if index >= 0:
            box.setCurrentIndex(index)

    # -- the configuration the fields describe --------------------------------------------------------
    def model_config(self) -> ModelConfig:
        """The ModelConfig for a new model from the fields (raises ConfigError for impossible ones)."""
        from aeviewer.data.sources import SOURCES
        from aeviewer.models import default_config

        kind = self.kind.currentData()
        info = SOURCES[self.dataset.currentData()]
        overrides: dict[str, Any] = {"n_classes": len(info.class_names)}
        if kind == "vqvae":
            overrides.update(codebook_size=self.codebook_size.value(), code_dim=self.code_dim.value())
        else:
            overrides.update(arch=self.arch.currentData(), latent_dim=self.latent_dim.value())
        if self._arch() == "mlp":
            overrides["hidden"] = self._read_widths(self.hidden, "Hidden layers")
            overrides["decoder_dropout"] = self.decoder_dropout.value()
        else:
            overrides["channels"] = self._read_widths(self.channels, "Channels")
        if kind == "vae":
            overrides.update(recon=self.recon.currentData(), beta=self.beta.value(), c=self.c.value())
        if kind == "dae":
            overrides["noise"] = f"{self.noise_kind.currentData()}:{self.noise_level.value():g}"
        if kind == "aae":
            overrides.update(prior=self.prior.currentData(), adversarial_weight=self.adversarial_weight.value(),
                             conditional_prior=self.prior.currentData() != "gaussian" and self.conditional_prior.isChecked(),
                             adversarial_growth=self.adversarial_growth.value(),
                             disc_hidden=self._read_widths(self.disc_hidden, "Discriminator layers"))
            if self.learned_posterior.isChecked():
                overrides["learned_posterior"] = True  # its own spread: the field for a fixed one is hidden
            else:
                overrides["posterior_std"] = self.posterior_std.value()
        return default_config(kind, image_shape=info.image_shape, **overrides)

    @staticmethod
    def _read_widths(edit: QLineEdit, label: str) -> tuple[int, ...]:
        try:
            return parse_widths(edit.text())
        except ConfigError as err:
            raise ConfigError(f"{label}: {err}") from None

    def train_config(self) -> Any:
        from aeviewer.training.trainer import TrainConfig

        return TrainConfig(epochs=self.epochs.value(), batch_size=self.batch_size.value(), lr=self.lr.value(),
                           seed=self.seed.value(), device=self.device.currentData(),
                           lr_schedule=self.lr_schedule.currentData())

    # -- running ----------------------------------------------------------------------------------------------
    def is_running(self) -> bool:
        return self.thread is not None and self.thread.isRunning()

    def is_paused(self) -> bool:
        return self.worker is not None and self.is_running() and self.worker.paused

    def start(self) -> bool:
        """Start training (a new model from the fields, or the open one); False when it could not start."""
        if self.is_running():
            return False
        self.set_error("")
        try:
            model, dataset, fresh = self._prepare_model()
        except torch.OutOfMemoryError as err:
            self.set_error(f"Out of memory while building the model: {str(err).splitlines()[0][:80]}")
            return False
        except AeviewerError as err:
            self.set_error(str(err))
            return False
        config = dataclasses.replace(self.train_config(), start_at_mean=fresh)
        self.run_is_new = fresh
        self.train_device = self._resolved_device(config.device)
        self._dispose_finished_thread()
        self.worker = TrainingWorker(model, dataset, config, data_dir=self.data_dir, train_set=self._small_train_set(dataset),
                                     snapshot_interval_s=self.snapshot_interval_s, num_threads=self.train_threads,
                                     autosave=self._autosaver(dataset, config))
        self.worker.progress.connect(self._on_progress)
        self.worker.epochFinished.connect(self._on_epoch)
        self.worker.snapshot.connect(self.snapshotReady)
        self.worker.notice.connect(self._on_notice)
        self.worker.failed.connect(self._on_failed)
        self.worker.autosaved.connect(self._on_autosaved)
        self.worker.autosaveFailed.connect(self._on_failed)
        self.worker.finished.connect(self._on_finished)
        self.loss_plot.clear_curves()
        self.history = []
        self.last_result = None
        self.last_autosave = None
        self.progress.setValue(0)
        self.progress_label.setText("Loading the training split…")
        self._info = {"notice": "", "epoch": "", "autosave": ""}
        self._refresh_info()
        # Kept alive until its finished() is handled: a signal from a deleted worker would arrive with
        # no sender, and could not be told apart from the current run's.
        self._unfinished.append(self.worker)
        self.thread = start_worker_thread(self.worker, self)
        self._set_state("running")
        self.trainingStarted.emit()
        self.message.emit(f"Training {model.config.kind} on {dataset}")
        return True

    def _prepare_model(self) -> tuple[Any, str, bool]:
        """The model to train, its data set, and whether it is new; the session shows it (a new one starts untrained)."""
        from aeviewer.data.sources import SOURCES, load_split, locate_split, resolve_data_dir

        if self.continue_box.isChecked() and self.session.model is not None:
            if not self.session.dataset_name:
                raise DataError("the open model records no data set; untick 'Continue' and train a new one")
            return self.session.model, self.session.dataset_name, False
        dataset = self.dataset.currentData()
        if SOURCES[dataset].idx and locate_split(dataset, "train", self.data_dir) is None:
            raise DataError(missing_train_message(dataset, resolve_data_dir(self.data_dir)))
        from aeviewer.training.trainer import check_fits, resolve_device, seeded_build

        config = self.model_config()
        check_fits(config, resolve_device(self.device.currentData())[0])
        model = seeded_build(config, self.seed.value())
        test_set = load_split(dataset, "test", self.data_dir)
        self.session.set_model(model, dataset, test_set, path=None)
        return model, dataset, True

    @staticmethod
    def _resolved_device(spec: str) -> str:
        """Where the run will really train (cuda asked for without CUDA trains on the CPU; the worker says so)."""
        from aeviewer.training.trainer import resolve_device

        try:
            return str(resolve_device(spec)[0])
        except AeviewerError:  # an unknown spec: the worker reports it as the run's failure
            return spec

    def _autosaver(self, dataset: str, config: Any) -> AutoSaver | None:
        if not self.autosave_enabled:
            return None
        train = {"epochs": config.epochs, "batch_size": config.batch_size, "lr": config.lr, "seed": config.seed,
                 "device": config.device, "lr_schedule": config.lr_schedule}
        return AutoSaver(dataset, directory=self.autosave_dir, extra={"train": train})

    def _dispose_finished_thread(self) -> None:
        """Let the previous run's QThread go (Python owns it since it finished): threads never pile up."""
        old = self.thread
        if old is not None and old.isFinished():
            old.setParent(None)
            self.thread = None

    def _small_train_set(self, dataset: str) -> Any:
        """A bundled set (digits) loads in a blink here; parsing it in the worker would hold the GIL
        while the GUI redraws. IDX sets (MNIST: seconds of gunzip) load in the worker instead."""
        from aeviewer.data.sources import SOURCES, load_split

        if dataset in SOURCES and not SOURCES[dataset].idx:
            return load_split(dataset, "train", self.data_dir)
        return None

    def toggle_pause(self) -> None:
        if self.is_paused():
            self.resume()
        else:
            self.pause()

    def _can_pause_or_resume(self) -> bool:
        """A run that is going and not already asked to stop (a pause then would re-enable its buttons)."""
        return self.worker is not None and self.is_running() and not self.worker.stop_event.is_set()

    def pause(self) -> None:
        if self._can_pause_or_resume():
            self.worker.pause()
            self._set_state("paused")
            self.message.emit("Training paused")

    def resume(self) -> None:
        if self._can_pause_or_resume():
            self.worker.resume()
            self._set_state("running")
            self.message.emit("Training resumed")

    def stop(self) -> None:
        """Ask the worker to stop (takes effect within one batch); ``trainingFinished`` follows."""
        if self.worker is not None and self.is_running():
            self.worker.stop()
            self.progress_label.setText("Stopping…")
            self.stop_button.setEnabled(False)
            self.pause_button.setEnabled(False)

    def yield_to_gui(self, idle_turns: int = 3) -> None:
        """Hold training between batches while the GUI redraws a snapshot: until the event loop has
        come round ``idle_turns`` times (the views' deferred updates and repaints are done by then)."""
        worker = self.worker
        if worker is None or not self.is_running():
            return
        worker.yield_to_gui()

        def turn(left: int) -> None:
            if left <= 0:
                worker.resume_after_gui()
            else:
                QTimer.singleShot(0, lambda: turn(left - 1))

        turn(idle_turns)

    def shutdown(self, timeout_ms: int = 10_000) -> bool:
        """Stop and join the training thread (used when the window closes); True when it has ended."""
        if self.worker is None or self.thread is None:
            return True
        ended = join_worker_thread(self.worker, self.thread, timeout_ms)
        if ended:
            self._set_state("idle")
        return ended

    # -- worker signals (queued into the GUI thread) ----------------------------------------------------------
    def _on_progress(self, info: dict[str, Any]) -> None:
        if self._is_stale():
            return
        done = (info["epoch"] - 1 + info["batch"] / max(info["n_batches"], 1)) / max(info["epochs"], 1)
        self.progress.setValue(int(done * 1000))
        self.progress_label.setText(progress_text(info) + (" (paused)" if self.is_paused() else ""))
        if info.get("losses_fresh"):
            self.loss_plot.add_point(info["global_step"], info["losses"])

    def _on_epoch(self, info: dict[str, Any]) -> None:
        if self._is_stale():
            return
        self.history.append({"epoch": info["epoch"], **info["losses"], **info["stats"], "seconds": info["seconds"]})
        terms = "  ".join(f"{k} {v:.4g}" for k, v in {**info["losses"], **info["stats"]}.items())
        self._info["epoch"] = f"Epoch {info['epoch']}/{info['epochs']}: {terms}"
        self._refresh_info()

    def _on_notice(self, text: str) -> None:
        if self._is_stale():
            return
        self._info["notice"] = text  # stays above the epoch lines for the whole run (e.g. the CPU fallback)
        self._refresh_info()
        self.message.emit(text)

    def _on_failed(self, text: str) -> None:
        if not self._is_stale():
            self.set_error(text)

    def _on_autosaved(self, info: dict[str, Any]) -> None:
        if self._is_stale():
            return
        self.last_autosave = Path(info["path"])
        text = f"autosaved epoch {info['epoch']} → {info['path']}"
        self._info["autosave"] = text
        self._refresh_info()
        self.message.emit(text)

    def _refresh_info(self) -> None:
        self.info_label.setText("\n".join(line for line in self._info.values() if line))

    def info_text(self) -> str:
        return self.info_label.text()

    def _is_stale(self) -> bool:
        """A signal queued by an earlier run's worker that arrives after a new run started (Esc then Space)."""
        sender = self.sender()
        return isinstance(sender, TrainingWorker) and sender is not self.worker

    def _on_finished(self, result: dict[str, Any]) -> None:
        sender = self.sender()
        if sender in self._unfinished:
            self._unfinished.remove(sender)  # its last signal is in: the worker may be deleted now
        if self._is_stale():  # that run's thread has ended; start() let it go
            return
        if self.thread is not None:
            self.thread.quit()
            if self.thread.wait(5_000):
                # No longer a child of the panel: the next start (or Python) deletes it, so the
                # QThread objects of past runs never accumulate over a long session.
                self.thread.setParent(None)
        self.last_result = result
        if result.get("history"):
            self.history = list(result["history"])
        status = result.get("status", "failed")
        if status == "finished":
            self.progress.setValue(1000)
            self.progress_label.setText(f"Finished {result.get('epochs_done', 0)} epochs")
        elif status == "stopped":
            self.progress_label.setText(f"Stopped after {result.get('epochs_done', 0)} complete epochs")
        else:
            self.progress_label.setText("Failed: the last good weights are loaded")
        self._set_state("idle")
        self.message.emit(f"Training {status}: {result.get('message', '')}".rstrip(": "))
        self.trainingFinished.emit(result)

    # -- presentation ------------------------------------------------------------------------------------------
    def set_error(self, text: str) -> None:
        """Show ``text`` as the panel's red error line (empty hides it), as a sentence: core errors are
        written for the CLI's "aeviewer: error: ..." and start in lower case."""
        self.error_label.setText(text[:1].upper() + text[1:])
        self.error_label.setVisible(bool(text))

    def error_text(self) -> str:
        return self.error_label.text()

    def _set_state(self, state: str) -> None:
        running = state in ("running", "paused")
        self.start_button.setEnabled(not running)
        self.pause_button.setEnabled(running)
        self.stop_button.setEnabled(running)
        self.pause_button.setText("Resume" if state == "paused" else "Pause")
        self.continue_box.setEnabled(not running and self.session.model is not None)
        for widget in self._model_fields() + [self.epochs, self.batch_size, self.lr, self.lr_schedule, self.seed, self.device]:
            widget.setEnabled(not running and not (self.continue_box.isChecked() and widget in self._model_fields()))
        self.stateChanged.emit(state)
