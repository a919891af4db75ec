"""Screenshots of the Prior tab's Watch it sample (halfway) and Complete an image, for a person to look at (issue 31).

    xvfb-run -a -s "-screen 0 1600x1000x24" python docs/make_prior_gui_screenshots.py OUT_DIR [MODEL]
    xvfb-run -a -s "-screen 0 1366x768x24" python docs/make_prior_gui_screenshots.py OUT_DIR [MODEL]

MODEL is a shipped model's name (default vqvae-mnist, whose test split needs $AEVIEWER_DATA). The window is built as
`aeviewer gui MODEL` builds it (fresh settings, background encoding); the fill-in runs at 20 positions a second and
the screen is saved once half the positions are filled (OUT_DIR/<W>x<H>-<model>-fill-in-halfway.png), then the test
image nearest the current point (the first, as the app opens) is completed below half its rows (-completions.png). Prints how many positions a second the fill-in showed.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from make_tour_screenshots import fresh_settings, settle  # noqa: E402 (docs/ is the script's own folder)

from aeviewer.gui.app import create_main_window, ensure_app  # noqa: E402
from aeviewer.util.paths import shipped_dir  # noqa: E402


def opened(name: str) -> tuple[Any, Any]:
    """(the app, the window) of shipped model ``name`` as `aeviewer gui` opens it, once its test split is encoded."""
    app = ensure_app()
    fresh_settings()
    window = create_main_window(shipped_dir("trained") / f"{name}.safetensors")
    window.show()
    while window.session.encoding:
        settle(app, 0.1)
    return app, window


def main(out: Path, name: str) -> None:
    app, window = opened(name)
    canvas = window.decoder_canvas
    canvas.tabs.setCurrentWidget(canvas.sample_tiles.parentWidget())
    settle(app, 1.0)
    screen = window.screen()
    prefix = out / f"{screen.size().width()}x{screen.size().height()}-{name}"
    tab = canvas.prior_tab
    length = tab.session.model.prior.config.length
    started = time.monotonic()
    tab.watch(rate=20)
    while tab.fill_position < length // 2:
        settle(app, 0.005)
    screen.grabWindow(0).save(f"{prefix}-fill-in-halfway.png")
    while tab.last_fill is None:
        settle(app, 0.005)
    seconds = time.monotonic() - started
    print(f"fill-in: {length} positions of {len(tab.last_fill.images)} maps in {seconds:.2f} s at a pace of 20/s")
    tab.watch(rate=2000)  # as fast as it goes: what the GUI shows when the pace does not hold it back
    started = time.monotonic()
    while tab.last_fill is None or tab.busy:
        settle(app, 0.001)
    print(f"fill-in unpaced: {length / (time.monotonic() - started):.0f} positions a second")
    tab.complete()  # the test image nearest the current point, below half its rows
    while tab.last_completion is None:
        settle(app, 0.05)
    settle(app, 0.5)
    screen.grabWindow(0).save(f"{prefix}-completions.png")
    print(canvas.sample_status.text())
    window.close()


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2] if len(sys.argv) > 2 else "vqvae-mnist")
