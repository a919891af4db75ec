"""Foreign models: any autoencoder trained outside aeviewer, given the Explorable surface the views use.

What a model may bring (``adapt`` finds out which by probing it with one batch of the data):

- ``encode(x) -> z`` and ``decode(z) -> x_hat`` (methods of ``model``, or the callables ``encode=`` and
  ``decode=``). Images go in and come out as NumPy arrays or torch tensors, ``(N, C, H, W)`` or
  ``(N, H, W, C)`` (grey images may also come out as ``(N, H, W)``), floating point in [0, 1]. An
  ``nn.Module`` gets torch tensors on its own device, in eval mode; anything else gets NumPy arrays
  first, torch tensors when NumPy arrays make it raise. The input layout is tried NCHW first (NHWC
  first when the data came as NHWC); ``layout="nhwc"`` forces it. ``z`` may have any shape ``(N, ...)``:
  it is flattened for plotting and reshaped back for decoding. A tuple such as ``(mu, logvar)`` counts
  as its first element.
- ``sample(n)``: ``n`` latents shaped like ``encode``'s; turns on prior samples (``has_prior``).
- The codebook protocol (turns on the codebook view, ``has_codebook``): ``codebook``, a ``(K, D)``
  array of code vectors; ``encode_codes(x)``, integer code maps ``(N, H', W')`` (or code rows ``(N, T)``)
  with entries in ``0..K-1``; ``decode_codes(codes)``, images from code maps. ``encode``/``decode`` are
  then not needed: the scatter plots each image's code vectors ``codebook[codes]`` in ``(D, H', W')``
  order, and a point decodes by snapping each D-vector to its nearest code (as aeviewer's VQ-VAE does).

A model that raises, returns NaN/inf, the wrong shape or dtype, or takes over ``time_limit_s`` per batch
(of PROBE_BATCH = 16 items) is refused with one :class:`ForeignModelError` line. Once a window shows the model, ``report`` is set:
a later failure is then reported on that line and the view gets a blank image instead of a traceback.
"""
from __future__ import annotations

import contextlib
import math
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterator

import numpy as np
import torch
from torch import nn

from aeviewer.data.imageset import ImageSet
from aeviewer.errors import ForeignModelError
from aeviewer.foreign.checks import (PROBE_BATCH, PROBE_RANGE, TIME_LIMIT_S, Layout, OutLayout, _as_tensor,
                                     _check_range, _Convention, _conventions, _image_layout, _one_line, _shape,
                                     _to_nchw, _user_model, _UserModel, probe_batch)

__all__ = ["LOGIT_EPS", "ForeignCodebookModel", "ForeignConfig", "ForeignModel", "ForeignModelError", "Layout",
           "OutLayout", "PROBE_BATCH", "PROBE_RANGE", "TIME_LIMIT_S", "adapt", "probe_batch"]

LOGIT_EPS = 1e-6


@dataclass(frozen=True)
class ForeignConfig:
    """What the views read from ``model.config``; ``arch`` names how the model is run."""

    image_shape: tuple[int, int, int]
    latent_shape: tuple[int, ...]
    arch: str = "numpy"  # numpy | torch | onnx
    codebook_size: int = 0
    kind: str = "foreign"
    noise: str = "none"

    @property
    def latent_dim(self) -> int:
        return math.prod(self.latent_shape)


@contextlib.contextmanager
def _eval_mode(module: nn.Module | None) -> Iterator[None]:
    """Eval mode for the call only: batch norm and dropout must not act while exploring (the user's object
    is left in its mode)."""
    if module is None or not module.training:
        yield
        return
    module.eval()
    try:
        yield
    finally:
        module.train(True)


