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

from aeviewer.errors import AeviewerError, CheckpointError, ConfigError

KINDS = ("ae", "dae", "vae", "aae", "vqvae")
PARZEN_VALIDATION_IMAGES = 1000  # the last training images; Makhzani et al. choose the Parzen sigma on them


class _OneLineParser(argparse.ArgumentParser):
    """Bad arguments end in exit status 2 and a single line on stderr, never a usage dump."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"aeviewer: error: {message} (see '{self.prog} --help')\n")


def _int_list(text: str) -> tuple[int, ...]:
    from aeviewer.models.config import parse_widths  # here: importing aeviewer.models loads torch

    try:
        return parse_widths(text)
    except ConfigError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _finite_float(text: str, least: float, strict: bool, wanted: str) -> float:
    """A finite number above ``least`` (or at least it, unless ``strict``): NaN and inf would pass the model's
    range checks and surface an epoch later as 'the loss became nan', naming no argument."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {wanted}, got {text!r}") from None
    if not math.isfinite(value) or value < least or (strict and value == least):
        raise argparse.ArgumentTypeError(f"expected {wanted}, got {text!r}")
    return value


def _positive_float(text: str) -> float:
    return _finite_float(text, 0.0, True, "a positive number")


def _non_negative_float(text: str) -> float:
    return _finite_float(text, 0.0, False, "a number 0 or more")


def _probability(text: str) -> float:
    value = _finite_float(text, 0.0, False, "a probability in [0, 1)")
    if value >= 1.0:
        raise argparse.ArgumentTypeError(f"expected a probability in [0, 1), got {text!r}")
    return value


def _growth(text: str) -> float:
    return _finite_float(text, 1.0, False, "a factor of 1 or more")


