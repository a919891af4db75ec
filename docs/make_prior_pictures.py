"""Pictures of the shipped VQ-VAEs' learned priors (no GUI): sample grids, a fill-in halfway, completions.

Writes docs/prior-<model>-samples.png (one row per class for a class-conditional prior, at the app's starting
class guidance; -samples-plain.png: the same without guidance, the prior as trained), -fill-in.png (the code
map filling in raster order: the decoded image after 1/4, 1/2, 3/4 and all of the positions, the unfilled codes
shown as code 0) and -completions.png (a test image, its top half's codes kept, several completions beside it).

    python docs/make_prior_pictures.py [vqvae-mnist vqvae-emoji]
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import torch

from aeviewer.data.loader import load_split
from aeviewer.explore.export import write_grid
from aeviewer.models.priors import iter_sample, keep_rows_above
from aeviewer.models.priors.guidance import DEFAULT_GUIDANCE
from aeviewer.util.paths import shipped_dir
from aeviewer.training.checkpoint import load_checkpoint

DOCS = Path(__file__).resolve().parent


def pictures(name: str, per_class: int = 8) -> None:
    ckpt = load_checkpoint(shipped_dir("trained") / f"{name}.safetensors")
    model, prior = ckpt.model, ckpt.model.prior
    scale = max(1, 96 // model.config.image_shape[1])
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        classes = range(prior.config.n_classes) if prior.conditional else [None]
        started = time.perf_counter()
        for suffix, guidance in (("", DEFAULT_GUIDANCE), ("-plain", 1.0)):
            options = {"guidance": guidance} if prior.conditional else {}
            rows = [model.decode_codes(model.sample_codes(per_class, generator=gen, labels=k, **options))
                    for k in classes]
            print(f"{name}: {per_class * len(rows)} samples{suffix} in {time.perf_counter() - started:.2f} s")
            write_grid(DOCS / f"prior-{name}-samples{suffix}.png", torch.cat(rows), per_class, scale=scale)
            started = time.perf_counter()
        fill_in(model, name, scale)
        completions(model, ckpt, name, scale)


def fill_in(model, name: str, scale: int) -> None:
    length = model.prior.config.length
    wanted = {length // 4 - 1, length // 2 - 1, 3 * length // 4 - 1, length - 1}
    frames = [model.decode_codes(codes.clone()) for t, codes in
              iter_sample(model.prior, 4, generator=torch.Generator().manual_seed(1)) if t in wanted]
    # one row per sample, one column per stage of the fill-in
    grid = torch.stack(frames, dim=1).flatten(0, 1)
    write_grid(DOCS / f"prior-{name}-fill-in.png", grid, len(frames), scale=scale)


def completions(model, ckpt, name: str, scale: int, n: int = 6) -> None:
    test = load_split(ckpt.dataset, "test", preparation=ckpt.preparation)
    rows = []
    for i in range(3):
        x = test.float_batch(slice(i * 7, i * 7 + 1))
        given = model.encode_codes(x)[0]
        keep = keep_rows_above(model.code_grid_shape, model.code_grid_shape[0] // 2)
        labels = test.labels[i * 7] if model.prior.conditional else None
        codes = model.sample_codes(n, generator=torch.Generator().manual_seed(i), given=given, keep=keep, labels=labels)
        rows.append(torch.cat([x, model.decode_codes(given[None]), model.decode_codes(codes)]))
    write_grid(DOCS / f"prior-{name}-completions.png", torch.cat(rows), n + 2, scale=scale)


if __name__ == "__main__":
    for model_name in sys.argv[1:] or ["vqvae-mnist", "vqvae-emoji"]:
        pictures(model_name)