class ForeignModel(nn.Module):
    """A user's model behind the surface of aeviewer's ``Autoencoder``: torch tensors in and out, images
    ``(N, C, H, W)`` in [0, 1], flat latents ``(N, latent_size)``. Build it with :func:`adapt`.

    Holds no parameters of its own and never registers the user's module, so moving or switching this
    object's mode leaves the user's model where and as it was.
    """

    trainable = False
    regulariser = None  # the Autoencoder flags a foreign model cannot claim: no regulariser picture,
    refittable = False  # no refit of the user's decoder,
    gaussian_posterior = False  # no encode_stats

    def __init__(self, user: _UserModel, convention: _Convention, config: ForeignConfig, out_layout: OutLayout,
                 *, codebook: torch.Tensor | None = None, code_grid: tuple[int, ...] = (), code_dtype: Any = np.int64,
                 latent_dtype: Any = np.float32, time_limit_s: float = TIME_LIMIT_S) -> None:
        super().__init__()
        self._user, self._convention, self.config = user, convention, config
        self._out_layout = out_layout
        self._codebook = codebook
        self._code_grid = code_grid
        self._code_dtype, self._latent_dtype = code_dtype, latent_dtype
        self.time_limit_s = time_limit_s
        self.report: Callable[[str], None] | None = None  # set by the window: failures become a status line
        self.name = user.name

    # -- capability flags and shapes ------------------------------------------------------------------
    @property
    def has_prior(self) -> bool:
        return self._user.sample is not None

    @property
    def has_codebook(self) -> bool:
        return self._user.has_codebook

    @property
    def latent_shape(self) -> tuple[int, ...]:
        return self.config.latent_shape

    @property
    def latent_size(self) -> int:
        return self.config.latent_dim

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return self.config.image_shape

    # -- the surface the views use ---------------------------------------------------------------------
    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Images (N, C, H, W) in [0, 1] -> flat latents (N, latent_size)."""
        return self._guarded(lambda: self._encode(x), lambda: torch.zeros(len(x), self.latent_size))

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Flat latents (N, latent_size) -> images (N, C, H, W) in [0, 1]."""
        return self._guarded(lambda: self._decode(z), lambda: torch.zeros(len(z), *self.image_shape))

    def decode_logits(self, z: torch.Tensor) -> torch.Tensor:
        """logit(decode(z)), for the metrics that want logits (BCE)."""
        return torch.logit(self.decode(z), eps=LOGIT_EPS)

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """``n`` draws of the user's ``sample`` as flat latents (the user's sampler has its own randomness)."""
        if self._user.sample is None:
            raise NotImplementedError(f"{self.name} has no sample(n)")
        return self._guarded(lambda: self._sample(n), lambda: torch.zeros(n, self.latent_size))

    # -- internals --------------------------------------------------------------------------------------
    def _guarded(self, compute: Callable[[], torch.Tensor], blank: Callable[[], torch.Tensor]) -> torch.Tensor:
        try:
            return compute()
        except ForeignModelError as err:
            if self.report is None:
                raise
            self.report(f"{self.name}: {err}")
            return blank()

    def _call(self, what: str, fn: Callable[[Any], Any], arg: Any, n: int) -> Any:
        start = time.perf_counter()
        try:
            with torch.no_grad(), _eval_mode(self._user.module):
                out = fn(arg)
        except Exception as err:  # the user's code: anything it raises becomes one line
            raise ForeignModelError(f"{what} raised {_one_line(err)}") from None
        seconds = time.perf_counter() - start
        batches = max(1, math.ceil(n / PROBE_BATCH))  # encoding a whole set in big chunks may take longer
        if seconds > self.time_limit_s * batches:
            message = (f"{what} took {seconds:.2f} s for {n} item(s) (the limit is {self.time_limit_s:g} s "
                       f"per batch of {PROBE_BATCH})")
            if self.report is None:
                raise ForeignModelError(message)
            self.report(f"{self.name}: {message}")
        return out

    def _images_out(self, what: str, out: Any, n: int) -> torch.Tensor:
        t = _as_tensor(what, out)
        if _image_layout(tuple(t.shape), n, self.image_shape) != self._out_layout:
            raise ForeignModelError(f"{what} returned shape {_shape(t.shape)}; expected images "
                                    f"{_shape((n, *self.image_shape))} as it gave before")
        return _to_nchw(t, self._out_layout, self.image_shape).clamp_(0.0, 1.0)

    def _encode(self, x: torch.Tensor) -> torch.Tensor:
        n = len(x)
        z = _as_tensor("encode", self._call("encode", self._user.encode, self._convention.images(x.cpu().float()), n))
        if tuple(z.shape) != (n, *self.latent_shape):
            raise ForeignModelError(f"encode returned shape {_shape(z.shape)} for {n} images; "
                                    f"expected {_shape((n, *self.latent_shape))}")
        return z.reshape(n, -1)

    def _decode(self, z: torch.Tensor) -> torch.Tensor:
        n = len(z)
        z = z.cpu().float().reshape(n, *self.latent_shape)
        out = self._call("decode", self._user.decode, self._convention.array(z, self._latent_dtype), n)
        return self._images_out("decode", out, n)

    def _sample(self, n: int) -> torch.Tensor:
        z = _as_tensor("sample", self._call("sample", self._user.sample, n, n))
        if tuple(z.shape) != (n, *self.latent_shape):
            raise ForeignModelError(f"sample({n}) returned shape {_shape(z.shape)}; "
                                    f"expected {_shape((n, *self.latent_shape))} like encode")
        return z.reshape(n, -1)


