"""Re-make docs/emoji-vae.png and docs/emoji-vqvae.png: the window with each shipped emoji model.

    xvfb-run -a -s "-screen 0 1600x1000x24" python docs/make_emoji_screenshots.py

A click on a flag (VAE) or the lowest point (VQ-VAE), a drawn yellow face (VAE), the traversal grid (VAE)
or the codebook (VQ-VAE), and a hovered point. Works offline: the emoji test split ships in resources/.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from aeviewer.gui.window.main_window import MainWindow  # noqa: E402

MAX_COLORS = 256  # colour emoji band at 128


def wait(app: QApplication, ms: int) -> None:
    end = time.time() + ms / 1000
    while time.time() < end:
        app.processEvents()
        time.sleep(0.01)


def shoot(app: QApplication, model: str, out: Path) -> None:
    window = MainWindow()
    window.show()
    wait(app, 300)
    window.open_model(ROOT / "trained" / model)
    window.session.wait_for_encodings()  # encoded off the GUI thread, as in the app
    while window.session.coords is None:
        wait(app, 100)
    wait(app, 1500)
    session, latent, decoder = window.session, window.latent_view, window.decoder_canvas
    c = session.coords
    flags = np.flatnonzero(np.asarray(session.labels) == list(session.class_names).index("flags"))
    flag = flags[int(np.argmin(np.abs(c[flags] - np.median(c[flags], 0)).sum(1)))]  # a typical flag, whatever the model
    pick = c[int(np.argmin(c[:, 1]))] if session.model.has_codebook else c[flag]
    QTest.mouseClick(latent.plot.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     latent.view_to_widget(*pick).toPoint())
    wait(app, 300)
    if session.model.has_codebook:
        window.codebook_dock.raise_()
        wait(app, 500)
        window.codebook_view.select_image(int(np.argmin(c[:, 1])))
        window.codebook_view.click_code(17)
    else:
        draw = window.denoise_view.draw_canvas
        draw.palette_row.swatches["yellow"].click()
        for row in range(16, 50, 3):
            draw.stroke([(row, 16), (row, 48)])
        draw.palette_row.swatches["black"].click()
        draw.stroke([(26, 24), (27, 25)])
        draw.stroke([(26, 40), (27, 41)])
        draw.stroke([(40, 22), (44, 32), (40, 42)])
        draw.encode_now()
        decoder.tabs.setCurrentIndex(2)
        window.resizeDocks([window.denoise_dock], [270], Qt.Orientation.Vertical)
        wait(app, 200)
        decoder.splitter.setSizes([100, 400])
        wait(app, 200)
        decoder.show_traversal_grid(n=10)
    wait(app, 500)
    hover = int(np.argmin(np.abs(c - [np.percentile(c[:, 0], 25), np.percentile(c[:, 1], 60)]).sum(1)))
    QTest.mouseMove(latent.plot.viewport(), latent.view_to_widget(*c[hover]).toPoint())
    wait(app, 400)
    window.grab().save(str(out))
    convert = shutil.which("convert")
    if convert:
        subprocess.run([convert, str(out), "+dither", "-colors", str(MAX_COLORS), "-strip", str(out)], check=True)
    window.close()
    print("wrote", out)


def main() -> None:
    app = QApplication.instance() or QApplication(sys.argv)
    shoot(app, "vae-emoji-32d.safetensors", ROOT / "docs" / "emoji-vae.png")
    shoot(app, "vqvae-emoji.safetensors", ROOT / "docs" / "emoji-vqvae.png")


if __name__ == "__main__":
    main()
