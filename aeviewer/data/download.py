"""Download MNIST / Fashion-MNIST IDX files from their canonical mirrors and verify them.

Digests are of the *decompressed* IDX content, so any gzip wrapper of the right data verifies (Debian's
re-gzipped Fashion-MNIST does, and so do the re-compressed MNIST files in ../shared/data).
Every file is written to a temp file beside its target and renamed only once verified.
"""
from __future__ import annotations

import gzip
import hashlib
import http.client
import os
import urllib.error
import urllib.parse
import urllib.request
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from aeviewer.util import atomic
from aeviewer.data.idx import GZIP_MAGIC
from aeviewer.data.sources import SOURCES, find_file, resolve_data_dir, search_dirs
from aeviewer.errors import DataError

Progress = Callable[[int, int, str], None]  # (done_bytes, total_bytes or 0 when unknown, file name)

MIRRORS = {
    "mnist": "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "fashion-mnist": "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
}
# SHA-256 of the decompressed IDX files (from ../shared/data/*/SHA256SUMS-raw).
RAW_SHA256 = {
    "mnist": {
        "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
        "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
        "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
        "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    },
    "fashion-mnist": {
        "train-images-idx3-ubyte": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
        "train-labels-idx1-ubyte": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
        "t10k-images-idx3-ubyte": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
        "t10k-labels-idx1-ubyte": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
    },
}
FETCHABLE: tuple[str, ...] = tuple(MIRRORS)
_CHUNK = 1 << 16
TIMEOUT_S = 60.0


def fetch(
    name: str,
    data_dir: str | Path | None = None,
    base_url: str | None = None,
    progress: Progress | None = None,
) -> Path:
    """Download the four IDX .gz files of ``name`` into ``<data_dir>/<name>/`` and return that directory.

    ``base_url`` replaces the canonical mirror (tests serve files from 127.0.0.1). A file already there
    whose content verifies is kept and not downloaded again. A file that fails its checksum is
    discarded and DataError raised; nothing already present is overwritten by a failed download.
    """
    digests = _digests(name)
    target_dir = resolve_data_dir(data_dir) / name
    try:
        target_dir.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise DataError(f"cannot create {target_dir}: {err.strerror or err}") from None
    base = (base_url or MIRRORS[name]).rstrip("/") + "/"
    if urllib.parse.urlsplit(base).scheme not in ("http", "https", "file"):  # urlopen's own error is a ValueError
        raise DataError(f"the mirror must be an http://, https:// or file:// address (a folder: file:///srv/mirror), "
                        f"got {base_url!r}")
    for base_name, digest in digests.items():
        filename = f"{base_name}.gz"
        existing = find_file(target_dir, base_name)  # .gz or uncompressed
        if existing is not None and _raw_sha256_or_none(existing) == digest:
            size = existing.stat().st_size
            if progress is not None:
                progress(size, size, existing.name)
            continue
        _download_verified(base + filename, target_dir / filename, digest, progress)
    return target_dir


def verify(name: str, data_dir: str | Path | None = None) -> list[str]:
    """Problems with the files ``load_split(name, ...)`` would read (empty list: all four verify).

    Each file is looked for where loading looks (data directory, system folder, bundled resources).
    """
    problems = []
    for base_name, digest in _digests(name).items():
        path = next((p for d in search_dirs(name, data_dir) if (p := find_file(d, base_name)) is not None), None)
        if path is None:
            problems.append(f"{name}: {base_name}[.gz] missing (run `aeviewer data fetch {name}`)")
            continue
        try:
            actual = raw_sha256(path)
        except DataError as err:
            problems.append(str(err))
            continue
        if actual != digest:
            problems.append(f"{path}: checksum mismatch (decompressed SHA-256 {actual[:12]}…, expected {digest[:12]}…)")
    return problems


def raw_sha256(path: str | Path, compressed: bool | None = None) -> str:
    """SHA-256 of the decompressed content of ``path``.

    ``compressed`` None: gzip when the name ends in .gz (then anything else is an error), raw otherwise.
    """
    path = Path(path)
    compressed = path.suffix == ".gz" if compressed is None else compressed
    h = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            if compressed and f.read(2) != GZIP_MAGIC:
                raise DataError(f"{path}: not a gzip file")
            f.seek(0)
            stream = gzip.GzipFile(fileobj=f, mode="rb") if compressed else f
            while chunk := stream.read(1 << 20):
                h.update(chunk)
    except (OSError, EOFError, zlib.error) as err:
        raise DataError(f"{path}: unreadable ({' '.join(str(err).split()) or type(err).__name__})") from None
    return h.hexdigest()


def _raw_sha256_or_none(path: Path, compressed: bool | None = None) -> str | None:
    try:
        return raw_sha256(path, compressed)
    except DataError:
        return None


def _digests(name: str) -> dict[str, str]:
    if name in RAW_SHA256:
        return RAW_SHA256[name]
    if name in SOURCES:
        raise DataError(f"{name} ships with scikit-learn; there is nothing to fetch")
    raise DataError(f"unknown data set {name!r} (fetchable: {', '.join(FETCHABLE)})")


def _download_verified(url: str, target: Path, digest: str, progress: Progress | None) -> None:
    """Stream ``url`` into a temp file beside ``target``, check the digest, then rename into place."""
    try:  # the temp file goes even on KeyboardInterrupt: never a partial file left behind
        with atomic.replacing(target, error=None, suffix=".part") as tmp:
            with open(tmp, "wb") as out:
                _stream(url, out, target.name, progress)
                out.flush()
                os.fsync(out.fileno())
            actual = _raw_sha256_or_none(tmp, compressed=True)
            if actual is None:
                raise DataError(f"{url}: the downloaded file is not valid gzip data; file discarded")
            if actual != digest:
                mismatch = f"decompressed SHA-256 {actual[:12]}…, expected {digest[:12]}…"
                raise DataError(f"{url}: checksum mismatch ({mismatch}); file discarded")
    except OSError as err:  # a read-only data folder, fsync on a full disk, a directory in the way of the rename
        raise DataError(f"{target}: cannot write ({err.strerror or err}); nothing was replaced") from None


def _stream(url: str, out: BinaryIO, filename: str, progress: Progress | None) -> None:
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response:
            total = int(response.headers.get("Content-Length") or 0)
            done = 0
            if progress is not None:
                progress(0, total, filename)
            while chunk := response.read(_CHUNK):
                out.write(chunk)
                done += len(chunk)
                if progress is not None:
                    progress(done, total, filename)
    except urllib.error.HTTPError as err:
        raise DataError(f"cannot download {url}: HTTP {err.code} {err.reason}") from None
    except (urllib.error.URLError, OSError, http.client.HTTPException, ValueError) as err:  # ValueError: a bad header
        reason = getattr(err, "reason", None) or err
        raise DataError(f"cannot download {url}: {' '.join(str(reason).split())}") from None
