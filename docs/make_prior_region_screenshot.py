"""A screenshot of Keep region: cells painted in the codebook view's code map, and the Prior tab's completions (issue 31).

    xvfb-run -a -s "-screen 0 1600x1000x24" python docs/make_prior_region_screenshot.py OUT_DIR [MODEL]

MODEL is a shipped model's name (default vqvae-mnist, whose test split needs $AEVIEWER_DATA). The window is built as
`aeviewer gui MODEL` builds it; the codebook dock comes to the front with test image #0, the left half of its code
map's columns and its top row are kept with real mouse presses and drags (as a person paints them), and "Complete the
rest" is clicked. Saves OUT_DIR/<W>x<H>-<model>-region-completion.png and prints the Prior tab's status line.
"""
from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from make_prior_gui_screenshots import opened  # noqa: E402 (docs/ is the script's own folder)
from make_tour_screenshots import settle  # noqa: E402


def mouse(view, row: int, col: int, kind: QEvent.Type, buttons: Qt.MouseButton) -> None:
    region = view.keep_region
    pos = QPointF(view.map_plots.mapFromScene(region.item.mapToScene(QPointF(col + 0.5, row + 0.5))))
    button = Qt.MouseButton.NoButton if kind == QEvent.Type.MouseMove else Qt.MouseButton.LeftButton
    QApplication.sendEvent(view.map_plots.viewport(), QMouseEvent(
        kind, pos, QPointF(view.map_plots.viewport().mapToGlobal(pos.toPoint())), button, buttons,
        Qt.KeyboardModifier.NoModifier))


def paint_stroke(view, cells: list[tuple[int, int]]) -> None:
    held = Qt.MouseButton.LeftButton
    mouse(view, *cells[0], QEvent.Type.MouseButtonPress, held)
    for cell in cells[1:]:
        mouse(view, *cell, QEvent.Type.MouseMove, held)
    mouse(view, *cells[-1], QEvent.Type.MouseButtonRelease, Qt.MouseButton.NoButton)


def main(out: Path, name: str) -> None:
    app, window = opened(name)
    window.docks["codebook"].raise_()
    view = window.codebook_view
    view.follow_check.setChecked(False)
    view.select_image(0)
    settle(app, 0.5)
    rows, cols = view.edit_codes.shape
    view.keep_region.paint_button.setChecked(True)
    for col in range(cols // 2 + 1):  # columns down, the left half
        paint_stroke(view, [(row, col) for row in range(rows)])
    paint_stroke(view, [(0, col) for col in range(cols // 2 + 1, cols)])  # and the top row
    view.keep_region.complete_button.click()
    tab = window.decoder_canvas.prior_tab
    while tab.last_completion is None:
        settle(app, 0.05)
    settle(app, 0.5)
    screen = window.screen()
    window.screen().grabWindow(0).save(str(out / f"{screen.size().width()}x{screen.size().height()}-{name}"
                                           "-region-completion.png"))
    print(window.decoder_canvas.sample_status.text())
    window.close()


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2] if len(sys.argv) > 2 else "vqvae-mnist")
