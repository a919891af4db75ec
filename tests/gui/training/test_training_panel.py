"""TrainingPanel: the fields each kind needs, start/pause/resume/stop from the buttons, errors in red."""
from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import pytest
import torch
from PySide6.QtCore import Qt

from aeviewer.gui.state.session import Session
from aeviewer.gui.training.run_display import progress_text
from aeviewer.gui.training.training_panel import TrainingPanel
from aeviewer.models import size_text
from aeviewer.models.ae import AE


@pytest.fixture
def panel(qtbot) -> TrainingPanel:
    session = Session()
    panel = TrainingPanel(session)
    panel.train_threads = 1
    panel.snapshot_interval_s = 0.2
    qtbot.addWidget(panel)
    panel.session_ref = session  # keep the session alive as long as the panel
    yield panel
    panel.shutdown()


def choose(box, value) -> None:
    box.setCurrentIndex(box.findData(value))


def visible_fields(panel: TrainingPanel) -> set[str]:
    return {w.objectName() for w in panel._model_fields() if panel.form.isRowVisible(w)}


@pytest.mark.parametrize("kind, shown, hidden", [
    ("ae", {"latentDim", "arch", "hidden"}, {"channels", "discHidden", "beta", "c", "noiseKind", "noiseLevel", "prior", "adversarialWeight", "adversarialGrowth", "learnedPosterior", "posteriorStd", "conditionalPrior", "codebookSize", "recon"}),
    ("dae", {"noiseKind", "noiseLevel"}, {"beta", "prior", "codebookSize"}),
    ("vae", {"beta", "recon", "latentDim"}, {"noiseKind", "prior", "codebookSize"}),
    ("aae", {"prior", "adversarialWeight", "adversarialGrowth", "discHidden", "learnedPosterior", "posteriorStd"}, {"beta", "noiseKind", "codebookSize"}),
    ("vqvae", {"codebookSize", "codeDim", "channels", "arch"}, {"latentDim", "hidden", "discHidden", "beta", "noiseKind", "prior"}),
])
def test_only_the_fields_of_the_chosen_kind_are_shown(panel, kind, shown, hidden):
    choose(panel.kind, kind)
    fields = visible_fields(panel)
    assert shown <= fields and not (hidden & fields)


def test_c_is_shown_only_for_the_gaussian_vae_decoder(panel):
    choose(panel.kind, "vae")
    assert not panel.form.isRowVisible(panel.c)
    choose(panel.recon, "gaussian")
    assert panel.form.isRowVisible(panel.c)
    assert panel.model_config().recon == "gaussian"


def test_the_fields_make_the_config(panel):
    choose(panel.kind, "dae")
    choose(panel.dataset, "digits")
    choose(panel.noise_kind, "masking")
    panel.noise_level.setValue(0.25)
    panel.latent_dim.setValue(3)
    config = panel.model_config()
    assert (config.kind, config.noise, config.latent_dim, config.image_shape) == ("dae", "masking:0.25", 3, (1, 8, 8))


def test_the_aae_fields_make_the_config_and_show_an_open_models_settings(panel):
    choose(panel.kind, "aae")
    choose(panel.dataset, "mnist")
    assert panel.adversarial_weight.value() == 10.0  # the default follows the image size
    choose(panel.dataset, "digits")
    assert panel.adversarial_weight.value() == 0.82
    choose(panel.prior, "mixture10")
    panel.adversarial_weight.setValue(2.5)
    panel.posterior_std.setValue(0.2)
    panel.adversarial_growth.setValue(4.0)
    config = panel.model_config()
    assert (config.kind, config.prior, config.adversarial_weight, config.posterior_std) == ("aae", "mixture10", 2.5, 0.2)
    assert config.adversarial_growth == 4.0
    panel.show_config(dataclasses.replace(config, adversarial_weight=40.0, posterior_std=0.0, adversarial_growth=1.0))
    assert panel.adversarial_weight.value() == 40.0 and panel.posterior_std.value() == 0.0
    assert panel.adversarial_growth.value() == 1.0


def test_decoder_dropout_reaches_the_config_for_mlp_decoders_only(panel):
    choose(panel.kind, "aae")
    choose(panel.dataset, "mnist")
    panel.decoder_dropout.setValue(0.1)
    assert panel.form.isRowVisible(panel.decoder_dropout) and panel.model_config().decoder_dropout == 0.1
    choose(panel.arch, "conv")
    assert not panel.form.isRowVisible(panel.decoder_dropout) and panel.model_config().decoder_dropout == 0.0
    choose(panel.kind, "vqvae")
    assert not panel.form.isRowVisible(panel.decoder_dropout) and panel.model_config().decoder_dropout == 0.0
    choose(panel.kind, "ae")
    choose(panel.arch, "mlp")
    panel.show_config(dataclasses.replace(panel.model_config(), decoder_dropout=0.3))
    assert panel.decoder_dropout.value() == 0.3


def test_a_label_conditioned_prior_is_offered_for_the_aae_priors_with_components(panel):
    """The CLI's --conditional-prior: shown for mixture10 and swissroll (one component per class), never sent
    with the Gaussian (which the registry refuses), and ticked when an open model has it."""
    from aeviewer.models import parameter_count

    choose(panel.kind, "aae")
    choose(panel.dataset, "digits")
    assert not panel.form.isRowVisible(panel.conditional_prior)  # the Gaussian prior has no components
    panel.conditional_prior.setChecked(True)
    assert panel.model_config().conditional_prior is False
    choose(panel.prior, "mixture10")
    assert panel.form.isRowVisible(panel.conditional_prior)
    config = panel.model_config()
    assert config.conditional_prior is True
    # the discriminator also reads the one-hot class: 10 more inputs to its first layer
    plain = dataclasses.replace(config, conditional_prior=False)
    assert parameter_count(config) - parameter_count(plain) == 10 * config.disc_hidden[0]
    panel.conditional_prior.setChecked(False)
    assert panel.model_config().conditional_prior is False
    panel.show_config(config)  # an open label-conditioned model's settings: Start trains the same again
    assert panel.conditional_prior.isChecked() and panel.model_config() == config


def test_a_learned_posterior_replaces_the_fixed_spread_in_the_config_and_the_form(panel):
    choose(panel.kind, "aae")
    choose(panel.dataset, "digits")
    panel.posterior_std.setValue(0.2)
    panel.learned_posterior.setChecked(True)
    assert not panel.form.isRowVisible(panel.posterior_std)  # a spread of its own: no field for a fixed one
    config = panel.model_config()
    assert (config.learned_posterior, config.posterior_std) == (True, 0.0)  # would be refused with 0.2
    panel.learned_posterior.setChecked(False)
    assert panel.form.isRowVisible(panel.posterior_std)
    assert (panel.model_config().learned_posterior, panel.model_config().posterior_std) == (False, 0.2)
    panel.show_config(config)  # an open learned-posterior model's settings
    assert panel.learned_posterior.isChecked() and not panel.form.isRowVisible(panel.posterior_std)


def test_layer_widths_reach_the_config_and_show_an_open_models(panel):
    choose(panel.kind, "aae")
    choose(panel.dataset, "digits")
    panel.hidden.setText("300, 200, 100")
    panel.disc_hidden.setText("64,")
    config = panel.model_config()
    assert (config.hidden, config.disc_hidden) == ((300, 200, 100), (64,))
    choose(panel.arch, "conv")  # widths of fully connected layers do not apply to convolutions
    assert not panel.form.isRowVisible(panel.hidden)
    choose(panel.arch, "mlp")
    assert panel.form.isRowVisible(panel.hidden)
    panel.show_config(dataclasses.replace(config, hidden=(1500, 1500), disc_hidden=(1000, 1000)))
    assert (panel.hidden.text(), panel.disc_hidden.text()) == ("1500, 1500", "1000, 1000")


@pytest.mark.parametrize("field, text, label", [
    ("hidden", "", "Hidden layers"), ("hidden", "512,0", "Hidden layers"), ("disc_hidden", ",", "Discriminator layers"),
])
def test_bad_layer_widths_are_a_red_message_naming_the_field(panel, field, text, label):
    choose(panel.kind, "aae")
    choose(panel.dataset, "digits")
    getattr(panel, field).setText(text)
    assert not panel.start() and not panel.is_running()
    assert panel.error_text().startswith(label + ":") and "\n" not in panel.error_text()


def write_tiny_mnist_train(data_dir) -> None:
    """A 12-image MNIST-shaped training split in ``data_dir``, so that a start gets past the data check."""
    import numpy as np

    from aeviewer.data.idx import write_idx

    (data_dir / "mnist").mkdir(parents=True)
    write_idx(data_dir / "mnist" / "train-images-idx3-ubyte.gz", np.zeros((12, 28, 28), np.uint8))
    write_idx(data_dir / "mnist" / "train-labels-idx1-ubyte.gz", np.arange(12, dtype=np.uint8) % 10)


def test_channels_reach_the_config_for_convolutions_and_the_vqvae(panel, qtbot, tmp_path):
    write_tiny_mnist_train(tmp_path)
    panel.data_dir = tmp_path
    choose(panel.dataset, "mnist")
    choose(panel.kind, "vae")
    choose(panel.arch, "conv")
    assert panel.form.isRowVisible(panel.channels) and not panel.form.isRowVisible(panel.hidden)
    panel.channels.setText("16, 24")
    assert panel.model_config().channels == (16, 24)
    panel.channels.setText("16, 24, 32")  # 28x28 takes two stride-2 stages: at most two counts
    qtbot.waitUntil(lambda: "at most 2 channel counts" in panel.size_label.text(), timeout=2000)
    assert not panel.start() and "at most 2 channel counts" in panel.error_text()
    panel.channels.setText("16")  # further stages double the last count
    assert panel.model_config().channels == (16,)
    choose(panel.kind, "vqvae")  # the VQ-VAE takes one or two
    assert panel.model_config().channels == (16,)
    panel.show_config(dataclasses.replace(panel.model_config(), channels=(32, 64)))
    assert panel.channels.text() == "32, 64"


def test_the_model_size_follows_the_fields(panel, qtbot):
    choose(panel.kind, "aae")
    choose(panel.dataset, "digits")
    panel.hidden.setText("30, 20")
    panel.disc_hidden.setText("10")
    # 64·30+30 + 30·20+20 + 20·2+2 (encoder), the mirror (decoder: 2·20+20 + 20·30+30 + 30·64+64), 2·10+10 + 10·1+1
    expected = (1950 + 620 + 42) + (60 + 630 + 1984) + (30 + 11)
    qtbot.waitUntil(lambda: panel.size_label.text() == size_text(expected), timeout=2000)
    panel.hidden.setText("0")
    qtbot.waitUntil(lambda: panel.size_label.text().startswith("— (Hidden layers:"), timeout=2000)


def test_letters_cannot_be_typed_into_a_widths_field(panel, qtbot):
    panel.hidden.clear()
    qtbot.keyClicks(panel.hidden, "12x8, 4")
    assert panel.hidden.text() == "128, 4"


def test_the_learning_rate_schedule_reaches_the_run_and_its_autosave(panel):
    from aeviewer.training.trainer import LR_SCHEDULES

    offered = [panel.lr_schedule.itemData(i) for i in range(panel.lr_schedule.count())]
    assert offered == list(LR_SCHEDULES) and panel.lr_schedule.currentData() == "constant"
    choose(panel.lr_schedule, "drop")
    config = panel.train_config()
    assert config.lr_schedule == "drop"
    assert panel._autosaver("digits", config).extra["train"]["lr_schedule"] == "drop"


def test_weight_decay_is_a_field_that_reaches_the_run_and_its_autosave(panel):
    assert panel.weight_decay.value() == 0.0 and panel.weight_decay.toolTip()
    panel.weight_decay.setValue(0.001)
    config = panel.train_config()
    assert config.weight_decay == 0.001
    assert panel._autosaver("digits", config).extra["train"]["weight_decay"] == 0.001


def test_convolutions_are_offered_only_for_28x28_data(panel):
    choose(panel.dataset, "mnist")
    choose(panel.arch, "conv")
    choose(panel.dataset, "digits")
    assert panel.arch.currentData() == "mlp"
    assert not panel.arch.model().item(panel.arch.findData("conv")).isEnabled()
    assert not panel.arch.model().item(panel.arch.findData("resnet")).isEnabled()


def test_device_list_has_the_cpu_and_every_cuda_device(panel):
    devices = [panel.device.itemData(i) for i in range(panel.device.count())]
    assert devices == ["cpu"] + [f"cuda:{i}" for i in range(torch.cuda.device_count())]


def test_every_field_and_button_has_a_tooltip(panel):
    widgets = panel._model_fields() + [panel.epochs, panel.batch_size, panel.lr, panel.lr_schedule, panel.seed, panel.device,
                                       panel.start_button, panel.pause_button, panel.stop_button]
    assert all(w.toolTip() for w in widgets)


