"""Complete an image: keep a test image's codes above a line, or in a region painted in the codebook view, and let
the learned prior sample the rest.

The job (gui/jobs.py) encodes the image's code map, draws ``n`` completions with the kept codes (a mask: the first
``rows`` rows, :func:`aeviewer.models.priors.keep_rows_above`, or the painted cells) copied exactly, and decodes them.
The prior reads every kept code before a position as its context; it samples in raster order, so a kept code after a
position is copied but was not seen when that position was drawn. What the tab shows, in order: the original image, what the prior was given (the kept rows decoded,
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
from aeviewer.gui.views.decoder.prior_fill import code_images, grey_cells, sample_in_job


@dataclass
class Completion:
    given: torch.Tensor  # (H', W'): the code map the kept codes come from (the image's own, or as edited)
    keep: torch.Tensor  # (H', W') bool: the codes kept
    rows: int | None  # the line: the rows of codes kept (None: a painted region)
    codes: torch.Tensor  # (n, H', W'): the completions
    images: np.ndarray  # (n + 2, H, W[, C]): the original, what was given, the completions
    latents: np.ndarray  # (n + 2, L), aligned with ``images`` (the first two: the image's own code map)
    given_image: np.ndarray  # the image's own code map decoded, nothing greyed (a line dragged elsewhere greys it anew)


def as_display(image: torch.Tensor) -> np.ndarray:
    """A uint8 (C, H, W) image as float32 (H, W) or (H, W, C) in [0, 1]."""
    out = image.float().div(255.0).permute(1, 2, 0).numpy()
    return out[..., 0] if out.shape[-1] == 1 else out


def complete(model: Any, image: torch.Tensor, label: int, keep: torch.Tensor, n: int, seed: int,
             options: dict[str, Any], given: torch.Tensor | None = None, rows: int | None = None
             ) -> Callable[[Job], Completion]:
    """The job that completes test ``image`` (uint8 (C, H, W), of class ``label``, -1 for none) ``n`` times, keeping
    the codes where ``keep`` (bool (H', W')) holds: from ``given`` (H', W') where set, else from the image's own code
    map. ``options``: temperature, top_k, labels; ``rows``: the line the mask came from, if it did."""

    def run(job: Job) -> Completion:
        prior = model.prior
        with torch.inference_mode():
            own = model.encode_codes(image.unsqueeze(0).float().div(255.0))
        source = own if given is None else torch.as_tensor(given, dtype=torch.long).reshape(own.shape)
        options_here = dict(options)
        if prior.conditional and "labels" not in options_here and 0 <= label < prior.config.n_classes:
            options_here["labels"] = label
        job.check()
        codes = sample_in_job(job, prior, n, generator=torch.Generator().manual_seed(seed), given=source, keep=keep,
                              **options_here)
        job.check()
        decoded = code_images(model, source)
        kept = grey_cells(decoded, ~keep.numpy())
        images = np.concatenate([as_display(image)[None], kept, code_images(model, codes)])
        with torch.inference_mode():
            latents = model.latents_of_codes(torch.cat([source, source, codes])).cpu().numpy().astype(np.float32)
        return Completion(source[0].clone(), keep.clone(), rows, codes, images, latents, decoded[0])

    return run
