"""Atomic file writes: write beside the target, then rename over it, so a failed write leaves what was there."""
from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Iterator

from aeviewer.errors import AeviewerError


@contextlib.contextmanager
def replacing(path: str | Path) -> Iterator[Path]:
    """A fresh temp path in ``path``'s folder (made if missing) with the same suffix, so writers that choose
    a format by the name still do; renamed over ``path`` when the block ends, deleted if it raises."""
    path = Path(path)
    if path.is_dir():
        raise AeviewerError(f"{path}: is a directory; give a file name")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=path.suffix, dir=path.parent)
        os.close(fd)
    except OSError as err:
        raise AeviewerError(f"{path}: cannot write ({err.strerror or err})") from None
    tmp = Path(name)
    try:
        yield tmp
        os.chmod(tmp, new_file_mode(path))  # mkstemp makes 0600; an export gets the usual permissions
        os.replace(tmp, path)
    except BaseException as err:
        tmp.unlink(missing_ok=True)
        if isinstance(err, OSError):
            raise AeviewerError(f"{path}: cannot write ({err.strerror or err}); the previous file is unchanged") from None
        raise


def write_bytes(path: str | Path, data: bytes) -> Path:
    """``data`` to ``path`` atomically (fsync'd before the rename); returns the path."""
    path = Path(path)
    with replacing(path) as tmp:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
    return path


def new_file_mode(path: Path) -> int:
    """The mode of the file being replaced, else what a plain ``open`` would give (0666 less the umask)."""
    try:
        return path.stat().st_mode & 0o777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask
