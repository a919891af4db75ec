"""The command line's data options (--image-size, --channels, ... --skipped-report) and the loading they
drive: kept in one module so that the option table can take them over whole.

Torch-free at import: ``aeviewer --help`` must stay quick.
"""
from __future__ import annotations

import argparse
import re
import sys
import time
from typing import Any

from aeviewer.errors import ConfigError

_UNITS = {"": 1e9, "b": 1, "kb": 1e3, "mb": 1e6, "gb": 1e9, "tb": 1e12}
DATASET_HELP = ("digits, mnist, fashion-mnist, or a path: an image folder (one subfolder per class), "
                "a .npz/.npy file or a CIFAR binary folder")


def memory_size(text: str) -> int:
    """'4', '4GB', '500 MB', '1.5gb' -> bytes (a bare number is gigabytes)."""
    match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([kmgt]?b?)\s*", text.lower())
    if not match or float(match.group(1)) <= 0:
        raise argparse.ArgumentTypeError(f"expected a size such as 4GB or 500MB, got {text!r}")
    unit = match.group(2)
    unit = unit if unit in _UNITS else unit + "b"
    return int(float(match.group(1)) * _UNITS[unit])


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a fraction between 0 and 1, got {text!r}") from None
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError(f"expected a fraction between 0 and 1, got {text!r}")
    return value


def _side(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an image side in pixels, got {text!r}") from None
    if not 1 <= value <= 4096:
        raise argparse.ArgumentTypeError(f"expected an image side from 1 to 4096 px, got {text!r}")
    return value


def add_data_options(parser: argparse.ArgumentParser) -> None:
    """The preparation and loading options of a path data set; None where not given, so that a
    checkpoint's recorded preparation fills what the command line leaves out."""
    group = parser.add_argument_group("data preparation (a folder, .npz/.npy or CIFAR path)")
    group.add_argument("--image-size", type=_side, metavar="N",
                       help="square side the images are resized to (default: 64 for a folder, an array's own size)")
    group.add_argument("--channels", choices=("1", "3", "auto"), help="1 (grey), 3 (RGB) or auto: 1 when every image is grey (default)")
    group.add_argument("--fit", choices=("crop", "pad"), help="crop the overflow (default) or pad to the square")
    group.add_argument("--background", choices=("white", "black"), help="what alpha and padding become (default white)")
    group.add_argument("--test-fraction", type=_fraction, metavar="F",
                       help="share of each class held out for testing where the source has no split (default 0.2)")
    group.add_argument("--max-memory", type=memory_size, metavar="SIZE",
                       help="refuse a data set whose decoded images take more (default 4GB)")
    group.add_argument("--skipped-report", metavar="FILE", help="write the skipped files and why, one per line")


_PREPARATION_ARGS = {"image_size": "image_size", "channels": "channels", "fit": "fit", "background": "background",
                     "test_fraction": "test_fraction"}


def preparation_from_args(args: argparse.Namespace, recorded: Any = None) -> Any:
    """The Preparation the options ask for, over ``recorded`` (a checkpoint's) or the defaults; the split
    seed is the recorded one (a model is evaluated on the split it was not trained on)."""
    from dataclasses import replace

    from aeviewer.data.preparation import Preparation

    given = {field: getattr(args, name) for name, field in _PREPARATION_ARGS.items() if getattr(args, name, None) is not None}
    return replace(recorded or Preparation(), **given)


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
        from aeviewer.data.sources import load_split

        if is_named(spec):
            return load_split(spec, split, self.args.data_dir)
        key = (spec, preparation)
        if key not in self._loaded:
            self._loaded[key] = self._load(spec, preparation, load_source)
        return split_of(self._loaded[key], split)

    def _load(self, spec: str, preparation: Any, load_source: Any) -> Any:
        from pathlib import Path

        from aeviewer.data.loaded import DEFAULT_MAX_MEMORY

        bar = LoadBar(Path(spec).name)
        try:
            loaded = load_source(spec, preparation, self.args.data_dir, progress=bar,
                                 max_memory=getattr(self.args, "max_memory", None) or DEFAULT_MAX_MEMORY)
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
