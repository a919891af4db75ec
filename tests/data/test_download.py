"""fetch() downloads from a throw-away HTTP server on 127.0.0.1, verifies decompressed digests, writes atomically."""
from __future__ import annotations

import functools
import gzip
import http.server
import shutil
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from aeviewer.data.download import RAW_SHA256, fetch, raw_sha256, verify
from aeviewer.data.loader import load_split
from aeviewer.errors import DataError
from shared_data import IDX_DATA, require_data

FILES = sorted(f"{base}.gz" for base in RAW_SHA256["mnist"])


@pytest.fixture
def data_dir() -> Path:
    """A data folder holding MNIST's four files, which these tests serve (or copy) as a download mirror."""
    return require_data(*(f"mnist/{name}" for name in FILES))


class _Handler(http.server.SimpleHTTPRequestHandler):
    requests: list[str]

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self.requests.append(self.path)
        super().do_GET()

    def log_message(self, *args) -> None:  # keep pytest output clean
        pass


@pytest.fixture
def serve() -> Iterator:
    """serve(directory) -> (base URL, list of requested paths); servers stop at teardown."""
    servers = []

    def start(directory: Path) -> tuple[str, list[str]]:
        requests: list[str] = []
        handler = type("Handler", (_Handler,), {"requests": requests})
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(directory)))
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}", requests

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def mirror_of_mnist(data_dir: Path, root: Path) -> Path:
    """A copy of the shared MNIST files (symlinks) that a test may then spoil one file of."""
    (root / "mnist").mkdir(parents=True)
    for name in FILES:
        (root / "mnist" / name).symlink_to(data_dir / "mnist" / name)
    return root


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir()) if directory.exists() else []


def test_digests_match_the_shared_sums():
    sums = [f"{name}/SHA256SUMS-raw" for name in RAW_SHA256]
    data_dir = require_data(*sums, how="point AEVIEWER_DATA at a copy of the shared data folder, which carries "
                                       "each data set's published sums of the decompressed files")
    for name, digests in RAW_SHA256.items():
        lines = (data_dir / name / "SHA256SUMS-raw").read_text().split("\n")
        published = dict(reversed(line.split()) for line in lines if line.strip())
        assert published == digests


def test_fetch_downloads_verifies_and_reports_progress(data_dir, tmp_path, serve):
    url, requests = serve(data_dir)
    calls: list[tuple[int, int, str]] = []
    target = fetch("mnist", tmp_path / "data", base_url=f"{url}/mnist/", progress=lambda *a: calls.append(a))
    assert target == tmp_path / "data" / "mnist"
    assert leftovers(target) == FILES  # no temp files left behind
    for name in FILES:
        assert (target / name).read_bytes() == (data_dir / "mnist" / name).read_bytes()
        sizes = [(done, total) for done, total, f in calls if f == name]
        size = (data_dir / "mnist" / name).stat().st_size
        assert sizes[0] == (0, size) and sizes[-1] == (size, size)
        assert [d for d, _ in sizes] == sorted(d for d, _ in sizes)
    assert sorted(requests) == sorted(f"/mnist/{name}" for name in FILES)
    assert verify("mnist", tmp_path / "data") == []
    assert len(load_split("mnist", "test", tmp_path / "data")) == 10000


def test_verified_files_are_not_downloaded_again(data_dir, tmp_path, serve):
    target = tmp_path / "mnist"
    target.mkdir()
    shutil.copy(data_dir / "mnist" / FILES[0], target / FILES[0])
    url, requests = serve(data_dir)
    fetch("mnist", tmp_path, base_url=f"{url}/mnist")  # no trailing slash: still joined right
    assert FILES[0] not in " ".join(requests) and len(requests) == 3
    requests.clear()
    fetch("mnist", tmp_path, base_url=f"{url}/mnist/")
    assert requests == []


def test_regzipped_copy_verifies(data_dir, tmp_path, serve):
    root = mirror_of_mnist(data_dir, tmp_path / "served")
    labels = root / "mnist" / "t10k-labels-idx1-ubyte.gz"
    raw = gzip.decompress(labels.read_bytes())
    labels.unlink()
    labels.write_bytes(gzip.compress(raw, compresslevel=1, mtime=123456))  # another wrapper, same content
    assert labels.read_bytes() != (data_dir / "mnist" / labels.name).read_bytes()
    url, _ = serve(root)
    target = fetch("mnist", tmp_path / "data", base_url=f"{url}/mnist/")
    assert raw_sha256(target / labels.name) == RAW_SHA256["mnist"]["t10k-labels-idx1-ubyte"]


