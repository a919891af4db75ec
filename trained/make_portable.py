"""Rewrites the data set each checkpoint in trained/ records (its ``dataset``, ``extra.train.dataset`` and the
``--dataset`` of ``extra.command``) as aeviewer records it now: a folder of the data directory by its name
relative to it (``/work/shared/data/emoji`` -> ``emoji``), so that no shipped file names a folder of the machine
that trained it. Only the metadata changes; the weights' bytes stay as they are. Then run make_index.py.

Usage (from the repository root): AEVIEWER_DATA=../shared/data python trained/make_portable.py
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from aeviewer.cli import command_with_dataset
from aeviewer.data.loader import portable_spec
from aeviewer.training.checkpoint import read_metadata, rewrite_metadata

HERE = Path(__file__).resolve().parent


def portable_records(path: Path) -> dict[str, str]:
    """The metadata entries of ``path`` that change (none when it records its data set portably already)."""
    meta = read_metadata(path)
    dataset = portable_spec(meta["dataset"])
    if dataset == meta["dataset"]:
        return {}
    extra = dict(meta["extra"])
    if isinstance(extra.get("train"), dict) and extra["train"].get("dataset") == meta["dataset"]:
        extra["train"] = {**extra["train"], "dataset": dataset}
    if isinstance(extra.get("command"), str):
        extra["command"] = command_with_dataset(extra["command"], meta["dataset"], dataset)
    return {"dataset": dataset, "extra": json.dumps(extra)}


def main() -> int:
    for path in sorted(HERE.glob("*.safetensors")):
        changes = portable_records(path)
        if changes:
            rewrite_metadata(path, changes)
            print(f"{path.name}: data set {changes['dataset']!r}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
