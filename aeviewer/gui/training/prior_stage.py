"""PriorStage: the training panel's second stage, "Train prior", for a model with a codebook (a VQ-VAE).

Shown only while the open model has a codebook (its ``has_codebook`` flag). Train prior runs
:func:`aeviewer.training.prior.train_prior` (the core Trainer, as the TrainingWorker runs it) as a job of
gui/jobs.py on a copy of the model: the training split is loaded and encoded into code maps in the job (cached on
disk by the core), the test split's maps once for the test NLL. Batches come back as sent payloads (at most
PROGRESS_INTERVAL_S apart: the bar and the train curve), each epoch's test bits per code, and a snapshot of the
prior every LIVE_SAMPLES_S, which the Session attaches to its model so that the Prior tab draws live samples.
When the run ends (finished, or stopped between two batches: Stop keeps the prior so far) its prior is attached
for good and the model is marked unsaved, so File › Save writes the prior into the checkpoint.
"""
from __future__ import annotations

import copy
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import torch
from PySide6.QtWidgets import QCheckBox, QComboBox, QGroupBox, QHBoxLayout, QProgressBar, QVBoxLayout, QWidget

from aeviewer.data.imageset import ImageSet
from aeviewer.data.loader import load_split
from aeviewer.errors import AeviewerError
from aeviewer.gui.jobs import Job, Jobs
from aeviewer.gui.state.session import Session
from aeviewer.gui.training.loss_plot import LossPlot
from aeviewer.gui.training.worker import PROGRESS_INTERVAL_S, lower_thread_priority
from aeviewer.gui.widgets.fitting_label import BreakingLabel
from aeviewer.gui.widgets.image_utils import make_button, make_spin
from aeviewer.models.base import cpu_state_dict
from aeviewer.models.priors import BITS_PER_NAT, CodePrior, PriorConfig, build_prior
from aeviewer.spec.vocabulary import PRIOR_ARCHS
from aeviewer.training.prior import PriorTrainConfig, cached_code_maps, code_nll, encode_code_maps, new_prior, train_prior

LIVE_SAMPLES_S = 3.0  # how often the Prior tab gets the prior so far (each costs it one batch of samples)
PRIOR_STAGE_KEY = "train-prior"
TRAIN_CURVE, TEST_CURVE = "train bits/code", "test bits/code"
ERROR_STYLE = "color: #d62728;"


@dataclass
class PriorRun:
    """What a prior training needs, gathered on the GUI thread before the job starts."""

    model: Any  # a copy of the Session's model: the job encodes with it, the GUI keeps decoding with its own
    dataset: str
    data_dir: Any
    preparation: Any
    test_set: ImageSet | None
    config: PriorTrainConfig
    stop: threading.Event = field(default_factory=threading.Event)


@dataclass
class PriorOutcome:
    config: PriorConfig
    state: dict[str, torch.Tensor]
    status: str  # "finished" | "stopped" | "failed"
    message: str
    epochs_done: int
    seconds: float
    test_bits: float | None  # the last epoch's test NLL in bits per code (None: no test split)


def split_bits_per_code(prior: CodePrior, codes: torch.Tensor | None, labels: torch.Tensor | None) -> float | None:
    if codes is None or len(codes) == 0:
        return None
    return float(code_nll(prior, codes, labels).mean()) / codes[0].numel() * BITS_PER_NAT


def prior_training(run: PriorRun) -> Callable[[Job], PriorOutcome]:
    """The job: load and encode the training split, train a new prior on its code maps, say how it goes."""

    def body(job: Job) -> PriorOutcome:
        lower_thread_priority()
        job.send(("phase", "Loading the training split…"))
        train_set = load_split(run.dataset, "train", run.data_dir, run.preparation)
        job.send(("phase", f"Encoding {len(train_set)} training images into code maps (cached for next time)…"))
        codes = cached_code_maps(run.model, train_set)
        test = run.test_set
        test_codes = encode_code_maps(run.model, test) if test is not None else None
        test_labels = test.labels if test is not None else None
        job.check()
        prior = new_prior(run.model, run.config, len(train_set.class_names))
        clock = {"progress": 0.0, "live": time.monotonic()}
        bits: list[float] = []

        def on_step(info: Any) -> None:
            now = time.monotonic()
            if now - clock["progress"] >= PROGRESS_INTERVAL_S or info.batch >= info.n_batches:
                clock["progress"] = now
                job.send(("step", {"epoch": info.epoch, "epochs": info.epochs, "batch": info.batch,
                                   "n_batches": info.n_batches, "step": info.global_step,
                                   "bits": info.losses.get("bits_per_code")}))
            if now - clock["live"] >= LIVE_SAMPLES_S:
                clock["live"] = now
                job.send(("live", (prior.config, cpu_state_dict(prior))))

        def on_epoch(info: Any) -> None:
            test_bits = split_bits_per_code(prior, test_codes, test_labels)
            if test_bits is not None:
                bits.append(test_bits)
            job.send(("epoch", {"epoch": info.epoch, "epochs": info.epochs, "test_bits": test_bits,
                                "train_bits": info.losses.get("bits_per_code")}))

        prior, result, seconds = train_prior(run.model, train_set, run.config, prior=prior, codes=codes,
                                             on_step=on_step, on_epoch=on_epoch, stop_event=run.stop)
        if result.status == "failed":
            raise AeviewerError(result.message or "the prior's training failed")
        return PriorOutcome(prior.config, cpu_state_dict(prior), result.status, result.message, result.epochs_done,
                            seconds, bits[-1] if bits else None)

    return body


