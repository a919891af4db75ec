"""Training a learned prior over a VQ-VAE's code maps, its test NLL, and the VQ-VAE's likelihood bound.

The code maps of the training split are encoded once (and cached on disk under the per-user cache folder, keyed
by the VQ-VAE's weights and the images), then the prior is trained by the same :class:`Trainer` as the
autoencoders, so it has the same progress callbacks, pause, stop, NaN guard, seeding and schedules. The Trainer
serves batches of uint8 images; a code map is handed to it as a 2-channel uint8 "image" holding each code's high
and low byte (K may exceed 256), which :class:`CodeMapTrainee` unpacks exactly.

The bound. With the encoder's deterministic code map c(x) as q(c|x) = 1[c = c(x)], the ELBO gives
    -log p(x) <= -log p_prior(c(x)) - log p(x | c(x)),
the prior's NLL of the code map plus the decoder's reconstruction term. The VQ-VAE's decoder is Bernoulli
(``recon_bce``: the cross-entropy sum over pixels); on grey-level images that is a cross-entropy, a true
log-likelihood only for binary images. Commitment and codebook terms are training devices, not in the bound.
"""
from __future__ import annotations

import hashlib
import math
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import torch
import torch.nn.functional as F

from aeviewer.data.imageset import ImageSet
from aeviewer.errors import ConfigError
from aeviewer.models.base import Autoencoder
from aeviewer.models.priors import BITS_PER_NAT, CodePrior, build_prior, default_prior_config, prior_of
from aeviewer.training.trainer import EpochInfo, StepInfo, Trainer, TrainConfig, TrainResult
from aeviewer.spec.vocabulary import PRIOR_ARCHS

PRIOR_METRIC_KEYS = ("prior_nll_bits_per_code", "prior_nll_nats_per_image", "nll_bound_nats_per_image")


@dataclass
class PriorTrainConfig:
    arch: str = PRIOR_ARCHS[0]
    epochs: int = 10
    batch_size: int = 64
    lr: float = 1e-3
    seed: int = 0
    class_conditional: bool = False  # p(c | y): needs a labelled training split
    device: str = "auto"
    lr_schedule: str = "cosine"
    sizes: dict[str, int] = field(default_factory=dict)  # width, layers, heads, kernel over the arch's defaults


# -- code maps ------------------------------------------------------------------------------------------
@torch.inference_mode()
def encode_code_maps(model: Autoencoder, images: ImageSet, *, batch_size: int = 500,
                     device: str | torch.device = "cpu",
                     progress: Callable[[int, int], Any] | None = None) -> torch.Tensor:
    """The code map of every image, LongTensor (N, H', W'), encoded in batches."""
    device = torch.device(device)
    was_training = model.training
    model.eval().to(device)
    maps = []
    for start in range(0, len(images), batch_size):
        x = images.float_batch(slice(start, start + batch_size), device)
        maps.append(model.encode_codes(x).cpu())  # type: ignore[attr-defined]
        if progress is not None:
            progress(min(start + batch_size, len(images)), len(images))
    model.train(was_training)
    return torch.cat(maps) if maps else torch.zeros(0, *model.code_grid_shape, dtype=torch.long)  # type: ignore[attr-defined]


def cached_code_maps(model: Autoencoder, images: ImageSet, **options: Any) -> torch.Tensor:
    """:func:`encode_code_maps`, read from the per-user cache when this model has encoded these images before."""
    from aeviewer.util.atomic import replacing
    from aeviewer.util.paths import cache_dir

    path = cache_dir() / "code-maps" / f"{_cache_key(model, images)}.npy"
    try:
        return torch.from_numpy(np.load(path, allow_pickle=False).astype(np.int64))
    except (OSError, ValueError):  # none yet, or damaged: encode again
        pass
    maps = encode_code_maps(model, images, **options)
    try:
        with replacing(path, error=None) as tmp:
            np.save(tmp, maps.numpy().astype(np.int16 if model.config.codebook_size < 2**15 else np.int32))
    except OSError:  # a cache that cannot be written is only a slower next time
        pass
    return maps


def _cache_key(model: Autoencoder, images: ImageSet) -> str:
    digest = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        if not name.startswith("prior."):  # the codes depend on the encoder and codebook, not on a prior
            digest.update(name.encode())
            digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    digest.update(images.images.numpy().tobytes())
    return digest.hexdigest()[:32]


