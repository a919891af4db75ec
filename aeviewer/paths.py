"""Where the files that ship with the app live: the pretrained models (trained/) and the bundled data (resources/)."""
from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def shipped_dir(name: str) -> Path:
    """The shipped folder ``name`` ("trained" or "resources") wherever this install keeps it.

    A wheel or ``pip install .`` carries it inside the package (``aeviewer/<name>``, see setup.py); a source
    checkout or an editable install has it beside the package, as the repository's top-level folder.
    """
    inside = PACKAGE_DIR / name
    return inside if inside.is_dir() else PACKAGE_DIR.parent / name
