import os
from pathlib import Path

# Headless Qt for every test; must be set before any Qt import.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Absolute, so that tests which change the working directory still find the data.
if os.environ.get("AEVIEWER_DATA"):
    os.environ["AEVIEWER_DATA"] = str(Path(os.environ["AEVIEWER_DATA"]).resolve())

import pytest  # noqa: E402
import torch  # noqa: E402
# A test that needs files the repository does not ship: `from shared_data import require_data` (tests/shared_data.py).
from shared_data import IDX_DATA, require_data  # noqa: E402

torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))


@pytest.fixture
def data_dir() -> Path:
    """$AEVIEWER_DATA holding MNIST and Fashion-MNIST, both splits (IDX .gz files); else the test is skipped
    as ``require_data`` says (a test that needs less, or other files, calls ``require_data`` itself)."""
    return require_data(*IDX_DATA)


@pytest.fixture(autouse=True)
def _isolated_user_dirs(tmp_path_factory, monkeypatch):
    """Keep QSettings, autosaves and recent files of tests out of the real home folder."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("AEVIEWER_USER_DIR", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
