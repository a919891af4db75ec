"""Command line: the only place that parses arguments. Bare `aeviewer` opens the GUI."""
from __future__ import annotations

import argparse
import json
import math
import os
import shlex
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any, Sequence

from aeviewer.cli.export import add_export_parser, export_command
from aeviewer.cli.foreign import (
    add_export_onnx_parser, add_foreign_model_options, export_onnx_command, run_foreign_gui, wants_foreign_model,
)
from aeviewer.cli.progress_line import ProgressLine
from aeviewer.cli.prior import add_train_prior_parser, bound_note, train_prior_command
from aeviewer.data.options import DataLoads, add_data_options, preparation_from_args
from aeviewer.errors import AeviewerError, CheckpointError
from aeviewer.spec.options import add_cli_options, cli_values, non_negative_float, options, positive_float, positive_int, seed
from aeviewer.spec.vocabulary import DEVICE_SPECS

PARZEN_VALIDATION_IMAGES = 1000  # the last training images; Makhzani et al. choose the Parzen sigma on them


class _OneLineParser(argparse.ArgumentParser):
    """Bad arguments end in exit status 2 and a single line on stderr, never a usage dump."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"aeviewer: error: {message} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _OneLineParser(prog="aeviewer", description="Latent-space explorer for autoencoders.")
    data_dir_help = "data directory (default: $AEVIEWER_DATA or the per-user data folder)"
    parser.add_argument("--data-dir", help=data_dir_help)
    # ... and after any sub-command too ("aeviewer train ... --data-dir D", as the missing-data hint reads);
    # SUPPRESS: a sub-command without it keeps the one given before the sub-command
    data_dir = argparse.ArgumentParser(add_help=False)
    data_dir.add_argument("--data-dir", default=argparse.SUPPRESS, help=data_dir_help)
    sub = parser.add_subparsers(dest="command", parser_class=_OneLineParser)

    gui = sub.add_parser("gui", parents=[data_dir], help="open the desktop app (the default without a sub-command)")
    gui.add_argument("model", nargs="?", help="checkpoint (.safetensors) or session (.aeviewer.json) to open")
    gui.add_argument("--follow", metavar="RUN", help="open a checkpoint another process is writing (a training run) "
                                                     "and reopen it as each epoch lands")
    add_foreign_model_options(gui)

    # issue 23: aeviewer compare A B [C D] (gui/compare_view.py)
    compare = sub.add_parser("compare", parents=[data_dir], help="2 to 4 models of one data set side by side, linked")
    compare.add_argument("models", nargs="+", metavar="MODEL", help="checkpoints to compare (.safetensors), 2 to 4")

    train = sub.add_parser("train", parents=[data_dir], help="train a model and write a checkpoint each epoch")
    add_cli_options(train, options(path_only=False))
    train.add_argument("--out", help="checkpoint path (default: <kind>-<dataset>.safetensors)")
    train.add_argument("--no-eval", action="store_true", help="skip the test-split evaluation at the end")
    train.add_argument("--nproc", type=positive_int, default=1, metavar="N",
                       help="train data-parallel on N processes of this machine (starts torchrun; gloo on the CPU, "
                            "NCCL on CUDA); --batch-size stays the global batch")
    train.add_argument("--resume", metavar="CHECKPOINT",
                       help="continue the run a checkpoint was written by (the file --out writes each epoch) "
                            "up to --epochs; its model settings are used")
    train.add_argument("--hold-out", type=int, default=0, metavar="N",
                       help="train without the last N training images: the validation split on which "
                            f"'evaluate --parzen' chooses its sigma (it uses the last {PARZEN_VALIDATION_IMAGES})")
    add_data_options(train)

    refit = sub.add_parser("refit-decoder", parents=[data_dir],
                           help="train a checkpoint's decoder alone on its frozen encoder's codes plus Gaussian noise "
                                "(ae, dae, aae)")
    refit.add_argument("path", help="checkpoint (.safetensors)")
    refit.add_argument("--noise", type=non_negative_float, default=0.3, help="std of the noise added to each code (default 0.3)")
    refit.add_argument("--epochs", type=positive_int, default=1)
    refit.add_argument("--lr", type=positive_float, default=1e-4)
    refit.add_argument("--batch-size", type=positive_int, default=100)
    refit.add_argument("--seed", type=seed, default=0)
    refit.add_argument("--device", default="auto", help=DEVICE_SPECS)
    refit.add_argument("--out", help="checkpoint to write (default: <path>-refit.safetensors beside it)")
    refit.add_argument("--no-eval", action="store_true", help="skip the test-split evaluation at the end")

    evaluate = sub.add_parser("evaluate", parents=[data_dir], help="metrics of a checkpoint on a test split")
    evaluate.add_argument("path", help="checkpoint (.safetensors)")
    evaluate.add_argument("--dataset", help="data set to evaluate on (default: the one it was trained on)")
    evaluate.add_argument("--iw-samples", type=int, default=0, help="VAE: importance samples for the NLL estimate")
    evaluate.add_argument("--parzen", action="store_true", help="AAE/VAE: Parzen-window log-likelihood (slow)")
    evaluate.add_argument("--binarize", action="store_true", help="evaluate on binarised test images (seeded)")
    evaluate.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N")
    evaluate.add_argument("--json", action="store_true", help="print one JSON object")
    add_data_options(evaluate)

    add_export_onnx_parser(sub)
    add_train_prior_parser(sub, data_dir)  # issue 31: cli_prior.py

    data = sub.add_parser("data", parents=[data_dir], help="list or download data sets")
    data_sub = data.add_subparsers(dest="data_command", parser_class=_OneLineParser, required=True)
    data_sub.add_parser("list", parents=[data_dir], help="each source, whether it is present, where and its size")
    fetch = data_sub.add_parser("fetch", parents=[data_dir], help="download a data set and verify its checksums")
    fetch.add_argument("name", help="mnist or fashion-mnist")
    fetch.add_argument("--base-url", help="mirror to download from (default: the data set's canonical one)")
    add_export_parser(sub, data_dir)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    args.command_line = "aeviewer " + shlex.join(argv)  # recorded in checkpoints so a model can be re-made
    try:
        if args.command in (None, "gui"):
            return _run_gui(args)
        if args.command == "train" and args.nproc > 1 and "RANK" not in os.environ:  # not yet under torchrun
            from aeviewer.training.distributed import launch, without_option

            return launch(without_option(argv, "--nproc"), args.nproc)
        handler = {"train": _train, "refit-decoder": _refit_decoder, "evaluate": _evaluate, "data": _data,
                   "export-onnx": export_onnx_command, "export": export_command, "compare": _compare,
                   "train-prior": train_prior_command}[args.command]
        return handler(args)
    except AeviewerError as err:
        print(f"aeviewer: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("aeviewer: interrupted", file=sys.stderr)
        return 130


def _run_gui(args: argparse.Namespace) -> int:
    from aeviewer.gui.app import run_app

    if wants_foreign_model(args):
        return run_foreign_gui(args)
    follow = getattr(args, "follow", None)
    return run_app(model_path=getattr(args, "model", None) or follow, data_dir=args.data_dir,
                   dataset=getattr(args, "dataset", None), follow=follow)


def _compare(args: argparse.Namespace) -> int:
    from aeviewer.gui.app import run_compare

    return run_compare(args.models, data_dir=args.data_dir)


# -- train --------------------------------------------------------------------------------------
def _model_config(args: argparse.Namespace, image_shape: tuple[int, int, int], n_classes: int) -> Any:
    from aeviewer.models import default_config

    overrides = cli_values(args, "model")
    kind = overrides.pop("kind")
    return default_config(kind, image_shape=image_shape, n_classes=n_classes, **overrides)


def _train(args: argparse.Namespace) -> int:
    from aeviewer.data.loader import is_named, resolve_spec
    from aeviewer.models import parameter_count, size_text
    from aeviewer.training.checkpoint import save_checkpoint
    from aeviewer.training.distributed import distributed_env, join_run, maybe_die_for_test, resumed, run_owner, run_ranked
    from aeviewer.training.trainer import Trainer, TrainConfig, check_fits, resolve_device, seeded_build, terms_text

    loads = DataLoads(args)
    # A folder of the data directory is recorded relative to it, any other path whole: the model finds its data again
    dataset = resolve_spec(args.dataset, args.data_dir)
    args.command_line = command_with_dataset(args.command_line, args.dataset, dataset)
    args.dataset = dataset  # the train record's too
    preparation = None if is_named(dataset) else preparation_from_args(args)
    train_set = _without_hold_out(loads.split(dataset, "train", preparation), args.hold_out)
    config = _model_config(args, train_set.image_shape, len(train_set.class_names))
    device, warning = resolve_device(args.device)
    if warning:
        print(f"aeviewer: warning: {warning}", file=sys.stderr)
    check_fits(config, device)
    model, history = seeded_build(config, args.seed), []  # the initial weights are part of what a seed reproduces
    if args.resume:
        model, history = resumed(args.resume, args.epochs)
        config = model.config
    ctx = distributed_env()
    main_rank = ctx is None or ctx.is_main  # only rank 0 prints, evaluates and writes
    if ctx is not None:
        device = join_run(ctx)
    out = Path(args.out or args.resume or f"{args.model}-{Path(dataset).stem if preparation else dataset}.safetensors")
    _check_writable(out)
    if main_rank:
        print(f"training {config.kind} on {args.dataset} ({len(train_set):,} images), "
          f"{size_text(parameter_count(config))}, on {device} -> {out}", flush=True)
    progress = ProgressLine() if main_rank else None
    run_record = {"train": _train_record(args), **run_owner(ctx)}

    def on_epoch(info: Any) -> None:
        if ctx is not None:
            maybe_die_for_test(ctx, info.epoch)
        if progress is None:
            return
        progress.clear()
        codebook_size = config.codebook_size if model.has_codebook else None
        print(f"epoch {info.epoch}/{info.epochs}  {terms_text(info.losses, info.stats, codebook_size)}  "
              f"{info.samples_per_s:,.0f} samples/s  {info.seconds:.1f} s", flush=True)
        # the trainer's own history, which holds this epoch already
        save_checkpoint(out, trainer.model, dataset=dataset, history=trainer.history, preparation=preparation,
                        extra={**run_record, "status": "training"})

    train_config = TrainConfig(**{**cli_values(args, "train"), "device": str(device)}, start_at_mean=not history)
    trainer = Trainer(model, train_set, train_config, on_step=progress.step if progress else None, on_epoch=on_epoch,
                      distributed=ctx, first_epoch=len(history) + 1)
    trainer.history = list(history)
    started = time.perf_counter()
    result = run_ranked(trainer, ctx)
    if progress is None:
        return 0 if result.status != "failed" else 1
    progress.clear()
    seconds = time.perf_counter() - started
    if result.status == "failed":
        print(f"aeviewer: error: {result.message}", file=sys.stderr)
        return 1
    metrics: dict[str, float] = {}
    if not args.no_eval:
        metrics = _evaluate_model(trainer.model.cpu(), loads, dataset, preparation, binarize=args.binarize)
    extra = {**run_record, "command": args.command_line, "status": result.status,
             "train_seconds": round(seconds, 1)}
    save_checkpoint(out, trainer.model, dataset=dataset, metrics=metrics, history=trainer.history, extra=extra,
                    preparation=preparation)
    summary = "  ".join(f"{k} {v:.4g}" for k, v in metrics.items())
    print(f"{result.status}: {result.epochs_done} epochs in {seconds:.1f} s -> {out}" + (f"\ntest: {summary}" if summary else ""))
    return 0


def command_with_dataset(command_line: str, typed: str, recorded: str) -> str:
    """``command_line`` naming the data set as the checkpoint records it, so that it re-makes the model on
    another machine (``--dataset /home/me/data/emoji`` becomes ``--dataset emoji``, found in the data directory)."""
    words = shlex.split(command_line)
    for i, word in enumerate(words):
        if word == "--dataset" and i + 1 < len(words) and words[i + 1] == typed:
            words[i + 1] = recorded
        elif word == f"--dataset={typed}":
            words[i] = f"--dataset={recorded}"
    return shlex.join(words)


def _without_hold_out(train_set: Any, hold_out: int) -> Any:
    """The training images less the last ``hold_out``, which stay unseen for choosing the Parzen sigma."""
    if not 0 <= hold_out < len(train_set):
        raise AeviewerError(f"--hold-out must be between 0 and {len(train_set) - 1} for this data set, got {hold_out}")
    return train_set.subset(slice(0, len(train_set) - hold_out)) if hold_out else train_set


def _check_writable(out: Path) -> None:
    """Refuse an output path that cannot be written before spending an epoch on training. A folder that does
    not exist yet is made on the first save: its nearest existing ancestor must then be a writable folder."""
    if out.is_dir():
        raise AeviewerError(f"{out}: is a directory; give a file name ending in .safetensors")
    folder = out.parent if str(out.parent) else Path(".")
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        raise AeviewerError(f"{out}: cannot write there, {folder} is a file, not a folder")
    if not os.access(folder, os.W_OK):
        raise AeviewerError(f"{out}: cannot write there, the folder {folder} is not writable")


def _train_record_of(ckpt: Any) -> dict[str, Any]:
    """How the checkpoint was trained, as the CLI recorded it, checked where it is used (a hand-edited or
    foreign file must fail with one line, not a TypeError)."""
    record = ckpt.extra.get("train", {})
    if not isinstance(record, dict):
        raise CheckpointError(f"{ckpt.path}: damaged checkpoint (extra.train is not an object)")
    hold_out = record.get("hold_out", 0)
    if isinstance(hold_out, bool) or not isinstance(hold_out, int) or hold_out < 0:
        raise CheckpointError(f"{ckpt.path}: damaged checkpoint (train.hold_out is {hold_out!r}, not a count)")
    return record


def _train_record(args: argparse.Namespace) -> dict[str, Any]:
    skip = {"command", "command_line", "data_dir", "out", "no_eval"}
    return {k: v for k, v in vars(args).items() if k not in skip and v is not None and v is not False}


def _evaluate_model(model: Any, loads: DataLoads, dataset: str, preparation: Any, **options: Any) -> dict[str, float]:
    from aeviewer.training.metrics import evaluate

    return evaluate(model, loads.split(dataset, "test", preparation), **options)


def _validation_images(loads: DataLoads, dataset: str, preparation: Any, n: int = PARZEN_VALIDATION_IMAGES) -> Any:
    """The last ``n`` training images: the AAE paper's protocol picks the Parzen sigma on a validation split
    (held out of training by ``train --hold-out n``)."""
    train_set = loads.split(dataset, "train", preparation)
    return train_set.subset(slice(len(train_set) - n, None))


# -- refit-decoder ------------------------------------------------------------------------------
def _refit_decoder(args: argparse.Namespace) -> int:
    from aeviewer.training.checkpoint import load_checkpoint, save_checkpoint
    from aeviewer.training.refit import RefitConfig, check_refittable, refit_decoder
    from aeviewer.training.trainer import resolve_device

    ckpt = load_checkpoint(args.path)
    if not ckpt.dataset:
        raise AeviewerError(f"{args.path}: records no data set to refit on")
    check_refittable(ckpt.model)  # before the training split is loaded (or found missing)
    source = Path(args.path)
    out = Path(args.out or source.with_name(f"{source.stem}-refit.safetensors"))
    _check_writable(out)
    device, warning = resolve_device(args.device)
    if warning:
        print(f"aeviewer: warning: {warning}", file=sys.stderr)
    train_record = _train_record_of(ckpt)
    # The images it was trained on: the images it held out (the Parzen validation split) stay unseen.
    loads = DataLoads(args)
    images = _without_hold_out(loads.split(ckpt.dataset, "train", ckpt.preparation), train_record.get("hold_out", 0))
    config = RefitConfig(noise=args.noise, epochs=args.epochs, lr=args.lr, batch_size=args.batch_size,
                         seed=args.seed, binarize=bool(train_record.get("binarize")))

    progress = ProgressLine()

    def on_epoch(epoch: int, loss: float) -> None:
        progress.clear()
        print(f"refit epoch {epoch}/{config.epochs}  recon {loss:.4g}", flush=True)

    started = time.perf_counter()
    losses = refit_decoder(ckpt.model, images, config, device, on_epoch=on_epoch, on_step=progress.step)
    seconds = time.perf_counter() - started
    model = ckpt.model.cpu()
    metrics: dict[str, float] = {}
    if not args.no_eval:
        metrics = _evaluate_model(model, loads, ckpt.dataset, ckpt.preparation, binarize=config.binarize)
    refit_record = {**asdict(config), "losses": losses, "seconds": round(seconds, 1), "command": args.command_line}
    from aeviewer.data.loader import portable_spec

    # Earlier metrics describe the old decoder: they are replaced, never carried over.
    save_checkpoint(out, model, dataset=portable_spec(ckpt.dataset, args.data_dir), metrics=metrics,
                    history=ckpt.history, preparation=ckpt.preparation,
                    extra={**ckpt.extra, "refit_decoder": [*ckpt.extra.get("refit_decoder", []), refit_record]})
    summary = "  ".join(f"{k} {v:.4g}" for k, v in metrics.items())
    print(f"refitted: {config.epochs} epochs in {seconds:.1f} s -> {out}" + (f"\ntest: {summary}" if summary else ""))
    return 0


# -- evaluate -----------------------------------------------------------------------------------
def _evaluate(args: argparse.Namespace) -> int:
    from aeviewer.training.checkpoint import load_checkpoint

    if args.iw_samples < 0:
        raise AeviewerError("--iw-samples must be 0 or more")
    ckpt = load_checkpoint(args.path)
    kind = ckpt.model.config.kind
    if args.iw_samples and ckpt.model.regulariser != "kl":  # said, not silently skipped
        raise AeviewerError(f"--iw-samples is the VAE's importance-weighted NLL; {args.path} is a {kind}")
    if args.parzen and not ckpt.model.has_prior:
        raise AeviewerError(f"--parzen samples the model's prior (vae, aae); {args.path} is a {kind}, which has none")
    from aeviewer.data.loader import is_named, resolve_spec

    dataset = resolve_spec(args.dataset, args.data_dir) if args.dataset else ckpt.dataset
    if not dataset:
        raise AeviewerError(f"{args.path}: records no data set; pass --dataset")
    loads = DataLoads(args)
    preparation = None if is_named(dataset) else preparation_from_args(args, ckpt.preparation)
    from aeviewer.training.trainer import resolve_device

    device, warning = resolve_device(args.device)
    if warning:
        print(f"aeviewer: warning: {warning}", file=sys.stderr)
    options: dict[str, Any] = {"iw_samples": args.iw_samples, "device": str(device)}
    train_record = _train_record_of(ckpt)
    if args.parzen:
        # Makhzani et al.: the Parzen window's sigma is chosen on held-out images, not on the test split.
        options["parzen"] = True
        options["parzen_validation"] = _validation_images(loads, dataset, preparation)
        if train_record.get("hold_out", 0) < PARZEN_VALIDATION_IMAGES:
            print(f"aeviewer: note: {args.path} was trained on the {PARZEN_VALIDATION_IMAGES} validation images "
                  f"the Parzen sigma is chosen on (train with --hold-out {PARZEN_VALIDATION_IMAGES} to keep them unseen)",
                  file=sys.stderr)
    if args.binarize or train_record.get("binarize"):  # evaluate as it was trained
        options["binarize"] = True
    metrics = _evaluate_model(ckpt.model, loads, dataset, preparation, **options)
    config = ckpt.model.config
    if args.json:  # NaN is not JSON: a metric that is not a number is written as null
        metrics = {k: v if math.isfinite(v) else None for k, v in metrics.items()}
        print(json.dumps({"path": str(args.path), "kind": config.kind, "dataset": dataset, "arch": config.arch,
                          "latent_dim": config.latent_dim, "metrics": metrics, **metrics}))
    else:
        print(f"{args.path}: {config.kind} ({config.arch}, latent {config.latent_dim}) on {dataset} test split")
        for name, value in metrics.items():
            print(f"  {name:<32} {value:.4f}")
        note = bound_note(ckpt.model)
        if note:
            print(note)
    return 0


# -- data ---------------------------------------------------------------------------------------
def _data(args: argparse.Namespace) -> int:
    from aeviewer.data import download, sources

    if args.data_command == "list":
        print(sources.format_status_table(sources.source_status(args.data_dir)))
        return 0
    bar = _DownloadBar()
    path = download.fetch(args.name, args.data_dir, base_url=args.base_url, progress=bar)
    bar.clear()
    print(f"{args.name}: downloaded and verified in {path}")
    return 0


class _DownloadBar:
    def __init__(self) -> None:
        self._last = 0.0

    def __call__(self, done: int, total: int, filename: str) -> None:
        now = time.monotonic()
        if now - self._last < 0.1 and done < total:
            return
        self._last = now
        pct = f"{100 * done / total:5.1f}%" if total else ""
        sys.stderr.write(f"\r{filename}: {done / 1e6:7.2f} MB {pct}   ")
        sys.stderr.flush()

    def clear(self) -> None:
        sys.stderr.write("\n")
