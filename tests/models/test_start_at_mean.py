"""A fresh model starts decoding the training set's mean image (decoder output bias = logit(mean))."""
from __future__ import annotations

import threading

import numpy as np
import pytest
import torch

from aeviewer.data.imageset import ImageSet
from aeviewer.models import build_model, default_config
from aeviewer.models.nets import MEAN_CLAMP
from aeviewer.training.trainer import TrainConfig, Trainer


def image_set(n: int = 50, shape: tuple[int, int, int] = (1, 8, 8), seed: int = 0) -> ImageSet:
    g = torch.Generator().manual_seed(seed)
    images = torch.randint(0, 256, (n, *shape), generator=g, dtype=torch.uint8)
    images[:, :, 0, 0] = 0  # an always-black pixel: its logit must stay finite
    return ImageSet(images, torch.arange(n) % 10, tuple(str(i) for i in range(10)), "random")


def expected_logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, MEAN_CLAMP, 1 - MEAN_CLAMP)
    return np.log(p / (1 - p))


def test_mean_image_is_the_per_pixel_mean_in_unit_range():
    data = image_set(shape=(3, 5, 4))
    want = data.images.numpy().astype(np.float64).mean(axis=0) / 255.0
    got = data.mean_image()
    assert got.shape == (3, 5, 4) and got.dtype == torch.float32
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("kind", ["ae", "dae", "vae", "aae"])
def test_mlp_decoders_start_at_the_mean_image_pixel_by_pixel(kind):
    data = image_set()
    model = build_model(default_config(kind, image_shape=(1, 8, 8), hidden=(16,)))
    model.start_at_mean(data.mean_image())
    bias = model.decoder[-2].bias.detach().numpy()
    np.testing.assert_allclose(bias, expected_logit(data.mean_image().numpy().ravel()), rtol=1e-5, atol=1e-5)
    assert np.isfinite(bias).all()
    with torch.no_grad():  # with the last weights at zero the decoder outputs exactly the (clamped) mean
        model.decoder[-2].weight.zero_()
        out = model.decode(torch.randn(4, model.latent_size))
    want = np.clip(data.mean_image().numpy(), MEAN_CLAMP, 1 - MEAN_CLAMP)
    np.testing.assert_allclose(out.numpy(), np.broadcast_to(want, out.shape), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("kind", ["vae", "vqvae"])
def test_conv_decoders_start_at_the_mean_brightness_of_each_channel(kind):
    data = image_set(shape=(1, 28, 28))
    model = build_model(default_config(kind, arch="conv", image_shape=(1, 28, 28), channels=(4, 4), codebook_size=8, code_dim=4))
    model.start_at_mean(data.mean_image())
    last = [m for m in model.decoder.modules() if isinstance(m, torch.nn.ConvTranspose2d)][-1]
    np.testing.assert_allclose(last.bias.detach().numpy(), expected_logit(np.array([data.mean_image().mean().item()])),
                               rtol=1e-5, atol=1e-6)


def _stopped_before_the_first_step(model, start_at_mean: bool) -> None:
    stop = threading.Event()
    stop.set()
    result = Trainer(model, image_set(), TrainConfig(epochs=1, batch_size=16, device="cpu", start_at_mean=start_at_mean),
                     stop_event=stop).run()
    assert result.status == "stopped"


def test_the_trainer_sets_the_bias_before_training_only_when_asked():
    data = image_set()
    torch.manual_seed(0)
    fresh = build_model(default_config("vae", image_shape=(1, 8, 8), hidden=(16,)))
    before = fresh.decoder[-2].bias.detach().clone()
    _stopped_before_the_first_step(fresh, start_at_mean=False)  # continuing a model: its weights are its own
    assert torch.equal(fresh.decoder[-2].bias, before)
    _stopped_before_the_first_step(fresh, start_at_mean=True)
    np.testing.assert_allclose(fresh.decoder[-2].bias.detach().numpy(), expected_logit(data.mean_image().numpy().ravel()),
                               rtol=1e-5, atol=1e-5)
