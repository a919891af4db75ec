"""Write an aeviewer model as an ONNX pair (encoder.onnx, decoder.onnx) with a dynamic batch axis.

The pair computes what the torch model does: the encoder maps images (N, C, H, W) in [0, 1] to the
latent ``encode`` gives (the VAE's mean; the VQ-VAE's quantised grid (N, D, H', W')), the decoder maps
it back to images in [0, 1] (a VQ-VAE's decoder snaps each D-vector to its nearest code first, as
``decode`` does). Exported with torch's TorchScript-based exporter (``dynamo=False``): it needs no
example-specific tracing guards and takes about a second for these small nets.
"""
from __future__ import annotations

import io
import warnings
from pathlib import Path

import torch
from torch import nn

from aeviewer.util.atomic import write_bytes
from aeviewer.errors import AeviewerError
from aeviewer.models.base import Autoencoder
from aeviewer.models.vqvae import VQVAE, nearest_codes

OPSET = 17
ENCODER_FILE, DECODER_FILE = "encoder.onnx", "decoder.onnx"


class _Encoder(nn.Module):
    def __init__(self, model: Autoencoder) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.model.has_codebook:
            return _snapped(self.model, self.model.encoder(x))
        return self.model.encode(x)


class _Decoder(nn.Module):
    def __init__(self, model: Autoencoder) -> None:
        super().__init__()
        self.model = model

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        if self.model.has_codebook:
            return torch.sigmoid(self.model.decoder(_snapped(self.model, z)))
        return self.model.decode(z)


def _snapped(model: VQVAE, grid: torch.Tensor) -> torch.Tensor:
    """(N, D, H', W') -> each D-vector replaced by its nearest code, as VQVAE.encode/decode do; written with -1
    for the batch, since the tracing exporter would freeze len(x) into the graph as a constant."""
    h, w = model.code_grid_shape
    book = model.codebook
    flat = grid.permute(0, 2, 3, 1).reshape(-1, book.shape[1])
    return book[nearest_codes(flat, book)].reshape(-1, h, w, book.shape[1]).permute(0, 3, 1, 2)


def export_onnx(model: Autoencoder, out_dir: str | Path) -> tuple[Path, Path]:
    """``model`` as ``out_dir/encoder.onnx`` and ``out_dir/decoder.onnx``; each written atomically."""
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise AeviewerError(f"{out}: is a file; give a folder for encoder.onnx and decoder.onnx")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise AeviewerError(f"{out}: cannot create the folder ({err.strerror or err})") from None
    model = model.to("cpu").eval()
    images = torch.rand(2, *model.config.image_shape)
    with torch.no_grad():
        latents = _Encoder(model)(images)
    encoder = _export(_Encoder(model), images, out / ENCODER_FILE, "images", "latents")
    decoder = _export(_Decoder(model), latents, out / DECODER_FILE, "latents", "images")
    return encoder, decoder


def _export(net: nn.Module, example: torch.Tensor, path: Path, input_name: str, output_name: str) -> Path:
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the legacy exporter's deprecation notice
        torch.onnx.export(net, (example,), buffer, input_names=[input_name], output_names=[output_name],
                          dynamic_axes={input_name: {0: "batch"}, output_name: {0: "batch"}},
                          opset_version=OPSET, dynamo=False)
    write_bytes(path, buffer.getvalue())  # temp file, fsync, rename; the usual permissions
    return path