def _seed(text: str) -> int:
    """0 <= seed < 2**63: torch's generators take no more (a larger one failed after the data had loaded)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number from 0 to 2**63 - 2, got {text!r}") from None
    if not 0 <= value < 2**63 - 1:  # the trainer also seeds a generator with seed + 1
        raise argparse.ArgumentTypeError(f"expected a whole number from 0 to 2**63 - 2, got {text!r}")
    return value


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
    gui.add_argument("model", nargs="?", help="checkpoint to open (.safetensors)")

    # issue 23: aeviewer compare A B [C D] (gui/compare_view.py)
    compare = sub.add_parser("compare", parents=[data_dir], help="2 to 4 models of one data set side by side, linked")
    compare.add_argument("models", nargs="+", metavar="MODEL", help="checkpoints to compare (.safetensors), 2 to 4")

    train = sub.add_parser("train", parents=[data_dir], help="train a model and write a checkpoint each epoch")
    train.add_argument("--model", required=True, choices=KINDS, help="kind of autoencoder")
    train.add_argument("--dataset", default="digits", help="digits, mnist or fashion-mnist (default: digits)")
    train.add_argument("--arch", choices=("mlp", "conv"), help="network architecture (default: mlp; conv for vqvae)")
    train.add_argument("--latent-dim", type=_positive_int, default=2, help="latent dimension (default 2)")
    train.add_argument("--hidden", type=_int_list, help="mlp hidden widths, e.g. 512,256")
    train.add_argument("--decoder-dropout", type=_probability, metavar="P",
                       help="mlp decoder: drop each hidden activation with probability P while training (default 0)")
    train.add_argument("--epochs", type=_positive_int, default=10)
    train.add_argument("--batch-size", type=_positive_int, default=128)
    train.add_argument("--lr", type=_positive_float, default=1e-3)
    train.add_argument("--seed", type=_seed, default=0)
    train.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    train.add_argument("--noise", help="input corruption, e.g. gaussian:0.5, masking:0.25, salt_pepper:0.2")
    train.add_argument("--recon", help="reconstruction loss: bce or mse (vae: bce or gaussian)")
    train.add_argument("--beta", type=_non_negative_float, help="VAE: weight of the KL term")
    train.add_argument("--c", type=_positive_float, help="VAE gaussian decoder variance c")
    train.add_argument("--prior", choices=("gaussian", "mixture10", "swissroll"), help="AAE prior")
    train.add_argument("--conditional-prior", action="store_true", help="AAE: class k drawn from prior component k")
    train.add_argument("--adversarial-weight", type=_non_negative_float, help="AAE: weight λ of the generator term in recon + λ·gen")
    train.add_argument("--adversarial-growth", type=_growth,
                       help="AAE: λ grows linearly over the run to this many times λ (default 1: constant)")
    train.add_argument("--posterior-std", type=_non_negative_float, help="AAE: q(z|x) = N(encoder(x), s²I) with this s (default 0: deterministic)")
    train.add_argument("--learned-posterior", action="store_true",
                       help="AAE: q(z|x) = N(mu(x), diag sigma²(x)), the encoder predicting both (instead of "
                            "--posterior-std); the adversary may leave dimensions unused (mu = 0, sigma = 1)")
    train.add_argument("--disc-hidden", type=_int_list, help="AAE: discriminator hidden widths (default 256,256; the paper: 1000,1000)")
    train.add_argument("--codebook-size", type=_positive_int, help="VQ-VAE: number of codes K")
    train.add_argument("--code-dim", type=_positive_int, help="VQ-VAE: code dimension D")
    train.add_argument("--lr-schedule", choices=("constant", "cosine", "drop"), default="constant",
                       help="learning rate over the run: constant, cosine decay to zero, or drop to a tenth "
                            "for the last tenth of the run")
    train.add_argument("--binarize", action="store_true",
                       help="dynamic binarisation: each batch drawn as x ~ Bernoulli(pixel) (evaluate with --binarize)")
    train.add_argument("--out", help="checkpoint path (default: <kind>-<dataset>.safetensors)")
    train.add_argument("--no-eval", action="store_true", help="skip the test-split evaluation at the end")
    train.add_argument("--hold-out", type=int, default=0, metavar="N",
                       help="train without the last N training images: the validation split on which "
                            "'evaluate --parzen' chooses its sigma (it uses the last %d)" % PARZEN_VALIDATION_IMAGES)

    refit = sub.add_parser("refit-decoder", parents=[data_dir],
                           help="train a checkpoint's decoder alone on its frozen encoder's codes plus Gaussian noise "
                                "(ae, dae, aae)")
    refit.add_argument("path", help="checkpoint (.safetensors)")
    refit.add_argument("--noise", type=_non_negative_float, default=0.3, help="std of the noise added to each code (default 0.3)")
    refit.add_argument("--epochs", type=_positive_int, default=1)
    refit.add_argument("--lr", type=_positive_float, default=1e-4)
    refit.add_argument("--batch-size", type=_positive_int, default=100)
    refit.add_argument("--seed", type=_seed, default=0)
    refit.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
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

    data = sub.add_parser("data", parents=[data_dir], help="list or download data sets")
    data_sub = data.add_subparsers(dest="data_command", parser_class=_OneLineParser, required=True)
    data_sub.add_parser("list", parents=[data_dir], help="each source, whether it is present, where and its size")
    fetch = data_sub.add_parser("fetch", parents=[data_dir], help="download a data set and verify its checksums")
    fetch.add_argument("name", help="mnist or fashion-mnist")
    fetch.add_argument("--base-url", help="mirror to download from (default: the data set's canonical one)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    args.command_line = "aeviewer " + shlex.join(argv)  # recorded in checkpoints so a model can be re-made
    try:
        if args.command in (None, "gui"):
            return _run_gui(args)
        handler = {"train": _train, "refit-decoder": _refit_decoder, "evaluate": _evaluate, "data": _data,
                   "compare": _compare}[args.command]
        return handler(args)
    except AeviewerError as err:
        print(f"aeviewer: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("aeviewer: interrupted", file=sys.stderr)
        return 130


def _run_gui(args: argparse.Namespace) -> int:
    from aeviewer.gui.app import run_app

    return run_app(model_path=getattr(args, "model", None), data_dir=args.data_dir)


def _compare(args: argparse.Namespace) -> int:
    from aeviewer.gui.compare_view import run_compare

    return run_compare(args.models, data_dir=args.data_dir)


# -- train --------------------------------------------------------------------------------------
def _model_config(args: argparse.Namespace, image_shape: tuple[int, int, int], n_classes: int) -> Any:
    from aeviewer.models import default_config

    overrides: dict[str, Any] = {"latent_dim": args.latent_dim, "n_classes": n_classes}
    optional = {
        "arch": args.arch, "hidden": args.hidden, "noise": args.noise, "recon": args.recon, "beta": args.beta,
        "c": args.c, "prior": args.prior, "codebook_size": args.codebook_size, "code_dim": args.code_dim,
        "adversarial_weight": args.adversarial_weight, "adversarial_growth": args.adversarial_growth,
        "posterior_std": args.posterior_std, "disc_hidden": args.disc_hidden, "decoder_dropout": args.decoder_dropout,
    }
    overrides.update({k: v for k, v in optional.items() if v is not None})
    if args.conditional_prior:
        overrides["conditional_prior"] = True
    if args.learned_posterior:
        overrides["learned_posterior"] = True
    return default_config(args.model, image_shape=image_shape, **overrides)


def _train(args: argparse.Namespace) -> int:
    from aeviewer.data.sources import load_split
    from aeviewer.models import parameter_count, size_text
    from aeviewer.training.checkpoint import save_checkpoint
    from aeviewer.training.trainer import Trainer, TrainConfig, check_fits, resolve_device, seeded_build

    train_set = _without_hold_out(load_split(args.dataset, "train", args.data_dir), args.hold_out)
    config = _model_config(args, train_set.image_shape, len(train_set.class_names))
    device, warning = resolve_device(args.device)
    if warning:
        print(f"aeviewer: warning: {warning}", file=sys.stderr)
    check_fits(config, device)
    model = seeded_build(config, args.seed)  # the initial weights are part of what a seed reproduces
    out = Path(args.out or f"{args.model}-{args.dataset}.safetensors")
    _check_writable(out)
    print(f"training {config.kind} on {args.dataset} ({len(train_set):,} images), "
          f"{size_text(parameter_count(config))}, on {device} -> {out}", flush=True)
    history: list[dict[str, Any]] = []
    progress = _ProgressLine()

    def on_epoch(info: Any) -> None:
        progress.clear()
        history.append({"epoch": info.epoch, **info.losses, **info.stats, "seconds": info.seconds})
        terms = "  ".join(f"{k} {v:.4g}" for k, v in {**info.losses, **info.stats}.items())
        print(f"epoch {info.epoch}/{info.epochs}  {terms}  {info.samples_per_s:,.0f} samples/s  {info.seconds:.1f} s",
              flush=True)
        save_checkpoint(out, trainer.model, dataset=args.dataset, history=history,
                        extra={"train": _train_record(args), "status": "training"})

    train_config = TrainConfig(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, seed=args.seed,
                               device=str(device), binarize=args.binarize,
                               lr_schedule=args.lr_schedule, start_at_mean=True)
    trainer = Trainer(model, train_set, train_config, on_step=progress.step, on_epoch=on_epoch)
    started = time.perf_counter()
    result = trainer.run()
    progress.clear()
    seconds = time.perf_counter() - started
    if result.status == "failed":
        print(f"aeviewer: error: {result.message}", file=sys.stderr)
        return 1
    metrics: dict[str, float] = {}
    if not args.no_eval:
        metrics = _evaluate_model(trainer.model.cpu(), args.dataset, args.data_dir, binarize=args.binarize)
    extra = {"train": _train_record(args), "command": args.command_line, "status": result.status,
             "train_seconds": round(seconds, 1)}
    save_checkpoint(out, trainer.model, dataset=args.dataset, metrics=metrics, history=history, extra=extra)
    summary = "  ".join(f"{k} {v:.4g}" for k, v in metrics.items())
    print(f"{result.status}: {result.epochs_done} epochs in {seconds:.1f} s -> {out}" + (f"\ntest: {summary}" if summary else ""))
    return 0


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


def _evaluate_model(model: Any, dataset: str, data_dir: str | None, **options: Any) -> dict[str, float]:
    from aeviewer.data.sources import load_split
    from aeviewer.training.metrics import evaluate

    test_set = load_split(dataset, "test", data_dir)
    return evaluate(model, test_set, **options)


def _validation_images(dataset: str, data_dir: str | None, n: int = PARZEN_VALIDATION_IMAGES) -> Any:
    """The last ``n`` training images: the AAE paper's protocol picks the Parzen sigma on a validation split
    (held out of training by ``train --hold-out n``)."""
    from aeviewer.data.sources import load_split

    train_set = load_split(dataset, "train", data_dir)
    return train_set.subset(slice(len(train_set) - n, None))


class _ProgressLine:
    """A one-line progress bar on stderr, redrawn at most 10 times a second."""

    def __init__(self) -> None:
        self._last = 0.0
        self._shown = False
        self._tty = sys.stderr.isatty()

    def step(self, info: Any) -> None:
        now = time.monotonic()
        if not self._tty or now - self._last < 0.1:
            return
        self._last = now
        done = info.batch / max(1, info.n_batches)
        bar = "#" * int(done * 30)
        sys.stderr.write(f"\repoch {info.epoch}/{info.epochs} [{bar:<30}] {info.batch}/{info.n_batches}"
                         f"  {info.samples_per_s:,.0f} samples/s  ETA {info.eta_s:.0f} s ")
        sys.stderr.flush()
        self._shown = True

    def clear(self) -> None:
        if self._shown:
            sys.stderr.write("\r" + " " * 100 + "\r")
            sys.stderr.flush()
            self._shown = False


# -- refit-decoder ------------------------------------------------------------------------------
def _refit_decoder(args: argparse.Namespace) -> int:
    from aeviewer.data.sources import load_split
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
    images = _without_hold_out(load_split(ckpt.dataset, "train", args.data_dir), train_record.get("hold_out", 0))
    config = RefitConfig(noise=args.noise, epochs=args.epochs, lr=args.lr, batch_size=args.batch_size,
                         seed=args.seed, binarize=bool(train_record.get("binarize")))

    progress = _ProgressLine()

    def on_epoch(epoch: int, loss: float) -> None:
        progress.clear()
        print(f"refit epoch {epoch}/{config.epochs}  recon {loss:.4g}", flush=True)

    started = time.perf_counter()
    losses = refit_decoder(ckpt.model, images, config, device, on_epoch=on_epoch, on_step=progress.step)
    seconds = time.perf_counter() - started
    model = ckpt.model.cpu()
    metrics: dict[str, float] = {}
    if not args.no_eval:
        metrics = _evaluate_model(model, ckpt.dataset, args.data_dir, binarize=config.binarize)
    refit_record = {**asdict(config), "losses": losses, "seconds": round(seconds, 1), "command": args.command_line}
    # Earlier metrics describe the old decoder: they are replaced, never carried over.
    save_checkpoint(out, model, dataset=ckpt.dataset, metrics=metrics, history=ckpt.history,
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
    if args.iw_samples and kind != "vae":  # said, not silently skipped
        raise AeviewerError(f"--iw-samples is the VAE's importance-weighted NLL; {args.path} is a {kind}")
    if args.parzen and not getattr(ckpt.model, "has_prior", False):
        raise AeviewerError(f"--parzen samples the model's prior (vae, aae); {args.path} is a {kind}, which has none")
    dataset = args.dataset or ckpt.dataset
    if not dataset:
        raise AeviewerError(f"{args.path}: records no data set; pass --dataset")
    from aeviewer.training.trainer import resolve_device

    device, warning = resolve_device(args.device)
    if warning:
        print(f"aeviewer: warning: {warning}", file=sys.stderr)
    options: dict[str, Any] = {"iw_samples": args.iw_samples, "device": str(device)}
    train_record = _train_record_of(ckpt)
    if args.parzen:
        # Makhzani et al.: the Parzen window's sigma is chosen on held-out images, not on the test split.
        options["parzen"] = True
        options["parzen_validation"] = _validation_images(dataset, args.data_dir)
        if train_record.get("hold_out", 0) < PARZEN_VALIDATION_IMAGES:
            print(f"aeviewer: note: {args.path} was trained on the {PARZEN_VALIDATION_IMAGES} validation images "
                  f"the Parzen sigma is chosen on (train with --hold-out {PARZEN_VALIDATION_IMAGES} to keep them unseen)",
                  file=sys.stderr)
    if args.binarize or train_record.get("binarize"):  # evaluate as it was trained
        options["binarize"] = True
    metrics = _evaluate_model(ckpt.model, dataset, args.data_dir, **options)
    config = ckpt.model.config
    if args.json:  # NaN is not JSON: a metric that is not a number is written as null
        metrics = {k: v if math.isfinite(v) else None for k, v in metrics.items()}
        print(json.dumps({"path": str(args.path), "kind": config.kind, "dataset": dataset, "arch": config.arch,
                          "latent_dim": config.latent_dim, "metrics": metrics, **metrics}))
    else:
        print(f"{args.path}: {config.kind} ({config.arch}, latent {config.latent_dim}) on {dataset} test split")
        for name, value in metrics.items():
            print(f"  {name:<32} {value:.4f}")
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
