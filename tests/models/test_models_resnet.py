"""The residual conv arch (``--arch resnet``, issue 33): shapes for 16-64 px, grey and RGB, every kind including
the VQ-VAE's code grid; one training step, save and load for each kind."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch

from aeviewer.data.imageset import ImageSet
from aeviewer.errors import ConfigError
from aeviewer.models import ModelConfig, build_model, default_config, parameter_count, validate_config
from aeviewer.models.resnet import ResBlock
from aeviewer.spec.options import BY_NAME
from aeviewer.training.checkpoint import load_checkpoint, save_checkpoint
from aeviewer.training.trainer import TrainConfig, Trainer

KINDS = ("ae", "dae", "vae", "aae", "vqvae")
SHAPES = [(1, 16, 16), (1, 28, 28), (3, 32, 32), (3, 64, 64)]


def config_of(kind: str, shape: tuple[int, int, int]):
    extra = {"codebook_size": 8, "code_dim": 4} if kind == "vqvae" else {"latent_dim": 3}
    return default_config(kind, shape, arch="resnet", channels=(4, 8), **extra)


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_encodes_and_decodes_each_size(kind: str, shape: tuple[int, int, int]) -> None:
    torch.manual_seed(0)
    model = build_model(config_of(kind, shape)).eval()
    assert any(isinstance(m, ResBlock) for m in model.modules())
    x = torch.rand(2, *shape)
    with torch.no_grad():
        z = model.encode(x)
        assert model.decode(z).shape == x.shape
    assert z.shape == (2, model.latent_size)
    if model.has_codebook:  # a code grid a quarter of the side, as the conv VQ-VAE's
        assert model.code_grid_shape == (shape[1] // 4, shape[2] // 4)
        assert model.encode_codes(x).shape == (2, shape[1] // 4, shape[2] // 4)


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_trains_a_step_saves_and_loads(kind: str, tmp_path: Path) -> None:
    shape = (3, 16, 16)
    torch.manual_seed(0)
    model = build_model(config_of(kind, shape))
    data = ImageSet(torch.randint(0, 256, (8, *shape), dtype=torch.uint8), torch.arange(8) % 2, ("a", "b"), "tiny")
    result = Trainer(model, data, TrainConfig(epochs=1, batch_size=8, precision="bf16", device="cpu")).run()
    assert result.status == "finished", result.message
    path = save_checkpoint(tmp_path / f"{kind}.safetensors", model, dataset="tiny")
    loaded = load_checkpoint(path).model
    assert loaded.config.arch == "resnet"
    x = torch.rand(2, *shape)
    with torch.no_grad():
        assert torch.equal(loaded.reconstruct(x), model.eval().reconstruct(x))


def test_sizes_are_counted_and_the_64px_vae_fits_the_shipping_budget() -> None:
    config = default_config("vae", (3, 64, 64), arch="resnet", latent_dim=32)
    assert 1_000_000 < parameter_count(config) < 4_000_000  # 16 MB at most in float32
    assert parameter_count(default_config("vqvae", (3, 64, 64), arch="resnet", codebook_size=128)) < 1_000_000


def test_the_arch_option_offers_resnet_to_every_kind_and_the_vqvae_stays_convolutional() -> None:
    option = BY_NAME["arch"]
    assert "resnet" in option.choices and option.kinds is None
    assert default_config("vqvae", (1, 28, 28), arch="mlp").arch == "conv"  # as the panel's network shape says
    assert default_config("vqvae", (1, 28, 28), arch="resnet").arch == "resnet"
    with pytest.raises(ConfigError, match="vqvae needs arch conv or resnet"):  # a config written by hand
        validate_config(ModelConfig(kind="vqvae", arch="mlp"))
    assert BY_NAME["channels"].applies({"kind": "vae", "arch": "resnet"})


def test_a_size_it_cannot_take_is_one_line() -> None:
    with pytest.raises(ConfigError, match="square images of 16 to 256 px"):
        default_config("vae", (1, 30, 30), arch="resnet")


@pytest.mark.parametrize(("stages", "grid"), [(1, 16), (2, 8), (3, 4)])
def test_a_resnet_vqvae_s_code_grid_stages_set_its_grid(stages: int, grid: int, tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = build_model(default_config("vqvae", (3, 32, 32), arch="resnet", channels=(4,), codebook_size=8,
                                       code_dim=4, conv_stages=stages)).eval()
    x = torch.rand(2, 3, 32, 32)
    assert model.code_grid_shape == (grid, grid)
    with torch.no_grad():
        assert model.encode_codes(x).shape == (2, grid, grid)
        assert model.decode(model.encode(x)).shape == x.shape
    loaded = load_checkpoint(save_checkpoint(tmp_path / "vq.safetensors", model, dataset="tiny")).model
    assert loaded.code_grid_shape == (grid, grid)


@pytest.mark.parametrize(("arch", "stages", "words"), [
    ("conv", 3, "the resnet arch's"),
    ("resnet", 5, "do not divide 32 px images"),
])
def test_code_grid_stages_a_vqvae_cannot_take_are_one_line(arch: str, stages: int, words: str) -> None:
    with pytest.raises(ConfigError, match=words) as caught:
        validate_config(default_config("vqvae", (3, 32, 32), arch=arch, channels=(4,), codebook_size=8,
                                       code_dim=4, conv_stages=stages))
    assert "\n" not in str(caught.value)


def test_code_grid_stages_is_a_cli_flag_of_the_options_table() -> None:
    option = BY_NAME["conv_stages"]
    assert option.flag == "--code-grid-stages" and option.kinds == ("vqvae",) and option.archs == ("resnet",)
