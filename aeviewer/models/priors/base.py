"""What every prior over a VQ-VAE's code maps shares: its config, its NLL, and the raster-order step interface.

A prior models p(c) = prod_t p(c_t | c_<t, y) over the H'xW' code map read in raster order (row by row), with an
optional class y. Each architecture gives ``forward(codes, labels) -> logits (N, K, H', W')`` for training
(teacher forcing: the logits at t see only the codes before t) and a step interface for sampling:
``start(n, labels)`` makes a state, ``next_logits(state, codes, t)`` gives the logits of position t once
``codes[:, :t]`` are filled.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from aeviewer.util.records import record_fields
from aeviewer.errors import ConfigError
from aeviewer.spec.vocabulary import PRIOR_ARCHS

PRIOR_CONFIG_VERSION = 1


@dataclass
class PriorConfig:
    arch: str = PRIOR_ARCHS[0]
    codebook_size: int = 512  # K: the VQ-VAE's
    grid: tuple[int, int] = (7, 7)  # H', W': the VQ-VAE's code map
    n_classes: int = 0  # 0: unconditional; else p(c | y) with y in 0..n_classes-1
    width: int = 128  # transformer: embedding width; pixelcnn: channels
    layers: int = 3
    heads: int = 4  # transformer only
    kernel: int = 5  # pixelcnn only (odd)
    dropout: float = 0.1  # transformer only: on attention output and MLP while training
    # transformer only: add a row and a column embedding to each position's own, so that what is learned about
    # the code above carries over between columns (False in priors saved before it existed)
    axial_positions: bool = False
    version: int = PRIOR_CONFIG_VERSION

    @property
    def length(self) -> int:
        return self.grid[0] * self.grid[1]

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Any) -> "PriorConfig":
        """The config saved by ``to_dict``; ConfigError (one line) for anything else."""
        values = record_fields(cls, data, "prior config")
        if "grid" in values:
            grid = values["grid"]
            if not isinstance(grid, (list, tuple)) or len(grid) != 2 or not all(_is_int(g) for g in grid):
                raise ConfigError("prior config field 'grid' must be two whole numbers")
            values["grid"] = tuple(grid)
        for name in ("codebook_size", "n_classes", "width", "layers", "heads", "kernel", "version"):
            if name in values and not _is_int(values[name]):
                raise ConfigError(f"prior config field {name!r} must be a whole number")
        if "axial_positions" in values and not isinstance(values["axial_positions"], bool):
            raise ConfigError("prior config field 'axial_positions' must be true or false")
        if "dropout" in values and (isinstance(values["dropout"], bool) or not isinstance(values["dropout"], (int, float))):
            raise ConfigError("prior config field 'dropout' must be a number")
        config = cls(**values)
        validate_prior_config(config)
        return config


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def validate_prior_config(config: PriorConfig) -> None:
    """ConfigError (one line) for a config no prior can be built from."""
    if config.version > PRIOR_CONFIG_VERSION:
        raise ConfigError(f"prior config version {config.version} is newer than this aeviewer supports "
                          f"({PRIOR_CONFIG_VERSION})")
    if config.arch not in PRIOR_ARCHS:
        raise ConfigError(f"unknown prior arch {config.arch!r}; choose {' or '.join(PRIOR_ARCHS)}")
    if config.codebook_size < 1 or min(config.grid) < 1 or config.n_classes < 0:
        raise ConfigError("a prior needs codebook_size >= 1, a grid of positive sides and n_classes >= 0")
    if config.width < 1 or config.layers < 1 or config.heads < 1 or config.width % config.heads:
        raise ConfigError(f"a prior needs width, layers and heads >= 1 with width divisible by heads, "
                          f"got width {config.width}, heads {config.heads}")
    if config.kernel < 3 or config.kernel % 2 == 0:
        raise ConfigError(f"the pixelcnn's kernel must be odd and at least 3, got {config.kernel}")
    if not 0.0 <= config.dropout < 1.0:
        raise ConfigError(f"prior dropout must be in [0, 1), got {config.dropout}")


class CodePrior(nn.Module):
    """Base class of the priors: ``forward`` for training, ``start``/``next_logits`` for sampling."""

    def __init__(self, config: PriorConfig) -> None:
        super().__init__()
        validate_prior_config(config)
        self.config = config

    @property
    def conditional(self) -> bool:
        return self.config.n_classes > 0

    def forward(self, codes: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """Logits (N, K, H', W') of each code given the codes before it in raster order (and the class)."""
        raise NotImplementedError

    def start(self, n: int, labels: torch.Tensor | None, use_cache: bool = True) -> Any:
        """The sampling state of ``n`` code maps of classes ``labels`` (None for an unconditional prior);
        ``use_cache=False`` asks an architecture that caches to recompute instead (a reference for tests)."""
        raise NotImplementedError

    def next_logits(self, state: Any, codes: torch.Tensor, t: int) -> torch.Tensor:
        """Logits (n, K) of raster position ``t`` given ``codes`` (n, L) whose first ``t`` entries are filled.
        Called for t = 0, 1, ... in order."""
        raise NotImplementedError

    def nll(self, codes: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """-log p(c | y) per code map, in nats, shape (N,)."""
        logits = self(codes, labels)
        return F.cross_entropy(logits, codes, reduction="none").flatten(1).sum(1)

    def check_labels(self, labels: torch.Tensor | None, n: int) -> torch.Tensor | None:
        """``labels`` as a LongTensor (n,) for a conditional prior, None for an unconditional one."""
        if not self.conditional:
            return None
        if labels is None:
            raise ConfigError("this prior is class-conditional: give a class for each code map")
        labels = torch.as_tensor(labels, dtype=torch.long, device=self.device).reshape(-1)
        if len(labels) not in (1, n):
            raise ConfigError(f"give one class, or one for each of the {n} code maps (got {len(labels)})")
        labels = labels.expand(n)
        if int(labels.min()) < 0 or int(labels.max()) >= self.config.n_classes:
            raise ConfigError(f"class out of range: the prior knows classes 0..{self.config.n_classes - 1}")
        return labels

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device


BITS_PER_NAT = 1.0 / math.log(2.0)