def pack_codes(codes: torch.Tensor) -> torch.Tensor:
    """Code maps (N, H', W') < 65536 as uint8 (N, 2, H', W'): high byte, low byte."""
    return torch.stack([codes // 256, codes % 256], dim=1).to(torch.uint8)


def unpack_codes(x: torch.Tensor) -> torch.Tensor:
    """The inverse of :func:`pack_codes` after the Trainer's uint8 -> float / 255 (exact: round(k/255 * 255) = k)."""
    byte = (x * 255.0).round().long()
    return byte[:, 0] * 256 + byte[:, 1]


# -- training -------------------------------------------------------------------------------------------
class CodeMapTrainee(Autoencoder):
    """A prior dressed as the Trainer's model: its batches are packed code maps, its loss the NLL per code."""

    def __init__(self, vqvae: Autoencoder, prior: CodePrior) -> None:
        super().__init__(vqvae.config)
        self.prior = prior

    def loss(self, x: torch.Tensor, x_input: torch.Tensor, labels: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        codes = unpack_codes(x)
        logits = self.prior(codes, labels if self.prior.conditional else None)
        nats = F.cross_entropy(logits, codes)  # mean over codes
        return {"bits_per_code": nats.detach() * BITS_PER_NAT, "total": nats}

    def make_optimizers(self, lr: float) -> list[torch.optim.Optimizer]:
        return [torch.optim.AdamW(self.prior.parameters(), lr=lr, weight_decay=0.0)]


def code_map_set(codes: torch.Tensor, images: ImageSet) -> ImageSet:
    """The training set the Trainer iterates: packed code maps with the images' labels."""
    return ImageSet(pack_codes(codes), images.labels, images.class_names, images.name)


def new_prior(model: Autoencoder, config: PriorTrainConfig, n_classes: int) -> CodePrior:
    """A freshly initialised prior for ``model``'s code maps, seeded by ``config.seed``."""
    if not model.has_codebook:
        raise ConfigError("a learned prior is trained over code maps: this model has no codebook")
    if config.class_conditional and n_classes < 2:
        raise ConfigError("a class-conditional prior needs a labelled data set (this one has no classes)")
    prior_config = default_prior_config(config.arch, model.config.codebook_size, model.code_grid_shape,  # type: ignore[attr-defined]
                                        n_classes if config.class_conditional else 0, **config.sizes)
    torch.manual_seed(config.seed)
    return build_prior(prior_config)


def train_prior(model: Autoencoder, train_set: ImageSet, config: PriorTrainConfig, *,
                prior: CodePrior | None = None, codes: torch.Tensor | None = None, on_step: Callable[[StepInfo], Any] | None = None,
                on_epoch: Callable[[EpochInfo], Any] | None = None, stop_event: threading.Event | None = None,
                pause_event: threading.Event | None = None) -> tuple[CodePrior, TrainResult, float]:
    """Train a prior over ``model``'s code maps of ``train_set``: ``prior`` (default a new one, see :func:`new_prior`;
    pass one to save it from a callback while it trains), ``codes`` those maps if already encoded.
    Returns the prior (on the CPU, in eval mode, not attached), the Trainer's result and the seconds it took."""
    prior = prior if prior is not None else new_prior(model, config, len(train_set.class_names))
    if codes is None:
        codes = cached_code_maps(model, train_set)
    trainee = CodeMapTrainee(model, prior)
    train_config = TrainConfig(epochs=config.epochs, batch_size=config.batch_size, lr=config.lr, seed=config.seed,
                               device=config.device, lr_schedule=config.lr_schedule)
    trainer = Trainer(trainee, code_map_set(codes, train_set), train_config, on_step=on_step, on_epoch=on_epoch,
                      stop_event=stop_event, pause_event=pause_event)
    started = time.perf_counter()
    result = trainer.run()
    return prior.cpu().eval(), result, time.perf_counter() - started


# -- NLL and the bound ------------------------------------------------------------------------------------
@torch.inference_mode()
def code_nll(prior: CodePrior, codes: torch.Tensor, labels: torch.Tensor | None = None,
             batch_size: int = 500) -> torch.Tensor:
    """-log p(c | y) of each code map in nats, (N,)."""
    was_training = prior.training
    prior.eval()
    device = prior.device
    out = []
    for start in range(0, len(codes), batch_size):
        batch_labels = labels[start:start + batch_size].to(device) if prior.conditional and labels is not None else None
        out.append(prior.nll(codes[start:start + batch_size].to(device), batch_labels).double().cpu())
    prior.train(was_training)
    return torch.cat(out)


def prior_metrics(model: Autoencoder, images: ImageSet, recon_nats_per_image: float, *, batch_size: int = 500,
                  device: str | torch.device = "cpu") -> dict[str, float]:
    """The prior's test NLL (bits per code, nats per image) and the bound prior NLL + ``recon_nats_per_image``."""
    prior = prior_of(model)
    if prior is None:
        return {}
    codes = encode_code_maps(model, images, batch_size=batch_size, device=device)
    nats = float(code_nll(prior, codes, images.labels, batch_size).mean())
    per_code = nats / math.prod(codes.shape[1:])
    return {"prior_nll_bits_per_code": per_code * BITS_PER_NAT, "prior_nll_nats_per_image": nats,
            "nll_bound_nats_per_image": nats + recon_nats_per_image}


BOUND_TERMS = ("the bound = the prior's NLL of the encoder's code map, -log p(c(x)), plus the decoder's Bernoulli "
               "reconstruction term recon_bce, -log p(x | c(x)) (a cross-entropy on grey-level pixels); "
               "commitment and codebook terms are not in it")
