"""Training precision: which arithmetic a run uses (fp32, or bf16/fp16 autocast) and where it is fast.

``auto`` picks bf16 autocast where the hardware runs it natively — a CPU with AMX-BF16 or AVX512-BF16 (read
from /proc/cpuinfo at run time), a CUDA GPU that supports bf16 — and fp32 everywhere else: emulated bf16 is
slower than fp32. fp16 needs a GradScaler (its range is too small for the gradients) and runs on CUDA only.

Autocast covers the networks' convolutions and matrix products; the models compute their loss sums, the KL,
the VQ-VAE's distances and EMA statistics in fp32 (``aeviewer.models.full_precision``), and the weights,
the optimiser's state and the checkpoint stay fp32 throughout.
"""
from __future__ import annotations

import contextlib
import dataclasses
import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ContextManager, Mapping

import torch

from aeviewer.errors import ConfigError
from aeviewer.spec.vocabulary import PRECISIONS

CPU_BF16_FLAGS = ("amx_bf16", "avx512_bf16")  # /proc/cpuinfo flags of CPUs with native bf16 arithmetic
RECORD_KEY = "precision"  # the train record's entry (checkpoint extra["train"]) that names the precision used


@dataclass(frozen=True)
class Precision:
    """A resolved precision: ``name`` (fp32 | bf16 | fp16) and the autocast dtype (None for fp32)."""

    name: str
    dtype: torch.dtype | None
    device_type: str

    @property
    def needs_scaler(self) -> bool:
        """fp16's gradients underflow without loss scaling; bf16 has fp32's range."""
        return self.dtype is torch.float16

    def autocast(self) -> ContextManager[Any]:
        """The context a training step runs in: autocast to ``dtype``, or nothing for fp32."""
        if self.dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device_type, dtype=self.dtype)

    def grad_scaler(self) -> torch.amp.GradScaler | None:
        return torch.amp.GradScaler(self.device_type) if self.needs_scaler else None


@functools.lru_cache(maxsize=1)
def cpu_flags() -> frozenset[str]:
    """The CPU's feature flags from /proc/cpuinfo (empty where there is none: macOS, Windows)."""
    try:
        text = Path("/proc/cpuinfo").read_text(errors="replace")
    except OSError:
        return frozenset()
    for line in text.splitlines():
        if line.startswith("flags"):
            return frozenset(line.partition(":")[2].split())
    return frozenset()


def fast_bf16(device: torch.device) -> bool:
    """Whether ``device`` runs bf16 arithmetic natively (so autocast to bf16 is faster than fp32)."""
    if device.type == "cuda":
        return torch.cuda.is_available() and torch.cuda.is_bf16_supported(including_emulation=False)
    if device.type == "cpu":
        return any(flag in cpu_flags() for flag in CPU_BF16_FLAGS)
    return False


def resolve_precision(spec: str, device: torch.device) -> Precision:
    """``spec`` (auto | fp32 | bf16 | fp16) for ``device``; ConfigError (one line) for what cannot run there."""
    spec = (spec or "auto").strip().lower()
    if spec not in PRECISIONS:
        raise ConfigError(f"unknown precision {spec!r}; choose one of {', '.join(PRECISIONS)}")
    if spec == "auto":
        spec = "bf16" if fast_bf16(device) else "fp32"
    if spec == "fp16" and device.type != "cuda":
        raise ConfigError("precision fp16 needs a CUDA GPU (it trains with a gradient scaler there); "
                          "on the CPU use bf16 or fp32")
    if spec == "bf16" and device.type == "cuda" and not torch.cuda.is_bf16_supported():
        raise ConfigError("precision bf16 is not supported by this GPU; use fp16 or fp32")
    dtype = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}[spec]
    return Precision(spec, dtype, device.type)


def resolved_config(config: Any, device: torch.device) -> Any:
    """A TrainConfig with ``precision`` "auto" replaced by what it means on ``device``, so that the run's
    record (and the checkpoint) names the precision really used."""
    return dataclasses.replace(config, precision=resolve_precision(config.precision, device).name)


def recorded_precision(extra: Mapping[str, Any]) -> str:
    """The precision a checkpoint's model was trained in (its ``extra``); fp32 for files written before it was
    recorded, which were all trained in fp32."""
    record = extra.get("train")
    value = record.get(RECORD_KEY) if isinstance(record, Mapping) else None
    return value if value in PRECISIONS and value != "auto" else "fp32"


CPU_AMX_FLAGS = ("amx_bf16", "amx_tile")  # where oneDNN's NHWC convolutions were measured faster on a CPU


def has_convolutions(model: torch.nn.Module) -> bool:
    return any(isinstance(m, (torch.nn.Conv2d, torch.nn.ConvTranspose2d)) for m in model.modules())


def channels_last_helps(device: torch.device) -> bool:
    """Whether conv nets train faster in the NHWC layout on ``device``: on CUDA (cuDNN's tensor-core kernels are
    NHWC) and on a CPU with AMX (the emoji conv VAE: 1.15x in fp32, 1.18x more under bf16). On an AVX512-BF16 CPU
    without AMX (AMD EPYC) it was 0.97-1.1x, no gain (docs/measurements.md#precision), so the layout stays."""
    if device.type == "cuda":
        return True
    return device.type == "cpu" and any(flag in cpu_flags() for flag in CPU_AMX_FLAGS)


def uses_channels_last(setting: bool | None, model: torch.nn.Module, device: torch.device) -> bool:
    """The TrainConfig's ``channels_last`` (None: where it helps) for ``model`` on ``device``; an MLP keeps its
    layout whatever is asked."""
    wanted = channels_last_helps(device) if setting is None else setting
    return wanted and has_convolutions(model)
