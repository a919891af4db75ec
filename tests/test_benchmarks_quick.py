"""Each benchmark's --quick mode runs to its figure line, so the scripts cannot rot.

No timing is asserted here (CI machines vary); only that a script runs, exits 0 and prints the line
with its ratio or figure. The GUI ones run with QT_QPA_PLATFORM=offscreen.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"

# script, the start of the line it must print, whether it is slow enough for the slow mark
CASES = [
    ("bench_encode.py", "figure: slowest mlp kind encodes 10,000 images in", False),
    ("bench_projection.py", "ratio full SVD / make_projection:", False),
    ("bench_map_inverse.py", "ratio brute force / MapInverse (median):", False),
    ("bench_maps.py", "figure: slowest cold first view", True),
    ("bench_scatter.py", "figure: slowest operation (median) per size:", False),
    ("bench_click_to_pixels.py", "figure: click to frame p50", False),
    ("bench_linked_hover.py", "figure: linked hover across 3 scatters", False),
    ("bench_foreign_click.py", "figure: aeviewer's overhead per click median", False),
    ("bench_folder_load.py", "figure: 300 images cold", False),
    ("bench_parquet.py", "figure: 300 images parquet cold", False),
    ("bench_gui_training.py", "figure: ratio GUI/headless samples/s", True),
    ("bench_startup.py", "figure: launch to first painted window with", True),
    ("bench_first_paint.py", "figure: slowest first paint (the start window)", True),
    ("bench_trainer.py", "ratio trainer/bare:", True),
    ("bench_prior.py", "ratio pixelcnn", True),
]


def run_quick(script: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_CONFIG_HOME=str(tmp_path / "config"),
               OMP_NUM_THREADS="1")
    return subprocess.run([sys.executable, str(BENCHMARKS / script), "--quick"], capture_output=True, text=True,
                          env=env, cwd=tmp_path, timeout=240)


@pytest.mark.parametrize(
    "script, figure_line",
    [pytest.param(s, line, id=s, marks=[pytest.mark.slow] if slow else []) for s, line, slow in CASES],
)
def test_quick_mode_prints_its_figure(script: str, figure_line: str, tmp_path: Path) -> None:
    if not (BENCHMARKS / script).is_file():
        pytest.skip(f"{script} is not written yet")
    done = run_quick(script, tmp_path)
    assert done.returncode == 0, f"{script} failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    lines = [line for line in done.stdout.splitlines() if line.startswith(figure_line)]
    assert len(lines) == 1, f"{script} printed no {figure_line!r} line:\n{done.stdout[-2000:]}"
    assert any(ch.isdigit() for ch in lines[0][len(figure_line):]), lines[0]  # the figure itself is there
