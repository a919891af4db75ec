"""First paint after launch for every pretrained model in trained/, with the test split encoded in the background
(as ``aeviewer gui MODEL`` runs) against encoding it before the window shows (the baseline, measured in the
same run).

Each run is a fresh Python process that does what ``aeviewer gui MODEL`` does (``ensure_app``,
``create_main_window``, ``show``, the event loop) under QT_QPA_PLATFORM=offscreen. The clock starts here just
before the child is spawned, so interpreter start-up and every import count. The child reports the first
paint of any widget of the main window (an application-wide event filter) and the moment the scatter is
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
from aeviewer.gui.app import create_main_window, ensure_app
marks = {}

def filled():
    return window.session.model is not None and len(window.session.coords) > 0

def maybe_quit():
    if "painted" in marks and "filled" in marks:
        QTimer.singleShot(0, app.quit)

class FirstPaint(QObject):
    def eventFilter(self, obj, event):
        if (event.type() == QEvent.Type.Paint and "painted" not in marks and hasattr(obj, "window")
                and obj.window() is window):
            marks["painted"] = time.time()
            maybe_quit()
        return False

def on_encodings():
    if filled() and "filled" not in marks:
        marks["filled"] = time.time()
        maybe_quit()

app = ensure_app(["aeviewer"])
window = None
first_paint = FirstPaint()
app.installEventFilter(first_paint)
window = create_main_window(sys.argv[1], background_encoding=sys.argv[2] == "background")
t_window = time.time()
window.session.encodingsChanged.connect(on_encodings)
on_encodings()
window.show()
QTimer.singleShot(60_000, app.quit)
app.exec()
print(json.dumps({"python": t_python, "window": t_window, "painted": marks.get("painted"),
                  "filled": marks.get("filled"), "points": int(len(window.session.coords))}))
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
    if marks["painted"] is None or marks["filled"] is None:
        raise SystemExit(f"{model.name}: never painted or never filled: {marks}")
    return {"window": marks["window"] - start, "painted": marks["painted"] - start,
            "filled": marks["filled"] - start, "points": marks["points"]}


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
    print(f"{'model':<28} {'points':>7}  {'background: paint':>18} {'filled':>7}  {'baseline: paint':>16} "
          f"{'filled':>7}  {'paint ratio':>11}")
    worst = 0.0
    with tempfile.TemporaryDirectory(prefix="aeviewer-bench-paint-") as tmp:
        for i, model in enumerate(models):
            got = {mode: [one_run(model, mode, Path(tmp) / f"s{i}{mode}{r}") for r in range(args.runs)]
                   for mode in ("background", "before")}
            bg = {k: median([r[k] for r in got["background"]]) for k in ("painted", "filled")}
            base = {k: median([r[k] for r in got["before"]]) for k in ("painted", "filled")}
            worst = max(worst, bg["painted"])
            print(f"{model.stem:<28} {got['background'][0]['points']:>7,}  {bg['painted']:>17.2f}s {bg['filled']:>6.2f}s "
                  f" {base['painted']:>15.2f}s {base['filled']:>6.2f}s  {bg['painted'] / base['painted']:>10.2f}x",
                  flush=True)
    print(f"figure: slowest first paint with background encoding {worst:.2f} s (target <= {TARGET_S:g} s on a quiet "
          f"machine; load average was {load:.1f}): {verdict(worst, TARGET_S)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
