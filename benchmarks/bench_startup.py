"""Start-up: from launching the app to the first painted window with the pretrained model and its scatter.

Each run is a fresh Python process that does what ``aeviewer <model>`` does (``ensure_app``,
``create_main_window``, ``show``, the event loop) and stops at the first paint of the latent scatter's
viewport (an event filter on its Paint event). The clock starts in this process just before the
child is spawned, so interpreter start-up and every import count. The child reports its phases:
imports, window built (checkpoint read, test split loaded and encoded, views made), shown, painted.

The model: ``trained/``'s default (via ``trained/index.json``) when it exists, else a VAE trained
here for one epoch with the CLI into a temp folder (``--model-path`` names another). The child gets
a fresh settings folder (XDG_CONFIG_HOME), so no saved layout or recent file of yours plays a part.
The first run may read files from a cold disk cache: it is reported apart from the median.

    python benchmarks/bench_startup.py --quick     # one run with a digits model (CI smoke)
    python benchmarks/bench_startup.py             # the figure: 5 runs with an MNIST model (target <= 3 s)
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import REPO, header, median, verdict

TARGET_S = 3.0

CHILD = r"""
import json, sys, time
t_python = time.time()
from PySide6.QtCore import QEvent, QObject, QTimer
from aeviewer.gui.app import create_main_window, ensure_app
t_imports = time.time()
marks = {}

class FirstPaint(QObject):
    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Paint and "painted" not in marks:
            marks["painted"] = time.time()
            QTimer.singleShot(0, app.quit)
        return False

app = ensure_app(["aeviewer"])
path = sys.argv[1] or None
window = create_main_window(path)
window.session.wait_for_encodings()  # the app encodes off the GUI thread; the figure includes it, as before
t_window = time.time()
if window.session.model is None or len(window.session.coords) == 0:
    print(json.dumps({"error": "no model or no scatter after create_main_window"}))
    sys.exit(1)
first_paint = FirstPaint()
window.latent_view.plot.viewport().installEventFilter(first_paint)
window.show()
t_shown = time.time()
QTimer.singleShot(30_000, app.quit)
app.exec()
print(json.dumps({"python": t_python, "imports": t_imports, "window": t_window, "shown": t_shown,
                  "painted": marks.get("painted"), "points": int(len(window.session.coords)),
                  "model": str(window.session.model_path)}))
"""


def find_model(quick: bool, explicit: str | None, workdir: Path) -> tuple[str, str]:
    """(path to give the child, where it came from); "" lets the app pick its pretrained default."""
    if explicit:
        return explicit, "given"
    if not quick and (REPO / "trained" / "index.json").is_file():
        return "", "trained/index.json default"
    dataset = "digits" if quick else "mnist"
    out = workdir / f"vae-{dataset}.safetensors"
    command = [sys.executable, "-m", "aeviewer", "train", "--model", "vae", "--dataset", dataset, "--epochs", "1",
               "--out", str(out), "--no-eval"]
    print(f"training a model for the benchmark: {' '.join(command[1:])}", flush=True)
    subprocess.run(command, check=True, cwd=REPO, stdout=subprocess.DEVNULL)
    return str(out), f"trained here: vae on {dataset}, 1 epoch"


def one_run(model: str, settings_dir: Path) -> dict[str, float]:
    env = dict(os.environ, XDG_CONFIG_HOME=str(settings_dir))
    start = time.time()
    done = subprocess.run([sys.executable, "-c", CHILD, model], capture_output=True, text=True, env=env, cwd=REPO,
                          timeout=120)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        raise SystemExit(f"the app did not start:\n{done.stdout}\n{done.stderr}")
    marks = json.loads(lines[-1])
    if marks.get("painted") is None:
        raise SystemExit("the scatter was never painted")
    return {"interpreter": marks["python"] - start, "imports": marks["imports"] - start, "window": marks["window"] - start,
            "shown": marks["shown"] - start, "painted": marks["painted"] - start, "points": marks["points"]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one run, a digits model")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--model-path", help="a checkpoint to open instead")
    args = parser.parse_args(argv)
    runs = 1 if args.quick else args.runs
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # the child inherits it
    with tempfile.TemporaryDirectory(prefix="aeviewer-bench-startup-") as tmp:
        model, origin = find_model(args.quick, args.model_path, Path(tmp))
        header(f"start-up to the first painted scatter, {runs} run(s), model: {origin}")
        results = [one_run(model, Path(tmp) / f"settings{i}") for i in range(runs)]
    phases = ("interpreter", "imports", "window", "shown", "painted")
    print(f"{'run':>7}  " + "  ".join(f"{p:>11}" for p in phases) + "  (seconds since launch)")
    for i, r in enumerate(results):
        print(f"{i + 1:>7}  " + "  ".join(f"{r[p]:>11.3f}" for p in phases))
    steady = results[1:] or results
    print(f"{'median':>7}  " + "  ".join(f"{median([r[p] for r in steady]):>11.3f}" for p in phases)
          + ("  (runs 2..)" if len(results) > 1 else ""))
    painted = median([r["painted"] for r in steady])
    print(f"figure: launch to first painted window with {results[0]['points']:,} points: median {painted:.2f} s, "
          f"first run {results[0]['painted']:.2f} s (target <= {TARGET_S:g} s): {verdict(painted, TARGET_S)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
