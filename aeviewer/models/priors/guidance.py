"""Class guidance for a class-conditional prior, from the prior itself: no second model and no retraining.

Classifier-free guidance samples from p(c_t | c_<t, y) * (p(c_t | c_<t, y) / p(c_t | c_<t))^(w - 1): w = 1 is the
conditional prior, w > 1 pushes each code towards what sets class y apart, w = 0 samples the unconditional prior.
It usually needs an unconditional model trained beside the conditional one (label dropout). A conditional prior
already holds it: with a uniform class prior, p(y | c_<t) is proportional to p(c_<t | y), so

    p(c_t | c_<t) = sum over y' of p(y' | c_<t) p(c_t | c_<t, y'),

the mixture of every class's prediction weighted by how well each class explains the codes so far. One step runs
the prior for every class at once (n x classes code maps), which is affordable for the few classes of the shipped
data sets (10 and 9).
"""
from __future__ import annotations

from typing import Any

import torch

from aeviewer.errors import ConfigError
from aeviewer.models.priors.base import CodePrior

MAX_GUIDANCE = 10.0
DEFAULT_GUIDANCE = 2.0  # the app's starting value: on MNIST it lifts the judge's confident share from 0.78 to 0.85 at T = 1


def check_guidance(prior: CodePrior, guidance: float) -> None:
    """ConfigError (one line) for a guidance scale this prior cannot use."""
    if not 0.0 <= guidance <= MAX_GUIDANCE:
        raise ConfigError(f"guidance must lie in 0..{MAX_GUIDANCE:g} (1: none), got {guidance}")
    if guidance != 1.0 and not prior.conditional:
        raise ConfigError("guidance steers towards a class: this prior is not class-conditional")


class PlainSteps:
    """The prior's own logits, position by position."""

    def __init__(self, prior: CodePrior, n: int, labels: torch.Tensor | None, use_cache: bool) -> None:
        self.prior = prior
        self.state: Any = prior.start(n, labels, use_cache=use_cache)

    def logits(self, codes: torch.Tensor, t: int) -> torch.Tensor:
        """Logits (n, K) of position ``t`` given ``codes`` (n, L) filled up to ``t``."""
        return self.prior.next_logits(self.state, codes, t)

    def chose(self, t: int, chosen: torch.Tensor) -> None:
        """Position ``t`` now holds ``chosen`` (n,)."""


class GuidedSteps(PlainSteps):
    """Guided logits: every class's prediction at once, and each class's log-likelihood of the codes so far."""

    def __init__(self, prior: CodePrior, n: int, labels: torch.Tensor, guidance: float, use_cache: bool) -> None:
        classes = prior.config.n_classes
        self.prior, self.n, self.classes, self.guidance = prior, n, classes, guidance
        self.labels = labels
        every_class = torch.arange(classes, device=prior.device).repeat(n)  # map i, class j at row i * classes + j
        self.state = prior.start(n * classes, every_class, use_cache=use_cache)
        self.codes = torch.zeros(n * classes, prior.config.length, dtype=torch.long, device=prior.device)
        self.prefix = torch.zeros(n, classes, device=prior.device)  # log p(c_<t | y') of each map and class
        self.last = torch.zeros(0)

    def logits(self, codes: torch.Tensor, t: int) -> torch.Tensor:
        step = self.prior.next_logits(self.state, self.codes, t)
        self.last = torch.log_softmax(step.float(), dim=1).view(self.n, self.classes, -1)
        conditional = self.last[torch.arange(self.n, device=step.device), self.labels]
        weights = torch.log_softmax(self.prefix, dim=1)[:, :, None]  # log p(y' | c_<t), uniform p(y')
        unconditional = torch.logsumexp(weights + self.last, dim=1)
        return conditional + (self.guidance - 1.0) * (conditional - unconditional)

    def chose(self, t: int, chosen: torch.Tensor) -> None:
        self.codes[:, t] = chosen.repeat_interleave(self.classes)
        index = chosen.view(self.n, 1, 1).expand(self.n, self.classes, 1)
        self.prefix += self.last.gather(2, index)[:, :, 0]


def steps_for(prior: CodePrior, n: int, labels: torch.Tensor | None, guidance: float,
              use_cache: bool) -> PlainSteps:
    """The stepper of ``n`` maps of ``labels``: guided for a conditional prior with guidance other than 1."""
    check_guidance(prior, guidance)
    if guidance == 1.0 or labels is None:
        return PlainSteps(prior, n, labels, use_cache)
    labels = prior.check_labels(labels, n)
    return GuidedSteps(prior, n, labels, guidance, use_cache)  # type: ignore[arg-type]
