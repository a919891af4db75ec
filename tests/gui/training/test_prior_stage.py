"""The training panel's second stage: Train prior for a model with a codebook, as a job, into the Prior tab."""
from __future__ import annotations

import torch
from PySide6.QtWidgets import QApplication

from aeviewer.gui.app import create_main_window
from aeviewer.gui.training import prior_stage
from aeviewer.gui.training.prior_stage import TEST_CURVE, TRAIN_CURVE
from aeviewer.training.checkpoint import load_checkpoint
from aeviewer.util.paths import shipped_dir


def open_window(qtbot, wait_encoded, name: str):
    window = create_main_window(shipped_dir("trained") / f"{name}.safetensors", background_encoding=True)
    qtbot.addWidget(window)
    window.show()
    wait_encoded(window)
    return window


def test_train_prior_for_one_epoch_on_digits_fills_the_prior_samples_tab(qtbot, wait_encoded, tmp_path):
    window = open_window(qtbot, wait_encoded, "vqvae-digits")
    session, stage, canvas = window.session, window.training_panel.prior_stage, window.decoder_canvas
    canvas.tabs.setCurrentWidget(canvas.sample_tiles.parentWidget())
    QApplication.processEvents()
    canvas.prior_tab.wait()
    shipped_prior = session.model.prior
    assert stage.isVisibleTo(window.training_panel) and stage.train_button.isEnabled()
    stage.epochs.setValue(1)
    assert stage.start() and not stage.train_button.isEnabled() and stage.stop_button.isEnabled()
    qtbot.waitUntil(lambda: stage.outcome is not None, timeout=60_000)
    assert stage.outcome.status == "finished" and stage.outcome.epochs_done == 1
    assert session.model.has_prior and session.model.prior is not shipped_prior  # the new prior is the model's
    assert session.document.unsaved and "not saved" in window.windowTitle()  # Save writes it into the checkpoint
    assert len(stage.plot.series(TRAIN_CURVE)[1]) >= 1 and len(stage.plot.series(TEST_CURVE)[1]) == 1
    assert "test" in stage.status.text() and stage.train_button.isEnabled()
    canvas.sample_tiles.clear()
    canvas.prior_tab.wait()  # the batch drawn from the new prior
    qtbot.waitUntil(lambda: canvas.sample_tiles.images is not None, timeout=20_000)
    assert len(canvas.sample_tiles.images) > 0 and canvas.sample_tiles.images.shape[1:] == (8, 8)
    saved = load_checkpoint(window.save_model_to(tmp_path / "with-prior.safetensors"))  # Save writes the prior
    assert saved.model.has_prior and saved.extra["prior"]["epochs"] == 1 and saved.extra["prior"]["history"]
    for name, tensor in session.model.prior.state_dict().items():
        assert torch.equal(saved.model.prior.state_dict()[name], tensor), name


def test_live_priors_reach_the_prior_tab_and_stop_keeps_the_prior_so_far(qtbot, wait_encoded, monkeypatch):
    monkeypatch.setattr(prior_stage, "LIVE_SAMPLES_S", 0.0)  # a live prior after every batch
    window = open_window(qtbot, wait_encoded, "vqvae-digits")
    stage, session = window.training_panel.prior_stage, window.session
    attached = []
    session.priorChanged.connect(lambda: attached.append(session.model.prior))
    stage.epochs.setValue(500)
    stage.start()
    qtbot.waitUntil(lambda: len(attached) >= 2, timeout=60_000)
    assert not session.document.unsaved  # live priors are for looking at; the run's end marks the model unsaved
    assert window.decoder_canvas.prior_tab.busy or window.decoder_canvas.sample_tiles.images is not None
    stage.stop()
    qtbot.waitUntil(lambda: stage.outcome is not None, timeout=60_000)
    assert stage.outcome.status == "stopped" and stage.outcome.epochs_done < 500
    assert window.session.model.has_prior and window.session.document.unsaved


def test_a_model_without_a_codebook_has_no_prior_stage(qtbot, wait_encoded):
    window = open_window(qtbot, wait_encoded, "vae-digits")
    assert not window.training_panel.prior_stage.isVisibleTo(window.training_panel)


def test_stage_one_does_not_start_while_a_prior_trains(qtbot, wait_encoded):
    window = open_window(qtbot, wait_encoded, "vqvae-digits")
    panel = window.training_panel
    panel.prior_stage.epochs.setValue(500)
    panel.prior_stage.start()
    assert not panel.start() and "stop it first" in panel.error_label.text()
    panel.prior_stage.stop()
    qtbot.waitUntil(lambda: panel.prior_stage.outcome is not None, timeout=60_000)


def test_a_live_prior_keeps_the_prior_tab_s_choices(qtbot, wait_encoded, monkeypatch):
    monkeypatch.setattr(prior_stage, "LIVE_SAMPLES_S", 0.0)
    window = open_window(qtbot, wait_encoded, "vqvae-digits")
    canvas, stage, session = window.decoder_canvas, window.training_panel.prior_stage, window.session
    stage.epochs.setValue(1)
    stage.start()  # a prior of the shape the stage trains (the shipped one predates axial positions)
    qtbot.waitUntil(lambda: stage.outcome is not None, timeout=60_000)
    canvas.prior_controls.top_k.setValue(7)
    canvas.prior_controls.label.setCurrentIndex(3)
    canvas.prior_tab.tools.keep_rows.setValue(1)
    attached = []
    session.priorChanged.connect(lambda: attached.append(session.model.prior))
    stage.epochs.setValue(500)
    stage.start()
    qtbot.waitUntil(lambda: len(attached) >= 2, timeout=60_000)  # live priors, each drawn from in the Prior tab
    stage.stop()
    qtbot.waitUntil(lambda: stage.outcome is not None and stage.outcome.status == "stopped", timeout=60_000)
    assert canvas.prior_controls.top_k.value() == 7 and canvas.prior_controls.label.currentIndex() == 3
    assert canvas.prior_tab.tools.keep_rows.value() == 1 and canvas.prior_controls.options()["labels"] == 2
