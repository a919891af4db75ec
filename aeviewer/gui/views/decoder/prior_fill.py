"""Watch it sample: a learned prior fills a code map in raster order, decoded after every position.

The job (gui/jobs.py) steps :func:`aeviewer.models.priors.iter_sample` one position at a time, decodes the partly
filled maps and reports them as coalesced progress (a GUI that falls behind skips frames, never queues them); the
positions not drawn yet are painted flat grey, so the picture is seen being put together from discrete blocks. The
pace is held to ``rate`` positions a second: the prior itself fills a 7x7 map in a tenth of a second, too fast to see.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import torch

from aeviewer.gui.jobs import Job
from aeviewer.models.priors import iter_sample, sample_codes

UNFILLED_GREY = 0.5  # what a position the prior has not drawn yet shows: neither ink nor background
DEFAULT_RATE = 40  # positions a second (the issue asks at least 20): a 7x7 map fills in 1.2 s, a 16x16 one in 6.4 s


@dataclass
class FillFrame:
    """One step of the fill-in: ``filled`` positions drawn so far of ``length``, and the images to show."""

    filled: int
    length: int
    images: np.ndarray  # (N, H, W[, C]) in [0, 1], unfilled blocks grey


@dataclass
class FillDone:
    codes: torch.Tensor  # (N, H', W'), the finished maps
    latents: np.ndarray  # (N, L): what a click on a sample makes the current point
    images: np.ndarray


def code_images(model: Any, codes: torch.Tensor) -> np.ndarray:
    """The decoded images of code maps (N, H', W'): (N, H, W) for one channel, else (N, H, W, C), float32 in [0, 1]."""
    with torch.inference_mode():
        images = model.decode_codes(codes).float().permute(0, 2, 3, 1).cpu().numpy()
    return images[..., 0] if images.shape[-1] == 1 else images


def sample_in_job(job: Job, prior: Any, n: int, **options: Any) -> torch.Tensor:
    """``n`` code maps drawn from ``prior``, looking at the job after each position: a request superseded by a newer
    one (or a model closed) stops within one position instead of sampling on to the end (an emoji map is 256)."""
    return sample_codes(prior, n, check=job.check, **options)


def grey_unfilled(images: np.ndarray, grid: tuple[int, int], filled: int) -> np.ndarray:
    """``images`` with the pixels of every raster position from ``filled`` on painted UNFILLED_GREY."""
    h, w = grid
    return grey_cells(images, (np.arange(h * w) >= filled).reshape(h, w))


def grey_cells(images: np.ndarray, cells: np.ndarray) -> np.ndarray:
    """``images`` with the pixels of the code cells where ``cells`` (bool (H', W')) holds painted UNFILLED_GREY."""
    h, w = cells.shape
    height, width = images.shape[1:3]
    block = np.repeat(np.repeat(np.asarray(cells, bool), -(-height // h), 0), -(-width // w), 1)[:height, :width]
    out = np.array(images, np.float32, copy=True)
    out[:, block] = UNFILLED_GREY
    return out


def fill_in(model: Any, n: int, seed: int, options: dict[str, Any], rate: float = DEFAULT_RATE
            ) -> Callable[[Job], FillDone]:
    """The job that fills ``n`` code maps of ``model``'s prior position by position (``options``: temperature,
    top_k, labels), sending a :class:`FillFrame` after each and returning the :class:`FillDone`."""

    def run(job: Job) -> FillDone:
        grid = tuple(model.prior.config.grid)
        length = grid[0] * grid[1]
        generator = torch.Generator().manual_seed(seed)
        started = time.monotonic()
        codes = torch.zeros(n, *grid, dtype=torch.long)
        for t, codes in iter_sample(model.prior, n, generator=generator, **options):
            job.check()
            job.progress(FillFrame(t + 1, length, grey_unfilled(code_images(model, codes), grid, t + 1)))
            behind = started + (t + 1) / max(rate, 1e-3) - time.monotonic()
            if behind > 0 and job.cancel_event.wait(behind):
                job.check()
        codes = codes.clone()
        with torch.inference_mode():
            latents = model.latents_of_codes(codes).cpu().numpy().astype(np.float32)
        return FillDone(codes, latents, code_images(model, codes))

    return run
