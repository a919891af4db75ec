"""The views follow a training run as the app runs it (background encoding on): after an epoch the session holds
that epoch's weights, and the scatter, the decoder and the codebook are drawn from them.

Issue 29, defect 8: training a conv VQ-VAE on the emoji folder, the views still showed the untrained model after
epoch 1 had been autosaved. Its test split takes about 5 s to encode, and live snapshots were held for 20 encode
times (100 s), longer than the epoch.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PySide6.QtCore import Qt

import aeviewer.gui.training.worker as worker_module
from aeviewer.explore import latent_space
from aeviewer.gui.app import create_main_window
from aeviewer.gui.state.background_encode import encode_split
from aeviewer.gui.widgets.image_utils import as_display
from aeviewer.training.checkpoint import load_checkpoint

EMOJI_ENCODE_SECONDS = 5.0  # the shipped emoji VQ-VAE's test split (732 images, 64×64 RGB) on a 2-core machine


def colour_images(path: Path, n: int = 48, side: int = 16) -> Path:
    """``n`` small RGB images in three classes, each class its own colour, as an .npz data set."""
    rng = np.random.default_rng(0)
    labels = np.arange(n) % 3
    images = rng.integers(0, 60, (n, side, side, 3), dtype=np.uint8)
    images[np.arange(n), :, :, labels] += 180
    np.savez(path, images=images, labels=labels)
    return path


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    """The window as the app builds it, with the worker of each run set to pause once its first epoch ends
    (from the training thread, so that the trainer stops before epoch 2's first step)."""
    start_thread = worker_module.start_worker_thread

    def pausing_after_epoch_1(worker, parent=None):
        worker.epochFinished.connect(lambda info: info["epoch"] == 1 and worker.pause(),
                                     Qt.ConnectionType.DirectConnection)
        return start_thread(worker, parent)

    monkeypatch.setattr(worker_module, "start_worker_thread", pausing_after_epoch_1)
    win = create_main_window(None, open_default=False, background_encoding=True)
    win.show_error = lambda title, text: pytest.fail(f"{title}: {text}")
    win.confirm_close_during_training = lambda: True
    win.training_panel.train_threads = 1
    win.training_panel.autosave_dir = tmp_path / "autosave"
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.training_panel.shutdown()


def same_weights(model: torch.nn.Module, trained: torch.nn.Module) -> bool:
    mine, theirs = model.state_dict(), trained.state_dict()
    return mine.keys() == theirs.keys() and all(torch.equal(mine[k], theirs[k]) for k in mine)


def test_after_an_epoch_of_a_conv_vqvae_on_colour_images_the_views_show_its_weights(qtbot, window, tmp_path):
    panel, session = window.training_panel, window.session
    window.open_data(colour_images(tmp_path / "colours.npz"))
    qtbot.waitUntil(lambda: panel.loaded_source is not None or bool(panel.error_text()), timeout=20_000)
    assert not panel.error_text()
    panel.kind.setCurrentIndex(panel.kind.findData("vqvae"))
    panel.codebook_size.setValue(16)
    panel.code_dim.setValue(8)
    panel.channels.setText("8, 16")
    panel.epochs.setValue(3)
    panel.batch_size.setValue(8)
    panel.run.redraw_seconds = lambda: EMOJI_ENCODE_SECONDS  # what the throttle saw for the emoji model
    assert panel.start()
    qtbot.waitUntil(lambda: panel.last_autosave is not None, timeout=30_000)  # epoch 1 autosaved; then paused
    epoch_1 = load_checkpoint(panel.last_autosave).model.eval()
    assert epoch_1.config.image_shape == (3, 16, 16) and epoch_1.has_codebook
    qtbot.waitUntil(lambda: same_weights(session.model, epoch_1) and not session.encoding, timeout=30_000)

    latents, codes = encode_split(epoch_1, session.test_set)
    np.testing.assert_allclose(session.latents, latents, atol=1e-5)  # the scatter's points: epoch 1's codes
    shown = np.concatenate([np.stack(item.getData(), 1) for item in window.latent_view.class_items()])
    assert len(shown) == len(latents)
    np.testing.assert_allclose(np.sort(shown, 0), np.sort(session.coords, 0), atol=1e-4)
    codebook = window.codebook_view
    np.testing.assert_array_equal(codebook.usage(), np.bincount(codes.ravel(), minlength=16))
    with torch.inference_mode():  # the codebook's edited image decodes with epoch 1's codes
        expected = epoch_1.decode_codes(torch.from_numpy(codebook.edit_codes)[None])[0]
    np.testing.assert_allclose(codebook.decoded_image(), as_display(expected), atol=1e-5)
    decoder = window.decoder_canvas  # the canvas decodes its point with epoch 1's weights
    qtbot.waitUntil(lambda: decoder.shown_z() is not None and np.allclose(
        decoder.current_image(), as_display(latent_space.decode_points(epoch_1, decoder.shown_z()[None])[0]), atol=1e-5))

    with qtbot.waitSignal(panel.trainingFinished, timeout=30_000):
        panel.stop()
