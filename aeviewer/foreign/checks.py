"""Probing a foreign model's callables: what the user's model provides, which array conventions to try,
and the checks on what its ``encode``/``decode`` return (types, NaN/inf, image layout, value range), each
refusing with one :class:`ForeignModelError` line.

The adapter classes that use these (``ForeignModel``, ``ForeignCodebookModel``) and ``adapt`` live in
:mod:`aeviewer.foreign.adapters`, which re-exports the names here that other modules import.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Literal

import numpy as np
import torch
from torch import nn

from aeviewer.data.imageset import ImageSet
from aeviewer.errors import ForeignModelError

PROBE_BATCH = 16  # images in the probing batch: small enough to be quick, big enough to catch batch bugs
TIME_LIMIT_S = 1.0  # per call of encode/decode on one batch
PROBE_RANGE = (-0.25, 1.25)  # decoded values outside this (after probing) mean the images are not in [0, 1]

Layout = Literal["nchw", "nhwc"]
OutLayout = Literal["nchw", "nhwc", "hw", "flat"]


@dataclass(frozen=True)
class _Convention:
    """How the user's functions want their arrays: which library, which image layout, where."""

    framework: Literal["numpy", "torch"]
    layout: Layout
    device: torch.device | None = None
    dtype: torch.dtype = torch.float32

    def images(self, x: torch.Tensor) -> Any:
        """Our images (N, C, H, W) float32 on the CPU -> the user's."""
        if self.layout == "nhwc":
            x = x.permute(0, 2, 3, 1)
        return self.array(x.contiguous())

    def array(self, t: torch.Tensor, np_dtype: Any = np.float32) -> Any:
        if self.framework == "numpy":
            return t.numpy().astype(np_dtype, copy=False)
        return t.to(self.device, self.dtype if t.is_floating_point() else t.dtype)


@dataclass
class _UserModel:
    encode: Callable[[Any], Any] | None
    decode: Callable[[Any], Any] | None
    sample: Callable[[int], Any] | None = None
    codebook: Any = None
    encode_codes: Callable[[Any], Any] | None = None
    decode_codes: Callable[[Any], Any] | None = None
    module: nn.Module | None = None  # run in eval mode, inputs on its device
    name: str = "model"

    @property
    def has_codebook(self) -> bool:
        return self.encode_codes is not None


def _one_line(err: BaseException) -> str:
    text = " ".join(str(err).split())
    text = text if len(text) <= 200 else text[:197] + "..."
    return f"{type(err).__name__}: {text}" if text else type(err).__name__


def _shape(shape: Any) -> str:
    return "(" + ", ".join(map(str, shape)) + ")"


def _as_tensor(what: str, out: Any, integer: bool = False) -> torch.Tensor:
    """The user's result as a CPU tensor, or one line saying why it cannot be one."""
    if isinstance(out, (tuple, list)) and out and what.startswith("encode"):
        out = out[0]  # (mu, logvar) and the like
    if isinstance(out, np.ndarray):
        kind_ok = out.dtype.kind in ("iu" if integer else "f")
        if not kind_ok:
            raise ForeignModelError(f"{what} returned {out.dtype} values; expected "
                                    f"{'integer codes' if integer else 'floating point'}")
        t = torch.from_numpy(np.ascontiguousarray(out))
    elif isinstance(out, torch.Tensor):
        kind_ok = (not out.is_floating_point() and not out.is_complex() and out.dtype != torch.bool) if integer \
            else out.is_floating_point()
        if not kind_ok:
            raise ForeignModelError(f"{what} returned {out.dtype} values; expected "
                                    f"{'integer codes' if integer else 'floating point'}")
        t = out.detach().to("cpu")
    else:
        raise ForeignModelError(f"{what} returned a {type(out).__name__}; expected a NumPy array or a torch tensor")
    if not integer and not bool(torch.isfinite(t).all()):
        raise ForeignModelError(f"{what} returned NaN or infinite values")
    return t.long() if integer else t.float()


