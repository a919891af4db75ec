"""Where an AAE's Parzen log-likelihood stands: prior samples beside decoded training codes (the ceiling).

    python docs/aae_parzen_diagnostics.py PATH [PATH ...]   (data from $AEVIEWER_DATA, MNIST; about 40 s a model)

For each checkpoint it prints the Parzen estimate of 10,000 decoded prior samples and of the decoded codes
of 10,000 training images plus the posterior noise (what a perfectly matched aggregated posterior would give
with the same decoder), σ for each chosen on the last 1,000 training images from a finer grid than
`aeviewer evaluate --parzen` uses, then the test PSNR and the codes' spread (per-dimension std, median norm;
an 8-dim N(0, I) has 1 and 2.71).

A second line asks whether the ceiling is memorisation: with the test split cut in random halves A and B,
it scores on B 5,000 decoded prior samples, the decoded codes (plus posterior noise) of 5,000 training
images, and those of the 5,000 unseen test images in A. Unseen images' codes scoring like training codes
means the decoder generalises, and what separates prior samples from the ceiling is where they land.
"""
from __future__ import annotations

import sys

import numpy as np
import torch

from aeviewer.data.loader import load_split
from aeviewer.models.base import Autoencoder
from aeviewer.training.checkpoint import load_checkpoint
from aeviewer.training.metrics import choose_parzen_sigma, parzen_log_likelihood, psnr

FINE_SIGMAS = tuple(float(s) for s in np.geomspace(0.1, 0.25, 17))


def parzen(samples: torch.Tensor, validation: torch.Tensor, test: torch.Tensor) -> tuple[float, float]:
    sigma, _ = choose_parzen_sigma(samples, validation, sigmas=FINE_SIGMAS)
    return float(parzen_log_likelihood(samples, test, sigma).mean()), sigma


@torch.inference_mode()
def report(path: str, train: torch.Tensor, test: torch.Tensor) -> str:
    model = load_checkpoint(path).model.eval()
    gen = torch.Generator().manual_seed(0)
    prior = decoded_prior(model, 10_000, gen)
    ceiling = decoded_codes(model, train[torch.randperm(len(train) - 1000, generator=gen)[:10_000]], gen)
    validation, flat_test = train[-1000:].flatten(1), test.flatten(1)
    (p_ll, p_sigma), (c_ll, c_sigma) = parzen(prior, validation, flat_test), parzen(ceiling, validation, flat_test)
    test_codes = model.encode(test)
    quality = psnr(model.decode(test_codes).flatten(1), flat_test).mean()
    return (f"{path}: prior {p_ll:.1f} (σ {p_sigma:.3f})  ceiling {c_ll:.1f} (σ {c_sigma:.3f})  PSNR {quality:.2f} dB  "
            f"code std {test_codes.std(0).mean():.2f}  median |z| {test_codes.norm(dim=1).median():.2f}\n"
            + halves(model, train, test, gen))


def decoded_prior(model: Autoencoder, n: int, gen: torch.Generator) -> torch.Tensor:
    """``n`` prior draws decoded and flattened, in batches of 1,000 (the draws depend only on ``gen``)."""
    return torch.cat([model.decode(model.sample(1000, generator=gen)).flatten(1) for _ in range(n // 1000)])


def decoded_codes(model: Autoencoder, images: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """The images' codes plus the posterior noise, decoded and flattened."""
    codes = model.encode(images)
    return model.decode(codes + model.config.posterior_std * torch.randn(codes.shape, generator=gen)).flatten(1)


def halves(model: Autoencoder, train: torch.Tensor, test: torch.Tensor, gen: torch.Generator) -> str:
    """Prior samples, training codes and unseen test codes (5,000 each), scored on the other test half."""
    order = torch.randperm(len(test), generator=gen)
    half_a, half_b = test[order[:5000]], test[order[5000:]].flatten(1)
    validation = train[-1000:].flatten(1)
    sets = {"prior": decoded_prior(model, 5000, gen),
            "training codes": decoded_codes(model, train[torch.randperm(len(train) - 1000, generator=gen)[:5000]], gen),
            "unseen test codes": decoded_codes(model, half_a, gen)}
    scores = {name: parzen(samples, validation, half_b)[0] for name, samples in sets.items()}
    return "  on half the test split, 5,000 each: " + "  ".join(f"{k} {v:.1f}" for k, v in scores.items())


def main(paths: list[str]) -> None:
    torch.set_num_threads(1)
    train = load_split("mnist", "train", None).float_batch(slice(None))
    test = load_split("mnist", "test", None).float_batch(slice(None))
    for path in paths:
        print(report(path, train, test), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
