"""A VQ-VAE with a learned prior fills the decoder canvas's Prior samples tab, as a VAE's prior does."""
from __future__ import annotations

from pathlib import Path

import torch
from PySide6.QtWidgets import QApplication

from aeviewer.gui.app import create_main_window
from aeviewer.gui.views.decoder import prior_tab as prior_tab_module
from aeviewer.models.priors import build_prior, default_prior_config
from aeviewer.util.paths import shipped_dir
from aeviewer.training.checkpoint import load_checkpoint, save_checkpoint


def vqvae_with_prior(tmp_path: Path, n_classes: int = 0) -> Path:
    ckpt = load_checkpoint(shipped_dir("trained") / "vqvae-digits.safetensors")
    model = ckpt.model
    torch.manual_seed(0)
    model.attach_prior(build_prior(default_prior_config("transformer", model.config.codebook_size,
                                                        model.code_grid_shape, n_classes, width=16, layers=1)))
    return save_checkpoint(tmp_path / "vq-prior.safetensors", model, dataset=ckpt.dataset)


def show_prior_tab(canvas) -> None:
    canvas.tabs.setCurrentIndex(next(i for i in range(canvas.tabs.count()) if "prior" in canvas.tabs.tabText(i).lower()))
    QApplication.processEvents()


def test_the_prior_samples_tab_shows_a_vqvae_prior_s_samples(qtbot, tmp_path, wait_encoded):
    window = create_main_window(vqvae_with_prior(tmp_path), background_encoding=True)
    qtbot.addWidget(window)
    window.show()
    wait_encoded(window)
    canvas = window.decoder_canvas
    show_prior_tab(canvas)
    assert window.session.model.has_prior
    qtbot.waitUntil(lambda: canvas.sample_tiles.images is not None and len(canvas.sample_tiles.images) > 0, timeout=10_000)
    assert canvas.sample_tiles.images.shape[1:] == (8, 8)  # (N, H, W): the decoded digits
    # an unconditional prior has no class to steer towards: no guidance asked, none shown
    assert not canvas.prior_controls.guidance.isVisibleTo(canvas) and "guidance" not in canvas.prior_controls.options()


def test_temperature_top_k_class_and_guidance_reach_the_learned_prior_and_draw_again(qtbot, tmp_path, wait_encoded, monkeypatch):
    window = create_main_window(vqvae_with_prior(tmp_path, n_classes=10), background_encoding=True)
    qtbot.addWidget(window)
    window.show()
    wait_encoded(window)
    canvas = window.decoder_canvas
    show_prior_tab(canvas)
    controls = canvas.prior_controls
    assert controls.isVisibleTo(canvas) and controls.label.count() == 11  # "any class" and the ten digits
    assert controls.guidance.isVisibleTo(canvas)
    asked = []
    real_sample = prior_tab_module.sample_in_job
    monkeypatch.setattr(prior_tab_module, "sample_in_job", lambda job, prior, n, generator=None, **options: (
        asked.append(options) or real_sample(job, prior, n, generator=generator, **options)))
    canvas.prior_tab.wait()  # the first batch, drawn when the model opened
    asked.clear()
    for change in (lambda: controls.label.setCurrentIndex(4), lambda: controls.top_k.setValue(5),  # digit 3
                   lambda: controls.temperature.setValue(0.5), lambda: controls.guidance.setValue(2.5)):
        change()
        canvas.prior_tab.wait()  # each change draws again, as a job of the Prior tab
    assert asked[-1] == {"temperature": 0.5, "top_k": 5, "labels": 3, "guidance": 2.5} and len(asked) == 4
    assert canvas.sample_tiles.images is not None and len(canvas.sample_tiles.images) > 0


def test_a_vae_s_prior_shows_no_learned_prior_controls(qtbot, wait_encoded):
    window = create_main_window(shipped_dir("trained") / "vae-digits.safetensors", background_encoding=True)
    qtbot.addWidget(window)
    window.show()
    wait_encoded(window)
    show_prior_tab(window.decoder_canvas)
    assert window.decoder_canvas.sample_tiles.isVisibleTo(window.decoder_canvas)  # the VAE's samples are shown...
    assert not window.decoder_canvas.prior_controls.isVisibleTo(window.decoder_canvas)  # ...with no learned-prior controls
    assert window.decoder_canvas.prior_controls.options() == {}