def test_corrupted_file_fails_checksum_and_leaves_nothing(data_dir, tmp_path, serve):
    root = mirror_of_mnist(data_dir, tmp_path / "served")
    labels = root / "mnist" / "t10k-labels-idx1-ubyte.gz"
    raw = bytearray(gzip.decompress(labels.read_bytes()))
    raw[100] = (raw[100] + 1) % 10  # one label changed: still a valid IDX file, wrong content
    labels.unlink()
    labels.write_bytes(gzip.compress(bytes(raw)))
    url, _ = serve(root)
    dest = tmp_path / "data"
    with pytest.raises(DataError) as err:
        fetch("mnist", dest, base_url=f"{url}/mnist/")
    message = str(err.value)
    assert "\n" not in message and "checksum mismatch" in message and labels.name in message
    assert labels.name not in leftovers(dest / "mnist")
    assert not any(name.endswith(".part") for name in leftovers(dest / "mnist"))


def test_corrupt_download_never_replaces_a_file_already_there(data_dir, tmp_path, serve):
    root = mirror_of_mnist(data_dir, tmp_path / "served")
    served = root / "mnist" / "t10k-labels-idx1-ubyte.gz"
    served.unlink()
    served.write_bytes(b"<html>not found</html>")  # a proxy's error page under the right name
    dest = tmp_path / "data" / "mnist"
    dest.mkdir(parents=True)
    (dest / served.name).write_bytes(b"the user's own, unverified file")
    url, _ = serve(root)
    with pytest.raises(DataError, match="not valid gzip"):
        fetch("mnist", tmp_path / "data", base_url=f"{url}/mnist/")
    assert (dest / served.name).read_bytes() == b"the user's own, unverified file"
    assert not any(name.endswith(".part") for name in leftovers(dest))


def test_missing_file_on_server_is_one_line_error(tmp_path, serve):
    url, _ = serve(tmp_path / "empty-server")
    (tmp_path / "empty-server").mkdir()
    with pytest.raises(DataError, match="HTTP 404") as err:
        fetch("mnist", tmp_path / "data", base_url=url)
    assert "\n" not in str(err.value)
    assert leftovers(tmp_path / "data" / "mnist") == []


def test_unreachable_server_is_a_data_error(tmp_path):
    with socket.socket() as sock:  # a port that nothing listens on once this socket closes
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(DataError, match="cannot download") as err:
        fetch("fashion-mnist", tmp_path / "data", base_url=f"http://127.0.0.1:{port}/")
    assert "\n" not in str(err.value)


def test_digits_and_unknown_names_are_not_fetchable(tmp_path):
    with pytest.raises(DataError, match="scikit-learn"):
        fetch("digits", tmp_path)
    with pytest.raises(DataError, match="fetchable: mnist, fashion-mnist"):
        fetch("cifar10", tmp_path)


def test_verify_reports_missing_and_bad_files(tmp_path, monkeypatch):
    from aeviewer.data import sources

    data_dir = require_data(*IDX_DATA)
    monkeypatch.setattr(sources, "SYSTEM_DIRS", {})
    monkeypatch.setattr(sources, "BUNDLED_DATA_DIR", tmp_path / "none")
    assert verify("mnist", data_dir) == [] and verify("fashion-mnist", data_dir) == []
    dest = tmp_path / "mnist"
    dest.mkdir()
    (dest / "t10k-labels-idx1-ubyte").write_bytes(b"\x00\x00\x08\x01\x00\x00\x00\x00")  # uncompressed, wrong
    (dest / "t10k-images-idx3-ubyte.gz").write_bytes(b"not gzip at all")
    problems = verify("mnist", tmp_path)
    assert len(problems) == 4
    missing = [p for p in problems if "[.gz] missing" in p]
    assert len(missing) == 2 and all("aeviewer data fetch mnist" in p and "train-" in p for p in missing)
    assert any("checksum mismatch" in p and "t10k-labels-idx1-ubyte" in p for p in problems)
    assert any("t10k-images-idx3-ubyte.gz: not a gzip file" in p for p in problems)


def test_an_offline_mirror_folder_works_as_a_file_address_and_a_bare_path_is_one_line(data_dir, tmp_path):
    target = fetch("mnist", tmp_path / "data", base_url=(data_dir / "mnist").as_uri())
    assert leftovers(target) == FILES and verify("mnist", tmp_path / "data") == []
    with pytest.raises(DataError, match="file:///srv/mirror"):  # urlopen would raise ValueError('unknown url type')
        fetch("mnist", tmp_path / "other", base_url=str(data_dir / "mnist"))


def test_a_write_that_fails_is_one_line_and_leaves_no_partial_file(data_dir, tmp_path, monkeypatch):
    target = tmp_path / "data" / "mnist"
    target.mkdir(parents=True)
    (target / FILES[0]).mkdir()  # a folder where the file must go: the rename fails
    with pytest.raises(DataError, match="cannot write"):
        fetch("mnist", tmp_path / "data", base_url=(data_dir / "mnist").as_uri())
    assert [p for p in leftovers(target) if p.endswith(".part")] == []

    def read_only(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("tempfile.mkstemp", read_only)  # a read-only data folder (root ignores chmod here)
    with pytest.raises(DataError, match="Permission denied"):
        fetch("mnist", tmp_path / "ro", base_url=(data_dir / "mnist").as_uri())
