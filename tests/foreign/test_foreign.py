"""Foreign models: what adapt() learns from one batch, and the one line it gives for each bad model."""
from __future__ import annotations

import time

import numpy as np
import pytest
import torch
from torch import nn

from aeviewer.explore import latent_space
from aeviewer.foreign.api_data import as_image_set
from aeviewer.data.imageset import ImageSet
from aeviewer.errors import DataError, ForeignModelError
from aeviewer.foreign.adapters import ForeignCodebookModel, adapt
from aeviewer.training import metrics

RNG = np.random.default_rng(0)
W = (RNG.standard_normal((64, 3)) * 0.1).astype(np.float32)  # a linear 8x8 -> 3 "autoencoder"


def images(n: int = 40, c: int = 1, h: int = 8, w: int = 8) -> ImageSet:
    pixels = torch.from_numpy(RNG.integers(0, 256, (n, c, h, w), dtype=np.uint8))
    return ImageSet(pixels, torch.arange(n) % 3, ("a", "b", "c"))


def np_encode(x: np.ndarray) -> np.ndarray:
    assert isinstance(x, np.ndarray)
    return x.reshape(len(x), -1) @ W


def np_decode(z: np.ndarray) -> np.ndarray:
    return (1 / (1 + np.exp(-(z @ W.T)))).reshape(-1, 8, 8, 1)  # NHWC out, NCHW in: both are fine


