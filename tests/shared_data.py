"""Files the repository does not ship (MNIST's train split, Fashion-MNIST, emoji, ...), found under $AEVIEWER_DATA.

A test that needs one calls ``require_data("mnist/train-images-idx3-ubyte.gz")`` (any paths under the data
folder, e.g. ``"emoji/"``): it gets the data folder, or is skipped with the missing files and the command that
fetches them named. Under ``AEVIEWER_REQUIRE_DATA=1``
(CI) the skip is a failure instead, so CI runs every test.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

REQUIRE_VARIABLE = "AEVIEWER_REQUIRE_DATA"
IDX_SPLITS = {"train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
              "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")}


def idx_files(name: str, *splits: str) -> tuple[str, ...]:
    """The files of ``splits`` (default both) of IDX data set ``name``, as `aeviewer data fetch` writes them."""
    return tuple(f"{name}/{file}" for split in splits or IDX_SPLITS for file in IDX_SPLITS[split])


IDX_DATA = idx_files("mnist") + idx_files("fashion-mnist")  # both splits of both


def data_root() -> Path | None:
    """$AEVIEWER_DATA as a path, or None when it is unset or empty."""
    value = os.environ.get("AEVIEWER_DATA", "")
    return Path(value) if value else None


def fetch_command(relative: str) -> str:
    """The command that puts ``relative`` (``<data set>/<file>``) into a data folder DIR."""
    return f"aeviewer data fetch {Path(relative).parts[0]} --data-dir DIR"


EMOJI_HOW = ("copy the emoji folder (3,655 Noto emoji PNGs in 9 class folders; see its README.txt) to DIR/emoji, "
             "then set AEVIEWER_DATA=DIR")


def require_data(*relative: str, how: str | None = None) -> Path:
    """The data folder ($AEVIEWER_DATA) when every one of ``relative`` (files or folders under it, e.g.
    ``"mnist/train-images-idx3-ubyte.gz"``) is there; else the test is skipped (with AEVIEWER_REQUIRE_DATA=1:
    fails) naming what is missing and how to get it: ``how``, or the ``aeviewer data fetch`` of each data set."""
    root = data_root()
    missing = [name for name in relative if root is None or not (root / name).exists()]
    if not missing:
        return root
    where = f"in AEVIEWER_DATA={root}" if root is not None else "in $AEVIEWER_DATA, which is unset"
    if how is None:
        how = "run `" + "; ".join(dict.fromkeys(map(fetch_command, missing))) + "`, then set AEVIEWER_DATA=DIR"
    reason = f"needs {', '.join(missing)} {where}: {how}"
    if os.environ.get(REQUIRE_VARIABLE) == "1":
        pytest.fail(f"{REQUIRE_VARIABLE}=1 and this test {reason}", pytrace=False)
    pytest.skip(reason)
