"""Re-make the screenshots of the README and docs/views.md from a real run of the app.

    xvfb-run -a -s "-screen 0 1600x1000x24" python docs/make_screenshots.py

Uses the pretrained checkpoints in trained/ (index.json) when they are there; otherwise trains small
MNIST models with the CLI into a cache folder first (a few minutes). Needs MNIST train data for the
training shot ($AEVIEWER_DATA, default ../shared/data when it exists). Writes docs/*.png, quantised
to stay small.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
CACHE = Path(os.environ.get("AEVIEWER_SHOTS_CACHE", Path(tempfile.gettempdir()) / "aeviewer-shots"))
SIZE = (1600, 1000)
MAX_COLORS = 128  # PNG palette: the screenshots stay well under 300 KB
if (ROOT.parent / "shared" / "data").is_dir():
    os.environ.setdefault("AEVIEWER_DATA", str(ROOT.parent / "shared" / "data"))
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from PySide6.QtCore import QSettings, Qt  # noqa: E402
from PySide6.QtGui import QImage  # noqa: E402
from PySide6.QtWidgets import QApplication, QWidget  # noqa: E402

from aeviewer.gui.dialogs import model_picker  # noqa: E402
from aeviewer.gui.app import create_main_window, ensure_app  # noqa: E402
from aeviewer.gui.views.codebook.codebook_view import CodebookView  # noqa: E402
from aeviewer.gui.views.decoder.decoder_canvas import DecoderCanvas  # noqa: E402
from aeviewer.gui.window.main_window import MainWindow  # noqa: E402

# Small stand-ins for the pretrained models (same CLI, fewer epochs) when trained/ has none yet.
FALLBACK = {
    "vae-mnist-2d": ["--model", "vae", "--latent-dim", "2", "--hidden", "512,256", "--epochs", "3"],
    "vqvae-mnist": ["--model", "vqvae", "--epochs", "1"],
    "dae-mnist-2d": ["--model", "dae", "--latent-dim", "2", "--hidden", "512,256", "--epochs", "3",
                     "--noise", "gaussian:0.5"],
}


def checkpoint(name: str) -> Path:
    """trained/<name>.safetensors when it is there, else a small one trained now (cached)."""
    listed = {e.path.name: e.path for e in model_picker.load_index() if e.exists}
    if f"{name}.safetensors" in listed:
        return listed[f"{name}.safetensors"]
    if (model_picker.TRAINED_DIR / f"{name}.safetensors").is_file():  # made, not yet indexed
        return model_picker.TRAINED_DIR / f"{name}.safetensors"
    path = CACHE / f"{name}.safetensors"
    if not path.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        print(f"training a stand-in for {name} (trained/ has none) ...", flush=True)
        subprocess.run([sys.executable, "-m", "aeviewer", "train", "--dataset", "mnist", *FALLBACK[name],
                        "--out", str(path)], check=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
    return path


def settle(app: QApplication, seconds: float = 0.4) -> None:
    """Let layouts, deferred decodes and repaints happen."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.02)


def save(widget: QWidget, name: str) -> Path:
    return save_image(grab_array(widget), name)


def grab_array(widget: QWidget) -> np.ndarray:
    """The widget as drawn on screen, (H, W, 3) uint8."""
    q = widget.grab().toImage().convertToFormat(QImage.Format.Format_RGB888)
    buffer = np.frombuffer(q.constBits(), np.uint8).reshape(q.height(), q.bytesPerLine())
    return buffer[:, : q.width() * 3].reshape(q.height(), q.width(), 3).copy()


def save_image(array: np.ndarray, name: str, colors: int = MAX_COLORS) -> Path:
    """Write docs/<name>.png, reduced to a palette with ImageMagick when it is there (few colours on screen)."""
    array = np.ascontiguousarray(array)
    h, w = array.shape[:2]
    path = DOCS / f"{name}.png"
    raw = path.with_suffix(".raw.png")
    QImage(array.data, w, h, array.strides[0], QImage.Format.Format_RGB888).save(str(raw), "PNG")
    convert = shutil.which("convert")
    if convert:
        subprocess.run([convert, str(raw), "+dither", "-colors", str(colors), "-strip",
                        "-define", "png:compression-level=9", str(path)], check=True)
        raw.unlink()
    else:
        raw.replace(path)
    print(f"wrote {path.relative_to(ROOT)} ({path.stat().st_size // 1024} KB)", flush=True)
    return path


