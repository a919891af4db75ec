"""Encoder and decoder builders shared by the kinds: an MLP for any image size, a conv net for square
images of 16 to 256 px (a multiple of 4) with any number of channels."""
from __future__ import annotations

import torch
from torch import nn

from aeviewer.errors import ConfigError
from aeviewer.models.config import ModelConfig
from aeviewer.models.resnet import RESNET_MAX_WIDTH, resnet_decoder, resnet_encoder

CONV_MIN_SIDE, CONV_MAX_SIDE = 16, 256
CONV_MIN_GRID = 4  # the stride-2 stages halve the side while it stays even and the result is at least this
CONV_MAX_WIDTH = 256  # widths beyond those the config lists double per stage up to this


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
    _, h, w = image_shape
    if h != w or not CONV_MIN_SIDE <= h <= CONV_MAX_SIDE or h % 4:
        raise ConfigError(f"archs 'conv' and 'resnet' need square images of {CONV_MIN_SIDE} to {CONV_MAX_SIDE} px, a multiple "
                          f"of 4, got {h}x{w}; use arch 'mlp' (or --image-size)")


def conv_stages_for(side: int) -> int:
    """Stride-2 stages for a side: halve while the side is even and the half is at least 4
    (28 -> 14 -> 7: 2 stages, as before; 64 -> 4: 4 stages; 16 -> 4: 2)."""
    stages = 0
    while side % 2 == 0 and side // 2 >= CONV_MIN_GRID:
        side //= 2
        stages += 1
    return stages


def conv_stages(config: ModelConfig) -> int:
    """The config's stage count; 0 (configs written before it was recorded) means derived from the size."""
    return config.conv_stages or conv_stages_for(config.image_shape[1])


def stage_widths(channels: tuple[int, ...], stages: int, most: int = CONV_MAX_WIDTH) -> tuple[int, ...]:
    """One width per stage: the config's, then each further stage double the last (at most ``most``)."""
    if len(channels) > stages:
        raise ConfigError(f"arch 'conv' with {stages} stages takes at most {stages} channel counts, got {list(channels)}")
    widths = list(channels)
    while len(widths) < stages:
        widths.append(min(2 * widths[-1], max(most, widths[-1])))
    return tuple(widths)


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


def conv_encoder(image_shape: tuple[int, int, int], widths: tuple[int, ...], out_dim: int) -> nn.Sequential:
    """A stride-2 conv per width (each halves the side: 28 -> 14 -> 7 with two), then linear to out_dim."""
    check_conv_shape(image_shape)
    layers: list[nn.Module] = []
    for n_in, n_out in zip((image_shape[0], *widths[:-1]), widths):
        layers += [nn.Conv2d(n_in, n_out, 4, stride=2, padding=1), nn.ReLU()]
    grid = image_shape[1] >> len(widths)
    return nn.Sequential(*layers, nn.Flatten(), nn.Linear(widths[-1] * grid * grid, out_dim))


def conv_decoder(latent_dim: int, widths: tuple[int, ...], image_shape: tuple[int, int, int]) -> nn.Sequential:
    """The encoder mirrored: linear to the last width's grid, a transposed conv per stage, logits out."""
    check_conv_shape(image_shape)
    grid = image_shape[1] >> len(widths)
    layers: list[nn.Module] = [nn.Linear(latent_dim, widths[-1] * grid * grid), nn.ReLU(),
                               nn.Unflatten(1, (widths[-1], grid, grid))]
    outs = (*reversed(widths[:-1]), image_shape[0])
    for i, (n_in, n_out) in enumerate(zip(reversed(widths), outs)):
        layers.append(nn.ConvTranspose2d(n_in, n_out, 4, stride=2, padding=1))
        if i < len(outs) - 1:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def _conv_widths(config: ModelConfig) -> tuple[int, ...]:
    most = RESNET_MAX_WIDTH if config.arch == "resnet" else CONV_MAX_WIDTH
    return stage_widths(tuple(config.channels), conv_stages(config), most)


def build_encoder(config: ModelConfig, out_dim: int) -> nn.Sequential:
    """The encoder the config's arch names, image -> (N, out_dim)."""
    if config.arch == "resnet":
        check_conv_shape(config.image_shape)
        return resnet_encoder(config.image_shape, _conv_widths(config), out_dim)
    if config.arch == "conv":
        return conv_encoder(config.image_shape, _conv_widths(config), out_dim)
    return mlp_encoder(config.image_shape, config.hidden, out_dim)


def build_decoder(config: ModelConfig) -> nn.Sequential:
    """The decoder the config's arch names, (N, latent_dim) -> logits (N, C, H, W)."""
    if config.arch == "resnet":
        check_conv_shape(config.image_shape)
        return resnet_decoder(config.latent_dim, _conv_widths(config), config.image_shape)
    if config.arch == "conv":
        return conv_decoder(config.latent_dim, _conv_widths(config), config.image_shape)
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