def _image_layout(shape: tuple[int, ...], n: int, image_shape: tuple[int, int, int]) -> OutLayout | None:
    c, h, w = image_shape
    if len(shape) < 2 or shape[0] != n:
        return None
    rest = tuple(shape[1:])
    for layout, want in (("nchw", (c, h, w)), ("nhwc", (h, w, c))):
        if rest == want:
            return layout  # type: ignore[return-value]
    if c == 1 and rest == (h, w):
        return "hw"
    if c == 1 and rest == (h * w,):
        return "flat"
    return None


def _to_nchw(t: torch.Tensor, layout: OutLayout, image_shape: tuple[int, int, int]) -> torch.Tensor:
    if layout == "nhwc":
        return t.permute(0, 3, 1, 2)
    if layout in ("hw", "flat"):
        return t.reshape(len(t), *image_shape)
    return t


def _user_model(model: Any, encode: Any, decode: Any) -> _UserModel:
    """The callables ``model`` (or ``encode=``/``decode=``) provides, or one line naming what is missing."""
    if model is not None and (encode is not None or decode is not None):
        raise ForeignModelError("give either a model or encode= and decode=, not both")
    if model is None:
        if not callable(encode) or not callable(decode):
            raise ForeignModelError("give a model with encode(x) and decode(z), or both encode= and decode= callables")
        owner = getattr(encode, "__self__", None)
        module = encode if isinstance(encode, nn.Module) else owner if isinstance(owner, nn.Module) else None
        return _UserModel(encode, decode, module=module, name=getattr(encode, "__name__", "encode"))

    def method(name: str) -> Callable[[Any], Any] | None:
        fn = getattr(model, name, None)
        return fn if callable(fn) else None

    module = model if isinstance(model, nn.Module) else None
    name = model.name if isinstance(getattr(model, "name", None), str) else type(model).__name__
    sample = method("sample")
    if method("encode_codes") is not None and method("decode_codes") is not None and hasattr(model, "codebook"):
        return _UserModel(method("encode"), method("decode"), sample, model.codebook,
                          method("encode_codes"), method("decode_codes"), module, name)
    for needed in ("encode", "decode"):
        if method(needed) is None:
            raise ForeignModelError(f"{name} has no {needed}({'x' if needed == 'encode' else 'z'}) method "
                                    f"(and no codebook protocol: codebook, encode_codes, decode_codes)")
    return _UserModel(method("encode"), method("decode"), sample, module=module, name=name)


def _conventions(user: _UserModel, layouts: tuple[Layout, ...]) -> list[_Convention]:
    module = user.module
    if module is not None:
        param = next(module.parameters(), None)
        device = param.device if param is not None else torch.device("cpu")
        floating = next((p.dtype for p in module.parameters() if p.is_floating_point()), torch.float32)
        return [_Convention("torch", layout, device, floating) for layout in layouts]
    return [_Convention(framework, layout, torch.device("cpu"))  # type: ignore[arg-type]
            for framework in ("numpy", "torch") for layout in layouts]


def probe_batch(images: ImageSet, n: int = PROBE_BATCH) -> torch.Tensor:
    """The first ``n`` images as float32 (N, C, H, W) in [0, 1]: the batch every model is checked with."""
    if len(images) == 0:
        raise ForeignModelError("the data set is empty: a foreign model is checked on one batch of its images")
    return images.float_batch(slice(0, n))


def _check_range(what: str, images: torch.Tensor) -> None:
    low, high = float(images.min()), float(images.max())
    if low < PROBE_RANGE[0] or high > PROBE_RANGE[1]:
        hint = " (rescale, e.g. (x + 1) / 2)" if low < -0.5 else " (divide by 255?)" if high > 2 else ""
        raise ForeignModelError(f"{what} returned values from {low:.3g} to {high:.3g}; images must be in [0, 1]{hint}")