def prior_from(config: PriorConfig, state: dict[str, torch.Tensor]) -> CodePrior:
    """A prior rebuilt on the GUI thread from a snapshot the job sent (the job's own keeps training)."""
    prior = build_prior(config)
    prior.load_state_dict(state)
    return prior.eval()


class PriorStage(QGroupBox):
    """Train prior, Stop, epochs, arch, class-conditional; the run's bar, its line, and its NLL curves."""

    def __init__(self, session: Session, data_dir: Callable[[], Any], stage_one_running: Callable[[], bool],
                 plot: LossPlot, parent: QWidget | None = None) -> None:
        super().__init__("Stage 2: a prior over the code maps", parent)
        self.setObjectName("priorStage")
        self.setToolTip("A learned prior over this model's discrete code maps, so that it can generate new images "
                        "(the Prior tab of the decoder samples from it)")
        self.session, self.data_dir, self.stage_one_running = session, data_dir, stage_one_running
        self.plot = plot  # the panel's loss chart: a prior's run draws its NLL curves there (no second chart)
        self.jobs = Jobs(self)
        self.run: PriorRun | None = None
        self.outcome: PriorOutcome | None = None
        self._last_step = 0  # the global step of the last batch shown: where an epoch's test point goes
        self.history: list[dict[str, Any]] = []  # the run's epochs, for the record a save writes
        self._build()
        session.modelChanged.connect(self._on_model)
        self._on_model()

    def _build(self) -> None:
        self.train_button = make_button(self, "Train prior", "trainPriorButton",
                                        "Train a prior over the open model's code maps of its training split", self.start)
        self.stop_button = make_button(self, "Stop", "stopPriorButton",
                                       "Stop the prior's training; the prior so far is kept", self.stop)
        self.epochs = make_spin(self, "priorEpochs", 1, 1000, 10, "epochs ", "Passes over the training split's code maps")
        self.arch = QComboBox(self)
        self.arch.setObjectName("priorArch")
        self.arch.addItems(list(PRIOR_ARCHS))
        self.arch.setToolTip("transformer: causal, with a KV cache (fast sampling); pixelcnn: gated, as in the "
                             "VQ-VAE paper (recomputes the map for each position when sampling)")
        self.conditional = QCheckBox("by class", self)
        self.conditional.setObjectName("priorConditional")
        self.conditional.setToolTip("Learn p(codes | class), so that the Prior tab can sample a chosen class")
        self.arch.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.arch.setMinimumContentsLength(6)
        rows = [QHBoxLayout(), QHBoxLayout()]  # two short rows: the panel is ~270 px wide on a 1366x768 screen
        for row, widgets in zip(rows, ((self.train_button, self.stop_button, self.conditional), (self.epochs, self.arch))):
            for widget in widgets:
                row.addWidget(widget)
            row.addStretch(1)
        self.progress = QProgressBar(self)
        self.progress.setObjectName("priorProgress")
        self.progress.setRange(0, 1000)
        self.progress.setToolTip("Share of the prior's training done")
        self.status = BreakingLabel()
        self.status.setObjectName("priorStatus")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.setSpacing(3)
        for row in rows:
            layout.addLayout(row)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)

    # -- the model ----------------------------------------------------------------------------------------------
    def _on_model(self) -> None:
        """Another model: a prior training of the old one ends unheard; the stage shows for a codebook only."""
        self._end_run()
        model = self.session.model
        self.setVisible(model is not None and model.has_codebook)
        labelled = len(self.session.class_names) >= 2
        self.conditional.setEnabled(labelled)
        self.conditional.setChecked(labelled)
        self.progress.setValue(0)
        self._say("")
        for widget in (self.progress, self.status):  # shown once a run starts: the form above needs the height
            widget.setVisible(False)
        self.update_buttons()

    def update_buttons(self, *_: Any) -> None:
        """Train prior while nothing trains (this stage or the first); Stop while this stage does."""
        running = self.running
        self.train_button.setEnabled(not running and not self.stage_one_running() and self.session.model is not None)
        self.stop_button.setEnabled(running and self.run is not None and not self.run.stop.is_set())
        for widget in (self.epochs, self.arch):
            widget.setEnabled(not running)

    @property
    def running(self) -> bool:
        return self.jobs.newest(PRIOR_STAGE_KEY) is not None

    # -- the run ------------------------------------------------------------------------------------------------
    def start(self) -> bool:
        """Train a new prior over the open model's code maps in a job; False when it cannot start."""
        session = self.session
        if self.running or self.stage_one_running() or session.model is None or not session.model.has_codebook:
            return False
        if not session.dataset_name:
            self._say("The open model records no data set: there are no code maps to train a prior on", error=True)
            return False
        config = PriorTrainConfig(arch=self.arch.currentText(), epochs=self.epochs.value(),
                                  class_conditional=self.conditional.isChecked() and self.conditional.isEnabled())
        self.run = PriorRun(copy.deepcopy(session.model).cpu().eval(), session.dataset_name, self.data_dir(),
                            session.document.preparation, session.test_set, config)
        self.outcome = None
        self.plot.clear_curves()
        self.plot.setLabel("left", "bits per code")
        self.progress.setValue(0)
        self._last_step, self.history = 0, []
        for widget in (self.progress, self.status):
            widget.setVisible(True)
        self._say("Starting…")
        self.jobs.submit(prior_training(self.run), key=PRIOR_STAGE_KEY, on_progress=self._on_payload,
                         on_result=self._on_result, on_error=self._on_error, name="aeviewer-prior-training")
        self.update_buttons()
        session.message.emit(f"Training a prior over the code maps of {session.dataset_name}")
        return True

    def stop(self) -> None:
        """Stop between two batches; the prior so far is attached as when it finishes."""
        if self.run is not None and self.running:
            self.run.stop.set()
            self._say("Stopping…")
        self.update_buttons()

    def shutdown(self, timeout_s: float = 10.0) -> None:
        """Stop the run and wait for its job (the window is closing)."""
        job = self.jobs.newest(PRIOR_STAGE_KEY)
        if job is not None and self.run is not None:
            self.run.stop.set()
            job.wait(timeout_s)

    def _end_run(self) -> None:
        if self.run is not None:
            self.run.stop.set()
        self.jobs.supersede(PRIOR_STAGE_KEY)
        self.run = None

    # -- what the job says (GUI thread) ---------------------------------------------------------------------------
    def _on_payload(self, payload: tuple[str, Any]) -> None:
        kind, data = payload
        if kind == "phase":
            self._say(data)
        elif kind == "step":
            self._on_step(data)
        elif kind == "epoch":
            self._on_epoch(data)
        elif kind == "live":  # the prior so far, for the Prior tab's live samples (not yet the model's to save)
            self.session.attach_prior(prior_from(*data), final=False)

    def _on_step(self, info: dict[str, Any]) -> None:
        done = (info["epoch"] - 1 + info["batch"] / max(info["n_batches"], 1)) / max(info["epochs"], 1)
        self.progress.setValue(round(1000 * done))
        if info["bits"] is not None:
            self.plot.add_point(info["step"], {TRAIN_CURVE: info["bits"]})
            self._say(f"Epoch {info['epoch']}/{info['epochs']}, batch {info['batch']}/{info['n_batches']}: "
                      f"{info['bits']:.3f} bits per code")
        self._last_step = info["step"]

    def _on_epoch(self, info: dict[str, Any]) -> None:
        self.history.append({"epoch": info["epoch"], "bits_per_code": info["train_bits"],
                             "test_bits_per_code": info["test_bits"]})
        if info["test_bits"] is not None:
            self.plot.add_point(self._last_step, {TEST_CURVE: info["test_bits"]})
        test = f", test {info['test_bits']:.3f}" if info["test_bits"] is not None else ""
        train = f"train {info['train_bits']:.3f}" if info["train_bits"] is not None else ""
        self._say(f"Epoch {info['epoch']}/{info['epochs']} done: {train}{test} bits per code")

    def _on_result(self, outcome: PriorOutcome) -> None:
        config = self.run.config if self.run is not None else None
        self.outcome, self.run = outcome, None
        self.session.document.prior_trained({
            "arch": outcome.config.arch, "class_conditional": outcome.config.n_classes > 0, "status": outcome.status,
            "epochs": outcome.epochs_done, "train_seconds": round(outcome.seconds, 1), "history": list(self.history),
            "trained_in": "the app (Train prior)", **({"lr": config.lr, "batch_size": config.batch_size} if config else {})})
        self.plot.flush()
        self.progress.setValue(1000 if outcome.status == "finished" else self.progress.value())
        self.session.attach_prior(prior_from(outcome.config, outcome.state), final=True)
        test = f", test {outcome.test_bits:.3f} bits per code" if outcome.test_bits is not None else ""
        how = "trained" if outcome.status == "finished" else "stopped"
        self._say(f"Prior {how} after {outcome.epochs_done} epochs in {outcome.seconds:.0f} s{test}; "
                  "File › Save writes it into the checkpoint")
        self.session.message.emit(f"Prior {how}: the Prior tab samples from it")
        self.update_buttons()

    def _on_error(self, line: str) -> None:
        self.run = None
        self._say(f"The prior's training failed: {line}", error=True)
        self.update_buttons()

    def _say(self, text: str, error: bool = False) -> None:
        self.status.setText(text)
        self.status.setStyleSheet(ERROR_STYLE if error else "")
