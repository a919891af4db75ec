"""Strict reader for IDX files (the MNIST format), gzip-compressed or not.

An IDX file is a big-endian header -- two zero bytes, an element-type byte, the number of dimensions
``d`` -- then ``d`` uint32 sizes, then the elements, row-major. aeviewer reads unsigned bytes only.
Every failure is a :class:`DataError` with one line naming the file and what is wrong, and no buffer is
ever sized from the header before the file has shown that it really holds that many bytes.
"""
from __future__ import annotations

import gzip
import math
import os
import struct
import zlib
from pathlib import Path
from typing import BinaryIO

import numpy as np

from aeviewer.errors import DataError

GZIP_MAGIC = b"\x1f\x8b"
UBYTE = 0x08
MAX_DIMS = 4
_CHUNK = 1 << 22  # 4 MiB: read a gzip stream in pieces so memory follows the data actually present
_TYPE_NAMES = {0x09: "int8", 0x0B: "int16", 0x0C: "int32", 0x0D: "float32", 0x0E: "float64"}


def read_idx(path: str | Path, ndim: int | None = None) -> np.ndarray:
    """The uint8 array stored in the IDX file at ``path`` (``.gz`` or raw), shape as its header says.

    ``ndim`` (3 for images, 1 for labels) makes the reader refuse a file with another number of
    dimensions. The returned array is writable and owns its memory.
    """
    path = Path(path)
    try:
        with open(path, "rb") as f:
            lead = f.read(2)
            f.seek(0)
            if lead == GZIP_MAGIC:
                return _read_gzip(path, f, ndim)
            if path.suffix == ".gz":
                start = lead.hex(" ") or "nothing"
                raise DataError(f"{path}: not a gzip file (it is named .gz but starts with {start})")
            return _read_raw(path, f, ndim)
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise DataError(f"{path}: is a directory, not an IDX file") from None
    except PermissionError:
        raise DataError(f"{path}: permission denied") from None
    except OSError as err:  # a symlink loop, a name too long, an I/O error: still one line naming the file
        raise DataError(f"{path}: cannot read ({err.strerror or _one_line(err)})") from None


def _parse_header(path: Path, stream: BinaryIO, ndim: int | None) -> tuple[int, ...]:
    """The dimensions declared by the header at the start of ``stream`` (after validating it)."""
    magic = stream.read(4)
    if len(magic) < 4:
        raise DataError(f"{path}: truncated IDX file (only {len(magic)} bytes, no header)")
    zero, dtype, dims = magic[:2], magic[2], magic[3]
    if zero != b"\x00\x00":
        raise DataError(f"{path}: not an IDX file (magic bytes {magic.hex(' ')})")
    if dtype != UBYTE:
        kind = _TYPE_NAMES.get(dtype, "unknown")
        raise DataError(f"{path}: IDX element type 0x{dtype:02x} ({kind}) is not supported; only unsigned bytes (0x08)")
    if not 1 <= dims <= MAX_DIMS:
        raise DataError(f"{path}: IDX header declares {dims} dimensions (1 to {MAX_DIMS} supported)")
    if ndim is not None and dims != ndim:
        raise DataError(f"{path}: expected {ndim} dimension(s) (magic 0x080{ndim}), the header declares {dims}")
    raw = stream.read(4 * dims)
    if len(raw) < 4 * dims:
        raise DataError(f"{path}: truncated IDX header ({dims} dimensions declared, sizes missing)")
    shape = struct.unpack(f">{dims}I", raw)
    # numpy refuses shapes whose element count, zeros left out, passes its index range, even for an
    # empty array (0 x 4e9 x 4e9): such a header describes nothing a real data set holds.
    if math.prod(d for d in shape if d) > MAX_ELEMENTS:
        raise DataError(f"{path}: IDX header declares dimensions {'x'.join(map(str, shape))}, too large to be real")
    return shape


MAX_ELEMENTS = 2**40  # 1 TiB of uint8: far beyond any image set, well inside numpy's limit


def _length_error(path: Path, shape: tuple[int, ...], expected: int, found: str) -> DataError:
    declared = "x".join(map(str, shape))
    return DataError(f"{path}: header declares {declared} = {expected} bytes of data, the file holds {found}")


def _read_raw(path: Path, f: BinaryIO, ndim: int | None) -> np.ndarray:
    shape = _parse_header(path, f, ndim)
    expected = math.prod(shape)
    available = os.fstat(f.fileno()).st_size - f.tell()
    if available != expected:  # checked before allocating anything of the declared size
        verdict = "truncated" if available < expected else "too long"
        raise _length_error(path, shape, expected, f"{available} ({verdict})")
    data = np.empty(expected, dtype=np.uint8)
    if f.readinto(memoryview(data)) != expected:
        raise _length_error(path, shape, expected, "fewer while reading")
    return data.reshape(shape)


def _read_gzip(path: Path, f: BinaryIO, ndim: int | None) -> np.ndarray:
    try:
        with gzip.GzipFile(fileobj=f, mode="rb") as z:
            shape = _parse_header(path, z, ndim)
            expected = math.prod(shape)
            chunks = _read_capped(z, expected + 1)  # one byte beyond the declared size reveals a too-long file
    except (OSError, EOFError, zlib.error) as err:  # BadGzipFile is an OSError; a cut stream is an EOFError
        raise DataError(f"{path}: corrupt gzip data ({_one_line(err)})") from None
    found = sum(len(c) for c in chunks)
    if found != expected:
        raise _length_error(path, shape, expected, f"{found} (truncated)" if found < expected else "more (too long)")
    data = np.frombuffer(bytearray().join(chunks), dtype=np.uint8)  # a bytearray keeps the array writable
    return data.reshape(shape)


def _read_capped(stream: BinaryIO, cap: int) -> list[bytes]:
    """Read at most ``cap`` bytes in bounded chunks, so a lying header cannot force a huge allocation."""
    chunks: list[bytes] = []
    left = cap
    while left > 0:
        chunk = stream.read(min(_CHUNK, left))
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return chunks


def _one_line(err: BaseException) -> str:
    text = str(err) or type(err).__name__
    return " ".join(text.split())


def write_idx(path: str | Path, array: np.ndarray, compress: bool | None = None) -> Path:
    """Write a uint8 ``array`` as an IDX file (gzip when ``compress`` or when the name ends in .gz).

    Used by tests and by tools that ship small data sets; the reader above is the strict half.
    """
    path = Path(path)
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = bytes([0, 0, UBYTE, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    payload = header + array.tobytes()
    if compress if compress is not None else path.suffix == ".gz":
        payload = gzip.compress(payload, mtime=0)
    path.write_bytes(payload)
    return path
