"""Entry points of the desktop app: build the main window (for tests too) and run the event loop, or run the
compare window of ``aeviewer compare``."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Sequence

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QApplication

from aeviewer.gui.dialogs import model_picker
from aeviewer.gui.startup.gui_thread_gc import collect_on_gui_thread
from aeviewer.gui.state.settings_store import APPLICATION, ORGANISATION
from aeviewer.gui.startup.start_window import StartWindow
from aeviewer.explore.session_file import SESSION_SUFFIX
from aeviewer.spec.vocabulary import LAUNCH_KIND

if TYPE_CHECKING:
    from aeviewer.gui.window.main_window import MainWindow

# torch and the main window are imported by create_main_window, not here: run_app paints a StartWindow
# first, and those imports are most of the start-up.

# A pyqtgraph repaint crosses from C++ into Python dozens of times; while the training thread runs
# Python code, each crossing waits up to one GIL switch interval (5 ms by default), so a repaint
# could take hundreds of ms. A 1 ms interval keeps repaints short at a negligible cost to training.
GIL_SWITCH_INTERVAL_S = 0.001
# The GUI thread decodes single points and encodes a test split now and then: one torch thread does
# it without OpenMP workers that spin after each call and take CPU from the training thread.
GUI_TORCH_THREADS = 1


def ensure_app(argv: Sequence[str] | None = None) -> QApplication:
    """The running QApplication, or a new one named for QSettings."""
    app = QApplication.instance()
    if app is None:
        app = QApplication(list(argv) if argv is not None else [sys.argv[0] if sys.argv else "aeviewer"])
    app.setOrganizationName(ORGANISATION)
    app.setApplicationName(APPLICATION)
    app.setApplicationDisplayName("aeviewer")
    sys.setswitchinterval(min(sys.getswitchinterval(), GIL_SWITCH_INTERVAL_S))
    collect_on_gui_thread(app)  # a collection on the training thread could deadlock with Qt (see there)
    return app  # type: ignore[return-value]


def default_model_path(trained_dir: str | Path | None = None) -> Path | None:
    """The pretrained model to open on a bare start, from ``trained/index.json``; None when absent.

    The index's ``"default"`` if its file exists, else the MNIST VAE with a 2-dim latent, else the first
    entry whose file exists. ``trained_dir`` defaults to ``model_picker.TRAINED_DIR``.
    """
    entries = [e for e in model_picker.load_index(trained_dir) if e.exists]
    preferred = sorted((e for e in entries if e.kind == LAUNCH_KIND and e.dataset == "mnist"),
                       key=lambda e: e.latent_dim != 2)
    for entry in [e for e in entries if e.is_default] + preferred + entries:
        return entry.path
    return None


def create_main_window(model_path: str | Path | None = None, data_dir: str | Path | None = None,
                       trained_dir: str | Path | None = None, open_default: bool = True,
                       background_encoding: bool = True) -> MainWindow:
    """The main window with ``model_path`` (a checkpoint or a session file; or, with ``open_default``, the
    pretrained default from ``trained_dir``) open; does not enter the event loop. ``background_encoding``: test
    splits are encoded off the GUI thread, as in the app (False: the scatter is filled when this returns; only
    a test that checks the synchronous path asks for it)."""
    import torch

    from aeviewer.gui.window.main_window import MainWindow

    ensure_app()
    torch.set_num_threads(GUI_TORCH_THREADS)  # this thread only; the worker sets its own
    window = MainWindow(data_dir=data_dir, trained_dir=trained_dir, background_encoding=background_encoding)
    window.warm_up_after_first_paint()
    path = Path(model_path) if model_path is not None else default_model_path(trained_dir) if open_default else None
    if path is not None and path.name.endswith(SESSION_SUFFIX):
        window.session_menu.open_from(path)
    elif path is not None:
        window.open_model(path)
    elif open_default:
        window.set_last_action("No pretrained model found: train one, or open a checkpoint (Ctrl+O)")
    return window


def run_app(argv: Sequence[str] | None = None, *, model_path: str | Path | None = None,
            data_dir: str | Path | None = None, dataset: str | None = None, follow: str | None = None) -> int:
    """Show the window and run the event loop; ``argv[1]`` may name a checkpoint. Returns the exit status.

    A StartWindow is painted first; the main window (and torch) is built on the turn after its paint."""
    args = list(argv) if argv is not None else sys.argv[:1]
    app = ensure_app(args)
    if model_path is None and len(args) > 1 and not args[1].startswith("-"):
        model_path = args[1]
    start = StartWindow(Path(model_path) if model_path is not None else default_model_path())
    start.show()
    built: list[MainWindow] = []
    attempted: list[bool] = []

    def build() -> None:
        if attempted:
            return  # the paint and the fallback timer both call
        attempted.append(True)
        try:
            window = create_main_window(model_path, data_dir, background_encoding=True)
        except Exception as err:  # noqa: BLE001 - a slot's exception would leave the start window up forever
            print(f"aeviewer: error: cannot open the window: {err}", file=sys.stderr)
            start.hide()  # not close(): closing the last window would quit() the app, which in Qt 6 closes every window
            start.deleteLater()
            app.exit(1)
            return
        built.append(window)
        if dataset:
            window.open_data(dataset)  # the panel's data set; it loads with progress there
        if follow:
            window.follow_run(follow)  # issue 32: reopened as each epoch of another process's run lands
        window.show()
        start.close()

    start.then(build)
    return app.exec()


def run_compare(paths: Sequence[str | Path], data_dir: str | Path | None = None) -> int:
    """``aeviewer compare A B [C D]``: load (refusing mixed data sets before any window opens), then show."""
    from aeviewer.explore import compare
    from aeviewer.data.loader import load_split
    from aeviewer.gui.views.compare.compare_view import CompareView

    models = compare.load_models(paths, data_dir)
    test_set = load_split(models[0].dataset, "test", data_dir, models[0].preparation)
    app = ensure_app()
    view = CompareView(models, test_set)
    view.show()
    return app.exec()
