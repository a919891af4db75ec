"""aeviewer.util.paths: the one module that names the per-user folders."""
from __future__ import annotations

from aeviewer.util import paths
from aeviewer.data import cache as data_cache
from aeviewer.data.sources import resolve_data_dir
from aeviewer.projections import worker


def test_aeviewer_user_dir_moves_the_user_folders_but_not_numbas_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))  # where platformdirs looks on Linux
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    monkeypatch.setenv("AEVIEWER_USER_DIR", str(tmp_path / "mine"))
    assert paths.user_dir() == tmp_path / "mine"
    assert paths.cache_dir() == data_cache.cache_dir() == tmp_path / "mine" / "cache"
    assert paths.numba_cache_dir() == worker.numba_cache_dir() == tmp_path / "xdg-cache" / "aeviewer" / "numba"
    assert paths.user_data_dir() == tmp_path / "xdg-data" / "aeviewer"
    monkeypatch.delenv("AEVIEWER_USER_DIR")
    monkeypatch.delenv("AEVIEWER_DATA", raising=False)
    assert paths.user_dir() == resolve_data_dir() == tmp_path / "xdg-data" / "aeviewer"
    assert paths.cache_dir() == tmp_path / "xdg-cache" / "aeviewer"
