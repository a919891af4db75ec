"""The wheel holds the app: built from this checkout and installed into a new venv beside the pinned torch, it
runs from a folder outside the clone with everything it needs (pretrained models, the MNIST test split)."""
from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TORCH_PIN = "torch==2.13.0"  # the README's first install command
SOURCES = ("setup.py", "pyproject.toml", "README.md", "aeviewer", "trained", "resources")  # what the build reads
DEFAULT_MODEL = "vae-mnist-2d.safetensors"
# Opens the app's main window offscreen with its default model, lets the scatter load, prints what it shows.
OPEN_WINDOW = """
import json, time
from aeviewer.gui.app import create_main_window, ensure_app
app = ensure_app()
window = create_main_window()
window.show()
end = time.monotonic() + 3
while time.monotonic() < end:
    app.processEvents()
print(json.dumps({"model": str(window.session.model_path), "points": len(window.session.latents),
                  "data_problem": window.document.data_problem}))
window.close()
"""

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]  # a build and a venv with torch


def run(command: list, cwd: Path, env: dict[str, str], timeout: float = 300) -> str:
    proc = subprocess.run([str(part) for part in command], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)
    assert proc.returncode == 0, f"{command} exited {proc.returncode}:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}"
    return proc.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, str]]:
    """(the new venv's bin folder, an empty working folder outside the clone, the environment to run in)."""
    work = tmp_path_factory.mktemp("wheel")
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    env.update(AEVIEWER_DATA=str(work / "no-data"), QT_QPA_PLATFORM="offscreen", PIP_DISABLE_PIP_VERSION_CHECK="1")
    source = work / "source"  # a clean copy: a build/ folder left by an earlier build could add stale files
    source.mkdir()
    for name in SOURCES:
        (shutil.copytree if (ROOT / name).is_dir() else shutil.copy2)(ROOT / name, source / name)
    run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", work / "dist",
         source], work, env)
    wheel = next((work / "dist").glob("aeviewer-*.whl"))
    run([sys.executable, "-m", "venv", work / "venv"], work, env)
    bin_dir = work / "venv" / "bin"
    run([bin_dir / "pip", "install", "-q", TORCH_PIN], work, env, timeout=600)
    run([bin_dir / "pip", "install", "-q", wheel], work, env, timeout=600)
    outside = work / "elsewhere"
    outside.mkdir()
    return bin_dir, outside, env


def test_the_wheel_carries_the_pretrained_models_and_the_mnist_test_split(installed) -> None:
    bin_dir, outside, env = installed
    found = json.loads(run([bin_dir / "python", "-c", "import json; from aeviewer.util.paths import shipped_dir; "
                            "print(json.dumps([str(shipped_dir('trained')), str(shipped_dir('resources'))]))"],
                           outside, env))
    venv = bin_dir.parent.resolve()
    for folder in map(Path, found):
        assert folder.is_relative_to(venv), f"{folder} is not inside the installed package"
    trained, resources = map(Path, found)
    for shipped, installed_folder in ((ROOT / "trained", trained), (ROOT / "resources", resources)):
        wanted = {path.relative_to(shipped) for path in shipped.rglob("*")
                  if path.suffix in (".safetensors", ".json", ".gz", ".npz")}
        assert wanted and wanted <= {path.relative_to(installed_folder) for path in installed_folder.rglob("*")}


def test_the_installed_command_runs_outside_the_clone(installed) -> None:
    bin_dir, outside, env = installed
    assert "evaluate" in run([bin_dir / "aeviewer", "--help"], outside, env)
    trained = ROOT / "trained"
    checkpoint = Path(run([bin_dir / "python", "-c", "from aeviewer.util.paths import shipped_dir; "
                           f"print(shipped_dir('trained') / {DEFAULT_MODEL!r})"], outside, env).strip())
    report = json.loads(run([bin_dir / "aeviewer", "evaluate", checkpoint, "--json"], outside, env))
    recorded = next(e for e in json.loads((trained / "index.json").read_text())["models"] if e["file"] == DEFAULT_MODEL)
    assert math.isclose(report["neg_elbo"], recorded["metrics"]["neg_elbo"], abs_tol=0.05)


def test_the_installed_app_opens_its_default_model_offscreen(installed) -> None:
    bin_dir, outside, env = installed
    shown = json.loads(run([bin_dir / "python", "-c", OPEN_WINDOW], outside, env).strip().splitlines()[-1])
    assert Path(shown["model"]).name == DEFAULT_MODEL and Path(shown["model"]).is_relative_to(bin_dir.parent.resolve())
    assert shown["points"] == 10_000 and shown["data_problem"] == ""