def new_window(path: Path) -> MainWindow:
    window = create_main_window(path)
    window.session.wait_for_encodings()  # encoded off the GUI thread, as in the app
    window.show_error = lambda title, text: print(f"ERROR {title}: {text}", file=sys.stderr)
    window.resize(*SIZE)
    window.move(0, 0)
    window.show()
    return window


def shoot_vae(app: QApplication, path: Path) -> None:
    """window.png, latent-view.png and decoder-canvas.png from the 2-D MNIST VAE."""
    window = new_window(path)
    settle(app, 1.0)
    session = window.session
    session.set_current_point_2d(0.6, -0.9)
    window.denoise_dock.raise_()
    settle(app)
    save(window, "window")

    view = window.latent_view
    view.resize(900, 700)
    i = int(np.argmin(np.abs(session.coords - np.array([-1.0, 1.2])).sum(1)))  # hover a point: the inset
    from PySide6.QtTest import QTest

    QTest.mouseMove(view.plot.viewport(), view.view_to_widget(*session.coords[i]).toPoint())
    settle(app)
    save(view, "latent-view")

    # The decoder's tools are tabs: show the traversal grid and the interpolation strip side by side.
    canvas = DecoderCanvas(session)
    canvas.resize(640, 820)
    canvas.show()
    a, b = session.latents[3], session.latents[2]  # a "0" and a "1" of the test set
    session.set_current_z(a)
    canvas._set_end("a")
    session.set_current_z(b)
    canvas._set_end("b")
    canvas.interp_steps.setValue(10)
    canvas.show_interpolation()
    canvas.grid_n.setValue(15)
    canvas.show_traversal_grid((-2.5, 2.5), (-2.5, 2.5))
    session.set_current_point_2d(0.6, -0.9)
    panels = []
    for tab in (2, 1):
        canvas.tabs.setCurrentIndex(tab)
        settle(app)
        panels.append(grab_array(canvas))
    gap = np.full((panels[0].shape[0], 8, 3), 255, np.uint8)
    save_image(np.concatenate([panels[0], gap, panels[1]], axis=1), "decoder-canvas")
    canvas.close()
    window.close()


