"""The registry of autoencoder kinds: validate a ModelConfig and build the model it describes."""
from __future__ import annotations

import dataclasses

import torch

from aeviewer.data.noise import NoiseSpec
from aeviewer.errors import ConfigError
from aeviewer.models.aae import AAE, MIXTURE_COMPONENTS, default_adversarial_weight
from aeviewer.models.ae import AE
from aeviewer.models.base import Autoencoder
from aeviewer.models.config import ModelConfig
from aeviewer.models.nets import check_conv_shape, conv_stages, conv_stages_for, stage_widths
from aeviewer.models.vae import VAE
from aeviewer.models.vqvae import VQVAE, downsamplings
from aeviewer.spec.vocabulary import ARCHS, CONV_ARCHS, GRID_ARCHS, GRID_LATENT_KINDS, KINDS, PRIORS, RECONS, network_shape

_CLASSES: dict[str, type[Autoencoder]] = {"ae": AE, "dae": AE, "vae": VAE, "aae": AAE, "vqvae": VQVAE}

__all__ = ["KINDS", "ModelConfig", "Autoencoder", "AE", "VAE", "AAE", "VQVAE", "build_model", "default_config",
           "kind_class", "parameter_count", "refit_kinds", "size_text", "validate_config"]


def kind_class(kind: str) -> type[Autoencoder]:
    """The class that implements ``kind``; the base class (every capability off) for a kind not built here."""
    return _CLASSES.get(kind, Autoencoder)


def refit_kinds() -> tuple[str, ...]:
    """The kinds whose decoder can be refitted on noisy codes (their class is ``refittable``)."""
    return tuple(k for k in KINDS if kind_class(k).refittable)


def default_config(kind: str, image_shape: tuple[int, int, int] = (1, 28, 28), **overrides: object) -> ModelConfig:
    """A valid config for ``kind``: the DAE gets noise "gaussian:0.5", the VQ-VAE arch "conv", the AAE
    an adversarial weight for its image size.

    Pass ``n_classes=len(data.class_names)`` (and anything else) as overrides.
    """
    if kind not in KINDS:
        raise ConfigError(f"unknown model kind {kind!r}; choose one of {', '.join(KINDS)}")
    values: dict[str, object] = {"kind": kind, "image_shape": tuple(image_shape)}
    if kind == "dae":
        values["noise"] = "gaussian:0.5"
    if kind == "vqvae":
        values["arch"] = "conv"
    if kind == "aae":
        values["adversarial_weight"] = default_adversarial_weight(tuple(image_shape))
    known = {f.name for f in dataclasses.fields(ModelConfig)}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise ConfigError(f"unknown model config fields: {', '.join(unknown)}")
    values.update(overrides)
    if kind in GRID_LATENT_KINDS:  # the grid kinds are convolutional whatever a form's arch says (as the panel shows)
        values["arch"] = network_shape(kind, str(values["arch"]))
    if values.get("arch") in CONV_ARCHS and kind != "vqvae" and "conv_stages" not in overrides:
        values["conv_stages"] = conv_stages_for(int(values["image_shape"][1]))  # type: ignore[index]
    config = ModelConfig(**values)  # type: ignore[arg-type]
    validate_config(config)
    return config


def build_model(config: ModelConfig) -> Autoencoder:
    """The model ``config`` describes, freshly initialised from torch's global RNG (seed it for repeatable weights)."""
    validate_config(config)
    return _CLASSES[config.kind](config)


def parameter_count(config: ModelConfig) -> int:
    """Number of weights in the model ``config`` describes, discriminator included (raises ConfigError).

    Built on the meta device: shapes without storage, so a 1500-1500 net is counted in milliseconds
    and an absurd width costs no memory.
    """
    with torch.device("meta"):
        model = build_model(config)
    return sum(p.numel() for p in model.parameters())


def size_text(n_weights: int) -> str:
    """"1,068,306 weights · 4.3 MB" (float32), as the training panel and ``aeviewer train`` show it."""
    n_bytes = 4 * n_weights
    size = f"{n_bytes / 1e9:,.1f} GB" if n_bytes >= 1e9 else f"{n_bytes / 1e6:.1f} MB"
    return f"{n_weights:,} weights · {size}"


def validate_config(config: ModelConfig) -> None:
    """Raise ConfigError (one line) for a config no model can be built from."""
    if config.kind not in KINDS:
        raise ConfigError(f"unknown model kind {config.kind!r}; choose one of {', '.join(KINDS)}")
    if config.arch not in ARCHS:
        raise ConfigError(f"unknown arch {config.arch!r}; choose one of {', '.join(ARCHS)}")
    if len(config.image_shape) != 3 or min(config.image_shape) < 1:
        raise ConfigError(f"image_shape must be (C, H, W) of positive sizes, got {config.image_shape}")
    if config.recon not in RECONS[config.kind]:
        raise ConfigError(f"recon {config.recon!r} is not available for {config.kind}; choose {' or '.join(RECONS[config.kind])}")
    if config.latent_dim < 1 or any(h < 1 for h in config.hidden) or any(c < 1 for c in config.channels):
        raise ConfigError("latent_dim, hidden widths and channels must be positive")
    _validate_noise(config)
    if not 0.0 <= config.decoder_dropout < 1.0:
        raise ConfigError(f"decoder_dropout must be in [0, 1), got {config.decoder_dropout}")
    if config.decoder_dropout and (config.arch != "mlp" or config.kind == "vqvae"):
        raise ConfigError("decoder_dropout is for mlp decoders (arch mlp, not the vq-vae)")
    if config.kind == "vqvae":
        _validate_vqvae(config)
    elif config.arch in CONV_ARCHS:
        _validate_conv(config)
    if config.kind == "vae" and (config.beta < 0 or config.c <= 0):
        raise ConfigError("vae needs beta >= 0 and c > 0")
    if config.kind == "aae":
        _validate_aae(config)