def test_start_pause_resume_stop_from_the_buttons(qtbot, panel, spy_event, monkeypatch):
    import aeviewer.gui.training.worker as worker_module

    # The worker's events count how often the trainer found them set (it polls every 20 ms while paused).
    monkeypatch.setattr(worker_module, "threading", SimpleNamespace(Event=spy_event))
    choose(panel.kind, "vae")
    choose(panel.dataset, "digits")
    panel.epochs.setValue(500)
    panel.batch_size.setValue(64)
    snapshots = []
    panel.run.weights.connect(snapshots.append)  # throttled snapshots, as the session loads them
    qtbot.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
    assert panel.is_running() and not panel.start_button.isEnabled()
    # The panel put the new (untrained) model into the session, with the digits test split encoded.
    assert panel.session.kind == "vae" and panel.session.latents.shape == (len(panel.session.test_set), 2)
    assert panel.worker.train_config.start_at_mean  # a new model starts at the data's mean image
    qtbot.waitUntil(lambda: "Epoch" in panel.progress_label.text(), timeout=10_000)
    qtbot.waitUntil(lambda: "total" in panel.loss_plot.curves and len(panel.loss_plot.series("total")[0]) >= 2,
                    timeout=10_000)
    assert set(panel.loss_plot.curves) == {"recon", "kl", "total"}  # one curve per VAE loss term

    qtbot.mouseClick(panel.pause_button, Qt.MouseButton.LeftButton)
    assert panel.is_paused() and panel.pause_button.text() == "Resume"
    pause = panel.worker.pause_event
    qtbot.waitUntil(lambda: pause.seen_set >= 3, timeout=5_000)  # the trainer is parked in its pause loop
    step, seen = panel.worker._trainer.global_step, pause.seen_set
    qtbot.waitUntil(lambda: pause.seen_set >= seen + 5, timeout=5_000)
    assert panel.worker._trainer.global_step == step

    qtbot.mouseClick(panel.pause_button, Qt.MouseButton.LeftButton)
    assert not panel.is_paused() and panel.pause_button.text() == "Pause"
    qtbot.waitUntil(lambda: panel.worker._trainer.global_step > step + 2, timeout=10_000)
    qtbot.waitUntil(lambda: len(snapshots) >= 1, timeout=10_000)

    with qtbot.waitSignal(panel.trainingFinished, timeout=10_000) as blocker:
        qtbot.mouseClick(panel.stop_button, Qt.MouseButton.LeftButton)
    assert blocker.args[0]["status"] == "stopped"
    assert not panel.job.running and panel.start_button.isEnabled() and not panel.stop_button.isEnabled()
    assert "Stopped" in panel.progress_label.text()
    assert panel.error_text() == ""


class NanAfter(AE):
    def __init__(self, config, good_steps: int) -> None:
        super().__init__(config)
        self.good_steps, self.steps = good_steps, 0

    def loss(self, x, x_input, labels=None):
        terms = super().loss(x, x_input, labels)
        self.steps += 1
        return terms if self.steps <= self.good_steps else {k: v * float("nan") for k, v in terms.items()}


def test_nan_shows_a_red_message_and_training_stops_cleanly(qtbot, panel, make_tiny_model, digits_test):
    model = NanAfter(make_tiny_model("ae").config, good_steps=4)
    panel.session.set_model(model, "digits", digits_test)
    panel.continue_box.setChecked(True)
    assert not panel.kind.isEnabled()  # the open model fixes kind and size
    with qtbot.waitSignal(panel.trainingFinished, timeout=20_000) as blocker:
        assert panel.start()
        assert not panel.worker.train_config.start_at_mean  # continuing keeps the model's own weights
    assert blocker.args[0]["status"] == "failed"
    assert panel.error_label.isVisibleTo(panel) and "nan" in panel.error_text().lower()
    assert "d62728" in panel.error_label.styleSheet()
    assert not panel.is_running() and panel.start_button.isEnabled()


def test_missing_mnist_train_split_says_how_to_get_it(panel, tmp_path):
    panel.data_dir = tmp_path
    choose(panel.dataset, "mnist")
    assert not panel.start()
    text = panel.error_text()
    assert "aeviewer data fetch mnist" in text and "data directory" in text.lower()
    assert panel.error_label.isVisibleTo(panel) and not panel.is_running()


def test_a_model_too_big_for_the_memory_is_a_red_message_before_anything_is_allocated(panel, monkeypatch):
    import aeviewer.training.trainer as trainer

    monkeypatch.setattr(trainer, "memory_bytes", lambda device: 10**6)  # a 1 MB machine
    built = []
    monkeypatch.setattr(trainer, "seeded_build", lambda config, seed: built.append(config))
    choose(panel.dataset, "digits")
    panel.hidden.setText("512, 256")  # 330 k weights: 5.3 MB to train
    assert not panel.start() and not built and not panel.is_running()
    assert panel.error_text().startswith("Training this model needs")  # the core's CLI-style message, as a sentence
    assert "narrower" in panel.error_text() and "this machine has 0.0 GB" in panel.error_text()


