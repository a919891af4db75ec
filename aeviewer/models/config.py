"""ModelConfig: everything needed to rebuild a model, saved as JSON beside its weights."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from aeviewer.errors import ConfigError

CONFIG_VERSION = 1


@dataclass
class ModelConfig:
    kind: str = "ae"  # ae | dae | vae | aae | vqvae
    arch: str = "mlp"  # mlp (any image size) | conv (square, 16..256 px, a multiple of 4)
    image_shape: tuple[int, int, int] = (1, 28, 28)
    latent_dim: int = 2
    hidden: tuple[int, ...] = (512, 256)  # mlp hidden widths, encoder order (decoder mirrors)
    decoder_dropout: float = 0.0  # mlp decoder: each hidden activation dropped with this probability while training
    channels: tuple[int, ...] = (32, 64)  # conv channels, encoder order (further stages double the last)
    conv_stages: int = 0  # conv: stride-2 stages (vqvae: to its code grid, resnet only); 0 = derived from the image size
    recon: str = "bce"  # ae/dae/aae: mse | bce; vae: bce (Bernoulli) | gaussian
    noise: str = "none"  # dae corruption, e.g. "gaussian:0.5", "masking:0.25", "salt_pepper:0.2"
    beta: float = 1.0  # vae: weight of the KL term
    c: float = 1.0  # vae gaussian decoder variance: p(x|z) = N(f(z), cI)
    prior: str = "gaussian"  # aae: gaussian | mixture10 | swissroll
    conditional_prior: bool = False  # aae: class k drawn from prior component k
    posterior_std: float = 0.0  # aae: q(z|x) = N(encoder(x), s²I) with this fixed s; 0: deterministic encoder
    learned_posterior: bool = False  # aae: q(z|x) = N(mu(x), diag sigma²(x)), both from the encoder (excludes posterior_std)
    adversarial_weight: float = 10.0  # aae: λ in recon + λ · generator loss (default_config scales it to the image size)
    adversarial_growth: float = 1.0  # aae: λ grows linearly over a training run from λ to this many times λ
    disc_hidden: tuple[int, ...] = (256, 256)  # aae: discriminator hidden widths (Makhzani et al.: 1000, 1000)
    codebook_size: int = 512  # vqvae K
    code_dim: int = 64  # vqvae D
    commitment: float = 0.25  # vqvae beta
    ema: bool = True  # vqvae: EMA codebook updates instead of the codebook loss
    ema_decay: float = 0.99
    n_classes: int = 10
    version: int = CONFIG_VERSION

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ModelConfig":
        if not isinstance(data, dict):
            raise ConfigError("model config is not a JSON object")
        version = data.get("version", CONFIG_VERSION)
        if isinstance(version, bool) or not isinstance(version, int):
            raise ConfigError(f"model config version must be a whole number, got {version!r}")
        if version > CONFIG_VERSION:
            raise ConfigError(f"model config version {version!r} is newer than this aeviewer supports ({CONFIG_VERSION})")
        known = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise ConfigError(f"model config has unknown fields: {', '.join(unknown)}")
        values: dict[str, Any] = {}
        for name, value in data.items():
            default = getattr(cls(), name)
            if isinstance(default, tuple):
                if not isinstance(value, (list, tuple)) or not all(isinstance(v, int) for v in value):
                    raise ConfigError(f"model config field {name!r} must be a list of integers")
                value = tuple(value)
            elif isinstance(default, bool):
                if not isinstance(value, bool):
                    raise ConfigError(f"model config field {name!r} must be true or false")
            elif isinstance(default, (int, float)):
                if isinstance(value, bool) or not isinstance(value, (int, float)):
                    raise ConfigError(f"model config field {name!r} must be a number")
                value = type(default)(value)
            elif not isinstance(value, str):
                raise ConfigError(f"model config field {name!r} must be a string")
            values[name] = value
        return cls(**values)
