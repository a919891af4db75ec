"""DenoiseView: clean | noisy | denoised rows, live noise controls, PSNR equal to the core's figure."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from aeviewer.data.noise import NoiseSpec, corrupt
from aeviewer.gui.views.denoise.denoise_view import DenoiseView
from aeviewer.training.metrics import denoise_psnr, psnr


@pytest.fixture
def make_view(make_session_view):
    return lambda kind="ae", **overrides: make_session_view(DenoiseView, kind, **overrides)


@pytest.mark.parametrize("kind", ["ae", "dae", "vae", "aae", "vqvae"])
def test_every_kind_shows_eight_images_and_psnr_equal_to_the_cores(make_view, digits_test, kind):
    session, view = make_view(kind)
    assert len(view.indices) == 8 and len(view.denoised_psnr) == 8
    spec = view.noise_spec()
    noisy, denoised = denoise_psnr(session.model, digits_test.subset(torch.from_numpy(view.indices)), spec,
                                   seed=view.noise_seed)
    assert view.mean_psnr() == pytest.approx(denoised, abs=1e-4)
    assert view.mean_noisy_psnr() == pytest.approx(noisy, abs=1e-4)
    assert view.mean_psnr() == pytest.approx(np.mean(view.denoised_psnr))
    assert f"{view.mean_psnr():.2f} dB" in view.summary.text()


def test_rows_are_clean_noisy_and_denoised_with_captions_per_image(make_view, digits_test):
    session, view = make_view("ae")
    clean = digits_test.float_batch(torch.from_numpy(view.indices))
    noisy = corrupt(clean, view.noise_spec(), torch.Generator().manual_seed(view.noise_seed))
    with torch.no_grad():
        denoised = session.model.decode(session.model.encode(noisy))
    torch.testing.assert_close(view.noisy, noisy)
    torch.testing.assert_close(view.denoised, denoised)
    np.testing.assert_allclose(view.denoised_psnr, psnr(denoised, clean).numpy(), rtol=1e-6)
    image = view.item.image
    h, w = 8, 8
    row_h = (image.shape[0]) // 3
    np.testing.assert_allclose(image[:h, :w], clean[0, 0].numpy(), atol=1e-6)
    np.testing.assert_allclose(image[row_h:row_h + h, :w], noisy[0, 0].numpy(), atol=1e-6)
    np.testing.assert_allclose(image[2 * row_h:2 * row_h + h, :w], denoised[0, 0].numpy(), atol=1e-6)
    captions = view.psnr_texts()
    assert len(captions) == 16 and captions[1] == f"{view.denoised_psnr[0]:.1f}"


def test_noise_controls_update_live(qtbot, make_view):
    session, view = make_view("ae")
    with qtbot.waitSignal(view.updated):
        view.kind_combo.setCurrentIndex(view.kind_combo.findData("masking"))
    assert view.noise_spec() == NoiseSpec("masking", 0.5)
    with qtbot.waitSignal(view.updated):
        view.level_slider.setValue(25)
    assert view.noise_spec() == NoiseSpec("masking", 0.25) and view.level_spin.value() == 0.25
    mild = view.mean_noisy_psnr()
    with qtbot.waitSignal(view.updated):
        view.level_spin.setValue(0.75)
    assert view.mean_noisy_psnr() < mild  # more pixels wiped, lower PSNR
    with qtbot.waitSignal(view.updated):
        view.count_spin.setValue(3)
    assert len(view.denoised_psnr) == 3


def test_a_dae_opens_on_the_noise_it_was_trained_for(make_view):
    _, view = make_view("dae", noise="salt_pepper:0.2")
    assert view.noise_spec() == NoiseSpec("salt_pepper", 0.2)


def test_a_gaussian_dae_trained_above_sigma_1_opens_on_its_sigma(make_view):
    """The training panel trains a DAE at σ up to 2; the rows must show that σ, not 1.0 (the old cap)."""
    _, view = make_view("dae", noise="gaussian:1.5")
    assert view.noise_spec() == NoiseSpec("gaussian", 1.5) and view.level_slider.value() == 150
    view.set_noise("masking", 0.5)  # a fraction: capped at 1
    assert view.level_spin.maximum() == 1.0 and view.level_slider.maximum() == 100
    view.level_spin.setValue(1.7)
    assert view.noise_spec() == NoiseSpec("masking", 1.0)


def test_a_model_without_its_test_split_empties_the_rows_instead_of_keeping_the_last_models(qtbot, make_view, make_tiny_model):
    session, view = make_view("ae")
    assert view.item.image is not None and len(view.psnr_texts()) == 16
    session.set_model(make_tiny_model("vae"), "fashion-mnist", None)  # opened without its data
    qtbot.waitUntil(lambda: view.item.image is None, timeout=2000)
    assert view.psnr_texts() == [] and np.isnan(view.mean_psnr()) and "test split" in view.summary.text()
    assert not view.new_button.isEnabled() and not view.noise_button.isEnabled()
    assert view.draw_canvas.isEnabled()  # drawing needs only the model


def test_clean_input_shows_no_psnr_for_the_noisy_row(make_view):
    """Noise None showed "noisy 100.00 dB" (the PSNR of an image against itself, capped)."""
    session, view = make_view("ae")
    view.set_noise("none", 0.0)
    view.update_now()
    summary = view.summary.text()
    assert "100.00" not in summary and "noisy" not in summary and "no noise" in summary
    assert f"{view.mean_psnr():.2f} dB" in summary
    assert view.psnr_texts() == [f"{value:.1f}" for value in view.denoised_psnr]  # the reconstructions' only
    assert view._texts[1].toPlainText() == "no noise"  # the middle row's title
