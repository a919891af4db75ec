"""Where the files that ship with the app live (the pretrained models in trained/, the bundled data in
resources/) and every per-user folder of aeviewer: the one module that asks platformdirs. Torch-free and
Qt-free: the map child process uses it."""
from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parents[1]  # aeviewer/, this file being aeviewer/util/paths.py
USER_DIR_ENV = "AEVIEWER_USER_DIR"


def shipped_dir(name: str) -> Path:
    """The shipped folder ``name`` ("trained" or "resources") wherever this install keeps it.

    A wheel or ``pip install .`` carries it inside the package (``aeviewer/<name>``, see setup.py); a source
    checkout or an editable install has it beside the package, as the repository's top-level folder.
    """
    inside = PACKAGE_DIR / name
    return inside if inside.is_dir() else PACKAGE_DIR.parent / name


def user_dir() -> Path:
    """``$AEVIEWER_USER_DIR``, else the per-user data folder of aeviewer."""
    explicit = os.environ.get(USER_DIR_ENV)
    return Path(explicit) if explicit else user_data_dir()


def cache_dir() -> Path:
    """``$AEVIEWER_USER_DIR/cache``, else the per-user cache folder of aeviewer."""
    explicit = os.environ.get(USER_DIR_ENV)
    return Path(explicit) / "cache" if explicit else _platform_cache_dir()


def numba_cache_dir() -> Path:
    """Where numba keeps what it compiled for umap-learn / pynndescent between runs; without it a fresh
    process compiles everything again (over a minute here). Not under ``AEVIEWER_USER_DIR``: compiled code
    is no user data."""
    return _platform_cache_dir() / "numba"


def user_data_dir() -> Path:
    """The platform's per-user data folder of aeviewer, whatever the environment names instead."""
    import platformdirs  # imported late: only needed when nothing else names the folder

    return Path(platformdirs.user_data_dir("aeviewer", appauthor=False))


def _platform_cache_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_cache_dir("aeviewer", appauthor=False))
