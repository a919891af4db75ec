"""Writes trained/index.json from the records inside each checkpoint (command, seed, time, metrics)."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from aeviewer.util import atomic
from aeviewer.training.checkpoint import read_metadata

HERE = Path(__file__).resolve().parent


def entry(path: Path) -> dict:
    meta = read_metadata(path)
    config, extra = meta["config"], meta.get("extra", {})
    return {
        "file": path.name,
        "kind": config["kind"],
        "dataset": meta["dataset"],
        "arch": config["arch"],
        "latent_dim": config["latent_dim"],
        "command": extra.get("command", ""),
        "seed": extra.get("train", {}).get("seed", 0),
        "train_seconds": extra.get("train_seconds"),
        "size_bytes": path.stat().st_size,
        "metrics": meta.get("metrics", {}),
        **({"prior": _prior_record(extra["prior"])} if isinstance(extra.get("prior"), dict) else {}),
    }


def _prior_record(record: dict) -> dict:
    """A VQ-VAE's learned prior (aeviewer train-prior): how it was made, without its per-epoch history."""
    return {k: record.get(k) for k in ("arch", "class_conditional", "epochs", "train_seconds", "command")}


KEY_METRICS = ("neg_elbo", "psnr_db", "denoise_gaussian_0.5_psnr_db", "prior_distance", "codes_used_frac", "perplexity")


def write_readme(models: list[dict]) -> None:
    lines = [
        "# Pretrained models",
        "",
        "Made by `trained/train_all.sh` on the development machine (2 cores, CPU torch 2.13.0, one thread per run);",
        "the metrics are what `aeviewer evaluate trained/FILE` prints on the test split. `index.json` holds the",
        "same records for the app's model picker; `tests/models/test_trained.py` re-evaluates every model against them.",
        "",
        "All were re-made with the current training code (new models start at the training",
        "set's mean image; the AAE's autoencoder step is recon + λ·gen), two runs at a time.",
        "",
        "The emoji models were trained on the emoji folder of the data directory (`--dataset emoji` with",
        "`AEVIEWER_DATA=../shared/data`; recorded as `emoji`, found in any machine's data directory; 64x64 RGB, seeded 80/20",
        "split; its test split ships in `resources/data/emoji/`, made by `trained/make_emoji_split.py`),",
        "two runs at a time on a machine shared with other jobs (load 6-12 on 2 cores): their times are upper bounds.",
        "",
        "| file | kind | data | latent | train time | key metrics | command (seed 0) |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for m in models:
        shown = ", ".join(f"{k} {m['metrics'][k]:.3g}" for k in KEY_METRICS if k in m["metrics"])
        data = Path(m["dataset"]).name if "/" in m["dataset"] else m["dataset"]  # a folder: its name
        lines.append(f"| `{m['file']}` | {m['kind']} | {data} | {m['latent_dim']} | {m['train_seconds']} s "
                     f"| {shown} | `{m['command']}` |")
    lines += _prior_lines(models)
    (HERE / "README.md").write_text("\n".join(lines) + "\n")


def _prior_lines(models: list[dict]) -> list[str]:
    """The learned priors over the VQ-VAEs' code maps: their commands, times and test NLLs."""
    with_prior = [m for m in models if "prior" in m]
    if not with_prior:
        return []
    lines = [
        "",
        "## Learned priors of the VQ-VAEs",
        "",
        "Each VQ-VAE checkpoint holds a prior over its code maps (`aeviewer train-prior`, run after `train_all.sh`'s",
        "`train` line, with `nice -n 10` on the shared 2-core machine: times are upper bounds). NLLs are on the test",
        "split's code maps; the bound is the prior's NLL plus the decoder's Bernoulli reconstruction term `recon_bce`.",
        "",
        "| file | prior | train time | NLL bits/code | NLL nats/image | bound nats/image | command |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for m in with_prior:
        p, metrics = m["prior"], m["metrics"]
        kind = p["arch"] + (", class-conditional" if p.get("class_conditional") else "")
        lines.append(f"| `{m['file']}` | {kind}, {p['epochs']} epochs | {p['train_seconds']} s "
                     f"| {metrics.get('prior_nll_bits_per_code', float('nan')):.3f} "
                     f"| {metrics.get('prior_nll_nats_per_image', float('nan')):.1f} "
                     f"| {metrics.get('nll_bound_nats_per_image', float('nan')):.1f} | `{p['command']}` |")
    return lines


def main() -> int:
    models = [entry(p) for p in sorted(HERE.glob("*.safetensors"))]
    index = json.dumps({"default": "vae-mnist-2d.safetensors", "models": models}, indent=1) + "\n"
    atomic.write_bytes(HERE / "index.json", index.encode())
    write_readme(models)
    print(f"{len(models)} models, {sum(m['size_bytes'] for m in models) / 1e6:.1f} MB", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
