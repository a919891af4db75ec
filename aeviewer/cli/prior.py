"""`aeviewer train-prior VQ.safetensors`: train a learned prior over a VQ-VAE's code maps, written into its checkpoint.

The checkpoint is rewritten atomically after every epoch (the run's autosave: a stop or a crash keeps the last
complete epoch's prior) and once more at the end with the test NLL and the bound in its metrics.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from aeviewer.cli.progress_line import ProgressLine
from aeviewer.errors import AeviewerError
from aeviewer.spec.options import positive_float, positive_int, seed
from aeviewer.spec.vocabulary import DEVICE_SPECS, PRIOR_ARCHS


def add_train_prior_parser(sub: Any, data_dir: argparse.ArgumentParser) -> None:
    parser = sub.add_parser("train-prior", parents=[data_dir],
                            help="train a learned prior over a VQ-VAE's code maps and write it into the checkpoint")
    parser.add_argument("path", help="VQ-VAE checkpoint (.safetensors); the prior is written into it")
    parser.add_argument("--epochs", type=positive_int, default=10)
    parser.add_argument("--arch", choices=PRIOR_ARCHS, default=PRIOR_ARCHS[0],
                        help=f"the prior's network (default {PRIOR_ARCHS[0]})")
    parser.add_argument("--class-conditional", action="store_true", help="p(codes | class): sample a chosen class")
    parser.add_argument("--width", type=positive_int, help="embedding width (transformer) or channels (pixelcnn)")
    parser.add_argument("--layers", type=positive_int, help="transformer blocks or gated pixelcnn layers")
    parser.add_argument("--batch-size", type=positive_int, default=64)
    parser.add_argument("--lr", type=positive_float, default=1e-3)
    parser.add_argument("--seed", type=seed, default=0)
    parser.add_argument("--device", default="auto", help=DEVICE_SPECS)
    parser.add_argument("--out", help="checkpoint to write (default: the one given, in place)")
    parser.add_argument("--no-eval", action="store_true", help="skip the test NLL and the bound at the end")


def train_prior_command(args: argparse.Namespace) -> int:
    from aeviewer.data.options import DataLoads
    from aeviewer.training.checkpoint import load_checkpoint, save_checkpoint
    from aeviewer.training.prior import PriorTrainConfig, cached_code_maps, new_prior, train_prior
    from aeviewer.training.trainer import resolve_device, terms_text

    ckpt = load_checkpoint(args.path)
    if not ckpt.model.has_codebook:
        raise AeviewerError(f"{args.path}: a learned prior is trained over code maps; this model has no codebook")
    if not ckpt.dataset:
        raise AeviewerError(f"{args.path}: records no data set to train the prior on")
    out = Path(args.out or args.path)
    device, warning = resolve_device(args.device)
    if warning:
        print(f"aeviewer: warning: {warning}", file=sys.stderr)
    loads = DataLoads(args)
    train_set = loads.split(ckpt.dataset, "train", ckpt.preparation)
    sizes = {k: getattr(args, k) for k in ("width", "layers") if getattr(args, k) is not None}
    config = PriorTrainConfig(arch=args.arch, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                              seed=args.seed, class_conditional=args.class_conditional, device=str(device), sizes=sizes)
    started = time.perf_counter()
    codes = cached_code_maps(ckpt.model, train_set)
    print(f"training a {args.arch} prior over {len(codes):,} code maps of {tuple(codes.shape[1:])} "
          f"({ckpt.model.config.codebook_size} codes) in {time.perf_counter() - started:.1f} s -> {out}", flush=True)
    progress = ProgressLine()
    record: dict[str, Any] = {"arch": args.arch, "command": args.command_line, "class_conditional": args.class_conditional}

    def save(prior: Any, extra_record: dict[str, Any], metrics: dict[str, Any]) -> None:
        ckpt.model.attach_prior(prior)
        save_checkpoint(out, ckpt.model, dataset=ckpt.dataset, metrics=metrics, history=ckpt.history,
                        extra={**ckpt.extra, "prior": {**record, **extra_record}}, preparation=ckpt.preparation)

    old_metrics = {k: v for k, v in ckpt.metrics.items() if not k.startswith(("prior_", "nll_bound"))}
    history: list[dict[str, Any]] = []

    def on_epoch(info: Any) -> None:
        progress.clear()
        print(f"epoch {info.epoch}/{info.epochs}  {terms_text(info.losses, info.stats)}  "
              f"{info.samples_per_s:,.0f} maps/s  {info.seconds:.1f} s", flush=True)
        history.append({"epoch": info.epoch, **info.losses, "seconds": info.seconds})
        save(prior, {"status": "training", "history": history}, old_metrics)

    prior = new_prior(ckpt.model, config, len(train_set.class_names))
    prior, result, seconds = train_prior(ckpt.model, train_set, config, prior=prior, codes=codes,
                                         on_step=progress.step, on_epoch=on_epoch)
    progress.clear()
    if result.status == "failed":
        print(f"aeviewer: error: {result.message}", file=sys.stderr)
        return 1
    ckpt.model.attach_prior(prior)
    metrics = dict(old_metrics)
    if not args.no_eval:
        from aeviewer.training.metrics import evaluate

        metrics = {**old_metrics, **evaluate(ckpt.model, loads.split(ckpt.dataset, "test", ckpt.preparation))}
    save(prior, {"status": result.status, "epochs": result.epochs_done, "train_seconds": round(seconds, 1),
                 "history": history}, metrics)
    summary = "  ".join(f"{k} {metrics[k]:.4g}" for k in metrics if k.startswith(("prior_", "nll_bound")))
    print(f"{result.status}: {result.epochs_done} epochs in {seconds:.1f} s -> {out}" + (f"\ntest: {summary}" if summary else ""))
    return 0


def bound_note(model: Any) -> str | None:
    """What `aeviewer evaluate` says under the metrics of a VQ-VAE with a prior: which terms the bound holds."""
    if not (model.has_codebook and model.has_prior):
        return None
    from aeviewer.training.prior import BOUND_TERMS

    return f"  nll_bound_nats_per_image: {BOUND_TERMS}"
