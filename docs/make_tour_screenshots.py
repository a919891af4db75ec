"""Screenshots of every shipped model as a new user first sees it, for a person to look at (issue 29's tour).

    xvfb-run -a -s "-screen 0 1600x1000x24" python docs/make_tour_screenshots.py OUT_DIR
    xvfb-run -a -s "-screen 0 1366x768x24" python docs/make_tour_screenshots.py OUT_DIR

For each model in trained/index.json: a window built as `aeviewer gui MODEL` builds it (fresh settings,
background encoding), shown until its encodings have arrived, then the whole screen is saved as
OUT_DIR/<W>x<H>-<model>-grid.png (the decoder's traversal grid) and -prior.png (its prior samples).
Prints the window's size against the screen and the text of the codebook's usage line.
"""
from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PySide6.QtCore import QSettings  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from aeviewer.gui.dialogs import model_picker  # noqa: E402
from aeviewer.gui.app import create_main_window, ensure_app  # noqa: E402


def settle(app: QApplication, seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.02)


def fresh_settings() -> None:
    for fmt in (QSettings.Format.NativeFormat, QSettings.Format.IniFormat):
        QSettings.setPath(fmt, QSettings.Scope.UserScope, tempfile.mkdtemp(prefix="aeviewer-tour-"))


def show_tab(window, word: str) -> None:
    tabs = window.decoder_canvas.tabs
    tabs.setCurrentIndex(next(i for i in range(tabs.count()) if word in tabs.tabText(i).lower()))


def shoot(app: QApplication, path: Path, out: Path) -> None:
    fresh_settings()
    window = create_main_window(path)
    window.show()
    while window.session.encoding:
        settle(app, 0.1)
    settle(app, 1.5)
    screen = window.screen()
    size = screen.size()
    prefix = out / f"{size.width()}x{size.height()}-{path.stem}"
    for tab in ("grid", "prior"):
        show_tab(window, tab)
        settle(app, 0.6)
        screen.grabWindow(0).save(str(prefix) + f"-{tab}.png")
    fits = window.frameGeometry().width() <= screen.availableGeometry().width()
    codebook = window.codebook_view.stats_label.text() if window.session.model.has_codebook else ""
    print(f"{path.stem}: window {window.width()}x{window.height()} on {size.width()}x{size.height()}"
          f" fits={fits} {codebook[:80]}", flush=True)
    window.close()
    window.deleteLater()
    settle(app, 0.3)


def main(argv: list[str]) -> int:
    out = Path(argv[1]) if len(argv) > 1 else Path(tempfile.gettempdir()) / "aeviewer-tour"
    out.mkdir(parents=True, exist_ok=True)
    app = ensure_app()
    for entry in model_picker.load_index():
        if entry.exists:
            shoot(app, entry.path, out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
