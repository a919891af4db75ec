"""docs/onnx-dialog.png: File › Open ONNX pair… over the window, the shipped digits VAE exported as the pair.

    xvfb-run -a -s "-screen 0 1600x1000x24" python docs/make_onnx_dialog_screenshot.py [--opened OUT.png]

``--opened`` also saves the window after OK (the pair explored over digits), to look at, not for the docs.
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtGui import QColor, QPainter  # noqa: E402
from PySide6.QtWidgets import QApplication, QWidget  # noqa: E402

from aeviewer.gui.window.main_window import MainWindow  # noqa: E402
from aeviewer.foreign.onnx_export import export_onnx  # noqa: E402
from aeviewer.training.checkpoint import load_checkpoint  # noqa: E402

OUT = ROOT / "docs" / "onnx-dialog.png"
TITLE_PX = 26


def wait(app: QApplication, ms: int) -> None:
    end = time.time() + ms / 1000
    while time.time() < end:
        app.processEvents()
        time.sleep(0.01)


def screen_png(app: QApplication, window: MainWindow, out: Path, colors: int, dialog: QWidget | None = None) -> None:
    """The screen where the window is, the dialog over it included. Xvfb has no window manager: the dialog
    gets a drawn title bar and border, so that it reads as a dialog."""
    shot = app.primaryScreen().grabWindow(0)
    if dialog is not None:
        frame = dialog.geometry().adjusted(-1, -TITLE_PX, 0, 0)
        painter = QPainter(shot)
        painter.fillRect(frame.x(), frame.y(), frame.width(), TITLE_PX, QColor("#3c4a5c"))
        painter.setPen(QColor("white"))
        painter.drawText(frame.adjusted(10, 0, 0, TITLE_PX - frame.height()), Qt.AlignmentFlag.AlignVCenter,
                         dialog.windowTitle())
        painter.setPen(QColor("#3c4a5c"))
        painter.drawRect(frame)
        painter.end()
    shot.copy(window.frameGeometry()).save(str(out))
    if shutil.which("convert"):
        subprocess.run(["convert", str(out), "+dither", "-colors", str(colors), "-strip", str(out)], check=True)
    print("wrote", out)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--opened", type=Path, help="also save the window after OK here")
    args = parser.parse_args()
    app = QApplication.instance() or QApplication(sys.argv)
    folder = Path(tempfile.gettempdir()) / "aeviewer-example" / "my-vae"
    encoder, _ = export_onnx(load_checkpoint(ROOT / "trained" / "vae-digits.safetensors").model.eval(), folder)
    window = MainWindow()
    window.move(0, 0)
    window.resize(1400, 860)
    window.show()
    window.open_model(ROOT / "trained" / "ae-digits.safetensors")
    window.session.wait_for_encodings()  # encoded off the GUI thread, as in the app
    wait(app, 800)
    dialog = window.open_onnx_dialog()
    dialog.set_paths(encoder)  # the decoder beside it fills itself in
    wait(app, 500)
    screen_png(app, window, OUT, 128, dialog)
    if args.opened:
        dialog.accept()
        while window.onnx_opener.job.is_running():
            wait(app, 100)
        wait(app, 800)
        screen_png(app, window, args.opened, 256)
    window.close()


if __name__ == "__main__":
    main()
