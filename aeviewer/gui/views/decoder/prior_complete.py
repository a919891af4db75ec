"""Complete an image: keep a test image's codes above a line and let the learned prior sample the rest.

The job (gui/jobs.py) encodes the image's code map, draws ``n`` completions with the first ``rows`` rows of codes
kept (:func:`aeviewer.models.priors.keep_rows_above`: the prior reads them as its context and copies them exactly),
and decodes them. What the tab shows, in order: the original image, what the prior was given (the kept rows decoded,
the rest grey), then the completions. A class-conditional prior asked for no class completes as the image's class.
The line is dragged on either of the first two tiles (:class:`~.prior_tab.PriorTab` greys the rows below it as it
moves and completes again where it is let go), or set with the tab's row spin box.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import torch

from aeviewer.gui.jobs import Job
from aeviewer.gui.views.decoder.prior_fill import code_images, grey_unfilled
from aeviewer.models.priors import keep_rows_above, sample_codes


@dataclass
class Completion:
    given: torch.Tensor  # (H', W'): the image's own code map
    rows: int  # the rows of codes kept
    codes: torch.Tensor  # (n, H', W'): the completions
    images: np.ndarray  # (n + 2, H, W[, C]): the original, what was given, the completions
    latents: np.ndarray  # (n + 2, L), aligned with ``images`` (the first two: the image's own code map)
    given_image: np.ndarray  # the image's own code map decoded, nothing greyed (a line dragged elsewhere greys it anew)


def as_display(image: torch.Tensor) -> np.ndarray:
    """A uint8 (C, H, W) image as float32 (H, W) or (H, W, C) in [0, 1]."""
    out = image.float().div(255.0).permute(1, 2, 0).numpy()
    return out[..., 0] if out.shape[-1] == 1 else out


def complete(model: Any, image: torch.Tensor, label: int, rows: int, n: int, seed: int,
             options: dict[str, Any]) -> Callable[[Job], Completion]:
    """The job that completes test ``image`` (uint8 (C, H, W), of class ``label``, -1 for none) below ``rows``
    rows of its codes, ``n`` times (``options``: temperature, top_k, labels)."""

    def run(job: Job) -> Completion:
        prior = model.prior
        grid = tuple(prior.config.grid)
        with torch.inference_mode():
            given = model.encode_codes(image.unsqueeze(0).float().div(255.0))
        options_here = dict(options)
        if prior.conditional and "labels" not in options_here and 0 <= label < prior.config.n_classes:
            options_here["labels"] = label
        job.check()
        codes = sample_codes(prior, n, generator=torch.Generator().manual_seed(seed), given=given,
                             keep=keep_rows_above(grid, rows), **options_here)
        job.check()
        decoded = code_images(model, given)
        kept = grey_unfilled(decoded, grid, rows * grid[1])
        images = np.concatenate([as_display(image)[None], kept, code_images(model, codes)])
        with torch.inference_mode():
            latents = model.latents_of_codes(torch.cat([given, given, codes])).cpu().numpy().astype(np.float32)
        return Completion(given[0].clone(), rows, codes, images, latents, decoded[0])

    return run
