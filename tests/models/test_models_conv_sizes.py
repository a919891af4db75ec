"""conv nets for any square size 16..256 (a multiple of 4) and any channel count, and old configs unchanged."""
import pytest
import torch

from aeviewer.models import KINDS, build_model, default_config
from aeviewer.models.config import ModelConfig
from aeviewer.models.nets import conv_stages_for


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("side", [16, 32, 64])
@pytest.mark.parametrize("channels", [1, 3])
def test_every_kind_trains_and_decodes_at_each_size_and_channel_count(kind, side, channels):
    torch.manual_seed(0)
    config = default_config(kind, (channels, side, side), arch="conv", latent_dim=4, channels=(4, 8), code_dim=4,
                            codebook_size=8)
    model = build_model(config)
    x = torch.rand(2, channels, side, side)
    terms = model.loss(x, x, torch.zeros(2, dtype=torch.long))
    terms["total"].backward()  # the loss reaches every layer
    assert torch.isfinite(terms["total"])
    assert model.decode(model.encode(x)).shape == (2, channels, side, side)
    if kind == "vqvae":
        assert model.code_grid_shape == (side // 4, side // 4)


@pytest.mark.parametrize("side, stages, grid", [(16, 2, 4), (28, 2, 7), (32, 3, 4), (36, 2, 9), (64, 4, 4), (256, 6, 4)])
def test_the_stage_count_follows_from_the_size_and_is_written_in_the_config(side, stages, grid):
    assert conv_stages_for(side) == stages
    config = default_config("ae", (1, side, side), arch="conv", latent_dim=2)
    assert config.conv_stages == stages
    assert ModelConfig.from_dict(config.to_dict()).conv_stages == stages
    assert side >> stages == grid


def test_a_config_written_before_the_stage_count_builds_todays_28x28_net():
    old = default_config("vae", (1, 28, 28), arch="conv", latent_dim=2).to_dict()
    del old["conv_stages"]  # checkpoints made before the field existed
    model = build_model(ModelConfig.from_dict(old))
    assert [name for name, _ in model.encoder.named_parameters()] == ["0.weight", "0.bias", "2.weight", "2.bias", "5.weight", "5.bias"]
    assert model.encoder[5].in_features == 64 * 7 * 7


def test_further_stages_double_the_last_width():
    model = build_model(default_config("ae", (3, 64, 64), arch="conv", latent_dim=2, channels=(8, 16)))
    convs = [m for m in model.encoder if isinstance(m, torch.nn.Conv2d)]
    assert [c.out_channels for c in convs] == [8, 16, 32, 64]
    assert convs[0].in_channels == 3
