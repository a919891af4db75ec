"""The registry: default configs, validation with one-line ConfigErrors, shapes and seeded initialisation."""
import re

import pytest
import torch

from aeviewer.errors import ConfigError
from aeviewer.models import AE, KINDS, build_model, default_config, parameter_count, size_text
from aeviewer.models.config import ModelConfig
from aeviewer.spec.widths import parse_widths

torch.set_num_threads(1)

SMALL = {"hidden": (16,), "channels": (4, 8), "codebook_size": 8, "code_dim": 3}


def _build(kind, shape=(1, 28, 28), **kw):
    return build_model(default_config(kind, shape, **{**SMALL, **kw}))


def test_kinds_and_their_defaults():
    assert KINDS == ("ae", "dae", "vae", "aae", "vqvae")
    assert default_config("dae").noise == "gaussian:0.5"
    assert default_config("vqvae").arch == "conv"
    assert default_config("ae").latent_dim == 2 and default_config("ae").noise == "none"
    assert default_config("vae", (1, 8, 8), n_classes=3).n_classes == 3


def test_the_dae_is_the_ae_class_with_a_noise():
    model = _build("dae")
    assert type(model) is AE and model.config.noise == "gaussian:0.5"


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("shape", [(1, 28, 28), (1, 8, 8), (3, 8, 8)])
def test_every_kind_encodes_and_decodes_with_the_contract_shapes(kind, shape):
    model = _build(kind, shape, latent_dim=5, arch="conv" if kind == "vqvae" else "mlp")
    x = torch.rand(3, *shape)
    with torch.no_grad():
        z = model.encode(x)
        images = model.decode(z)
        logits = model.decode_logits(z)
        terms = model.loss(x, x, torch.tensor([0, 1, 2]))
    assert z.shape == (3, model.latent_size) and images.shape == (3, *shape)
    torch.testing.assert_close(images, torch.sigmoid(logits))
    assert "total" in terms and all(t.shape == () for t in terms.values())
    if model.has_prior:
        assert model.sample(4).shape == (4, model.latent_size)


@pytest.mark.parametrize("kind", ["ae", "vae", "aae"])
def test_conv_arch_builds_for_28x28(kind):
    model = _build(kind, arch="conv", latent_dim=3)
    assert model.decode(model.encode(torch.rand(2, 1, 28, 28))).shape == (2, 1, 28, 28)


@pytest.mark.parametrize("kind", KINDS)
def test_same_seed_gives_the_same_initial_weights(kind):
    torch.manual_seed(7)
    first = _build(kind).state_dict()
    torch.manual_seed(7)
    second = _build(kind).state_dict()
    torch.manual_seed(8)
    third = _build(kind).state_dict()
    assert all(torch.equal(first[k], second[k]) for k in first)
    assert any(not torch.equal(first[k], third[k]) for k in first if first[k].is_floating_point() and first[k].any())


def test_config_round_trip_rebuilds_the_same_model():
    torch.manual_seed(0)
    model = _build("vqvae", (1, 8, 8))
    rebuilt = build_model(ModelConfig.from_dict(model.config.to_dict()))
    rebuilt.load_state_dict(model.state_dict())
    x = torch.rand(2, 1, 8, 8)
    torch.testing.assert_close(rebuilt.decode(rebuilt.encode(x)), model.decode(model.encode(x)))


@pytest.mark.parametrize(
    ("kind", "overrides", "fragment"),
    [
        ("gan", {}, "unknown model kind"),
        ("ae", {"arch": "resnet"}, "unknown arch"),
        ("ae", {"recon": "gaussian"}, "recon"),
        ("vae", {"recon": "mse"}, "recon"),
        ("aae", {"prior": "uniform"}, "unknown prior"),
        ("aae", {"conditional_prior": True}, "conditional prior"),
        ("aae", {"prior": "mixture10", "latent_dim": 1}, "latent_dim"),
        ("aae", {"prior": "mixture10", "conditional_prior": True, "n_classes": 26}, "components"),
        ("dae", {"noise": "none"}, "needs a noise"),
        ("dae", {"noise": "gaussian:lots"}, "noise"),
        ("dae", {"noise": "gaussian:0"}, "needs a noise"),
        ("ae", {"noise": "masking:2"}, "fraction"),
        ("vae", {"c": 0.0}, "c > 0"),
        ("ae", {"latent_dim": 0}, "positive"),
        ("vqvae", {"arch": "mlp"}, "conv"),
        ("vqvae", {"ema_decay": 1.0}, "ema_decay"),
        ("vqvae", {"channels": (8, 1)}, "at least 2 channels"),
        ("ae", {"arch": "conv", "channels": (8, 16, 32)}, "at most 2 channel counts"),  # 28x28: two stages
        ("ae", {"arch": "conv", "conv_stages": 3}, "does not divide 28 px"),
        ("ae", {"colour": "red"}, "unknown model config fields"),
    ],
)
def test_bad_configs_raise_one_line_config_errors(kind, overrides, fragment):
    with pytest.raises(ConfigError, match=fragment) as info:
        default_config(kind, **overrides)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("shape", [(1, 8, 8), (1, 12, 12), (1, 30, 30), (3, 32, 28), (1, 260, 260)])
def test_conv_arch_refuses_sizes_outside_16_to_256_in_steps_of_4_and_non_squares(shape):
    with pytest.raises(ConfigError, match="square images of 16 to 256 px, a multiple of 4"):
        default_config("ae", shape, arch="conv")


