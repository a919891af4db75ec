"""The command line's data options (--image-size, --channels, ... --skipped-report) and the loading they
drive: kept in one module so that the option table can take them over whole.

Torch-free at import: ``aeviewer --help`` must stay quick.
"""
from __future__ import annotations

import argparse
import sys
import time
from typing import Any, Mapping

from aeviewer.errors import ConfigError

DATASET_HELP = ("digits, mnist, fashion-mnist, or a path: an image folder (one subfolder per class), "
                "a .npz/.npy file, a CIFAR binary folder, a Parquet file or folder, or a datasets save_to_disk folder")
PREPARATION_FIELDS = {"image_size": "image_size", "image_channels": "channels", "fit": "fit",
                      "background": "background", "test_fraction": "test_fraction"}  # option -> Preparation field


def add_data_options(parser: argparse.ArgumentParser) -> None:
    """The preparation and loading options of a path data set (aeviewer.spec.options' path_only ones); None
    where not given, so that a checkpoint's recorded preparation fills what the command line leaves out."""
    from aeviewer.spec.options import add_cli_options, options

    group = parser.add_argument_group("data preparation (a folder, .npz/.npy or CIFAR path)")
    add_cli_options(group, options("data", path_only=True))  # type: ignore[arg-type]
    group.add_argument("--skipped-report", metavar="FILE", help="write the skipped files and why, one per line")
    group.add_argument("--image-column", metavar="NAME",
                       help="Parquet / datasets folder: the column of encoded images (default: image, img, ...)")
    group.add_argument("--label-column", metavar="NAME",
                       help="Parquet / datasets folder: the column of labels (default: label, labels, ...; none: unlabelled)")


def preparation_from_values(values: Mapping[str, Any], recorded: Any = None) -> Any:
    """The Preparation that option ``values`` (name -> value; None or absent: not given) ask for, over
    ``recorded`` (a checkpoint's) or the defaults; the split seed is the recorded one (a model is
    evaluated on the split it was not trained on). An image size of 0 is the panel's "own size"."""
    from dataclasses import replace

    from aeviewer.data.preparation import Preparation

    given = {field: values[name] for name, field in PREPARATION_FIELDS.items() if values.get(name) is not None}
    if given.get("image_size") == 0:
        given["image_size"] = None
    return replace(recorded or Preparation(), **given)


def preparation_values(preparation: Any) -> dict[str, Any]:
    """The option values (name -> value) that show ``preparation`` (the panel's rows for a checkpoint's)."""
    values = {name: getattr(preparation, field) for name, field in PREPARATION_FIELDS.items()}
    values["image_size"] = values["image_size"] or 0
    return values


def preparation_from_args(args: argparse.Namespace, recorded: Any = None) -> Any:
    """The Preparation the command line asks for (see :func:`preparation_from_values`)."""
    from aeviewer.spec.options import BY_NAME

    return preparation_from_values({name: getattr(args, BY_NAME[name].dest, None) for name in PREPARATION_FIELDS},
                                   recorded)


def max_memory_of(values: Mapping[str, Any]) -> int:
    """The memory limit in bytes: the command line gives bytes, the panel gigabytes (a float)."""
    from aeviewer.data.loaded import DEFAULT_MAX_MEMORY

    value = values.get("max_memory")
    if value is None:
        return DEFAULT_MAX_MEMORY
    return int(value * 1e9) if isinstance(value, float) else int(value)


class LoadBar:
    """'loading emoji [######    ] 1200/3655 files' on stderr (a terminal only), at most 10 redraws a second."""

    def __init__(self, name: str) -> None:
        self.name, self._last, self._shown = name, 0.0, False

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if not sys.stderr.isatty() or (now - self._last < 0.1 and done < total):
            return
        self._last, self._shown = now, True
        bar = "#" * int(30 * done / max(1, total))
        sys.stderr.write(f"\rloading {self.name} [{bar:<30}] {done:,}/{total:,} files ")
        sys.stderr.flush()

    def clear(self) -> None:
        if self._shown:
            sys.stderr.write("\r" + " " * 90 + "\r")
            sys.stderr.flush()
            self._shown = False


class DataLoads:
    """Loads path sources for one command: each (source, preparation) once, with a progress bar, the
    skipped files reported once on stderr (and in --skipped-report); named sets load as they always did."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self._loaded: dict[tuple[str, Any], Any] = {}

    def split(self, spec: str, split: str, preparation: Any = None) -> Any:
        from aeviewer.data.loader import is_named, load_source, split_of
        from aeviewer.data.loader import load_split

        if is_named(spec):
            return load_split(spec, split, self.args.data_dir)
        key = (spec, preparation)
        if key not in self._loaded:
            self._loaded[key] = self._load(spec, preparation, load_source)
        return split_of(self._loaded[key], split)

    def _load(self, spec: str, preparation: Any, load_source: Any) -> Any:
        from pathlib import Path

        bar = LoadBar(Path(spec).name)
        try:
            loaded = load_source(spec, preparation, self.args.data_dir, progress=bar,
                                 max_memory=max_memory_of(vars(self.args)),
                                 columns=(getattr(self.args, "image_column", None), getattr(self.args, "label_column", None)))
        finally:
            bar.clear()
        if loaded.note:
            print(f"aeviewer: note: {loaded.note}", file=sys.stderr)
        if len(loaded.skipped):
            print(f"aeviewer: note: {loaded.source}: {loaded.skipped.summary()}", file=sys.stderr)
        report = getattr(self.args, "skipped_report", None)
        if report:
            try:
                loaded.skipped.write(report)
            except OSError as err:
                raise ConfigError(f"--skipped-report {report}: cannot write ({err.strerror or err})") from None
        return loaded
