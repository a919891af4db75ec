"""Checkpoints: one .safetensors file — the weights, plus JSON config/data set/metrics/history in its metadata.

Loading never unpickles (safetensors only) and refuses a truncated, foreign, newer or mismatched file
with a one-line :class:`CheckpointError` naming it. Saving writes a temp file beside the target and
renames it over the target, so a failed save leaves the previous file as it was.

Metadata keys (all strings): ``format`` = "aeviewer", ``format_version``, ``config`` (ModelConfig as
JSON), ``dataset`` (a named set; a folder/.npz/CIFAR source inside the data directory relative to it, one
elsewhere by its absolute path: :func:`aeviewer.data.loader.portable_spec`), ``metrics``,
``history``, ``extra`` (JSON each), ``prior`` (JSON, only for a VQ-VAE with a learned prior over its code maps:
the prior's config; its tensors are the ``prior.*`` ones), and ``preparation`` (JSON, only for a path source: how its images
were prepared, :class:`aeviewer.data.preparation.Preparation`).
"""
from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save as safetensors_bytes

from aeviewer.util import atomic
from aeviewer.data.preparation import Preparation
from aeviewer.errors import AeviewerError, CheckpointError
from aeviewer.models.base import Autoencoder
from aeviewer.models.config import ModelConfig
from aeviewer.models.priors import attach_from_metadata, prior_metadata

FORMAT = "aeviewer"
FORMAT_VERSION = 1


@dataclass
class Checkpoint:
    model: Autoencoder  # in eval mode, on ``map_location``
    dataset: str
    metrics: dict[str, Any] = field(default_factory=dict)
    history: list[dict[str, Any]] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None
    preparation: Preparation | None = None  # how a path source's images were prepared (None: a named set)

    @property
    def config(self) -> ModelConfig:
        return self.model.config


def save_checkpoint(
    path: str | Path,
    model: Autoencoder,
    *,
    dataset: str,
    metrics: dict[str, Any] | None = None,
    history: list[dict[str, Any]] | None = None,
    extra: dict[str, Any] | None = None,
    preparation: Preparation | None = None,
) -> Path:
    """Write ``model`` and its records to ``path`` atomically; returns the path."""
    path = Path(path)
    if path.is_dir():
        raise CheckpointError(f"{path}: is a directory; give a file name ending in .safetensors")
    # safetensors wants contiguous CPU tensors that share no storage: clone each one.
    tensors = {k: v.detach().to("cpu").contiguous().clone() for k, v in model.state_dict().items()}
    metadata = {
        "format": FORMAT,
        "format_version": str(FORMAT_VERSION),
        "config": json.dumps(model.config.to_dict()),
        "dataset": dataset,
        "metrics": json.dumps(metrics or {}),
        "history": json.dumps(history or []),
        "extra": json.dumps(extra or {}),
    }
    if preparation is not None:
        metadata["preparation"] = json.dumps(preparation.to_dict())
    prior = prior_metadata(model)
    if prior is not None:
        metadata["prior"] = prior
    atomic.write_bytes(path, safetensors_bytes(tensors, metadata), CheckpointError)
    return path


def rewrite_metadata(path: str | Path, changes: dict[str, str]) -> Path:
    """Set the metadata entries ``changes`` (raw strings, JSON for the JSON keys) of the checkpoint at ``path``
    in place, atomically: only the header is rewritten, the tensors' bytes stay as they are (records put right
    without retraining)."""
    path = _existing_file(path)
    read_metadata(path)  # an aeviewer checkpoint, readable
    raw = path.read_bytes()
    size = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8:8 + size])
    header["__metadata__"] = {**header.get("__metadata__", {}), **{str(k): str(v) for k, v in changes.items()}}
    _decode_metadata(path, header["__metadata__"])
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)  # the tensors start 8-byte aligned, as safetensors writes them
    atomic.write_bytes(path, len(text).to_bytes(8, "little") + text + raw[8 + size:], CheckpointError)
    return path


def read_metadata(path: str | Path) -> dict[str, Any]:
    """The decoded records of a checkpoint without building the model (for listings)."""
    path = _existing_file(path)
    try:
        with safe_open(str(path), framework="pt") as f:
            raw = f.metadata() or {}
    except (SafetensorError, OSError, ValueError) as err:
        raise _foreign(path, err) from None
    return _decode_metadata(path, raw)


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> Checkpoint:
    """Rebuild the exact model saved at ``path`` (strict: every tensor present, with its shape)."""
    path = _existing_file(path)
    try:
        with safe_open(str(path), framework="pt", device="cpu") as f:
            raw = f.metadata() or {}
            records = _decode_metadata(path, raw)
            tensors = {k: f.get_tensor(k) for k in f.keys()}
    except (SafetensorError, OSError, ValueError) as err:
        raise _foreign(path, err) from None
    config = _parse_config(path, records["config"])
    # Match the file against shapes from a storage-less build first: a config declaring huge layers must
    # not allocate them; once matched, the model is no bigger than the tensors the file really holds.
    prior = raw.get("prior")
    _check_tensors(path, _build(path, config, device="meta", prior=prior).state_dict(), tensors)
    model = _build(path, config, prior=prior)
    model.load_state_dict(tensors, strict=True)
    model.to(map_location).eval()
    return Checkpoint(model, records["dataset"], records["metrics"], records["history"], records["extra"], path,
                      _parse_preparation(path, raw.get("preparation")))