def test_vqvae_refuses_odd_image_sides():
    with pytest.raises(ConfigError, match="divisible"):
        default_config("vqvae", (1, 7, 7))


def test_build_model_validates_a_hand_made_config():
    with pytest.raises(ConfigError):
        build_model(ModelConfig(kind="vae", recon="mse"))


def test_config_version_must_be_a_whole_number_and_not_newer():
    from aeviewer.errors import ConfigError
    from aeviewer.models.config import CONFIG_VERSION, ModelConfig

    with pytest.raises(ConfigError, match="whole number"):
        ModelConfig.from_dict({"version": 1.0})
    with pytest.raises(ConfigError, match="newer"):
        ModelConfig.from_dict({"version": CONFIG_VERSION + 1})
    assert ModelConfig.from_dict({"version": CONFIG_VERSION}).version == CONFIG_VERSION


@pytest.mark.parametrize("text, widths", [
    ("512,256", (512, 256)), (" 1500 , 1500 ", (1500, 1500)), ("64,", (64,)), ("7", (7,)),
])
def test_layer_widths_are_read_from_text(text, widths):
    assert parse_widths(text) == widths


@pytest.mark.parametrize("text, fragment", [
    ("", "comma-separated"), (",", "comma-separated"), ("5,,5", "comma-separated"), ("-1", "comma-separated"),
    ("3.5", "comma-separated"), ("²", "comma-separated"), ("512,0", "at least 1"),
])
def test_bad_layer_widths_are_one_line_errors(text, fragment):
    with pytest.raises(ConfigError, match=fragment) as err:
        parse_widths(text)
    assert "\n" not in str(err.value) and repr(text) in str(err.value)


@pytest.mark.parametrize("kind", KINDS)
def test_the_parameter_count_is_that_of_the_built_model(kind):
    config = default_config(kind, hidden=(40, 30))
    assert parameter_count(config) == sum(p.numel() for p in build_model(config).parameters())


def test_an_absurd_width_is_counted_without_allocating_it():
    assert parameter_count(default_config("ae", hidden=(10**6, 10**6))) > 10**12  # 4 TB were it allocated


def test_size_text_reads_well():
    assert size_text(1_068_306) == "1,068,306 weights · 4.3 MB"
    assert size_text(20_157_667_603) == "20,157,667,603 weights · 80.6 GB"


def test_widths_text_is_read_back_by_parse_widths():
    from aeviewer.spec.widths import widths_text

    assert widths_text((1500, 1500)) == "1500, 1500" and parse_widths(widths_text((300, 20, 7))) == (300, 20, 7)


def test_decoder_dropout_keeps_the_weight_names_and_drops_only_while_training():
    """--decoder-dropout: checkpoints of either setting load into the other (same tensor names); in eval mode
    the decoder is the plain one; in training mode each hidden activation is zeroed with probability p."""
    plain = build_model(default_config("aae", latent_dim=8, hidden=(300, 300)))
    dropped = build_model(default_config("aae", latent_dim=8, hidden=(300, 300), decoder_dropout=0.25))
    assert list(dropped.state_dict()) == list(plain.state_dict())
    dropped.load_state_dict(plain.state_dict())
    z = torch.randn(64, 8)
    plain.eval(), dropped.eval()
    assert torch.equal(dropped.decode_logits(z), plain.decode_logits(z))
    dropped.train()
    hidden = dropped.decoder[:2](z)  # the first Linear, then ReLU + dropout
    relu = torch.relu(plain.decoder[0](z))
    kept = hidden != 0
    assert torch.allclose(hidden[kept], relu[kept] / 0.75)  # the survivors rescaled by 1/(1-p)
    share = 1 - kept.sum().item() / (relu != 0).sum().item()
    assert 0.22 < share < 0.28  # ~19,000 active units: p = 0.25 within ±0.03


@pytest.mark.parametrize("overrides, fragment", [
    ({"decoder_dropout": 1.0}, "[0, 1)"), ({"decoder_dropout": -0.1}, "[0, 1)"),
    ({"decoder_dropout": 0.1, "arch": "conv"}, "mlp"),
])
def test_decoder_dropout_is_checked(overrides, fragment):
    with pytest.raises(ConfigError, match=re.escape(fragment)):
        build_model(default_config("ae", **overrides))


@pytest.mark.parametrize("kind", KINDS)
def test_capability_flags_promise_exactly_the_methods_that_work(kind):
    model = _build(kind, (1, 28, 28))
    x = torch.rand(2, 1, 28, 28)
    assert model.trainable and model.has_prior == (kind in ("vae", "aae"))
    assert model.has_codebook == (kind == "vqvae")
    with torch.no_grad():
        if model.has_codebook:
            codes = model.encode_codes(x)
            torch.testing.assert_close(model.latents_of_codes(codes), model.encode(x))
        else:
            assert not hasattr(model, "encode_codes")
        if not model.has_prior:
            with pytest.raises(NotImplementedError):
                model.sample(1)


def test_the_capability_flags_say_what_the_kind_branches_said():
    # metrics, the regulariser dock, refit and the CLI once tested these kinds by name; the flags must agree.
    from aeviewer.models import kind_class, refit_kinds

    assert refit_kinds() == ("ae", "dae", "aae")
    assert {k: kind_class(k).regulariser for k in ("ae", "dae", "vae", "aae", "vqvae")} == {
        "ae": None, "dae": None, "vae": "kl", "aae": "prior", "vqvae": None}
    assert [k for k in ("ae", "dae", "vae", "aae", "vqvae") if kind_class(k).has_codebook] == ["vqvae"]
