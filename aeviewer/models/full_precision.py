"""fp32 islands inside a mixed-precision training step.

The Trainer may run a step under autocast (bf16 or fp16, ``aeviewer.training.precision``). The parts whose
rounding would bias training stay fp32 here: loss sums over thousands of pixels (bf16 keeps 8 bits of mantissa,
so a 12,288-pixel sum would lose its last digits), the KL, the VQ-VAE's code distances (an argmin between
nearly equal distances flips under rounding) and its EMA statistics.
"""
from __future__ import annotations

from typing import Any, ContextManager

import torch


def fp32_region(like: torch.Tensor) -> ContextManager[Any]:
    """Autocast off for the device of ``like``: the ops inside run in their inputs' dtypes (make them ``.float()``)."""
    return torch.autocast(like.device.type, enabled=False)
