"""Atomic file writes: write beside the target, then rename over it, so a failed write leaves what was there."""
from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Iterator

from aeviewer.errors import AeviewerError


@contextlib.contextmanager
def replacing(path: str | Path, error: type[Exception] | None = AeviewerError,
              suffix: str | None = None) -> Iterator[Path]:
    """A fresh temp path in ``path``'s folder (made if missing), renamed over ``path`` when the block ends,
    deleted if it raises. The temp name ends in ``suffix``, by default ``path``'s own, so writers that choose
    a format by the name still do.

    ``error``: the class an OSError becomes, one line naming ``path``. None lets the OSError through, for
    callers to whom a failed write is only a slower next time (caches) or who word the message themselves.
    """
    path = Path(path)
    if error is not None and path.is_dir():
        raise error(f"{path}: is a directory; give a file name")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=path.suffix if suffix is None else suffix,
                                    dir=path.parent)
        os.close(fd)
    except OSError as err:
        if error is None:
            raise
        raise error(f"{path}: cannot write ({err.strerror or err})") from None
    tmp = Path(name)
    try:
        yield tmp
        os.chmod(tmp, new_file_mode(path))  # mkstemp makes 0600; a written file gets the usual permissions
        os.replace(tmp, path)
    except BaseException as err:
        tmp.unlink(missing_ok=True)
        if isinstance(err, OSError) and error is not None:
            raise error(f"{path}: cannot write ({err.strerror or err}); the previous file is unchanged") from None
        raise


def write_bytes(path: str | Path, data: bytes, error: type[Exception] | None = AeviewerError) -> Path:
    """``data`` to ``path`` atomically (fsync'd before the rename); returns the path. ``error``: as in
    :func:`replacing`."""
    path = Path(path)
    with replacing(path, error) as tmp:
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
