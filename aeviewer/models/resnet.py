"""The residual conv nets (``arch`` "resnet"): residual blocks with GroupNorm and SiLU between stride-2 stages, as
in the encoders of the Stable Diffusion VAE and VQGAN, sized for square images of 16 to 256 px.

Encoder: a 3x3 conv at full resolution, then per stage a stride-2 conv (the side halves, the width changes) and a
residual block, a middle block at the smallest grid, GroupNorm + SiLU, and a head: a linear layer to a vector
(AE, VAE, AAE) or a 1x1 conv to the code grid (VQ-VAE). The decoder mirrors it with transposed convs; the
blocks sit at the halved resolutions only (a block at full resolution costs as much as the rest together), and a
3x3 conv gives the logits. The widths and stage counts are the conv arch's (``channels``, ``conv_stages``).
"""
from __future__ import annotations

import math

import torch
from torch import nn

RESNET_MAX_WIDTH = 128  # widths doubled per stage stop here: a block at 256 wide holds 1.2M weights (the 64 px VAE
#                         had 6.9M weights, 28 MB, with them; 2.5M with this cap)
NORM_GROUPS = 8  # GroupNorm groups (fewer where a width is not a multiple): SD uses 32 on widths of 128 and more


def group_norm(width: int) -> nn.GroupNorm:
    return nn.GroupNorm(math.gcd(width, NORM_GROUPS), width)


class ResBlock(nn.Module):
    """x + conv(SiLU(GN(conv(SiLU(GN(x)))))): the pre-activation block of the SD-VAE/VQGAN encoders."""

    def __init__(self, width: int) -> None:
        super().__init__()
        self.body = nn.Sequential(group_norm(width), nn.SiLU(), nn.Conv2d(width, width, 3, padding=1),
                                  group_norm(width), nn.SiLU(), nn.Conv2d(width, width, 3, padding=1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


def _down_trunk(in_channels: int, widths: tuple[int, ...]) -> list[nn.Module]:
    """Image (C, S, S) -> features (widths[-1], S >> stages, same), normalised and activated."""
    layers: list[nn.Module] = [nn.Conv2d(in_channels, widths[0], 3, padding=1)]
    for n_in, n_out in zip((widths[0], *widths[:-1]), widths):
        layers += [nn.Conv2d(n_in, n_out, 4, stride=2, padding=1), ResBlock(n_out)]
    return [*layers, ResBlock(widths[-1]), group_norm(widths[-1]), nn.SiLU()]


def _up_trunk(widths: tuple[int, ...], out_channels: int) -> list[nn.Module]:
    """Features (widths[-1], grid, grid) -> logits (C, grid << stages, same)."""
    layers: list[nn.Module] = [ResBlock(widths[-1]), ResBlock(widths[-1])]
    for n_in, n_out in zip(reversed(widths[1:]), reversed(widths[:-1])):
        layers += [nn.ConvTranspose2d(n_in, n_out, 4, stride=2, padding=1), ResBlock(n_out)]
    return [*layers, nn.ConvTranspose2d(widths[0], widths[0], 4, stride=2, padding=1), group_norm(widths[0]),
            nn.SiLU(), nn.Conv2d(widths[0], out_channels, 3, padding=1)]


def resnet_encoder(image_shape: tuple[int, int, int], widths: tuple[int, ...], out_dim: int) -> nn.Sequential:
    """Image -> (N, out_dim)."""
    grid = image_shape[1] >> len(widths)
    return nn.Sequential(*_down_trunk(image_shape[0], widths), nn.Flatten(),
                         nn.Linear(widths[-1] * grid * grid, out_dim))


def resnet_decoder(latent_dim: int, widths: tuple[int, ...], image_shape: tuple[int, int, int]) -> nn.Sequential:
    """(N, latent_dim) -> logits (N, C, H, W)."""
    grid = image_shape[1] >> len(widths)
    return nn.Sequential(nn.Linear(latent_dim, widths[-1] * grid * grid), nn.Unflatten(1, (widths[-1], grid, grid)),
                         *_up_trunk(widths, image_shape[0]))


def resnet_grid_encoder(image_shape: tuple[int, int, int], widths: tuple[int, ...], code_dim: int) -> nn.Sequential:
    """Image -> a grid of code_dim vectors (N, code_dim, S >> stages, same): the VQ-VAE's."""
    return nn.Sequential(*_down_trunk(image_shape[0], widths), nn.Conv2d(widths[-1], code_dim, 1))


def resnet_grid_decoder(code_dim: int, widths: tuple[int, ...], image_shape: tuple[int, int, int]) -> nn.Sequential:
    """A grid of code vectors -> logits (N, C, H, W)."""
    return nn.Sequential(nn.Conv2d(code_dim, widths[-1], 3, padding=1), *_up_trunk(widths, image_shape[0]))
