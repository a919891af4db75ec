import faulthandler
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


# A deadlock in which a thread holds the GIL (two threads inside Qt did, see aeviewer/gui/startup/gui_thread_gc.py)
# stops pytest-timeout too, whose timer needs the GIL: the run then hung until CI killed it, with no stack.
# faulthandler's watchdog is a C thread: past a test's own limit plus this grace it prints every thread's
# stack to the terminal and ends the run, so a hang costs minutes and says where it is.
HANG_GRACE_S = float(os.environ.get("AEVIEWER_TEST_HANG_GRACE_S", "60"))


def _test_limit_s(item: pytest.Item) -> float:
    marker = item.get_closest_marker("timeout")
    if marker is not None and marker.args:
        return float(marker.args[0])
    try:
        return float(item.config.getini("timeout") or 300)
    except ValueError:  # pytest-timeout not installed
        return 300.0


def pytest_configure(config: pytest.Config) -> None:
    config._hang_report_fd = os.dup(2)  # the terminal's stderr, before pytest captures fd 2 for each test


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None):
    faulthandler.dump_traceback_later(_test_limit_s(item) + HANG_GRACE_S, exit=True,
                                      file=item.config._hang_report_fd)
    try:
        yield
    finally:
        faulthandler.cancel_dump_traceback_later()