def _validate_conv(config: ModelConfig) -> None:
    check_conv_shape(config.image_shape)
    side = config.image_shape[1]
    if config.conv_stages < 0 or (config.conv_stages and not _halves_to(side, config.conv_stages, 1)):
        raise ConfigError(f"conv_stages {config.conv_stages} does not divide {side} px images "
                          f"(this size takes {conv_stages_for(side)})")
    if not config.channels:
        raise ConfigError("arch 'conv' needs at least one channel count")
    stage_widths(tuple(config.channels), conv_stages(config))  # one line when more widths than stages


def _halves_to(side: int, stages: int, least: int) -> bool:
    """Whether ``stages`` stride-2 stages halve ``side`` exactly, to a side of at least ``least``."""
    return side % 2**stages == 0 and side >> stages >= least


def _validate_noise(config: ModelConfig) -> None:
    spec = NoiseSpec.parse(config.noise)  # raises its own one-line ConfigError for a malformed noise
    if config.kind == "dae" and spec.is_identity:
        raise ConfigError("a dae needs a noise, e.g. gaussian:0.5, masking:0.25 or salt_pepper:0.2")


def _validate_vqvae(config: ModelConfig) -> None:
    if config.arch not in GRID_ARCHS:
        raise ConfigError(f"vqvae needs arch {' or '.join(GRID_ARCHS)}")
    if len(config.channels) not in (1, 2):
        raise ConfigError(f"vqvae needs one or two channel counts, got {list(config.channels)}")
    if config.channels[-1] < 2:  # its residual blocks halve the last count
        raise ConfigError(f"vqvae needs at least 2 channels in its last layer, got {list(config.channels)}")
    if config.codebook_size < 1 or config.code_dim < 1 or config.commitment < 0:
        raise ConfigError("vqvae needs codebook_size >= 1, code_dim >= 1 and commitment >= 0")
    if not 0.0 < config.ema_decay < 1.0:
        raise ConfigError(f"ema_decay must lie in (0, 1), got {config.ema_decay}")
    downsamplings(config.image_shape)
    if config.conv_stages:
        _validate_grid_stages(config)


def _validate_grid_stages(config: ModelConfig) -> None:
    side = config.image_shape[1]
    if config.arch != "resnet":
        raise ConfigError("a vqvae's code grid stages are the resnet arch's: the conv arch takes its own (1 or 2)")
    if config.conv_stages < 0 or not _halves_to(side, config.conv_stages, 2):
        raise ConfigError(f"{config.conv_stages} code grid stages do not divide {side} px images into a grid of "
                          f"2 or more")
    stage_widths(tuple(config.channels), config.conv_stages)


def _validate_aae(config: ModelConfig) -> None:
    if config.prior not in PRIORS:
        raise ConfigError(f"unknown prior {config.prior!r}; choose one of {', '.join(PRIORS)}")
    if not config.adversarial_weight >= 0:
        raise ConfigError(f"adversarial_weight must be a number >= 0, got {config.adversarial_weight}")
    if not config.adversarial_growth >= 1:
        raise ConfigError(f"adversarial_growth must be a number >= 1, got {config.adversarial_growth}")
    if not config.disc_hidden or any(h < 1 for h in config.disc_hidden):
        raise ConfigError(f"disc_hidden needs one or more positive widths, got {list(config.disc_hidden)}")
    if not config.posterior_std >= 0:
        raise ConfigError(f"posterior_std must be a number >= 0, got {config.posterior_std}")
    if config.learned_posterior and config.posterior_std > 0:
        raise ConfigError("a learned posterior sets its own spread: give posterior_std 0 with learned_posterior")
    if config.prior != "gaussian" and config.latent_dim < 2:
        raise ConfigError(f"prior {config.prior!r} needs latent_dim >= 2")
    if config.conditional_prior:
        if config.prior == "gaussian":
            raise ConfigError("a conditional prior needs prior mixture10 or swissroll (one component per class)")
        if config.prior == "mixture10" and not 1 <= config.n_classes <= MIXTURE_COMPONENTS:
            raise ConfigError(f"mixture10 has {MIXTURE_COMPONENTS} components, cannot condition on {config.n_classes} classes")
        if config.n_classes < 1:
            raise ConfigError("n_classes must be positive")
