"""The CLI's ``export`` sub-command: a checkpoint's walks (GIF, MP4, PNG strip), traversal grid, latents and
images, for slides."""
from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any

from aeviewer.errors import AeviewerError
from aeviewer.spec.options import positive_float, positive_int

def _index_list(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected test-image indices like 3,17,42, got {text!r}") from None


def _index_pair(text: str) -> tuple[int, int]:
    indices = _index_list(text)
    if len(indices) != 2:
        raise argparse.ArgumentTypeError(f"expected two test-image indices I,J, got {text!r}")
    return indices[0], indices[1]


def _map_points(text: str) -> tuple[tuple[float, float], ...]:
    """x0,y0,x1,y1,...: the vertices of a polyline on the map (at least two, finite)."""
    try:
        values = [float(part) for part in text.split(",")]
    except ValueError:
        values = []
    if len(values) < 4 or len(values) % 2 or not all(math.isfinite(v) for v in values):
        raise argparse.ArgumentTypeError(f"expected map points x0,y0,x1,y1,... (two or more), got {text!r}")
    return tuple(zip(values[0::2], values[1::2]))


def add_export_parser(sub: Any, data_dir: argparse.ArgumentParser) -> None:
    export = sub.add_parser("export", parents=[data_dir],
                            help="write a checkpoint's walks (GIF, MP4, PNG strip), traversal grid, latents and images")
    export.add_argument("checkpoint", metavar="CKPT", help="checkpoint (.safetensors)")
    export.add_argument("--dataset", help="data set whose test split is used (default: the one it was trained on)")
    walk = export.add_mutually_exclusive_group()
    walk.add_argument("--interpolate", type=_index_pair, metavar="I,J", help="walk from test image I's code to J's")
    walk.add_argument("--path", dest="map_path", type=_map_points, metavar="X0,Y0,X1,Y1,...",
                      help="walk along a polyline on the map, equally spaced by arc length "
                           "(write --path=-1,0,... when it starts with a minus)")
    walk.add_argument("--traverse", type=int, metavar="DIM",
                      help="walk latent dimension DIM over its test range, the others at the codes' mean")
    export.add_argument("--steps", type=positive_int, default=10, help="frames of the walk (default 10)")
    export.add_argument("--mode", choices=("lerp", "slerp"), default="lerp", help="interpolation (default lerp)")
    export.add_argument("--out", help="the walk's file: .gif or .mp4 (an animation) or .png (a strip)")
    export.add_argument("--fps", type=positive_float, default=10.0, help="animation frames per second (default 10)")
    export.add_argument("--latents", metavar="FILE", help="every test image's code, label and map point: .csv or .npz")
    export.add_argument("--projection", choices=("auto", "identity", "pair", "pca"), default="auto",
                        help="the map for x,y, --path and --grid (default auto: as the app, identity in 2-D, else pca)")
    export.add_argument("--dims", type=_index_pair, default=(0, 1), metavar="I,J", help="the pair projection's dims")
    export.add_argument("--grid", metavar="FILE.png", help="a traversal grid over the map's central 98%%, as PNG")
    export.add_argument("--grid-size", type=positive_int, default=12, metavar="N", help="grid points per side (12)")
    export.add_argument("--images", type=_index_list, metavar="I,J,K", help="test images to write to --out-dir")
    export.add_argument("--out-dir", help="folder for --images' PNGs (made if missing)")
    export.add_argument("--scale", type=positive_int,
                        help="upscale every pixel to N x N (default: to at least 128 px a side; 1 keeps the size)")


def export_command(args: argparse.Namespace) -> int:
    import numpy as np

    from aeviewer.explore import latent_space
    from aeviewer.explore import export
    from aeviewer.explore import walks
    from aeviewer.data.loader import load_split
    from aeviewer.training.checkpoint import load_checkpoint

    walking = args.interpolate is not None or args.map_path is not None or args.traverse is not None
    if walking != (args.out is not None):
        raise AeviewerError("--out names the walk's file: give it with one of --interpolate, --path, --traverse")
    if (args.images is None) != (args.out_dir is None):
        raise AeviewerError("--images and --out-dir go together")
    if not (walking or args.latents or args.grid or args.images):
        raise AeviewerError("nothing to export: give --interpolate/--path/--traverse with --out, --latents, --grid "
                            "or --images with --out-dir")
    # Names are checked before the model is loaded and the test set encoded
    for name, allowed, what in ((args.out, (*export.ANIMATION_SUFFIXES, ".png"), "walks"),
                                (args.latents, export.LATENT_SUFFIXES, "latents"), (args.grid, (".png",), "grids")):
        if name:
            export.check_target(Path(name), allowed, what)
    ckpt = load_checkpoint(args.checkpoint)
    dataset = args.dataset or ckpt.dataset
    if not dataset:
        raise AeviewerError(f"{args.checkpoint}: records no data set; pass --dataset")
    # the checkpoint's own data set is prepared as it was for training (size, channels, split)
    test_set = load_split(dataset, "test", args.data_dir, ckpt.preparation if dataset == ckpt.dataset else None)
    model = ckpt.model
    need_map = args.map_path is not None or args.traverse is not None or args.latents or args.grid
    latents = latent_space.encode_set(model, test_set) if need_map else None
    projection = latent_space.make_projection(args.projection, latents, args.dims) if need_map else None
    written: list[str] = []
    if walking:
        if args.interpolate is not None:
            z = walks.between_images(model, test_set, *args.interpolate, args.steps, args.mode)
        elif args.map_path is not None:
            z = walks.along_map_path(projection, np.asarray(args.map_path), args.steps)
        else:
            z = walks.sweep_over_codes(latents, args.traverse, args.steps)
        frames = latent_space.decode_points(model, z)
        out = Path(args.out)
        if out.suffix.lower() == ".png":
            export.write_strip(out, frames, scale=args.scale)
        else:
            export.write_animation(out, frames, fps=args.fps, scale=args.scale)
        written.append(f"{out} ({args.steps} frames)")
    if args.latents:
        coords = projection.to_2d(latents)
        export.write_latents(args.latents, latents, test_set.labels.numpy(), test_set.class_names, coords)
        written.append(f"{args.latents} ({len(latents):,} rows, map {projection.kind})")
    if args.grid:
        grid = walks.traversal_grid(projection, projection.to_2d(latents), args.grid_size)
        export.write_grid(args.grid, latent_space.decode_points(model, grid), args.grid_size, scale=args.scale)
        written.append(f"{args.grid} ({args.grid_size}x{args.grid_size})")
    if args.images:
        import torch

        indices = walks.check_indices(args.images, test_set)
        images = test_set.images[torch.as_tensor(indices, dtype=torch.long)].numpy()
        export.write_image_folder(args.out_dir, images, indices, scale=args.scale or 1)
        written.append(f"{args.out_dir}/ ({len(indices)} images)")
    print("wrote " + ", ".join(written))
    return 0