def test_out_of_memory_while_building_is_reported(panel, monkeypatch):
    import aeviewer.training.trainer as trainer

    def boom(config, seed):
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 9.00 GiB")

    monkeypatch.setattr(trainer, "seeded_build", boom)
    choose(panel.dataset, "digits")
    assert not panel.start()
    assert panel.error_text().lower().startswith("out of memory")


def test_a_vqvae_epoch_line_names_the_batches_its_code_usage_was_counted_on(qtbot, panel):
    from aeviewer.models.vqvae import usage_text

    choose(panel.dataset, "digits")
    choose(panel.kind, "vqvae")
    panel.codebook_size.setValue(16)
    panel.channels.setText("8")
    panel.epochs.setValue(1)
    with qtbot.waitSignal(panel.trainingFinished, timeout=60_000) as blocker:
        assert panel.start()
    epoch = blocker.args[0]["history"][-1]  # the figures the checkpoint records for the epoch
    assert usage_text(epoch, 16, "this epoch's training batches") in panel.info_text()
    assert "codes_used_frac" not in panel.info_text()


def test_progress_text_reads_well():
    text = progress_text({"epoch": 2, "epochs": 10, "batch": 30, "n_batches": 469, "samples_per_s": 18234.2, "eta_s": 41})
    assert text == "Epoch 2/10 · batch 30/469\n18,234 samples/s · ETA 0:00:41"


def test_pause_after_stop_is_ignored_until_the_run_has_ended(qtbot, panel, monkeypatch):
    """Space (pause) pressed while a stop is pending must not park the run or re-enable Pause and Stop."""
    choose(panel.kind, "ae")
    choose(panel.dataset, "digits")
    panel.epochs.setValue(500)
    assert panel.start()
    qtbot.waitUntil(lambda: "Epoch" in panel.progress_label.text(), timeout=60_000)
    with qtbot.waitSignal(panel.trainingFinished, timeout=10_000) as blocker:
        with monkeypatch.context() as m:
            m.setattr(panel, "is_running", lambda: True)  # the thread has not seen the stop yet, for certain
            panel.stop()
            panel.toggle_pause()
            assert not panel.worker.paused and not panel.pause_button.isEnabled() and not panel.stop_button.isEnabled()
            assert panel.progress_label.text() == "Stopping…"
    assert blocker.args[0]["status"] == "stopped"


def test_opening_another_model_resets_a_stopped_runs_progress(qtbot) -> None:
    """The bar stayed at a stopped run's 18% after another model was opened."""
    from aeviewer.gui.app import create_main_window
    from aeviewer.util.paths import shipped_dir

    window = create_main_window(shipped_dir("trained") / "ae-digits.safetensors", background_encoding=True)
    qtbot.addWidget(window)
    panel = window.training_panel
    panel.train_threads = 1
    choose(panel.kind, "ae")
    choose(panel.dataset, "digits")
    panel.epochs.setValue(500)
    assert panel.start()
    qtbot.waitUntil(lambda: panel.progress.value() > 0, timeout=30_000)
    with qtbot.waitSignal(panel.trainingFinished, timeout=30_000):
        panel.stop()
    assert panel.progress.value() > 0 and "Stopped" in panel.progress_label.text()  # the stopped run's share
    assert window.open_model(shipped_dir("trained") / "vae-digits.safetensors")
    assert panel.progress.value() == 0 and panel.progress_label.text() == "Not training"


def test_the_conv_widths_and_the_image_channels_are_told_apart(panel):
    """Both fields were labelled "Channels": the convolutions' widths and the images' colour channels."""
    from PySide6.QtWidgets import QLabel

    labels = [label.text() for label in panel.findChildren(QLabel) if "hannel" in label.text() or "width" in label.text()]
    assert "Channels" not in labels
    assert {"Conv widths", "Image channels"} <= set(labels)
    conv, image = panel.fields.widget("channels"), panel.fields.widget("image_channels")
    assert "colour channels" in conv.toolTip() and "Conv widths" in image.toolTip()  # each points to the other


def test_a_resnet_vqvae_s_code_grid_stages_show_and_reach_the_config(panel):
    from aeviewer.models import default_config

    choose(panel.kind, "vqvae")
    assert not panel.form.isRowVisible(panel.conv_stages)  # the conv arch sets its own grid
    config = default_config("vqvae", (1, 28, 28), arch="resnet", channels=(16,), codebook_size=128, conv_stages=1)
    panel.show_config(config, "mnist")  # an open model's settings, as the app shows them to train again
    assert panel.form.isRowVisible(panel.conv_stages) and panel.conv_stages.value() == 1
    built = panel.model_config()
    assert built.conv_stages == 1 and list(built.channels) == [16]
