"""Sampling code maps from a prior in raster order: temperature, top-k, a class and its guidance, completion of
kept codes.

:func:`iter_sample` yields after every position so that a view can animate the fill-in; :func:`sample_codes`
runs it to the end. Kept positions (completion) take the given code instead of a drawn one; the prior still
reads them as its context, so everything after them is conditioned on them.
"""
from __future__ import annotations

from typing import Callable, Iterator

import torch

from aeviewer.errors import ConfigError
from aeviewer.models.priors.base import CodePrior
from aeviewer.models.priors.guidance import steps_for


def draw(logits: torch.Tensor, temperature: float = 1.0, top_k: int = 0,
         generator: torch.Generator | None = None) -> torch.Tensor:
    """One code per row of ``logits`` (n, K) from softmax(logits / temperature), restricted to the ``top_k``
    likeliest (0: all); temperature 0 takes the likeliest."""
    if temperature <= 0:
        return logits.argmax(dim=1)
    logits = logits / temperature
    if 0 < top_k < logits.shape[1]:
        kth = logits.topk(top_k, dim=1).values[:, -1:]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    return torch.multinomial(torch.softmax(logits, dim=1), 1, generator=generator)[:, 0]


def random_labels(prior: CodePrior, n: int, generator: torch.Generator | None = None) -> torch.Tensor | None:
    """Classes drawn uniformly for a conditional prior asked for no class; None for an unconditional one."""
    if not prior.conditional:
        return None
    return torch.randint(prior.config.n_classes, (n,), generator=generator).to(prior.device)


def iter_sample(prior: CodePrior, n: int, *, labels: torch.Tensor | int | None = None,
                given: torch.Tensor | None = None, keep: torch.Tensor | None = None, temperature: float = 1.0,
                top_k: int = 0, guidance: float = 1.0, generator: torch.Generator | None = None,
                use_cache: bool = True) -> Iterator[tuple[int, torch.Tensor]]:
    """Yield ``(t, codes)`` after raster position ``t`` is filled; ``codes`` (n, H', W') is the map so far
    (positions after t hold 0). ``given`` (codes, broadcast to (n, H', W')) with ``keep`` (bool, broadcast
    likewise) fixes those positions to the given codes. ``use_cache=False`` recomputes the whole prefix at each
    step (the transformer's reference; slower). ``guidance`` (a conditional prior only) steers each code towards
    the class: 1 none, 0 the unconditional prior (see :mod:`aeviewer.models.priors.guidance`)."""
    h, w = prior.config.grid
    keep_flat, given_flat = _kept(prior, n, given, keep)
    if labels is None:
        labels = random_labels(prior, n, generator)
    was_training = prior.training
    prior.eval()
    try:
        with torch.no_grad():
            steps = steps_for(prior, n, labels, float(guidance), use_cache)
        codes = torch.zeros(n, h * w, dtype=torch.long, device=prior.device)
        for t in range(h * w):
            with torch.no_grad():
                drawn = draw(steps.logits(codes, t), temperature, top_k, generator)
                codes[:, t] = drawn if keep_flat is None else torch.where(keep_flat[:, t], given_flat[:, t], drawn)
                steps.chose(t, codes[:, t])
            yield t, codes.view(n, h, w)
    finally:
        prior.train(was_training)


def sample_codes(prior: CodePrior, n: int, check: Callable[[], None] | None = None, **options: object) -> torch.Tensor:
    """``n`` code maps (n, H', W') drawn from ``prior``; ``options`` as :func:`iter_sample`'s. ``check`` is called
    after each position: a caller that may be cancelled raises there (the app's jobs)."""
    filled = torch.zeros(n, *prior.config.grid, dtype=torch.long)
    for _, filled in iter_sample(prior, n, **options):  # type: ignore[arg-type]  # noqa: B007 (the last one is kept)
        if check is not None:
            check()
    return filled.clone()


def _kept(prior: CodePrior, n: int, given: torch.Tensor | None,
          keep: torch.Tensor | None) -> tuple[torch.Tensor | None, torch.Tensor | None]:
    if keep is None and given is None:
        return None, None
    if keep is None or given is None:
        raise ConfigError("a completion needs both the given codes and which of them to keep")
    shape = (n, *prior.config.grid)
    try:
        given_flat = torch.as_tensor(given, dtype=torch.long).to(prior.device).expand(shape).reshape(n, -1)
        keep_flat = torch.as_tensor(keep, dtype=torch.bool).to(prior.device).expand(shape).reshape(n, -1)
    except RuntimeError:
        raise ConfigError(f"given codes and keep mask must fit the code map {prior.config.grid}") from None
    if int(given_flat.min()) < 0 or int(given_flat.max()) >= prior.config.codebook_size:
        raise ConfigError(f"given codes must lie in 0..{prior.config.codebook_size - 1}")
    return keep_flat, given_flat


def keep_rows_above(grid: tuple[int, int], rows: int) -> torch.Tensor:
    """The keep mask (H', W') of a completion that keeps the first ``rows`` rows of codes."""
    mask = torch.zeros(grid, dtype=torch.bool)
    mask[:max(0, rows)] = True
    return mask


def keep_first(grid: tuple[int, int], k: int) -> torch.Tensor:
    """The keep mask (H', W') of the first ``k`` raster positions."""
    return (torch.arange(grid[0] * grid[1]) < k).view(grid)
