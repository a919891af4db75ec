"""Encoder and decoder builders shared by the kinds: an MLP for any image size, a small conv net for 28x28."""
from __future__ import annotations

import torch
from torch import nn

from aeviewer.errors import ConfigError
from aeviewer.models.config import ModelConfig

CONV_IMAGE_SIZE = (28, 28)  # two stride-2 convs: 28 -> 14 -> 7


def mlp(sizes: tuple[int, ...] | list[int], dropout: float = 0.0) -> nn.Sequential:
    """Linear layers of the given widths with ReLU between them (none after the last), each ReLU followed
    by dropout when ``dropout`` > 0. The ReLU and its dropout share one slot of the Sequential, so the
    weights keep their names (``0.weight``, ``2.weight``, ...) with or without dropout."""
    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        if i:
            layers.append(nn.Sequential(nn.ReLU(), nn.Dropout(dropout)) if dropout else nn.ReLU())
        layers.append(nn.Linear(n_in, n_out))
    return nn.Sequential(*layers)


def check_conv_shape(image_shape: tuple[int, int, int]) -> None:
    if tuple(image_shape[1:]) != CONV_IMAGE_SIZE:
        raise ConfigError(f"arch 'conv' needs 28x28 images, got {image_shape[1]}x{image_shape[2]}; use arch 'mlp'")


def _n_pixels(image_shape: tuple[int, int, int]) -> int:
    c, h, w = image_shape
    return c * h * w


def mlp_encoder(image_shape: tuple[int, int, int], hidden: tuple[int, ...], out_dim: int) -> nn.Sequential:
    """Flatten, then D -> hidden... -> out_dim."""
    return nn.Sequential(nn.Flatten(), *mlp((_n_pixels(image_shape), *hidden, out_dim)))


def mlp_decoder(latent_dim: int, hidden: tuple[int, ...], image_shape: tuple[int, int, int],
                dropout: float = 0.0) -> nn.Sequential:
    """latent -> reversed(hidden)... -> D logits, reshaped to the image."""
    return nn.Sequential(*mlp((latent_dim, *reversed(hidden), _n_pixels(image_shape)), dropout),
                         nn.Unflatten(1, image_shape))


def conv_encoder(image_shape: tuple[int, int, int], channels: tuple[int, int], out_dim: int) -> nn.Sequential:
    """28x28: conv c1 stride 2 -> 14x14, conv c2 stride 2 -> 7x7, linear to out_dim."""
    check_conv_shape(image_shape)
    c1, c2 = channels
    return nn.Sequential(
        nn.Conv2d(image_shape[0], c1, 4, stride=2, padding=1), nn.ReLU(),
        nn.Conv2d(c1, c2, 4, stride=2, padding=1), nn.ReLU(),
        nn.Flatten(), nn.Linear(c2 * 7 * 7, out_dim),
    )


def conv_decoder(latent_dim: int, channels: tuple[int, int], image_shape: tuple[int, int, int]) -> nn.Sequential:
    """The encoder mirrored: linear to c2x7x7, transposed convs 7 -> 14 -> 28, logits out."""
    check_conv_shape(image_shape)
    c1, c2 = channels
    return nn.Sequential(
        nn.Linear(latent_dim, c2 * 7 * 7), nn.ReLU(), nn.Unflatten(1, (c2, 7, 7)),
        nn.ConvTranspose2d(c2, c1, 4, stride=2, padding=1), nn.ReLU(),
        nn.ConvTranspose2d(c1, image_shape[0], 4, stride=2, padding=1),
    )


def _conv_channels(config: ModelConfig) -> tuple[int, int]:
    if len(config.channels) != 2:
        raise ConfigError(f"arch 'conv' needs two channel counts, got {list(config.channels)}")
    return config.channels[0], config.channels[1]


def build_encoder(config: ModelConfig, out_dim: int) -> nn.Sequential:
    """The encoder the config's arch names, image -> (N, out_dim)."""
    if config.arch == "conv":
        return conv_encoder(config.image_shape, _conv_channels(config), out_dim)
    return mlp_encoder(config.image_shape, config.hidden, out_dim)


def build_decoder(config: ModelConfig) -> nn.Sequential:
    """The decoder the config's arch names, (N, latent_dim) -> logits (N, C, H, W)."""
    if config.arch == "conv":
        return conv_decoder(config.latent_dim, _conv_channels(config), config.image_shape)
    return mlp_decoder(config.latent_dim, config.hidden, config.image_shape, config.decoder_dropout)


MEAN_CLAMP = 1e-3  # keeps the logit of an always-black (or always-white) pixel finite


@torch.no_grad()
def set_output_bias(decoder: nn.Module, mean_image: torch.Tensor) -> None:
    """Set the decoder's last bias to logit(mean_image): per pixel for a linear output layer, per
    channel for a convolutional one. A fresh decoder then outputs about the data's mean image and
    learns departures from it, instead of spending its first steps finding the background."""
    last = [m for m in decoder.modules() if isinstance(m, (nn.Linear, nn.ConvTranspose2d, nn.Conv2d))][-1]
    mean = mean_image.to(last.bias)
    target = mean.flatten() if isinstance(last, nn.Linear) else mean.flatten(1).mean(1)
    last.bias.copy_(torch.logit(target.clamp(MEAN_CLAMP, 1 - MEAN_CLAMP)))


def device_of(module: nn.Module) -> torch.device:
    """The device a model's weights live on (where its samples must be drawn); the CPU for one without weights."""
    param = next(module.parameters(), None)
    return param.device if param is not None else torch.device("cpu")
