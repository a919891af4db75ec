"""A VQ-VAE with a learned prior fills the decoder canvas's Prior samples tab, as a VAE's prior does."""
from __future__ import annotations

from pathlib import Path

import torch
from PySide6.QtWidgets import QApplication

from aeviewer.gui.app import create_main_window
from aeviewer.models.priors import build_prior, default_prior_config
from aeviewer.util.paths import shipped_dir
from aeviewer.training.checkpoint import load_checkpoint, save_checkpoint


def vqvae_with_prior(tmp_path: Path) -> Path:
    ckpt = load_checkpoint(shipped_dir("trained") / "vqvae-digits.safetensors")
    model = ckpt.model
    torch.manual_seed(0)
    model.attach_prior(build_prior(default_prior_config("transformer", model.config.codebook_size,
                                                        model.code_grid_shape, width=16, layers=1)))
    return save_checkpoint(tmp_path / "vq-prior.safetensors", model, dataset=ckpt.dataset)


def test_the_prior_samples_tab_shows_a_vqvae_prior_s_samples(qtbot, tmp_path, wait_encoded):
    window = create_main_window(vqvae_with_prior(tmp_path), background_encoding=True)
    qtbot.addWidget(window)
    window.show()
    wait_encoded(window)
    canvas = window.decoder_canvas
    canvas.tabs.setCurrentIndex(next(i for i in range(canvas.tabs.count()) if "prior" in canvas.tabs.tabText(i).lower()))
    QApplication.processEvents()
    assert window.session.model.has_prior
    qtbot.waitUntil(lambda: canvas.sample_tiles.images is not None and len(canvas.sample_tiles.images) > 0, timeout=10_000)
    assert canvas.sample_tiles.images.shape[1:] == (8, 8)  # (N, H, W): the decoded digits
