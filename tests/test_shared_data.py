"""require_data: the data folder when the files are there; else a skip naming them and the fetch command,
which AEVIEWER_REQUIRE_DATA=1 turns into a failure."""
from __future__ import annotations

import pytest

from shared_data import require_data


def test_present_files_give_the_data_folder(tmp_path, monkeypatch):
    (tmp_path / "emoji" / "happy").mkdir(parents=True)
    (tmp_path / "emoji" / "happy" / "a.png").write_bytes(b"")
    monkeypatch.setenv("AEVIEWER_DATA", str(tmp_path))
    monkeypatch.delenv("AEVIEWER_REQUIRE_DATA", raising=False)
    assert require_data("emoji/happy/a.png", "emoji/") == tmp_path


def test_a_missing_file_is_a_skip_naming_it_and_its_fetch_command(tmp_path, monkeypatch):
    monkeypatch.setenv("AEVIEWER_DATA", str(tmp_path))
    monkeypatch.delenv("AEVIEWER_REQUIRE_DATA", raising=False)
    with pytest.raises(pytest.skip.Exception) as skip:
        require_data("mnist/train-images-idx3-ubyte.gz")
    assert "mnist/train-images-idx3-ubyte.gz" in str(skip.value) and str(tmp_path) in str(skip.value)
    assert "aeviewer data fetch mnist --data-dir DIR" in str(skip.value)
    monkeypatch.delenv("AEVIEWER_DATA")
    with pytest.raises(pytest.skip.Exception, match="unset"):
        require_data("fashion-mnist/t10k-images-idx3-ubyte.gz")


def test_required_data_that_is_missing_fails_instead(tmp_path, monkeypatch):
    monkeypatch.setenv("AEVIEWER_DATA", str(tmp_path))
    monkeypatch.setenv("AEVIEWER_REQUIRE_DATA", "1")
    with pytest.raises(pytest.fail.Exception, match="emoji/"):
        require_data("emoji/")
