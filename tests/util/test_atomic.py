"""aeviewer.util.atomic: the one place that writes a file by renaming a temp file over it."""
from __future__ import annotations

import errno
import os

import pytest

from aeviewer.util import atomic
from aeviewer.errors import CheckpointError


def full_disk(*args, **kwargs):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_a_failed_rename_leaves_the_old_file_and_no_temp_and_names_the_callers_error(tmp_path, monkeypatch):
    target = atomic.write_bytes(tmp_path / "m.bin", b"old")
    monkeypatch.setattr("aeviewer.util.atomic.os.replace", full_disk)
    with pytest.raises(CheckpointError, match="No space left.*previous file is unchanged"):
        atomic.write_bytes(target, b"new", CheckpointError)
    assert target.read_bytes() == b"old" and [p.name for p in tmp_path.iterdir()] == ["m.bin"]


def test_without_an_error_class_the_oserror_passes_through_for_caches(tmp_path, monkeypatch):
    monkeypatch.setattr("aeviewer.util.atomic.os.replace", full_disk)
    with pytest.raises(OSError) as err:
        with atomic.replacing(tmp_path / "cache.npz", error=None) as tmp:
            tmp.write_bytes(b"x")
    assert err.value.errno == errno.ENOSPC and list(tmp_path.iterdir()) == []


def test_the_temp_file_takes_the_suffix_asked_for_and_goes_when_the_block_raises(tmp_path):
    with pytest.raises(KeyboardInterrupt):
        with atomic.replacing(tmp_path / "a.gz", suffix=".part") as tmp:
            assert tmp.parent == tmp_path and tmp.name.startswith(".a.") and tmp.name.endswith(".part")
            raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []
