"""The CLI's sub-commands for models from outside aeviewer: ``gui --model-module`` / ``--encoder --decoder``
and ``export-onnx``."""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from aeviewer.errors import ConfigError

def add_foreign_model_options(gui: argparse.ArgumentParser) -> None:
    group = gui.add_argument_group("a model trained outside aeviewer")
    group.add_argument("--model-module", metavar="MODULE:FUNCTION",
                       help="import MODULE (dotted name, or a .py file) and explore the model FUNCTION() returns "
                            "(this runs your own code)")
    group.add_argument("--encoder", metavar="ENCODER.onnx", help="ONNX encoder (with --decoder)")
    group.add_argument("--decoder", metavar="DECODER.onnx", help="ONNX decoder (with --encoder)")
    group.add_argument("--dataset", metavar="NAME_OR_PATH", help="images to explore a foreign model over; without one, the training "
                       "panel's data set (a name, or a folder / .npz / .npy path, loaded at start)")


def add_export_onnx_parser(sub: Any) -> None:
    export = sub.add_parser("export-onnx", help="write a checkpoint as an ONNX pair (encoder.onnx, decoder.onnx)")
    export.add_argument("path", help="checkpoint (.safetensors)")
    export.add_argument("--out", required=True, metavar="DIR", help="folder for encoder.onnx and decoder.onnx")


def wants_foreign_model(args: argparse.Namespace) -> bool:
    return any(getattr(args, name, None) for name in ("model_module", "encoder", "decoder"))


def run_foreign_gui(args: argparse.Namespace) -> int:
    from aeviewer.api import open_window
    from aeviewer.foreign.api_data import as_image_set
    from aeviewer.foreign.adapters import adapt

    if args.model and (args.model_module or args.encoder):
        raise ConfigError("open either a checkpoint or a foreign model (--model-module, --encoder), not both")
    if args.model_module and (args.encoder or args.decoder):
        raise ConfigError("give --model-module or --encoder/--decoder, not both")
    if not args.model_module and not (args.encoder and args.decoder):
        raise ConfigError("an ONNX pair needs both --encoder and --decoder")
    if not args.dataset:
        raise ConfigError("a foreign model needs --dataset NAME_OR_PATH: the images it is explored over")
    if args.model_module:
        from aeviewer.foreign.model_module import make_model

        model, title = make_model(args.model_module), args.model_module
    else:
        from aeviewer.foreign.onnx_pair import onnx_model

        model, title = onnx_model(args.encoder, args.decoder), f"{Path(args.encoder).name} + {Path(args.decoder).name}"
    images, layout = as_image_set(args.dataset, data_dir=args.data_dir)
    open_window(adapt(model, images, data_layout=layout), images, title, block=True)
    return 0


def export_onnx_command(args: argparse.Namespace) -> int:
    from aeviewer.foreign.onnx_export import export_onnx
    from aeviewer.training.checkpoint import load_checkpoint

    encoder, decoder = export_onnx(load_checkpoint(args.path).model, args.out)
    print(f"wrote {encoder} and {decoder}")
    return 0