class ShapedLatent(nn.Module):
    """A conv autoencoder whose latent is a 4x2x2 grid, with a prior."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.enc = nn.Conv2d(1, 4, 3, stride=4, padding=1)
        self.dec = nn.ConvTranspose2d(4, 1, 4, stride=4)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        assert isinstance(x, torch.Tensor) and x.shape[1] == 1
        return self.enc(x)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        assert z.shape[1:] == (4, 2, 2)
        return torch.sigmoid(self.dec(z))

    def sample(self, n: int) -> torch.Tensor:
        return torch.randn(n, 4, 2, 2)


def test_numpy_functions_are_called_with_arrays_and_give_flat_latents():
    data = images()
    model = adapt(encode=np_encode, decode=np_decode, images=data)
    assert model.config.arch == "numpy" and model.latent_shape == (3,) and not model.has_prior
    assert not model.trainable and not model.has_codebook
    x = data.float_batch(slice(0, 5))
    np.testing.assert_allclose(model.encode(x).numpy(), np_encode(x.numpy()), rtol=1e-6)
    z = RNG.standard_normal((2, 3)).astype(np.float32)
    expected = np_decode(z)[..., 0]
    np.testing.assert_allclose(latent_space.decode_points(model, z), expected, rtol=1e-5)


def test_a_module_with_a_shaped_latent_is_flattened_for_plotting_and_reshaped_for_decoding():
    net = ShapedLatent().train()  # left in training mode by its owner: explored in eval mode, given back as it was
    data = images()
    model = adapt(net, data)
    assert model.config.arch == "torch" and model.latent_shape == (4, 2, 2) and model.latent_size == 16
    latents = latent_space.encode_set(model, data)
    assert latents.shape == (len(data), 16)
    with torch.no_grad():
        direct = net.decode(torch.from_numpy(latents[:3]).view(3, 4, 2, 2))[:, 0].numpy()
    np.testing.assert_allclose(latent_space.decode_points(model, latents[:3]), direct, atol=1e-6)
    assert model.has_prior and model.sample(5).shape == (5, 16)
    assert net.training


def test_nhwc_data_makes_an_nhwc_model_be_tried_first():
    rgb = RNG.random((20, 6, 6, 3)).astype(np.float32)
    data, layout = as_image_set(rgb)
    assert layout == "nhwc" and data.image_shape == (3, 6, 6)
    seen = []

    def encode(x):
        seen.append(x.shape)
        return x.reshape(len(x), -1)[:, :4]

    model = adapt(encode=encode, decode=lambda z: np.full((len(z), 6, 6, 3), 0.5, np.float32), images=data,
                  data_layout=layout)
    assert seen[0][1:] == (6, 6, 3) and model.image_shape == (3, 6, 6)


def test_reconstruction_metrics_come_from_the_core_functions():
    data = images()
    model = adapt(encode=np_encode, decode=np_decode, images=data)
    report = metrics.evaluate(model, data)
    x = data.float_batch(slice(None))
    x_hat = torch.from_numpy(np_decode(np_encode(x.numpy()))).permute(0, 3, 1, 2)
    assert report["recon_mse"] == pytest.approx(float((x_hat - x).square().mean()), rel=1e-4)
    assert report["psnr_db"] == pytest.approx(float(metrics.psnr(x_hat, x).mean()), rel=1e-4)


class TinyVQ:
    """The codebook protocol with NumPy: 2x2 cells of an 8x8 image, each its cell mean snapped to 4 levels."""

    codebook = np.array([[0.0], [0.33], [0.66], [1.0]], np.float32)

    def encode_codes(self, x):
        cells = x.reshape(len(x), 4, 2, 4, 2).mean(axis=(2, 4))
        return np.abs(cells[..., None] - self.codebook[:, 0]).argmin(-1)

    def decode_codes(self, codes):
        return np.kron(self.codebook[codes, 0], np.ones((2, 2), np.float32))


def test_the_codebook_protocol_gives_a_codebook_model():
    data = images()
    model = adapt(TinyVQ(), data)
    assert isinstance(model, ForeignCodebookModel) and model.has_codebook
    assert model.codebook.shape == (4, 1) and model.code_grid_shape == (4, 4) and model.latent_shape == (1, 4, 4)
    x = data.float_batch(slice(0, 3))
    codes = model.encode_codes(x)
    z = model.encode(x)
    np.testing.assert_array_equal(z.view(3, 4, 4).numpy(), TinyVQ.codebook[codes.numpy(), 0])
    np.testing.assert_allclose(model.decode(z).numpy(), model.decode_codes(codes).numpy())


def slow_decode(z):
    time.sleep(1.05)
    return np_decode(z)


@pytest.mark.parametrize("decode, says", [
    (lambda z: 1 / 0, "decode raised ZeroDivisionError"),
    (lambda z: np.full((len(z), 8, 8), np.nan, np.float32), "decode returned NaN"),
    (lambda z: np.zeros((len(z), 10), np.float32), "decode returned shape (16, 10)"),
    (lambda z: np.zeros((len(z), 8, 8), np.int64), "decode returned int64 values"),
    (lambda z: [[0.5]] * len(z), "decode returned a list"),
    (lambda z: np_decode(z) * 255, "images must be in [0, 1]"),
    (slow_decode, "the limit is 1 s"),
])
def test_a_bad_decode_is_one_line_naming_what_is_wrong(decode, says):
    with pytest.raises(ForeignModelError) as info:
        adapt(encode=np_encode, decode=decode, images=images())
    assert says in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize("encode, says", [
    (lambda x: (_ for _ in ()).throw(RuntimeError("boom\nsecond line")), "encode raised RuntimeError: boom second line"),
    (lambda x: np.full((len(x), 2), np.inf, np.float32), "encode returned NaN or infinite values"),
    (lambda x: np.zeros((3, 2), np.float32), "encode returned shape (3, 2) for 16 images"),
    (lambda x: np.zeros((len(x), 2), np.complex64), "encode returned complex64 values"),
])
def test_a_bad_encode_is_one_line(encode, says):
    with pytest.raises(ForeignModelError) as info:
        adapt(encode=encode, decode=np_decode, images=images())
    assert says in str(info.value) and "\n" not in str(info.value)


def test_a_model_without_decode_or_both_kinds_of_argument_is_refused():
    with pytest.raises(ForeignModelError, match="has no decode"):
        adapt(type("OnlyEncode", (), {"encode": lambda self, x: x})(), images())
    with pytest.raises(ForeignModelError, match="not both"):
        adapt(ShapedLatent(), images(), encode=np_encode, decode=np_decode)


def test_after_probing_a_failure_is_reported_and_the_view_gets_a_blank_image():
    calls = {"n": 0}

    def flaky_decode(z):
        calls["n"] += 1
        if calls["n"] > 1:
            raise ValueError("out of memory")
        return np_decode(z)

    model = adapt(encode=np_encode, decode=flaky_decode, images=images())
    lines: list[str] = []
    model.report = lines.append
    out = model.decode(torch.zeros(2, 3))
    assert out.shape == (2, 1, 8, 8) and float(out.abs().sum()) == 0.0
    assert len(lines) == 1 and lines[0].endswith("decode raised ValueError: out of memory")


@pytest.mark.parametrize("data, says", [
    (np.zeros((4, 5, 5, 5)), "no channel axis"),
    (np.full((4, 8, 8), 3.0), "must be in [0, 1]"),
    (np.zeros((4, 8)), "got shape (4, 8)"),
    (object(), "got a object"),
])
def test_bad_data_is_one_line(data, says):
    with pytest.raises(DataError, match=None) as info:
        as_image_set(data)
    assert says in str(info.value)


def test_a_torch_dataset_of_pairs_and_labels_and_class_names():
    pairs = [(torch.rand(1, 8, 8), k % 2) for k in range(6)]
    data, layout = as_image_set(pairs, class_names=("even", "odd"))
    assert layout == "nchw" and len(data) == 6 and data.class_names == ("even", "odd")
    assert data.labels.tolist() == [0, 1, 0, 1, 0, 1]
    relabelled, _ = as_image_set(np.zeros((3, 8, 8), np.uint8), labels=[2, 0, 1])
    assert relabelled.class_names == ("0", "1", "2") and relabelled.labels.tolist() == [2, 0, 1]


def test_a_named_set_goes_through_the_one_loader():
    data, _ = as_image_set("digits")
    assert data.name == "digits" and data.image_shape == (1, 8, 8) and len(data) == 359
