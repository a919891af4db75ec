"""Screenshots of the main window as it first opens on a small screen, and whether each dock fits on it.

    xvfb-run -a -s "-screen 0 1366x768x24" python docs/screen_fit_shots.py [CHECKPOINT]
    xvfb-run -a -s "-screen 0 1440x900x24" python docs/screen_fit_shots.py

Opens the app as a first run would (no saved layout) with the pretrained default model, or CHECKPOINT,
grabs the whole screen into docs/window-<W>x<H>.png (docs/window-<W>x<H>-<name>.png for a CHECKPOINT) and
prints the window's and each shown dock's rectangle against the screen's available one, each with its
minimum size; exits 1 when one lies outside the screen.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PySide6.QtCore import QRect, QSettings  # noqa: E402
from PySide6.QtWidgets import QDockWidget  # noqa: E402

from aeviewer.gui.app import create_main_window, ensure_app  # noqa: E402

SETTLE_S = 4.0  # the scatter, the decoder and the first-run dock split all land within this
MAX_COLORS = 128  # as docs/make_screenshots.py: a PNG palette keeps each shot small


def global_rect(widget) -> QRect:
    return QRect(widget.mapToGlobal(widget.rect().topLeft()), widget.size())


def main(argv: list[str]) -> int:
    app = ensure_app()
    for fmt in (QSettings.Format.NativeFormat, QSettings.Format.IniFormat):  # a first run: no saved layout
        QSettings.setPath(fmt, QSettings.Scope.UserScope, tempfile.mkdtemp(prefix="aeviewer-fit-"))
    model = Path(argv[1]) if len(argv) > 1 else None
    window = create_main_window(model)
    window.show()
    end = time.monotonic() + SETTLE_S
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.02)
    screen = window.screen()
    available, full = screen.availableGeometry(), screen.geometry()
    suffix = f"-{model.stem}" if model is not None else ""
    out = ROOT / "docs" / f"window-{full.width()}x{full.height()}{suffix}.png"
    screen.grabWindow(0).save(str(out))
    if shutil.which("convert"):
        subprocess.run(["convert", str(out), "+dither", "-colors", str(MAX_COLORS), "-strip", str(out)], check=True)
    print(f"screen {full.width()}x{full.height()}, available {available.getRect()}; wrote {out.relative_to(ROOT)}")
    outside = 0
    rows = [("window frame", window.frameGeometry(), window.minimumSizeHint())]
    rows += [(dock.windowTitle(), global_rect(dock), dock.minimumSizeHint())
             for dock in window.findChildren(QDockWidget) if not dock.visibleRegion().isEmpty()]  # not a hidden tab
    for name, rect, minimum in rows:
        inside = available.contains(rect)
        outside += not inside
        print(f"  {name:14} {rect.x():5},{rect.y():4} {rect.width():5}x{rect.height():<4} "
              f"min {minimum.width()}x{minimum.height():<4} {'inside' if inside else 'OUTSIDE'}")
    window.close()
    return 1 if outside else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
