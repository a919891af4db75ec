"""Writes resources/data/emoji/test.npz: the emoji folder's test split as the emoji models were trained on it
(--image-size 64 --channels 3, the seeded 80/20 split), so that they open offline.

Usage (from the repository root): AEVIEWER_DATA=../shared/data python trained/make_emoji_split.py emoji
"""
from __future__ import annotations

import sys

from aeviewer.data.loader import bundled_path, load_source, write_bundled_split
from aeviewer.data.preparation import Preparation

EMOJI_PREPARATION = Preparation(image_size=64, channels="3")


def main(argv: list[str]) -> int:
    loaded = load_source(argv[0] if argv else "emoji", EMOJI_PREPARATION)
    out = write_bundled_split(loaded, bundled_path("emoji"))
    print(f"{len(loaded.test)} test images -> {out} ({out.stat().st_size / 1e6:.1f} MB)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