class ForeignCodebookModel(ForeignModel):
    """A foreign model with the codebook protocol: the codebook view's surface as well (``has_codebook``)."""

    @property
    def codebook(self) -> torch.Tensor:
        assert self._codebook is not None
        return self._codebook

    @property
    def code_grid_shape(self) -> tuple[int, ...]:
        return self._code_grid

    def encode_codes(self, x: torch.Tensor) -> torch.Tensor:
        return self._guarded(lambda: self._encode_codes(x), lambda: torch.zeros(len(x), *self._code_grid, dtype=torch.long))

    def decode_codes(self, codes: torch.Tensor) -> torch.Tensor:
        return self._guarded(lambda: self._decode_codes(codes), lambda: torch.zeros(len(codes), *self.image_shape))

    def latents_of_codes(self, codes: torch.Tensor) -> torch.Tensor:
        """Code maps (N, *grid) -> the flat latents ``encode`` gives, codebook vectors in (D, *grid) order."""
        vectors = self.codebook[codes.long()]  # (N, *grid, D)
        return vectors.movedim(-1, 1).flatten(1)

    def _encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.latents_of_codes(self._encode_codes(x))

    def _decode(self, z: torch.Tensor) -> torch.Tensor:
        return self._decode_codes(self._nearest_codes(z.cpu().float().reshape(len(z), *self.latent_shape)))

    def _encode_codes(self, x: torch.Tensor) -> torch.Tensor:
        n = len(x)
        out = self._call("encode_codes", self._user.encode_codes, self._convention.images(x.cpu().float()), n)
        codes = _as_tensor("encode_codes", out, integer=True)
        if tuple(codes.shape) != (n, *self._code_grid):
            raise ForeignModelError(f"encode_codes returned shape {_shape(codes.shape)}; "
                                    f"expected {_shape((n, *self._code_grid))}")
        k = len(self.codebook)
        if codes.numel() and (int(codes.min()) < 0 or int(codes.max()) >= k):
            raise ForeignModelError(f"encode_codes returned codes from {int(codes.min())} to {int(codes.max())}; "
                                    f"the codebook has {k} (0 to {k - 1})")
        return codes

    def _decode_codes(self, codes: torch.Tensor) -> torch.Tensor:
        n = len(codes)
        out = self._call("decode_codes", self._user.decode_codes,
                         self._convention.array(codes.cpu().long(), self._code_dtype), n)
        return self._images_out("decode_codes", out, n)

    def _nearest_codes(self, z: torch.Tensor) -> torch.Tensor:
        """Latents (N, D, *grid) -> the code nearest to each D-vector, (N, *grid)."""
        from aeviewer.models.vqvae import nearest_codes

        flat = z.movedim(1, -1).reshape(-1, z.shape[1])
        return nearest_codes(flat, self.codebook).view(len(z), *self._code_grid)


# -- adapting -----------------------------------------------------------------------------------------
def adapt(model: Any = None, images: ImageSet | None = None, *, encode: Callable[[Any], Any] | None = None,
          decode: Callable[[Any], Any] | None = None, layout: str = "auto", data_layout: Layout = "nchw",
          time_limit_s: float = TIME_LIMIT_S, arch: str | None = None) -> ForeignModel:
    """``model`` (or ``encode=``/``decode=``) as a :class:`ForeignModel`, checked on one batch of ``images``.

    ``layout``: "auto" (try NCHW, then NHWC; NHWC first when ``data_layout`` is "nhwc"), "nchw" or "nhwc".
    Raises :class:`ForeignModelError` (one line) for anything the views could not use.
    """
    if isinstance(model, ForeignModel):
        return model
    if images is None:
        raise ForeignModelError("a foreign model needs data: its shapes and layout are found by encoding one batch")
    if layout not in ("auto", "nchw", "nhwc"):
        raise ForeignModelError(f"layout must be auto, nchw or nhwc, got {layout!r}")
    user = _user_model(model, encode, decode)
    layouts: tuple[Layout, ...] = ((layout,) if layout != "auto"  # type: ignore[assignment]
                                   else ("nhwc", "nchw") if data_layout == "nhwc" else ("nchw", "nhwc"))
    x = probe_batch(images)
    first_error: ForeignModelError | None = None
    for convention in _conventions(user, layouts):
        candidate = _Probe(user, convention, images.image_shape, time_limit_s)
        try:
            candidate.encode(x)
        except ForeignModelError as err:
            if "raised" not in str(err):  # it ran, and returned something wrong: no other convention is better
                raise
            first_error = first_error or err
            continue
        hint = getattr(model, "arch", None)  # e.g. an OnnxPair says "onnx"
        return candidate.finish(x, arch or (hint if isinstance(hint, str) else convention.framework))
    assert first_error is not None
    raise first_error


