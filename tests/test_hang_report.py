"""A test that hangs with the GIL held (beyond pytest-timeout's reach) ends the run with every stack."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

HANGING_TEST = '''
import ctypes

import pytest


@pytest.mark.timeout(1)
def test_holds_the_gil_in_c():
    libc = ctypes.PyDLL(None)  # PyDLL keeps the GIL through the call
    mutex = ctypes.create_string_buffer(64)
    libc.pthread_mutex_lock(mutex)
    libc.pthread_mutex_lock(mutex)  # a normal mutex locked twice: never returns, signals or not
'''


def test_a_test_deadlocked_with_the_gil_held_ends_the_run_with_its_stack(tmp_path: Path):
    here = Path(__file__).parent
    for name in ("conftest.py", "shared_data.py"):
        shutil.copy(here / name, tmp_path / name)
    (tmp_path / "test_hangs.py").write_text(HANGING_TEST)
    env = {**os.environ, "AEVIEWER_TEST_HANG_GRACE_S": "2"}
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_hangs.py"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    took = time.monotonic() - started
    assert done.returncode != 0
    assert "Timeout" in done.stderr and "in test_holds_the_gil_in_c" in done.stderr
    assert took < 60, f"the run took {took:.0f} s"  # 1 s limit + 2 s grace + start-up, not the hang
