"""A small gated PixelCNN over a code map (van den Oord et al. 2016, as the VQ-VAE paper's prior).

Two stacks remove the blind spot of a masked 3x3 PixelCNN: the vertical stack sees every row above, the horizontal
stack the codes to the left in the same row, and the vertical one feeds the horizontal one. Each layer's gate is
tanh(a + b_y) * sigmoid(a' + b'_y), with a per-class bias b_y for a conditional prior. The first layer is masked
("A": the current position is hidden) and has no residual connection, which would leak the code itself.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from aeviewer.models.priors.base import CodePrior, PriorConfig


class MaskedConv(nn.Conv2d):
    """A conv whose kernel's last row (vertical) or last column (horizontal) is zero in an "A" layer."""

    def __init__(self, channels: int, kernel: tuple[int, int], padding: tuple[int, int], hide: str | None) -> None:
        super().__init__(channels, 2 * channels, kernel, padding=padding)
        mask = torch.ones_like(self.weight)
        if hide == "row":
            mask[:, :, -1] = 0
        elif hide == "column":
            mask[:, :, :, -1] = 0
        self.register_buffer("mask", mask, persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, self.weight * self.mask, self.bias, padding=self.padding)


def gate(x: torch.Tensor) -> torch.Tensor:
    a, b = x.chunk(2, dim=1)
    return torch.tanh(a) * torch.sigmoid(b)


class GatedLayer(nn.Module):
    def __init__(self, config: PriorConfig, first: bool) -> None:
        super().__init__()
        c, k = config.width, config.kernel
        self.first = first
        # vertical: a (k//2+1) x k kernel padded k//2 all round; its first H output rows see rows i-k//2..i
        self.vertical = MaskedConv(c, (k // 2 + 1, k), (k // 2, k // 2), "row" if first else None)
        # horizontal: 1 x (k//2+1) padded k//2; its first W output columns see columns j-k//2..j
        self.horizontal = MaskedConv(c, (1, k // 2 + 1), (0, k // 2), "column" if first else None)
        self.vertical_to_horizontal = nn.Conv2d(2 * c, 2 * c, 1)
        self.horizontal_out = nn.Conv2d(c, c, 1)
        self.class_bias = nn.Embedding(config.n_classes, 2 * c) if config.n_classes else None

    def forward(self, v: torch.Tensor, h: torch.Tensor, labels: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        rows, cols = v.shape[-2:]
        bias = self.class_bias(labels)[:, :, None, None] if self.class_bias is not None else 0.0
        v_pre = self.vertical(v)[:, :, :rows]
        h_pre = self.horizontal(h)[:, :, :, :cols]
        v_out = gate(v_pre + bias)
        h_gated = gate(h_pre + self.vertical_to_horizontal(v_pre) + bias)
        h_out = self.horizontal_out(h_gated) + (0.0 if self.first else h)
        return v_out, h_out


@dataclass
class _State:
    labels: torch.Tensor | None


class GatedPixelCNN(CodePrior):
    """p(c_t | c_<t, y) by gated masked convolutions over the embedded code map."""

    def __init__(self, config: PriorConfig) -> None:
        super().__init__(config)
        c = config.width
        self.code_embedding = nn.Embedding(config.codebook_size, c)
        self.layers = nn.ModuleList(GatedLayer(config, first=i == 0) for i in range(config.layers))
        self.out = nn.Sequential(nn.ReLU(), nn.Conv2d(c, c, 1), nn.ReLU(), nn.Conv2d(c, config.codebook_size, 1))

    def forward(self, codes: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self._logits(codes, self.check_labels(labels, len(codes)))

    def start(self, n: int, labels: torch.Tensor | None, use_cache: bool = True) -> _State:
        return _State(self.check_labels(labels, n))

    def next_logits(self, state: _State, codes: torch.Tensor, t: int) -> torch.Tensor:
        # Rows below t's row cannot reach it (both stacks look up or left only): leave them out.
        width = self.config.grid[1]
        row, col = divmod(t, width)
        above = codes[:, :(row + 1) * width].view(len(codes), row + 1, width)
        return self._logits(above, state.labels)[:, :, row, col]

    def _logits(self, codes: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        x = self.code_embedding(codes).permute(0, 3, 1, 2)
        v = h = x
        for layer in self.layers:
            v, h = layer(v, h, labels)
        return self.out(h)