class _Probe:
    """One attempt at running the user's model with a convention, and what it learnt about the shapes."""

    def __init__(self, user: _UserModel, convention: _Convention, image_shape: tuple[int, int, int],
                 time_limit_s: float) -> None:
        self.user, self.convention, self.image_shape, self.time_limit_s = user, convention, image_shape, time_limit_s
        self.latent: torch.Tensor | None = None
        self.codes: torch.Tensor | None = None
        self.latent_dtype: Any = np.float32
        self.code_dtype: Any = np.int64

    def _model(self, latent_shape: tuple[int, ...], out_layout: OutLayout = "nchw", arch: str = "numpy",
               codebook: torch.Tensor | None = None, code_grid: tuple[int, ...] = ()) -> ForeignModel:
        config = ForeignConfig(self.image_shape, latent_shape, arch, len(codebook) if codebook is not None else 0)
        cls = ForeignModel if codebook is None else ForeignCodebookModel
        return cls(self.user, self.convention, config, out_layout, codebook=codebook, code_grid=code_grid,
                            code_dtype=self.code_dtype, latent_dtype=self.latent_dtype, time_limit_s=self.time_limit_s)

    def encode(self, x: torch.Tensor) -> None:
        n = len(x)
        bare = self._model(())
        if self.user.has_codebook:
            out = bare._call("encode_codes", self.user.encode_codes, self.convention.images(x), n)
            self.code_dtype = getattr(out, "dtype", np.int64) if isinstance(out, np.ndarray) else np.int64
            self.codes = _as_tensor("encode_codes", out, integer=True)
            if self.codes.ndim != 3 or len(self.codes) != n:
                raise ForeignModelError(f"encode_codes returned shape {_shape(self.codes.shape)} for {n} images; "
                                        f"expected code maps ({n}, H', W')")
            return
        out = bare._call("encode", self.user.encode, self.convention.images(x), n)
        if isinstance(out, (tuple, list)) and out:
            out = out[0]
        if isinstance(out, np.ndarray) and out.dtype.kind == "f":
            self.latent_dtype = out.dtype
        self.latent = _as_tensor("encode", out)
        if self.latent.ndim == 0 or len(self.latent) != n:
            raise ForeignModelError(f"encode returned shape {_shape(self.latent.shape)} for {n} images; "
                                    f"expected ({n}, ...) with one latent per image")
        if self.latent.ndim == 1:  # one number per image: a 1-dim latent
            self.latent = self.latent[:, None]

    def finish(self, x: torch.Tensor, arch: str) -> ForeignModel:
        """Decode what was encoded, learn the output layout, check values, sample; the finished model."""
        n = len(x)
        if self.user.has_codebook:
            return self._finish_codebook(n, arch)
        assert self.latent is not None
        latent_shape = tuple(self.latent.shape[1:])
        bare = self._model(latent_shape, arch=arch)
        out = bare._call("decode", self.user.decode, self.convention.array(self.latent, self.latent_dtype), n)
        images = _as_tensor("decode", out)
        model = self._model(latent_shape, self._out_layout("decode", images, n), arch)
        _check_range("decode", images)
        _check_sample(model)
        return model

    def _finish_codebook(self, n: int, arch: str) -> ForeignModel:
        assert self.codes is not None
        codebook = _as_tensor("codebook", self.user.codebook)
        if codebook.ndim != 2 or len(codebook) == 0:
            raise ForeignModelError(f"codebook has shape {_shape(codebook.shape)}; expected (K, D) code vectors")
        grid = tuple(self.codes.shape[1:])
        bare = self._model((codebook.shape[1], *grid), arch=arch, codebook=codebook, code_grid=grid)
        if int(self.codes.min()) < 0 or int(self.codes.max()) >= len(codebook):
            raise ForeignModelError(f"encode_codes returned codes from {int(self.codes.min())} to "
                                    f"{int(self.codes.max())}; the codebook has {len(codebook)} (0 to {len(codebook) - 1})")
        out = bare._call("decode_codes", self.user.decode_codes, self.convention.array(self.codes, self.code_dtype), n)
        images = _as_tensor("decode_codes", out)
        model = self._model((codebook.shape[1], *grid), self._out_layout("decode_codes", images, n), arch,
                            codebook, grid)
        _check_range("decode_codes", images)
        _check_sample(model)
        return model

    def _out_layout(self, what: str, images: torch.Tensor, n: int) -> OutLayout:
        found = _image_layout(tuple(images.shape), n, self.image_shape)
        if found is None:
            c, h, w = self.image_shape
            raise ForeignModelError(f"{what} returned shape {_shape(images.shape)} for {n} latents; expected images "
                                    f"{_shape((n, c, h, w))} or {_shape((n, h, w, c))} like the data")
        return found


def _check_sample(model: ForeignModel) -> None:
    if model.has_prior:
        model.sample(2)
