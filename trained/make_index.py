"""Writes trained/index.json from the records inside each checkpoint (command, seed, time, metrics)."""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

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
    }


def main() -> int:
    models = [entry(p) for p in sorted(HERE.glob("*.safetensors"))]
    tmp = HERE / "index.json.tmp"
    tmp.write_text(json.dumps({"default": "vae-mnist-2d.safetensors", "models": models}, indent=1) + "\n")
    os.replace(tmp, HERE / "index.json")
    print(f"{len(models)} models, {sum(m['size_bytes'] for m in models) / 1e6:.1f} MB", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
