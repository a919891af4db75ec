"""A small causal transformer over the raster order of a code map (as VQGAN's), with a KV cache for sampling.

Input at position t: the embedding of code c_{t-1} (at t = 0 a start vector, the class's own for a conditional
prior) plus a learned position embedding; the output at t is p(c_t | c_<t, y). Pre-norm blocks, as nanoGPT.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from aeviewer.models.priors.base import CodePrior, PriorConfig


class _KVCache:
    """Keys and values of every layer for positions 0..t-1, preallocated (n, heads, L, head_dim) per layer."""

    def __init__(self, n_layers: int, n: int, heads: int, length: int, head_dim: int, like: torch.Tensor) -> None:
        shape = (n, heads, length, head_dim)
        self.keys = [like.new_zeros(shape) for _ in range(n_layers)]
        self.values = [like.new_zeros(shape) for _ in range(n_layers)]


class CausalSelfAttention(nn.Module):
    def __init__(self, config: PriorConfig) -> None:
        super().__init__()
        self.heads = config.heads
        self.qkv = nn.Linear(config.width, 3 * config.width)
        self.proj = nn.Linear(config.width, config.width)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x: torch.Tensor, cache: _KVCache | None = None, layer: int = 0, t: int = 0) -> torch.Tensor:
        """``x`` (n, T, W): the whole sequence (causal mask), or with ``cache`` the one position ``t``."""
        n, length, width = x.shape
        q, k, v = (part.view(n, length, self.heads, width // self.heads).transpose(1, 2)
                   for part in self.qkv(x).split(width, dim=2))
        if cache is None:
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        else:
            cache.keys[layer][:, :, t:t + length] = k
            cache.values[layer][:, :, t:t + length] = v
            # one new position attends to every cached one, itself included: no mask needed
            y = F.scaled_dot_product_attention(q, cache.keys[layer][:, :, :t + length],
                                               cache.values[layer][:, :, :t + length])
        return self.dropout(self.proj(y.transpose(1, 2).reshape(n, length, width)))


class Block(nn.Module):
    def __init__(self, config: PriorConfig) -> None:
        super().__init__()
        self.ln1 = nn.LayerNorm(config.width)
        self.attn = CausalSelfAttention(config)
        self.ln2 = nn.LayerNorm(config.width)
        self.mlp = nn.Sequential(nn.Linear(config.width, 4 * config.width), nn.GELU(),
                                 nn.Linear(4 * config.width, config.width), nn.Dropout(config.dropout))

    def forward(self, x: torch.Tensor, cache: _KVCache | None = None, layer: int = 0, t: int = 0) -> torch.Tensor:
        x = x + self.attn(self.ln1(x), cache, layer, t)
        return x + self.mlp(self.ln2(x))


@dataclass
class _State:
    start: torch.Tensor  # (n, W): the start vector of each code map
    cache: _KVCache | None  # None: each step recomputes the whole prefix (the reference the cache must match)


class CodeTransformer(CodePrior):
    """p(c_t | c_<t, y) by a decoder-only transformer over the L = H'W' positions."""

    def __init__(self, config: PriorConfig) -> None:
        super().__init__(config)
        w = config.width
        self.code_embedding = nn.Embedding(config.codebook_size, w)
        self.start_embedding = nn.Embedding(max(1, config.n_classes), w)  # one start vector per class
        self.position = nn.Parameter(torch.zeros(config.length, w))
        if config.axial_positions:
            self.row = nn.Parameter(torch.zeros(config.grid[0], 1, w))
            self.column = nn.Parameter(torch.zeros(1, config.grid[1], w))
            nn.init.normal_(self.row, std=0.02)
            nn.init.normal_(self.column, std=0.02)
        self.blocks = nn.ModuleList(Block(config) for _ in range(config.layers))
        self.ln_f = nn.LayerNorm(w)
        self.head = nn.Linear(w, config.codebook_size)
        nn.init.normal_(self.position, std=0.02)

    def forward(self, codes: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        n, h, w = codes.shape
        flat = codes.reshape(n, h * w)
        start = self._start(n, labels)[:, None]
        x = torch.cat([start, self.code_embedding(flat[:, :-1])], dim=1) + self._positions()
        logits = self._head(x)  # (n, L, K)
        return logits.transpose(1, 2).reshape(n, -1, h, w)

    def start(self, n: int, labels: torch.Tensor | None, use_cache: bool = True) -> _State:
        cfg = self.config
        start = self._start(n, labels)
        cache = _KVCache(cfg.layers, n, cfg.heads, cfg.length, cfg.width // cfg.heads, start) if use_cache else None
        return _State(start, cache)

    def next_logits(self, state: _State, codes: torch.Tensor, t: int) -> torch.Tensor:
        if state.cache is None:  # the whole prefix again: inputs 0..t
            x = torch.cat([state.start[:, None], self.code_embedding(codes[:, :t])], dim=1) + self._positions()[:t + 1]
            return self._head(x)[:, -1]
        token = state.start if t == 0 else self.code_embedding(codes[:, t - 1])
        x = (token + self._positions()[t])[:, None]
        for i, block in enumerate(self.blocks):
            x = block(x, state.cache, i, t)
        return self.head(self.ln_f(x))[:, 0]

    def _positions(self) -> torch.Tensor:
        """(L, W): each raster position's embedding (plus its row's and column's, with axial_positions)."""
        if not self.config.axial_positions:
            return self.position
        return self.position + (self.row + self.column).flatten(0, 1)

    def _start(self, n: int, labels: torch.Tensor | None) -> torch.Tensor:
        labels = self.check_labels(labels, n)
        index = labels if labels is not None else torch.zeros(n, dtype=torch.long, device=self.device)
        return self.start_embedding(index)

    def _head(self, x: torch.Tensor) -> torch.Tensor:
        for block in self.blocks:
            x = block(x)
        return self.head(self.ln_f(x))