# -- validation -------------------------------------------------------------------------------------
def _existing_file(path: str | Path) -> Path:
    path = Path(path)
    try:
        exists = path.exists()
    except (OSError, ValueError) as err:  # a name too long, a NUL byte, an unreadable folder
        raise CheckpointError(f"{path}: cannot open ({getattr(err, 'strerror', None) or err})") from None
    if not exists:
        raise CheckpointError(f"{path}: no such file")
    if not path.is_file():
        raise CheckpointError(f"{path}: is a directory, not a checkpoint file" if path.is_dir()
                              else f"{path}: not a regular file")
    return path


def _foreign(path: Path, err: Exception) -> CheckpointError:
    reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    reason = reason.removeprefix("Error while deserializing header: ")
    return CheckpointError(f"{path}: not an aeviewer checkpoint ({_printable(reason)})")


def _printable(text: object) -> str:
    """``text`` on one line: field names and parser messages come from the file, which may hold newlines."""
    return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in str(text))


def _decode_metadata(path: Path, raw: dict[str, str]) -> dict[str, Any]:
    if raw.get("format") != FORMAT:
        found = f"format {raw['format']!r}" if "format" in raw else "no aeviewer metadata"
        raise CheckpointError(f"{path}: not an aeviewer checkpoint ({found})")
    try:
        version = int(raw.get("format_version", ""))
    except ValueError:
        raise CheckpointError(f"{path}: not an aeviewer checkpoint (bad format_version)") from None
    if version > FORMAT_VERSION:
        raise CheckpointError(f"{path}: written by a newer aeviewer (format version {version}; "
                              f"this one reads up to {FORMAT_VERSION}); upgrade aeviewer to open it")
    records: dict[str, Any] = {"dataset": raw.get("dataset", ""), "format_version": version}
    for key, default in (("config", None), ("metrics", {}), ("history", []), ("extra", {})):
        if key not in raw:
            if default is None:
                raise CheckpointError(f"{path}: not an aeviewer checkpoint (no model config)")
            records[key] = default
            continue
        try:
            records[key] = json.loads(raw[key])
        except (ValueError, RecursionError):  # JSONDecodeError, a 5,000-digit number, "[[[[..." nested too deep
            raise CheckpointError(f"{path}: damaged checkpoint ({key} is not valid JSON)") from None
        if default is not None and not isinstance(records[key], type(default)):
            expected = "an object" if isinstance(default, dict) else "a list"
            raise CheckpointError(f"{path}: damaged checkpoint ({key} is not {expected})")
    return records


def _parse_config(path: Path, config_dict: Any) -> ModelConfig:
    try:
        return ModelConfig.from_dict(config_dict)
    except AeviewerError as err:
        raise CheckpointError(f"{path}: {_printable(err)}") from None
    except (ValueError, OverflowError) as err:  # NaN, Infinity or a 400-digit number in an integer field
        raise CheckpointError(f"{path}: damaged model config ({_printable(err)})") from None


def _parse_preparation(path: Path, text: str | None) -> Preparation | None:
    if text is None:
        return None
    try:
        return Preparation.from_dict(json.loads(text))
    except (ValueError, RecursionError):
        raise CheckpointError(f"{path}: damaged checkpoint (preparation is not valid JSON)") from None
    except AeviewerError as err:
        raise CheckpointError(f"{path}: {_printable(err)}") from None


def _build(path: Path, config: ModelConfig, device: str | None = None, prior: str | None = None) -> Autoencoder:
    from aeviewer.models import build_model

    try:
        with torch.device(device) if device else contextlib.nullcontext():
            model = build_model(config)
            if prior is not None:
                attach_from_metadata(model, prior)
            return model
    except AeviewerError as err:
        raise CheckpointError(f"{path}: {_printable(err)}") from None
    except (TypeError, ValueError, OverflowError, RuntimeError) as err:  # sizes past int64 and the like
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise CheckpointError(f"{path}: model config describes no model that can be built "
                              f"({_printable(reason)})") from None


def _check_tensors(path: Path, expected: dict[str, torch.Tensor], tensors: dict[str, torch.Tensor]) -> None:
    """One line naming the first tensor that is missing, unexpected or of the wrong shape or dtype."""
    for name, value in expected.items():
        if name not in tensors:
            raise CheckpointError(f"{path}: tensor {name!r} is missing from the file")
        if tuple(tensors[name].shape) != tuple(value.shape):
            raise CheckpointError(f"{path}: tensor {name!r} has shape {tuple(tensors[name].shape)} in the file "
                                  f"but the model config expects {tuple(value.shape)}")
        if tensors[name].dtype != value.dtype:  # e.g. uint32 or complex weights that load_state_dict cannot copy
            raise CheckpointError(f"{path}: tensor {name!r} is {tensors[name].dtype} in the file "
                                  f"but the model expects {value.dtype}")
    unexpected = sorted(set(tensors) - set(expected))
    if unexpected:
        raise CheckpointError(f"{path}: tensor {unexpected[0]!r} in the file does not belong to this model config")
