"""Corruptions have the statistics they promise, are seeded, clipped, and parse from their text form."""
from __future__ import annotations

import pytest
import torch

from aeviewer.data.noise import KINDS, NoiseSpec, corrupt
from aeviewer.errors import ConfigError

GREY = 0.5


def grey(n: int = 64, c: int = 1, size: int = 28) -> torch.Tensor:
    return torch.full((n, c, size, size), GREY)


def seeded(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize(
    "text, kind, level",
    [("gaussian:0.5", "gaussian", 0.5), ("masking:0.25", "masking", 0.25), ("salt_pepper:0.2", "salt_pepper", 0.2),
     ("none", "none", 0.0), ("", "none", 0.0), (" Gaussian : 1 ", "gaussian", 1.0),
     ("salt-pepper:0.1", "salt_pepper", 0.1)],
)
def test_parse(text, kind, level):
    spec = NoiseSpec.parse(text)
    assert (spec.kind, spec.level) == (kind, level)


@pytest.mark.parametrize("spec", [NoiseSpec(), NoiseSpec("gaussian", 0.5), NoiseSpec("masking", 1),
                                  NoiseSpec("salt_pepper", 0.123456789), NoiseSpec("gaussian", 1e-7)])
def test_str_round_trips(spec):
    assert NoiseSpec.parse(str(spec)) == spec


def test_str_is_the_short_form():
    assert str(NoiseSpec("gaussian", 0.5)) == "gaussian:0.5"
    assert str(NoiseSpec()) == "none"
    assert NoiseSpec("salt_pepper", 0.2).slug == "salt_pepper_0.2"


@pytest.mark.parametrize(
    "text, words",
    [("masking:1.5", ["masking", "[0, 1]", "1.5"]), ("salt_pepper:-0.1", ["salt_pepper", "[0, 1]"]),
     ("gaussian:-1", ["σ", ">= 0"]), ("blur:0.3", ["unknown noise kind", "gaussian"]),
     ("gaussian", ["needs a level"]), ("gaussian:abc", ["not a number"]), ("gaussian:nan", ["not finite"]),
     ("none:0.5", ["takes no level"])],
)
def test_bad_specs_give_clear_config_errors(text, words):
    with pytest.raises(ConfigError) as err:
        NoiseSpec.parse(text)
    message = str(err.value)
    assert "\n" not in message
    for word in words:
        assert word in message, message


def test_gaussian_std_before_clipping_is_sigma():
    # On mid-grey input with a small σ the clip almost never bites, so the output std measures σ.
    sigma = 0.1
    out = corrupt(grey(), NoiseSpec("gaussian", sigma), seeded())
    noise = out - GREY
    assert abs(noise.mean().item()) < 0.002
    assert noise.std().item() == pytest.approx(sigma, rel=0.02)


def test_gaussian_output_is_clipped_and_sigma_half_clips_a_fair_share():
    out = corrupt(grey(), NoiseSpec("gaussian", 0.5), seeded())
    assert out.min().item() == 0.0 and out.max().item() == 1.0
    # P(|ε| > 1) for ε ~ N(0, 1) is 0.3173: that share of pixels sits exactly on a bound.
    on_bound = ((out == 0) | (out == 1)).float().mean().item()
    assert on_bound == pytest.approx(0.3173, abs=0.01)


@pytest.mark.parametrize("level", [0.1, 0.5, 0.9])
def test_masking_zeroes_the_requested_fraction(level):
    x = torch.rand((64, 1, 28, 28), generator=seeded(1)) * 0.9 + 0.1  # no pixel is already 0
    out = corrupt(x, NoiseSpec("masking", level), seeded())
    zeroed = out == 0
    assert zeroed.float().mean().item() == pytest.approx(level, abs=0.01)
    assert torch.equal(out[~zeroed], x[~zeroed])  # every other pixel is untouched


@pytest.mark.parametrize("level", [0.2, 0.6])
def test_salt_and_pepper_sets_the_fraction_to_0_or_1_equally(level):
    out = corrupt(grey(), NoiseSpec("salt_pepper", level), seeded())
    pepper = (out == 0).float().mean().item()
    salt = (out == 1).float().mean().item()
    assert pepper + salt == pytest.approx(level, abs=0.01)
    assert pepper == pytest.approx(salt, abs=0.01)
    assert ((out == GREY) | (out == 0) | (out == 1)).all()


def test_masking_hits_whole_pixels_across_channels():
    x = torch.full((8, 3, 16, 16), 0.7)
    out = corrupt(x, NoiseSpec("masking", 0.5), seeded())
    zeroed = out == 0
    assert torch.equal(zeroed.all(dim=1), zeroed.any(dim=1))


@pytest.mark.parametrize("text", ["gaussian:0.5", "masking:0.3", "salt_pepper:0.3"])
def test_same_seed_same_corruption_other_seed_other(text):
    spec = NoiseSpec.parse(text)
    x = torch.rand((4, 1, 28, 28), generator=seeded(5))
    a = corrupt(x, spec, seeded(3))
    b = corrupt(x, spec, seeded(3))
    c = corrupt(x, spec, seeded(4))
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


@pytest.mark.parametrize("text", KINDS)
def test_input_is_left_untouched_and_output_in_range(text):
    spec = NoiseSpec.parse(text if text == "none" else f"{text}:0.4")
    x = torch.rand((4, 1, 8, 8), generator=seeded(2))
    before = x.clone()
    out = corrupt(x, spec, seeded())
    assert torch.equal(x, before)
    assert out.shape == x.shape and out.dtype == x.dtype
    assert 0.0 <= out.min().item() and out.max().item() <= 1.0
    assert out.data_ptr() != x.data_ptr()


def test_none_is_identity_and_flat_input_works():
    x = torch.rand(100, generator=seeded())
    assert torch.equal(corrupt(x, NoiseSpec()), x)
    assert corrupt(x, NoiseSpec("masking", 1.0), seeded()).eq(0).all()


def test_integer_images_are_refused():
    with pytest.raises(TypeError):
        corrupt(torch.zeros((1, 1, 2, 2), dtype=torch.uint8), NoiseSpec("gaussian", 0.1))


def test_float64_input_keeps_its_dtype():
    out = corrupt(grey().double(), NoiseSpec("gaussian", 0.1), seeded())
    assert out.dtype == torch.float64


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("text", ["gaussian:0.5", "masking:0.3", "salt_pepper:0.3"])
def test_cpu_generator_with_cuda_images_matches_cpu(text):
    spec = NoiseSpec.parse(text)
    x = torch.rand((4, 1, 28, 28), generator=seeded(5))
    on_cpu = corrupt(x, spec, seeded(3))
    on_gpu = corrupt(x.cuda(), spec, seeded(3))
    assert on_gpu.device.type == "cuda"
    torch.testing.assert_close(on_gpu.cpu(), on_cpu)
    cuda_gen = torch.Generator(device="cuda").manual_seed(3)
    assert corrupt(x.cuda(), spec, cuda_gen).device.type == "cuda"
    assert corrupt(x.cuda(), spec).device.type == "cuda"