def shoot_vqvae(app: QApplication, path: Path) -> None:
    """codebook.png: the VQ-VAE's codebook view (the window's own view class on its session, given
    more room than the bottom dock has, so all K codes can be seen), with one code painted in."""
    window = new_window(path)
    settle(app, 1.0)
    book = CodebookView(window.session)
    book.resize(1300, 620)
    book.show()
    settle(app)
    book.select_image(0)
    rows, cols = book.edit_codes.shape
    book.select_cell(rows // 2, cols // 2)
    book.click_code(int(np.argsort(book.usage())[-3]))  # paint a frequent code into the middle cell
    book.select_cell(rows // 2 - 1, cols // 2 + 1)
    settle(app)
    save(book, "codebook")
    book.close()
    window.close()


def shoot_dae(app: QApplication, path: Path) -> None:
    window = new_window(path)
    settle(app, 1.0)
    denoise = window.denoise_view
    window.denoise_dock.raise_()
    denoise.draw_canvas.stroke([(5, 16), (23, 12)])  # a drawn "1" (row, column)
    denoise.draw_canvas.encode_now()
    settle(app, 0.8)
    save(denoise, "denoise")
    window.close()


def shoot_picker(app: QApplication) -> None:
    """model-picker.png: the pretrained models with their metrics (only when trained/index.json exists)."""
    if not model_picker.load_index():
        print("no trained/index.json: no model-picker.png", flush=True)
        return
    window = new_window(checkpoint("vae-mnist-2d"))
    settle(app, 1.0)
    picker = window.show_model_picker()
    settle(app)
    save(picker, "model-picker")
    picker.close()
    window.close()


def shoot_training(app: QApplication, path: Path) -> None:
    """The VAE continues training on MNIST from the panel: live loss curves and a moving scatter."""
    window = new_window(path)
    settle(app, 1.0)
    panel = window.training_panel
    panel.train_threads = 1
    if panel.dataset.findData("mnist") >= 0:
        panel.dataset.setCurrentIndex(panel.dataset.findData("mnist"))
    panel.continue_box.setChecked(True)
    panel.epochs.setValue(3)
    if not panel.start():
        print("could not start training:", panel.error_text(), file=sys.stderr)
    end = time.monotonic() + 40
    while time.monotonic() < end and panel.is_running() and panel.progress.value() < 550:
        settle(app, 0.5)
    session = window.session
    if len(session.coords):
        session.set_current_point_2d(*np.median(session.coords, 0))
    settle(app, 0.5)
    save(window, "training")
    panel.shutdown()
    window.close()


def shoot_compare(app: QApplication) -> None:
    """compare.png: File › Compare with… on the 2-D MNIST AE, VAE and AAE; a lasso in the VAE's scatter
    around the nines, the same images highlighted in the other two, one image hovered and one clicked."""
    from aeviewer.explore import compare
    from aeviewer.gui.views.compare.compare_view import open_compare_with

    names = ["ae-mnist-2d", "vae-mnist-2d", "aae-mnist-2d"]
    if not all((model_picker.TRAINED_DIR / f"{n}.safetensors").is_file() for n in names):
        print("trained/ lacks the 2-D MNIST AE, VAE or AAE: no compare.png", flush=True)
        return
    window = new_window(model_picker.TRAINED_DIR / f"{names[0]}.safetensors")
    view = open_compare_with(window, [model_picker.TRAINED_DIR / f"{n}.safetensors" for n in names[1:]])
    view.resize(*SIZE)
    view.move(0, 0)
    end = time.monotonic() + 60
    while not view.is_ready() and time.monotonic() < end:
        settle(app, 0.2)
    vae = view.panels[1]
    nines = vae.coords[view.labels == 9]
    centre, spread = np.median(nines, 0), nines.std(0) * 0.5
    angles = np.linspace(0, 2 * np.pi, 24, endpoint=False)
    lasso = centre + spread * np.stack([np.cos(angles), np.sin(angles) * (1 + 0.3 * np.cos(3 * angles))], 1)
    view.selection.select(compare.points_in_polygon(vae.coords, lasso))
    clicked = int(view.selection.selected[len(view.selection.selected) // 2])
    view._on_click(vae, clicked, *map(float, vae.coords[clicked]))
    view.selection.hover(int(view.selection.selected[0]))
    settle(app, 0.6)
    save(view, "compare")
    view.close()
    window.close()
def shoot_regulariser(app: QApplication) -> None:
    """kl-chart.png and prior-match-aae.png: the Regulariser dock of the window, with the 20-D MNIST VAE (KL per
    dimension, active units marked) and with the 2-D MNIST AAE (its codes over the prior's contours)."""
    for name, shot in (("vae-mnist-20d", "kl-chart"), ("aae-mnist-2d", "prior-match-aae")):
        path = model_picker.TRAINED_DIR / f"{name}.safetensors"
        if not path.is_file():
            print(f"trained/ lacks {name}: no {shot}.png", flush=True)
            continue
        window = new_window(path)
        window.regulariser_dock.show()
        window.regulariser_dock.raise_()
        window.resizeDocks([window.regulariser_dock], [int(0.42 * window.height())], Qt.Orientation.Vertical)
        settle(app, 2.5)  # the view refreshes on a timer once it is visible
        save(window, shot)
        window.close()


def isolate_settings() -> None:
    """QSettings in a new temp folder: the shots get a first start's layout, not the user's own."""
    settings_dir = tempfile.mkdtemp(prefix="aeviewer-shots-settings-")
    for fmt in (QSettings.Format.NativeFormat, QSettings.Format.IniFormat):
        QSettings.setPath(fmt, QSettings.Scope.UserScope, settings_dir)


def main() -> int:
    torch.set_num_threads(1)
    app = ensure_app(["aeviewer"])
    isolate_settings()
    DOCS.mkdir(exist_ok=True)
    which = set(sys.argv[1:]) or {"vae", "vqvae", "dae", "picker", "training", "compare", "regulariser"}
    if "vae" in which:
        shoot_vae(app, checkpoint("vae-mnist-2d"))
    if "vqvae" in which:
        shoot_vqvae(app, checkpoint("vqvae-mnist"))
    if "dae" in which:
        shoot_dae(app, checkpoint("dae-mnist-2d"))
    if "picker" in which:
        shoot_picker(app)
    if "training" in which:
        shoot_training(app, checkpoint("vae-mnist-2d"))
    if "compare" in which:
        shoot_compare(app)
    if "regulariser" in which:
        shoot_regulariser(app)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
