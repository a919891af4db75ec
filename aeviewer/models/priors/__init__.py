"""Learned priors over a VQ-VAE's code maps: the registry of architectures, in one place.

A VQ-VAE has no prior of its own (its training assumes a uniform one); a prior trained afterwards on the code maps
of its training split (:mod:`aeviewer.training.prior`) is attached to it (``VQVAE.attach_prior``), saved in the same
checkpoint (tensors under ``prior.``, config in the ``prior`` metadata entry), and makes ``has_prior`` true.
"""
from __future__ import annotations

from aeviewer.errors import ConfigError
from aeviewer.models.priors.base import BITS_PER_NAT, CodePrior, PriorConfig, validate_prior_config
from aeviewer.models.priors.pixelcnn import GatedPixelCNN
from aeviewer.models.priors.sampling import iter_sample, keep_first, keep_rows_above, sample_codes
from aeviewer.models.priors.transformer import CodeTransformer
from aeviewer.spec.vocabulary import PRIOR_ARCHS

_CLASSES: dict[str, type[CodePrior]] = {"transformer": CodeTransformer, "pixelcnn": GatedPixelCNN}
assert tuple(_CLASSES) == PRIOR_ARCHS, "the vocabulary lists the prior archs; this table implements them"

# Sizes that fit the shipped models' code maps on a 2-core CPU (benchmarks/bench_prior.py: in the same 140 s on
# the MNIST VQ-VAE's codes, 64x2 took 5x the steps of 128x3 and reached 5.95 bits/code against 6.45).
_DEFAULT_SIZES: dict[str, dict[str, int | bool]] = {
    "transformer": {"width": 64, "layers": 2, "heads": 4, "axial_positions": True},
    "pixelcnn": {"width": 64, "layers": 8, "kernel": 5},
}

__all__ = ["BITS_PER_NAT", "CodePrior", "CodeTransformer", "GatedPixelCNN", "PriorConfig", "PRIOR_ARCHS",
           "build_prior", "default_prior_config", "iter_sample", "keep_first", "keep_rows_above", "sample_codes"]


def default_prior_config(arch: str, codebook_size: int, grid: tuple[int, int], n_classes: int = 0,
                         **overrides: object) -> PriorConfig:
    """A prior of ``arch`` sized for a code map of ``grid`` over ``codebook_size`` codes."""
    if arch not in _CLASSES:
        raise ConfigError(f"unknown prior arch {arch!r}; choose {' or '.join(PRIOR_ARCHS)}")
    values: dict[str, object] = {**_DEFAULT_SIZES[arch], **overrides}
    config = PriorConfig(arch=arch, codebook_size=codebook_size, grid=tuple(grid), n_classes=n_classes,  # type: ignore[arg-type]
                         **values)  # type: ignore[arg-type]
    validate_prior_config(config)
    return config


def build_prior(config: PriorConfig) -> CodePrior:
    """The prior ``config`` describes, freshly initialised from torch's global RNG."""
    validate_prior_config(config)
    return _CLASSES[config.arch](config)


def prior_of(model: object) -> CodePrior | None:
    """The learned code-map prior attached to ``model``, if any (only a VQ-VAE takes one)."""
    prior = getattr(model, "prior", None)
    return prior if isinstance(prior, CodePrior) else None


def prior_metadata(model: object) -> str | None:
    """The JSON of the attached prior's config, for the checkpoint's ``prior`` metadata entry (None: no prior)."""
    import json

    prior = prior_of(model)
    return None if prior is None else json.dumps(prior.config.to_dict())


def attach_from_metadata(model: object, text: str) -> None:
    """Build the prior a checkpoint's ``prior`` metadata entry describes and attach it to ``model`` (fresh weights:
    the caller loads the file's). ConfigError (one line) for a damaged entry or a model that takes no prior."""
    import json

    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        raise ConfigError("prior config is not valid JSON") from None
    attach = getattr(model, "attach_prior", None)
    if attach is None:
        raise ConfigError("this kind of model takes no learned prior")
    attach(build_prior(PriorConfig.from_dict(data)))
