"""ONNX pairs: an encoder .onnx and a decoder .onnx from any framework, run by onnxruntime.

``onnx_model(encoder_path, decoder_path)`` gives an object with NumPy ``encode(x)`` and ``decode(z)``
that ``aeviewer.show`` (and ``aeviewer gui --encoder --decoder``) adapt like any foreign model. Each
file is checked before onnxruntime runs it: a missing, truncated or foreign file, more than one input,
an encoder whose input is not a batch of images (rank 4), declared sizes too big to allocate, a tensor
type that is not floating point, or external data outside the model's folder are refused with one
:class:`ForeignModelError` line. onnxruntime is the optional extra ``aeviewer[onnx]``.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from aeviewer.errors import ForeignModelError

INSTALL_HINT = "pip install 'aeviewer[onnx]'"
MAX_DECLARED_VALUES = 1 << 28  # per batch item: a 16k x 16k RGB image; beyond that a file is hostile or broken
FLOAT_TYPES = {"tensor(float)": np.float32, "tensor(double)": np.float64, "tensor(float16)": np.float16}


def _onnxruntime() -> Any:
    try:
        import onnxruntime
    except ImportError:
        raise ForeignModelError(f"ONNX models need onnxruntime: {INSTALL_HINT}") from None
    return onnxruntime


def _short(err: BaseException) -> str:
    text = " ".join(str(err).split())
    return (text[:160] + "...") if len(text) > 160 else text or type(err).__name__


class OnnxNet:
    """One .onnx file with one floating-point input, run on the CPU; the first output is the result."""

    def __init__(self, path: str | Path, role: str, input_rank: int | None = None) -> None:
        self.path = Path(path)
        _check_file(self.path, role)
        runtime = _onnxruntime()
        options = runtime.SessionOptions()
        options.log_severity_level = 4  # fatal only: its failures reach the user as one line, not as log noise
        try:
            self.session = runtime.InferenceSession(str(self.path), options, providers=["CPUExecutionProvider"])
        except Exception as err:  # onnxruntime raises its own exception types for a model it cannot load
            raise ForeignModelError(f"{self.path}: onnxruntime cannot load this {role} ({_short(err)})") from None
        inputs = self.session.get_inputs()
        if len(inputs) != 1:
            raise ForeignModelError(f"{self.path}: the {role} has {len(inputs)} inputs; expected one")
        self.input = inputs[0]
        if self.input.type not in FLOAT_TYPES:
            raise ForeignModelError(f"{self.path}: the {role}'s input is {self.input.type}; expected floating point")
        self.dtype = FLOAT_TYPES[self.input.type]
        if input_rank is not None and len(self.input.shape) != input_rank:
            raise ForeignModelError(f"{self.path}: the {role}'s input has rank {len(self.input.shape)} "
                                    f"({_dims(self.input.shape)}); expected a batch of images (N, C, H, W) or (N, H, W, C)")
        for arg in (*inputs, *self.session.get_outputs()):
            fixed = [d for d in arg.shape[1:] if isinstance(d, int)]
            if any(d < 0 for d in fixed) or math.prod(fixed) > MAX_DECLARED_VALUES:
                raise ForeignModelError(f"{self.path}: the {role} declares {arg.name!r} as {_dims(arg.shape)}, "
                                        f"too large to run")
        batch = self.input.shape[0] if self.input.shape else None
        self.fixed_batch = batch if isinstance(batch, int) and batch > 0 else None

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = np.ascontiguousarray(x, dtype=self.dtype)
        declared = self.input.shape
        if len(declared) != x.ndim or any(isinstance(d, int) and d != n for d, n in zip(declared[1:], x.shape[1:])):
            raise ValueError(f"{self.path.name} takes {_dims(declared)}, not {_dims(x.shape)}")
        if self.fixed_batch is None or len(x) == self.fixed_batch:
            return self._run(x)
        b = self.fixed_batch  # a model exported for one batch size: run it in chunks, the last one padded
        parts = []
        for start in range(0, len(x), b):
            chunk = x[start:start + b]
            padded = np.concatenate([chunk, np.repeat(chunk[-1:], b - len(chunk), axis=0)]) if len(chunk) < b else chunk
            parts.append(self._run(padded)[:len(chunk)])
        return np.concatenate(parts)

    def _run(self, x: np.ndarray) -> np.ndarray:
        return self.session.run(None, {self.input.name: x})[0]


def _dims(shape: Any) -> str:
    return "(" + ", ".join(str(d) if d is not None else "?" for d in shape) + ")"


def _check_file(path: Path, role: str) -> None:
    """Refuse what onnxruntime should never see: no file, not ONNX, external data outside the folder."""
    if not path.is_file():
        raise ForeignModelError(f"{path}: no such {role} file" if not path.exists() else f"{path}: not a file")
    try:
        import onnx
    except ImportError:  # onnxruntime alone still refuses a foreign file, with its own message
        return
    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception as err:  # protobuf's DecodeError and friends: a truncated or foreign file
        raise ForeignModelError(f"{path}: not an ONNX model ({type(err).__name__}: {_short(err)})") from None
    if not model.graph.node:
        raise ForeignModelError(f"{path}: not an ONNX model (no graph)")
    _check_external_data(path, model)


def _check_external_data(path: Path, model: Any) -> None:
    from onnx import TensorProto
    from onnx.external_data_helper import _get_all_tensors

    folder = path.parent.resolve()
    for tensor in _get_all_tensors(model):
        if tensor.data_location != TensorProto.EXTERNAL:
            continue
        location = {entry.key: entry.value for entry in tensor.external_data}.get("location", "")
        target = (folder / location).resolve()
        if not location or Path(location).is_absolute() or not target.is_relative_to(folder):
            raise ForeignModelError(f"{path}: tensor {tensor.name!r} refers to data outside the model's folder "
                                    f"({location!r}); refused")
        if not target.is_file():
            raise ForeignModelError(f"{path}: tensor {tensor.name!r} refers to a missing file {location!r}")


class OnnxPair:
    """An encoder and a decoder .onnx: NumPy ``encode(x)`` and ``decode(z)`` for :func:`aeviewer.show`."""

    arch = "onnx"

    def __init__(self, encoder: OnnxNet, decoder: OnnxNet) -> None:
        self.encoder, self.decoder = encoder, decoder

    @classmethod
    def load(cls, encoder_path: str | Path, decoder_path: str | Path) -> "OnnxPair":
        return cls(OnnxNet(encoder_path, "encoder", input_rank=4), OnnxNet(decoder_path, "decoder"))

    def encode(self, x: np.ndarray) -> np.ndarray:
        return self.encoder(x)

    def decode(self, z: np.ndarray) -> np.ndarray:
        return self.decoder(z)

    @property
    def name(self) -> str:
        return f"{self.encoder.path.name} + {self.decoder.path.name}"


def onnx_model(encoder_path: str | Path, decoder_path: str | Path) -> OnnxPair:
    """An ONNX encoder/decoder pair, checked and loaded (one ForeignModelError line when it cannot be)."""
    return OnnxPair.load(encoder_path, decoder_path)


# how exporters name the two halves: the first pair found in an encoder's file name names its decoder
PAIR_WORDS = (("encoder", "decoder"), ("Encoder", "Decoder"), ("ENCODER", "DECODER"), ("enc", "dec"), ("Enc", "Dec"))


def decoder_beside(encoder_path: str | Path) -> Path | None:
    """The decoder .onnx that an encoder's name implies in the same folder (``encoder.onnx`` → ``decoder.onnx``,
    ``mnist_enc.onnx`` → ``mnist_dec.onnx``), when that file exists; else None."""
    encoder = Path(encoder_path)
    for enc, dec in PAIR_WORDS:
        if enc in encoder.name:
            candidate = encoder.with_name(encoder.name.replace(enc, dec))
            if candidate != encoder and candidate.is_file():
                return candidate
    return None
