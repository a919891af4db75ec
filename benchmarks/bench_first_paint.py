"""First paint after launch for every pretrained model in trained/, with the test split encoded in the background
(as ``aeviewer gui MODEL`` runs) against encoding it before the window shows (the baseline, measured in the
same run).

Each run is a fresh Python process that runs ``aeviewer gui MODEL``'s own ``run_app`` (the start window, then
``create_main_window`` and ``show`` on the turn after its paint) under QT_QPA_PLATFORM=offscreen. The clock starts here just
before the child is spawned, so interpreter start-up and every import count. The child reports the first
paint (the start window's), the main window's first paint (its decoder usable) (an application-wide event filter) and the moment the scatter is
filled (the session's encodings in place), then quits.

    python benchmarks/bench_first_paint.py --quick          # one digits model (CI smoke)
    python benchmarks/bench_first_paint.py                  # every model of trained/, one run each mode
    python benchmarks/bench_first_paint.py --runs 3 --models trained/vqvae-mnist.safetensors
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

TARGET_S = 1.5

CHILD = r"""
import json, sys, time
t_python = time.time()
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication
import aeviewer.gui.app as app_module
from aeviewer.gui.startup.start_window import StartWindow
marks = {}
window = None
create = app_module.create_main_window

def filled():
    return window is not None and window.session.model is not None and len(window.session.coords) > 0

def maybe_quit():
    if "window_painted" in marks and "filled" in marks:
        QTimer.singleShot(0, lambda: QApplication.instance().exit(0))

class FirstPaint(QObject):
    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Paint and hasattr(obj, "window"):
            top = obj.window()
            if "painted" not in marks and (isinstance(top, StartWindow) or top is window):
                marks["painted"] = time.time()
            if window is not None and top is window and "window_painted" not in marks:
                marks["window_painted"] = time.time()
                maybe_quit()
        return False

def on_encodings():
    if filled() and "filled" not in marks:
        marks["filled"] = time.time()
        maybe_quit()

def create_and_watch(*args, **kwargs):
    global window
    kwargs["background_encoding"] = sys.argv[2] == "background"
    window = create(*args, **kwargs)
    marks["window"] = time.time()
    window.session.encodingsChanged.connect(on_encodings)
    on_encodings()
    return window

app_module.create_main_window = create_and_watch
app = app_module.ensure_app(["aeviewer"])
first_paint = FirstPaint()
app.installEventFilter(first_paint)
QTimer.singleShot(60_000, lambda: app.exit(0))
app_module.run_app(["aeviewer", sys.argv[1]])
print(json.dumps({"python": t_python, "window": marks.get("window"), "painted": marks.get("painted"),
                  "window_painted": marks.get("window_painted"), "filled": marks.get("filled"),
                  "points": int(len(window.session.coords)) if window is not None else 0}))
"""


def one_run(model: Path, mode: str, settings_dir: Path) -> dict[str, float]:
    env = dict(os.environ, XDG_CONFIG_HOME=str(settings_dir), QT_QPA_PLATFORM="offscreen")
    start = time.time()
    done = subprocess.run([sys.executable, "-c", CHILD, str(model), mode], capture_output=True, text=True, env=env,
                          cwd=REPO, timeout=180)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        raise SystemExit(f"the app did not start with {model.name}:\n{done.stdout}\n{done.stderr}")
    marks = json.loads(lines[-1])
    if None in (marks["painted"], marks["window_painted"], marks["filled"]):
        raise SystemExit(f"{model.name}: never painted or never filled: {marks}")
    return {"window": marks["window"] - start, "painted": marks["painted"] - start,
            "window_painted": marks["window_painted"] - start, "filled": marks["filled"] - start,
            "points": marks["points"]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="trained/vae-digits only")
    parser.add_argument("--runs", type=int, default=1, help="runs per model and mode (median reported)")
    parser.add_argument("--models", nargs="*", type=Path, help="checkpoints (default: every trained/*.safetensors)")
    args = parser.parse_args(argv)
    models = args.models or ([REPO / "trained" / "vae-digits.safetensors"] if args.quick
                             else sorted((REPO / "trained").glob("*.safetensors")))
    load = os.getloadavg()[0]
    header(f"launch to first paint and to the filled scatter, {len(models)} model(s), {args.runs} run(s) each, "
           f"load average {load:.1f} on {os.cpu_count()} cores")
    print(f"{'model':<22} {'points':>7}  {'background: first paint':>24} {'main window':>11} {'filled':>7}  "
          f"{'baseline: main window':>22} {'filled':>7}  {'window ratio':>12}")
    worst = worst_window = 0.0
    keys = ("painted", "window_painted", "filled")
    with tempfile.TemporaryDirectory(prefix="aeviewer-bench-paint-") as tmp:
        for i, model in enumerate(models):
            got = {mode: [one_run(model, mode, Path(tmp) / f"s{i}{mode}{r}") for r in range(args.runs)]
                   for mode in ("background", "before")}
            bg = {k: median([r[k] for r in got["background"]]) for k in keys}
            base = {k: median([r[k] for r in got["before"]]) for k in keys}
            worst, worst_window = max(worst, bg["painted"]), max(worst_window, bg["window_painted"])
            print(f"{model.stem:<22} {got['background'][0]['points']:>7,}  {bg['painted']:>23.2f}s "
                  f"{bg['window_painted']:>10.2f}s {bg['filled']:>6.2f}s  {base['window_painted']:>21.2f}s "
                  f"{base['filled']:>6.2f}s  {bg['window_painted'] / base['window_painted']:>11.2f}x", flush=True)
    print(f"figure: slowest first paint (the start window) {worst:.2f} s (target <= {TARGET_S:g} s on a quiet machine; "
          f"load average was {load:.1f}): {verdict(worst, TARGET_S)}; slowest main window with its decoder "
          f"{worst_window:.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
