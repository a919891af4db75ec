"""Rewrites what each checkpoint in trained/ records of the machine that trained it, so that no shipped file names
one of its folders, its host or its user:
- the data set (its ``dataset``, ``extra.train.dataset`` and the ``--dataset`` of ``extra.command``) as aeviewer
  records it now: a folder of the data directory by its name relative to it (``/work/shared/data/emoji`` ->
  ``emoji``);
- the checkpoint the commands wrote (``--out`` of ``extra.command``, the path of ``extra.prior.command``) as
  ``trained/NAME``, where it ships;
- ``extra.host`` and ``extra.user`` (a running training's owner, for ``aeviewer follow``) are dropped.
Only the metadata changes; the weights' bytes stay as they are. Then run make_index.py.

Usage (from the repository root): AEVIEWER_DATA=../shared/data python trained/make_portable.py
"""
from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

from aeviewer.cli.commands import command_with_dataset
from aeviewer.data.loader import portable_spec
from aeviewer.training.checkpoint import read_metadata, rewrite_metadata

HERE = Path(__file__).resolve().parent


def portable_records(path: Path) -> dict[str, str]:
    """The metadata entries of ``path`` that change (none when it records nothing of the machine already)."""
    meta = read_metadata(path)
    dataset = portable_spec(meta["dataset"])
    extra = {k: v for k, v in meta["extra"].items() if k not in ("host", "user")}
    if isinstance(extra.get("train"), dict) and extra["train"].get("dataset") == meta["dataset"]:
        extra["train"] = {**extra["train"], "dataset": dataset}
    shipped = f"trained/{path.name}"
    if isinstance(extra.get("command"), str):
        extra["command"] = _with_out(command_with_dataset(extra["command"], meta["dataset"], dataset), shipped)
    if isinstance(extra.get("prior"), dict) and isinstance(extra["prior"].get("command"), str):
        words = shlex.split(extra["prior"]["command"])
        extra["prior"] = {**extra["prior"], "command": shlex.join([*words[:2], shipped, *words[3:]])}
    if dataset == meta["dataset"] and extra == meta["extra"]:
        return {}
    return {"dataset": dataset, "extra": json.dumps(extra)}


def _with_out(command: str, shipped: str) -> str:
    words = shlex.split(command)
    for i, word in enumerate(words[:-1]):
        if word == "--out":
            words[i + 1] = shipped
    return shlex.join(words)


def main() -> int:
    for path in sorted(HERE.glob("*.safetensors")):
        changes = portable_records(path)
        if changes:
            rewrite_metadata(path, changes)
            print(f"{path.name}: data set {changes['dataset']!r}, commands and owner made portable", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
