"""Screenshots of the latent view's image layers (issue 34), for a person to look at.

    xvfb-run -a -s "-screen 0 1600x1000x24" python docs/make_map_layer_screenshots.py OUT_DIR [MODEL ...] [--umap]

For each shipped model named (default: vae-mnist-2d and vae-emoji-32d): a window built as `aeviewer gui MODEL`
builds it, then OUT_DIR/<model>-thumbnails.png (the Images layer over the whole map), -thumbnails-zoomed.png
(zoomed 6x on the middle), -manifold.png and -manifold-zoomed.png. ``--umap``: the same on the model's UMAP map
(computed in the map's child process; a minute or two on 2 cores).
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PySide6.QtWidgets import QApplication  # noqa: E402

from aeviewer.gui.app import create_main_window, ensure_app  # noqa: E402
from aeviewer.util.paths import shipped_dir  # noqa: E402
from make_tour_screenshots import fresh_settings, settle  # noqa: E402 - docs/ is the script's folder


def zoom(window, factor: float) -> None:
    view = window.latent_view
    view.viewbox.autoRange()
    if factor != 1.0:
        (x0, x1), (y0, y1) = view.visible_range()
        cx, cy, hw, hh = (x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) / 2 / factor, (y1 - y0) / 2 / factor
        view.viewbox.setRange(xRange=(cx - hw, cx + hw), yRange=(cy - hh, cy + hh), padding=0)


def shoot(app: QApplication, name: str, out: Path, umap: bool) -> None:
    fresh_settings()
    window = create_main_window(shipped_dir("trained") / f"{name}.safetensors")
    window.show()
    while window.session.encoding:
        settle(app, 0.1)
    settle(app, 1.0)
    tag = name
    if umap:
        view = window.latent_view
        view.projection_combo.setCurrentIndex(view.projection_combo.findData("umap"))
        view._apply_projection()  # starts the map in its child process
        start = time.monotonic()
        def forming() -> bool:  # the map streams its layouts until the last one
            runner = view.maps.runner
            return window.session.projection_kind != "umap" or (runner is not None and runner.busy)

        while forming() and time.monotonic() - start < 400:
            settle(app, 0.5)
        settle(app, 1.0)
        tag += "-umap"
    thumbs, manifold = window.layer_actions
    for layer, action in (("thumbnails", thumbs), ("manifold", manifold)):
        action.setChecked(True)
        for suffix, factor in (("", 1.0), ("-zoomed", 6.0)):
            zoom(window, factor)
            settle(app, 2.5)
            window.grab().save(str(out / f"{tag}-{layer}{suffix}.png"))
        action.setChecked(False)
    window.close()


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    out = Path(args[0])
    out.mkdir(parents=True, exist_ok=True)
    app = ensure_app()
    for name in args[1:] or ["vae-mnist-2d", "vae-emoji-32d"]:
        shoot(app, name, out, "--umap" in sys.argv)


if __name__ == "__main__":
    main()
