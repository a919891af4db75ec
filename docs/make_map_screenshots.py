"""Re-make docs/map-<model>-<kind>.png: the window with a UMAP and a t-SNE map of a shipped model, computed
by the app itself (its map worker, as a user's choice in the Projection box), a point clicked on the map.

    xvfb-run -a -s "-screen 0 1600x1000x24" python docs/make_map_screenshots.py [vqvae-emoji vae-mnist-20d]

Works offline (the emoji and MNIST test splits: AEVIEWER_DATA or resources/). Each map takes 10-60 s cold here.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from make_screenshots import ROOT, grab_array, isolate_settings, save_image, settle  # docs/ is the script's folder

from aeviewer.gui.window.main_window import MainWindow

SIZE = (1440, 900)
MAP_TIMEOUT_S = 600
COLORS = 256  # emoji colours band at 128, as in make_emoji_screenshots.py


def shoot(app: QApplication, model: str, kind: str) -> Path:
    window = MainWindow()
    window.resize(*SIZE)
    window.move(0, 0)
    window.show()
    settle(app, 0.3)
    window.open_model(ROOT / "trained" / f"{model}.safetensors")
    window.session.wait_for_encodings()  # encoded off the GUI thread, as in the app
    while window.session.coords is None:
        settle(app, 0.1)
    latent = window.latent_view
    combo = latent.projection_combo
    combo.setCurrentIndex(combo.findData(kind))
    combo.activated.emit(combo.currentIndex())
    status = latent.map_params.status
    started = time.time()
    while not status.text().endswith((": done", ": cached")):
        if time.time() - started > MAP_TIMEOUT_S:
            raise SystemExit(f"{model} {kind}: no map after {MAP_TIMEOUT_S} s ({status.text()})")
        settle(app, 0.2)
    print(f"{model} {kind}: {status.text()} after {time.time() - started:.1f} s", flush=True)
    settle(app, 1.0)
    c = window.session.coords
    pick = c[int(np.argmax(c[:, 0] + c[:, 1]))]  # a point at the map's edge, clear of the legend
    QTest.mouseClick(latent.plot.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     latent.view_to_widget(*map(float, pick)).toPoint())
    settle(app, 0.8)
    out = save_image(grab_array(window), f"map-{model}-{kind}", COLORS)
    latent.maps.forget()
    window.close()
    return out


def main() -> int:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    isolate_settings()
    for model in sys.argv[1:] or ["vqvae-emoji"]:
        for kind in ("umap", "tsne"):
            shoot(app, model, kind)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
