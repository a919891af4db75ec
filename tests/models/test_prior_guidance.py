"""Class guidance from a conditional prior itself: the mixture it stands on, its limits, and its use in sampling."""
from __future__ import annotations

import itertools

import pytest
import torch

from aeviewer.errors import ConfigError
from aeviewer.models.priors import PRIOR_ARCHS, PriorConfig, build_prior, sample_codes
from aeviewer.models.priors.guidance import GuidedSteps


def tiny_prior(arch: str, n_classes: int = 3, grid: tuple[int, int] = (2, 2), k: int = 3, scale: float = 8.0):
    torch.manual_seed(0)
    config = PriorConfig(arch=arch, codebook_size=k, grid=grid, n_classes=n_classes, width=16, layers=2, heads=2,
                         kernel=3, dropout=0.0, axial_positions=True)
    prior = build_prior(config).eval()
    with torch.no_grad():  # a fresh prior is nearly uniform; make its classes disagree
        for p in prior.parameters():
            p.mul_(scale)
    return prior


def log_p_maps(prior, labels):
    """log p(c | y) of every code map of the tiny grid, (classes, maps)."""
    maps = torch.tensor(list(itertools.product(range(prior.config.codebook_size), repeat=prior.config.length)))
    maps = maps.view(-1, *prior.config.grid)
    with torch.no_grad():
        return torch.stack([-prior.nll(maps, torch.full((len(maps),), y)) for y in labels]), maps


@pytest.mark.parametrize("arch", PRIOR_ARCHS)
def test_guidance_0_steps_through_the_class_mixture_of_the_prior(arch):
    # with w = 0 each step is p(c_t | c_<t) of the uniform mixture over classes, so the probabilities of whole maps
    # multiply out to the mixture's: mean over y of p(c | y), checked against brute force over all 81 maps
    prior = tiny_prior(arch)
    classes = prior.config.n_classes
    log_joint, maps = log_p_maps(prior, range(classes))
    mixture = torch.logsumexp(log_joint, 0) - torch.log(torch.tensor(float(classes)))
    steps = GuidedSteps(prior, len(maps), torch.zeros(len(maps), dtype=torch.long), 0.0, use_cache=True)
    flat = maps.view(len(maps), -1)
    total = torch.zeros(len(maps))
    with torch.no_grad():
        for t in range(prior.config.length):
            step = torch.log_softmax(steps.logits(flat, t), 1)
            total += step.gather(1, flat[:, t:t + 1])[:, 0]
            steps.chose(t, flat[:, t])
    torch.testing.assert_close(total, mixture, rtol=1e-4, atol=1e-4)
    assert not torch.allclose(mixture, log_joint[0], atol=1e-2)  # the mixture is not class 0's own


def test_guidance_1_is_the_conditional_prior_unchanged():
    prior = tiny_prior("transformer")
    plain = sample_codes(prior, 8, labels=2, generator=torch.Generator().manual_seed(1))
    guided = sample_codes(prior, 8, labels=2, guidance=1.0, generator=torch.Generator().manual_seed(1))
    assert torch.equal(plain, guided)


def test_stronger_guidance_draws_maps_that_the_class_explains_better():
    prior = tiny_prior("transformer", grid=(3, 3), k=5, scale=2.0)
    labels = torch.tensor([0, 1, 2]).repeat(200)

    def class_margin(guidance: float) -> float:
        codes = sample_codes(prior, len(labels), labels=labels, guidance=guidance,
                             generator=torch.Generator().manual_seed(0))
        with torch.no_grad():
            own = -prior.nll(codes, labels)
            others = torch.stack([-prior.nll(codes, torch.full_like(labels, y)) for y in range(3)])
        return float((own - torch.logsumexp(others, 0)).mean())  # log p(y | c) under a uniform p(y)

    plain, guided = class_margin(1.0), class_margin(4.0)
    assert plain < -0.05  # the classes overlap without guidance
    assert guided > plain + 0.1


def test_guidance_with_and_without_the_cache_draws_the_same_maps():
    prior = tiny_prior("transformer", grid=(3, 3), k=5)
    options = {"labels": 1, "guidance": 3.0}
    cached = sample_codes(prior, 5, generator=torch.Generator().manual_seed(2), **options)
    uncached = sample_codes(prior, 5, generator=torch.Generator().manual_seed(2), use_cache=False, **options)
    assert torch.equal(cached, uncached)


def test_guidance_keeps_the_given_codes_of_a_completion():
    prior = tiny_prior("pixelcnn", grid=(3, 3), k=5)
    given = torch.randint(0, 5, (3, 3))
    keep = torch.zeros(3, 3, dtype=torch.bool)
    keep[0] = True
    codes = sample_codes(prior, 4, labels=0, guidance=2.5, given=given, keep=keep,
                         generator=torch.Generator().manual_seed(0))
    assert torch.equal(codes[:, 0], given[0].expand(4, 3))


@pytest.mark.parametrize(("n_classes", "guidance", "words"), [
    (3, -1.0, "guidance must lie in 0..10"),
    (3, 11.0, "guidance must lie in 0..10"),
    (0, 2.0, "not class-conditional"),
])
def test_guidance_a_prior_cannot_use_is_one_line(n_classes, guidance, words):
    prior = tiny_prior("transformer", n_classes=n_classes)
    with pytest.raises(ConfigError, match=words) as caught:
        sample_codes(prior, 2, guidance=guidance)
    assert "\n" not in str(caught.value)
