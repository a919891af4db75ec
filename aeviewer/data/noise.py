"""Input corruptions for denoising: gaussian (σ), masking (fraction zeroed), salt-and-pepper (fraction).

A :class:`NoiseSpec` is written ``kind:level`` on the command line and in model configs
(``gaussian:0.5``, ``masking:0.25``, ``salt_pepper:0.2``, ``none``); ``str(spec)`` gives that text back.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch

from aeviewer.errors import ConfigError
from aeviewer.spec.vocabulary import NOISE_KINDS

KINDS: tuple[str, ...] = ("none", *NOISE_KINDS)
_ALIASES = {"salt-pepper": "salt_pepper", "saltpepper": "salt_pepper", "s&p": "salt_pepper", "mask": "masking"}
_FRACTION_KINDS = ("masking", "salt_pepper")  # their level is a probability per pixel


@dataclass(frozen=True)
class NoiseSpec:
    """One corruption: ``kind`` in KINDS and its ``level`` (σ for gaussian, a fraction of pixels otherwise)."""

    kind: str = "none"
    level: float = 0.0

    def __post_init__(self) -> None:
        kind = _ALIASES.get(self.kind, self.kind)
        if kind not in KINDS:
            raise ConfigError(f"unknown noise kind {self.kind!r} (use one of: {', '.join(KINDS)})")
        try:
            level = float(self.level)
        except (TypeError, ValueError):
            raise ConfigError(f"noise level {self.level!r} is not a number") from None
        if not math.isfinite(level):
            raise ConfigError(f"noise level {level} for {kind} is not finite")
        if kind == "none" and level != 0.0:
            raise ConfigError(f"noise kind none takes no level (got {level:g})")
        if kind == "gaussian" and level < 0:
            raise ConfigError(f"gaussian noise σ must be >= 0 (got {level:g})")
        if kind in _FRACTION_KINDS and not 0.0 <= level <= 1.0:
            raise ConfigError(f"{kind} level is a fraction of pixels and must be in [0, 1] (got {level:g})")
        object.__setattr__(self, "kind", kind)  # frozen dataclass: normalise in place once
        object.__setattr__(self, "level", level)

    @classmethod
    def parse(cls, text: str) -> "NoiseSpec":
        """``"gaussian:0.5"`` -> NoiseSpec("gaussian", 0.5); ``"none"`` (or empty) -> no corruption."""
        text = text.strip()
        if text in ("", "none"):
            return cls()
        kind, sep, level = text.partition(":")
        if not sep:
            raise ConfigError(f"noise {text!r} needs a level, e.g. gaussian:0.5, masking:0.25, salt_pepper:0.2")
        try:
            value = float(level)
        except ValueError:
            raise ConfigError(f"noise level {level.strip()!r} in {text!r} is not a number") from None
        return cls(kind.strip().lower(), value)

    def __str__(self) -> str:
        if self.kind == "none":
            return "none"
        short = f"{self.level:g}"
        return f"{self.kind}:{short if float(short) == self.level else repr(self.level)}"  # exact round trip

    @property
    def slug(self) -> str:
        """A name safe inside metric keys and file names, e.g. ``gaussian_0.5``."""
        return str(self).replace(":", "_")

    @property
    def is_identity(self) -> bool:
        return self.kind == "none" or self.level == 0.0


def corrupt(x: torch.Tensor, spec: NoiseSpec, generator: torch.Generator | None = None) -> torch.Tensor:
    """A corrupted copy of the float images ``x`` in [0, 1], clipped to [0, 1]; ``x`` is left untouched.

    Random draws come from ``generator`` (seeded -> reproducible) on the generator's device and are moved
    to ``x``'s device, so a CPU generator works with CUDA images. For (N, C, H, W) input, masking and
    salt-and-pepper hit whole pixels (all channels together).
    """
    if not x.is_floating_point():
        raise TypeError(f"corrupt expects float images in [0, 1], got {x.dtype}")
    if spec.kind == "gaussian":
        eps = _draw(torch.randn, tuple(x.shape), x, generator)
        return (x + spec.level * eps).clamp_(0.0, 1.0)  # x̃ = clip(x + σ·ε), ε ~ N(0, I)
    if spec.kind == "masking":
        u = _draw(torch.rand, _pixel_shape(x), x, generator)
        return x.clamp(0.0, 1.0).masked_fill_(u < spec.level, 0.0)  # each pixel zeroed with probability level
    if spec.kind == "salt_pepper":
        # One uniform draw per pixel: u < p/2 -> 0 (pepper), p/2 <= u < p -> 1 (salt), else unchanged.
        u = _draw(torch.rand, _pixel_shape(x), x, generator)
        out = x.clamp(0.0, 1.0)
        out = out.masked_fill(u < spec.level / 2, 0.0)
        return out.masked_fill_((u >= spec.level / 2) & (u < spec.level), 1.0)
    return x.clamp(0.0, 1.0)


def _pixel_shape(x: torch.Tensor) -> tuple[int, ...]:
    """Shape of one draw per pixel: (N, 1, H, W) for image batches (broadcast over channels), else x's shape."""
    return (x.shape[0], 1, *x.shape[2:]) if x.ndim == 4 else tuple(x.shape)


def _draw(
    sampler: Callable[..., torch.Tensor],
    shape: tuple[int, ...],
    x: torch.Tensor,
    generator: torch.Generator | None,
) -> torch.Tensor:
    device = generator.device if generator is not None else x.device
    dtype = x.dtype if x.dtype in (torch.float32, torch.float64) else torch.float32  # half: draw in float32
    sample = sampler(shape, generator=generator, device=device, dtype=dtype)
    return sample.to(device=x.device, dtype=x.dtype)
