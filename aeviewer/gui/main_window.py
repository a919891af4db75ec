"""MainWindow: the docks around the latent scatter, menus and shortcuts, open/save, settings that persist."""
from __future__ import annotations

import time
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QByteArray, QEvent, QObject, QSettings, QSize, Qt, QTimer
from PySide6.QtGui import (
    QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QKeyEvent, QKeySequence, QResizeEvent, QShowEvent,
)
from PySide6.QtWidgets import (
    QAbstractButton, QApplication, QComboBox, QDockWidget, QFileDialog, QLabel, QMainWindow, QMessageBox,
    QScrollArea, QStackedWidget, QStyle, QToolBar, QVBoxLayout, QWidget,
)

from aeviewer.data.imageset import ImageSet
from aeviewer.errors import AeviewerError, DataError
from aeviewer.gui.bookmarks import BookmarkList
from aeviewer.gui.codebook_view import CodebookView
from aeviewer.gui.compare_view import compare_with_dialog
from aeviewer.gui.decoder_canvas import DecoderCanvas
from aeviewer.gui.denoise_view import DenoiseView
from aeviewer.gui.latent_view import LatentView
from aeviewer.gui.model_picker import ModelPicker, as_number, trained_dir_now
from aeviewer.gui.session import Session
from aeviewer.gui.training_panel import TrainingPanel

if TYPE_CHECKING:
    from aeviewer.training.checkpoint import Checkpoint

ORGANISATION = "aeviewer"
APPLICATION = "aeviewer"
MAX_RECENT = 8
STATE_VERSION = 1  # bump when the docks change, so an old saved layout is ignored
BOTTOM_DOCK_SHARE = 0.36  # of the window's height, for the denoise/codebook docks on a first run
SNAPSHOT_ENCODE_FACTOR = 20.0  # live snapshots at least this many encode times apart (see _on_snapshot)
SNAPSHOT_MIN_INTERVAL_S = 2.0  # ...and at least this far apart: an MNIST epoch still gets about three
MODEL_FILTER = "aeviewer models (*.safetensors);;All files (*)"
EMPTY_HINT = (
    "<h2>No model open</h2>"
    "<p>Train one: choose a kind and a data set in the <b>Training</b> panel on the left and press "
    "<b>Start</b> (Space).</p>"
    "<p>Or open a checkpoint: <b>File › Open model…</b> (Ctrl+O), or drop a <code>.safetensors</code> file here.</p>"
)


class DockHolder(QWidget):
    """Holds a view inside a dock's scroll area at the viewport's size, never less than the view's minimum.

    Why not the view itself: a word-wrapped label anywhere in a view makes its layout height-for-width,
    and QScrollArea then sizes the view to its *preferred* height for the width (pyqtgraph views hint
    600 px) rather than to the dock: plots sank into empty space and the bottom of the view was cut
    off. This holder has no layout and no height-for-width, so the view scrolls only below its minimum.
    """

    def __init__(self, view: QWidget) -> None:
        super().__init__()
        self.setObjectName(f"{view.objectName()}Holder")
        self.view = view
        view.setParent(self)
        view.installEventFilter(self)

    def minimumSizeHint(self) -> QSize:
        return self.view.minimumSizeHint().expandedTo(self.view.minimumSize())

    def sizeHint(self) -> QSize:
        return self.view.sizeHint()

    def resizeEvent(self, event: QResizeEvent) -> None:
        self.view.setGeometry(self.rect())

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.view and event.type() == QEvent.Type.LayoutRequest:
            self.updateGeometry()  # the view's minimum may have changed: let the scroll area look again
        return False


def _shape_text(shape: tuple[int, ...]) -> str:
    """(1, 28, 28) -> "28×28" (grey), (3, 32, 32) -> "3×32×32"."""
    return "×".join(map(str, shape[1:] if shape[0] == 1 else shape))


def settings() -> QSettings:
    return QSettings(ORGANISATION, APPLICATION)


class MainWindow(QMainWindow):
    """The app window. Tests drive it through ``open_model``, ``save_model``, ``export_image`` and the
    panel; dialogs go through ``show_error``, ``ask_open_path``, ``ask_save_path`` and
    ``confirm_close_during_training``, which tests replace."""

    def __init__(self, data_dir: str | Path | None = None, parent: QWidget | None = None,
                 trained_dir: str | Path | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("mainWindow")
        self.setAcceptDrops(True)
        stored_dir = settings().value("dataDir", "", str)
        self.data_dir: str | Path | None = data_dir if data_dir is not None else (stored_dir or None)
        # None: model_picker.TRAINED_DIR, read when the picker opens (tests monkeypatch it)
        self.trained_dir: Path | None = Path(trained_dir) if trained_dir is not None else None
        self.picker: ModelPicker | None = None
        self.data_problem = ""  # why the open model has no scatter ("" when it has one)
        self.data_fetchable = True  # whether a data directory or `aeviewer data fetch` would cure data_problem
        self.session = Session(self)
        self.records: dict[str, Any] = {"metrics": {}, "history": [], "extra": {}}  # saved beside the weights
        self._records_before_run: dict[str, Any] | None = None  # the open model's records while a run continues it
        self.unsaved = False  # trained weights that no save has written yet (the title says so)
        self._pending_snapshot: dict | None = None
        self._last_applied = 0.0
        self._snapshot_timer = QTimer(self)
        self._snapshot_timer.setSingleShot(True)
        self._snapshot_timer.timeout.connect(self._apply_snapshot)

        self._build_views()
        self._build_actions()
        self._build_menus_and_toolbar()
        self._build_status_bar()
        self._connect()
        self._keep_space_for_focused_controls()
        self.resize(1500, 920)
        self._layout_restored = self.restore_settings()
        self._first_show = True
        self._on_model_changed()

    # -- layout -------------------------------------------------------------------------------------------
    def _build_views(self) -> None:
        self.training_panel = TrainingPanel(self.session, self.data_dir)
        self.latent_view = LatentView(self.session)
        self.decoder_canvas = DecoderCanvas(self.session)
        self.codebook_view = CodebookView(self.session)
        self.denoise_view = DenoiseView(self.session)

        self.hint = QLabel(EMPTY_HINT)
        self.hint.setObjectName("emptyHint")
        self.hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.hint.setWordWrap(True)
        self.hint.setMargin(40)
        self.centre = QStackedWidget()
        self.centre.addWidget(self.hint)
        self.centre.addWidget(self.latent_view)
        # Above the scatter when the open model's test split cannot be loaded: the model still works
        # (decoder, sliders, prior samples), and this says why the scatter is empty and how to fix it.
        self.data_banner = QLabel()
        self.data_banner.setObjectName("dataBanner")
        self.data_banner.setWordWrap(True)
        self.data_banner.setTextFormat(Qt.TextFormat.RichText)
        self.data_banner.setStyleSheet("QLabel#dataBanner { background: #fff4d6; border: 1px solid #e0b84d; "
                                       "padding: 6px; color: #3d2e00; }")
        self.data_banner.hide()
        central = QWidget()
        column = QVBoxLayout(central)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(2)
        column.addWidget(self.data_banner)
        column.addWidget(self.centre, 1)
        self.setCentralWidget(central)

        # Each dock scrolls its view, so no view's minimum size can force the window wider than the screen.
        self.training_dock = self._dock("trainingDock", "Training", self.training_panel, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.training_dock.widget().setMinimumWidth(self.training_panel.minimumSizeHint().width() + 24)
        self.decoder_dock = self._dock("decoderDock", "Decoder", self.decoder_canvas, Qt.DockWidgetArea.RightDockWidgetArea)
        self.denoise_dock = self._dock("denoiseDock", "Denoise", self.denoise_view, Qt.DockWidgetArea.BottomDockWidgetArea)
        self.codebook_dock = self._dock("codebookDock", "Codebook", self.codebook_view, Qt.DockWidgetArea.BottomDockWidgetArea)
        self.tabifyDockWidget(self.denoise_dock, self.codebook_dock)
        # issue 23: the current point's bookmarks (gui/bookmarks.py), under the decoder
        self.bookmarks_dock = self._dock("bookmarksDock", "Bookmarks", BookmarkList(self.latent_view.navigation),
                                         Qt.DockWidgetArea.RightDockWidgetArea)
        self.bookmarks_dock.hide()  # until the first Ctrl+D (or View › Bookmarks)
        self.latent_view.navigation.bookmarksChanged.connect(self._show_bookmarks_dock)
        self.denoise_dock.raise_()
        self.setCorner(Qt.Corner.BottomLeftCorner, Qt.DockWidgetArea.LeftDockWidgetArea)
        # The denoise and codebook views are wide: the bottom area reaches under the decoder too.
        self.setCorner(Qt.Corner.BottomRightCorner, Qt.DockWidgetArea.BottomDockWidgetArea)
        self.resizeDocks([self.training_dock, self.decoder_dock], [380, 500], Qt.Orientation.Horizontal)
        self.resizeDocks([self.denoise_dock], [300], Qt.Orientation.Vertical)

    def _show_bookmarks_dock(self) -> None:
        """The first bookmark opens the list, short, so the decoder above keeps its room."""
        if self.bookmarks_dock.isHidden():
            self.bookmarks_dock.show()
            self.resizeDocks([self.bookmarks_dock], [170], Qt.Orientation.Vertical)

    def _dock(self, name: str, title: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)  # saveState/restoreState find docks by objectName
        scroll = QScrollArea()
        scroll.setObjectName(f"{name}Scroll")
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setWidget(DockHolder(widget))
        dock.setWidget(scroll)
        self.addDockWidget(area, dock)
        return dock

    def _build_actions(self) -> None:
        style = self.style()
        icon = style.standardIcon
        P = QStyle.StandardPixmap
        self.open_action = self._action("Open model…", QKeySequence.StandardKey.Open, "Open a .safetensors checkpoint (Ctrl+O)",
                                        self.open_model_dialog, icon(P.SP_DialogOpenButton))
        self.save_action = self._action("Save model", QKeySequence.StandardKey.Save,
                                        "Save the current model (Ctrl+S); asks for a file name the first time",
                                        self.save_model, icon(P.SP_DialogSaveButton))
        self.save_as_action = self._action("Save model as…", QKeySequence("Ctrl+Shift+S"),
                                           "Save the current model to a new file", self.save_model_as)
        self.export_action = self._action("Export image…", QKeySequence("Ctrl+E"),
                                          "Save the view you are working in (scatter, decoder, codebook or denoise) as a PNG",
                                          self.export_image_dialog, icon(P.SP_DesktopIcon))
        self.picker_action = self._action("Pretrained models…", QKeySequence("Ctrl+P"),
                                          "Choose one of the pretrained models, with its measured metrics (Ctrl+P)",
                                          self.show_model_picker, icon(P.SP_FileDialogDetailedView))
        self.data_dir_action = self._action("Data directory…", None, "Where MNIST and Fashion-MNIST are looked for",
                                            self.choose_data_dir)
        self.quit_action = self._action("Quit", QKeySequence("Ctrl+Q"), "Quit aeviewer (Ctrl+Q)", self.close)
        self.train_action = self._action("Start / pause training", QKeySequence(Qt.Key.Key_Space),
                                         "Start training, or pause / resume it (Space)", self.toggle_training,
                                         icon(P.SP_MediaPlay))
        self.stop_action = self._action("Stop training", QKeySequence(Qt.Key.Key_Escape),
                                        "Stop training; the weights so far stay loaded (Esc)", self.stop_training,
                                        icon(P.SP_MediaStop))

    def _keep_space_for_focused_controls(self) -> None:
        """Space is the start/pause shortcut, but on a focused button, check box or list box it must do what
        it does there (click, tick, open): Qt would otherwise hand it to the window's shortcut, so ticking
        "Continue training" from the keyboard started a run that replaced the open model."""
        for widget in self.findChildren(QAbstractButton) + self.findChildren(QComboBox):
            widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (event.type() == QEvent.Type.ShortcutOverride and isinstance(event, QKeyEvent)
                and event.key() == Qt.Key.Key_Space and event.modifiers() == Qt.KeyboardModifier.NoModifier):
            event.accept()  # an accepted override: the key goes to the widget, not to the shortcut
            return True
        return super().eventFilter(watched, event)

    def _action(self, text: str, shortcut: Any, tip: str, slot: Any, icon: Any = None) -> QAction:
        action = QAction(text, self)
        if icon is not None:
            action.setIcon(icon)
        if shortcut is not None:
            action.setShortcut(shortcut)
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.setToolTip(tip)
        action.setStatusTip(tip)
        action.triggered.connect(slot)
        self.addAction(action)  # shortcuts work even with the menu bar hidden
        return action

    def _build_menus_and_toolbar(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        file_menu.addAction(self.open_action)
        file_menu.addAction(self.picker_action)
        # issue 23: File › Compare with… (gui/compare_view.py)
        self.compare_action = self._action("Compare with…", None, "Set 1 to 3 more models of the same data set "
                                           "beside this one, with linked selection", lambda: compare_with_dialog(self))
        file_menu.addAction(self.compare_action)
        self.recent_menu = file_menu.addMenu("Open &Recent")
        self.recent_menu.setObjectName("recentMenu")
        self.recent_menu.setToolTipsVisible(True)
        file_menu.addAction(self.save_action)
        file_menu.addAction(self.save_as_action)
        file_menu.addSeparator()
        export_menu = file_menu.addMenu("Export")
        file_menu.addAction(self.export_action)
        self.export_actions = {
            name: export_menu.addAction(f"{label}…", lambda n=name: self.export_image_dialog(n))
            for name, label in (("latent", "Latent scatter"), ("decoder", "Decoder canvas"),
                                ("codebook", "Codebook grid"), ("denoise", "Denoise comparison"))}
        file_menu.addSeparator()
        file_menu.addAction(self.data_dir_action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        train_menu = bar.addMenu("&Training")
        train_menu.addAction(self.train_action)
        train_menu.addAction(self.stop_action)
        view_menu = bar.addMenu("&View")
        for dock in (self.training_dock, self.decoder_dock, self.denoise_dock, self.codebook_dock, self.bookmarks_dock):
            view_menu.addAction(dock.toggleViewAction())

        toolbar = QToolBar("Main", self)
        toolbar.setObjectName("mainToolbar")
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        for action in (self.open_action, self.picker_action, self.save_action, self.export_action):
            toolbar.addAction(action)
        toolbar.addSeparator()
        toolbar.addAction(self.train_action)
        toolbar.addAction(self.stop_action)
        self.addToolBar(toolbar)
        self._refresh_recent_menu()

    def _build_status_bar(self) -> None:
        status = self.statusBar()
        self.action_label = QLabel("Ready")
        self.action_label.setObjectName("lastAction")
        self.model_label = QLabel()
        self.model_label.setObjectName("statusModel")
        self.dataset_label = QLabel()
        self.dataset_label.setObjectName("statusDataset")
        self.device_label = QLabel()
        self.device_label.setObjectName("statusDevice")
        status.addWidget(self.action_label, 1)
        for label in (self.model_label, self.dataset_label, self.device_label):
            status.addPermanentWidget(label)

    def _connect(self) -> None:
        self.session.modelChanged.connect(self._on_model_changed)
        self.session.message.connect(self.set_last_action)
        panel = self.training_panel
        panel.snapshotReady.connect(self._on_snapshot)
        panel.trainingStarted.connect(self._on_training_started)
        panel.trainingFinished.connect(self._on_training_finished)
        panel.message.connect(self.set_last_action)
        panel.stateChanged.connect(self._update_status)
        panel.device.currentIndexChanged.connect(self._update_status)

    # -- model files --------------------------------------------------------------------------------------
    def open_model(self, path: str | Path) -> bool:
        """Open a checkpoint; on a bad file show its one-line message and keep the current model."""
        from aeviewer.training.checkpoint import load_checkpoint

        if self.training_panel.is_running():
            self.show_error("Training is running", "Stop training (Esc) before opening another model.")
            return False
        try:
            checkpoint = load_checkpoint(path)
        except AeviewerError as err:
            self.show_error("Could not open the model", str(err))
            self.set_last_action(f"Could not open {Path(path).name}")
            return False
        test_set, self.data_problem, self.data_fetchable = self._test_split_of(checkpoint)
        self.records = {"metrics": dict(checkpoint.metrics), "history": list(checkpoint.history),
                        "extra": dict(checkpoint.extra)}
        self.unsaved = False
        self.session.set_model(checkpoint.model, checkpoint.dataset, test_set, path=path)
        self.training_panel.loss_plot.show_history(checkpoint.history)
        self.add_recent(path)
        c = checkpoint.model.config
        what = f"{c.kind.upper()} on {checkpoint.dataset or 'an unknown data set'}"
        if test_set is not None:
            self.set_last_action(f"Opened {Path(path).name} ({what}; {len(test_set):,} test images in the scatter)")
        else:
            self.set_last_action(f"Opened {Path(path).name} ({what}); no scatter: {self.data_problem}")
        self._update_data_banner()
        return True

    def _test_split_of(self, checkpoint: Checkpoint) -> tuple[ImageSet | None, str, bool]:
        """The checkpoint's test split for the scatter, else None, why not (one line), and whether a data
        directory or `aeviewer data fetch` would help. The model opens either way: only the scatter needs data."""
        from aeviewer.data.sources import load_split

        if not checkpoint.dataset:
            return None, "the checkpoint names no data set", False
        try:
            test_set = load_split(checkpoint.dataset, "test", self.data_dir)
        except DataError as err:
            return None, str(err).splitlines()[0], True
        except AeviewerError as err:  # a data set this aeviewer does not know
            return None, str(err).splitlines()[0], False
        want = tuple(checkpoint.model.config.image_shape)
        if tuple(test_set.image_shape) != want:  # a checkpoint whose data set does not fit its own model
            return None, (f"the {checkpoint.dataset} test images are {_shape_text(test_set.image_shape)}, "
                          f"the model takes {_shape_text(want)}"), False
        return test_set, "", False

    def show_model_picker(self) -> ModelPicker:
        """Show the pretrained-model picker (window-modal, returns at once); choosing a row opens it."""
        if self.picker is None:
            self.picker = ModelPicker(self.trained_dir, self)
            self.picker.modelChosen.connect(self._open_pretrained)
        else:
            self.picker.refresh()  # the index may have appeared since
        self.picker.open()
        return self.picker

    def _open_pretrained(self, path: Path) -> None:
        self.open_model(path)

    def open_model_dialog(self) -> None:
        path = self.ask_open_path()
        if path:
            self.open_model(path)

    def save_model(self) -> Path | None:
        """Save to the model's file (or ask for one); atomic, so a failed save leaves the old file whole."""
        if self.session.model is None:
            self.set_last_action("Nothing to save: open or train a model first")
            return None
        path = self.session.model_path
        if path is None or self._is_pretrained(path):  # the shipped models stay as they were measured
            path = self.ask_save_path("Save model", MODEL_FILTER, f"{path.stem}-trained.safetensors" if path else "")
        return self.save_model_to(path) if path else None

    def _is_pretrained(self, path: Path) -> bool:
        return path.resolve().parent == (self.trained_dir or trained_dir_now()).resolve()

    def save_model_as(self) -> Path | None:
        if self.session.model is None:
            self.set_last_action("Nothing to save: open or train a model first")
            return None
        path = self.ask_save_path()
        return self.save_model_to(path) if path else None

    def save_model_to(self, path: str | Path) -> Path | None:
        from aeviewer.training.checkpoint import save_checkpoint

        path = Path(path)
        if path.suffix != ".safetensors":
            path = path.with_name(path.name + ".safetensors")
        try:
            saved = save_checkpoint(path, self.session.model, dataset=self.session.dataset_name, **self.records)
        except (AeviewerError, OSError) as err:
            self.show_error("Could not save the model", str(err).splitlines()[0])
            return None
        self.session.model_path = saved
        self.unsaved = False
        self.add_recent(saved)
        self._update_title()
        self.set_last_action(f"Saved {saved.name}")
        return saved

    # -- export ---------------------------------------------------------------------------------------------
    def view_widgets(self) -> dict[str, QWidget]:
        return {"latent": self.latent_view, "decoder": self.decoder_canvas,
                "codebook": self.codebook_view, "denoise": self.denoise_view}

    def current_view_name(self) -> str:
        """The view holding the keyboard focus or the mouse, else the latent scatter."""
        app = QApplication.instance()
        candidates = [QApplication.focusWidget(), app.widgetAt(self.cursor().pos()) if app else None]
        for widget in candidates:
            while widget is not None:
                for name, view in self.view_widgets().items():
                    if widget is view and view.isVisible():
                        return name
                widget = widget.parentWidget()
        return "latent"

    def export_image(self, path: str | Path, view: str | None = None) -> Path:
        """Save ``view`` ("latent", "decoder", "codebook", "denoise"; default: the current one) as a PNG."""
        name = view or self.current_view_name()
        path = Path(path)
        if path.suffix.lower() != ".png":
            path = path.with_name(path.name + ".png")
        if not self.view_widgets()[name].grab().save(str(path), "PNG"):
            raise AeviewerError(f"{path}: could not write the image")
        self.set_last_action(f"Exported the {name} view to {path.name}")
        return path

    def export_image_dialog(self, view: str | None = None) -> None:
        name = view or self.current_view_name()
        path = self.ask_save_path(f"Export the {name} view", "PNG images (*.png)", f"{name}.png")
        if path:
            try:
                self.export_image(path, name)
            except AeviewerError as err:
                self.show_error("Could not export", str(err))

    # -- recent files ---------------------------------------------------------------------------------------
    def recent_files(self) -> list[str]:
        value = settings().value("recentFiles", [])
        if isinstance(value, str):  # QSettings returns a lone string for a one-element list
            value = [value]
        return [str(v) for v in (value or [])]

    def add_recent(self, path: str | Path) -> None:
        path = str(Path(path).resolve())
        recent = [path] + [p for p in self.recent_files() if p != path]
        settings().setValue("recentFiles", recent[:MAX_RECENT])
        self._refresh_recent_menu()

    def _refresh_recent_menu(self) -> None:
        self.recent_menu.clear()
        recent = self.recent_files()
        for i, path in enumerate(recent):
            action = self.recent_menu.addAction(f"&{i + 1} {Path(path).name}", lambda p=path: self.open_model(p))
            action.setToolTip(path)
        if not recent:
            self.recent_menu.addAction("(none yet)").setEnabled(False)

    # -- training -------------------------------------------------------------------------------------------
    def toggle_training(self) -> None:
        panel = self.training_panel
        if panel.is_running():
            panel.toggle_pause()
        else:
            panel.start()

    def stop_training(self) -> None:
        self.training_panel.stop()

    def _on_training_started(self) -> None:
        # A continued model keeps what it went through (history, provenance) for the save after the run.
        self._records_before_run = None if self.training_panel.run_is_new else self.records
        self.records = {"metrics": {}, "history": [], "extra": {}}
        self._last_applied = time.monotonic()  # the untrained model was just drawn
        self._update_title()

    def _on_snapshot(self, state: dict) -> None:
        """Keep only the newest snapshot and apply it at most every SNAPSHOT_MIN_INTERVAL_S, or every
        SNAPSHOT_ENCODE_FACTOR encode times when encoding is slower (dropping stale ones)."""
        self._pending_snapshot = state
        if self._snapshot_timer.isActive():
            return
        # Re-encoding costs time on the GUI thread, and on a 2-core machine that time comes out of the
        # trainer's share (measured: each applied snapshot cost the trainer ~0.2 s of an MNIST epoch).
        interval = max(SNAPSHOT_MIN_INTERVAL_S, SNAPSHOT_ENCODE_FACTOR * self.session.last_encode_seconds)
        wait = self._last_applied + interval - time.monotonic()
        self._snapshot_timer.start(max(0, int(wait * 1000)))

    def _apply_snapshot(self) -> None:
        state, self._pending_snapshot = self._pending_snapshot, None
        if state is None or self.session.model is None:
            return
        self.training_panel.yield_to_gui()  # ~1/s, a few tens of ms: the redraw never fights the trainer
        try:
            self.session.load_weights(state)
        except RuntimeError as err:  # a snapshot that does not fit the model: never take the window down
            self.set_last_action(f"Could not load a weight snapshot: {str(err).splitlines()[0]}")
        self._last_applied = time.monotonic()

    def _on_training_finished(self, result: dict) -> None:
        self._snapshot_timer.stop()
        self._apply_snapshot()  # the final weights, at once
        self.records = self._records_after_run(result)
        self.unsaved = True
        self._update_status()
        self._update_title()

    def _records_after_run(self, result: dict) -> dict[str, Any]:
        """What a save writes beside the trained weights. A continued model's history goes on from its last
        epoch and its earlier record is kept under ``continued_from``; its metrics are dropped, since they
        measured the weights before this run (``aeviewer evaluate`` measures them again)."""
        run = {"status": result.get("status", ""), "train": self._train_record()}
        history = list(self.training_panel.history)
        before = self._records_before_run
        if before is None:
            return {"metrics": {}, "history": history, "extra": run}
        epochs = [r["epoch"] for r in before["history"] if isinstance(r, dict) and as_number(r.get("epoch")) is not None]
        offset = max(epochs, default=0)
        history = list(before["history"]) + [{**r, "epoch": r["epoch"] + offset} for r in history]
        return {"metrics": {}, "history": history, "extra": {**run, "continued_from": dict(before["extra"])}}

    def _train_record(self) -> dict[str, Any]:
        cfg = self.training_panel.train_config()
        return {"epochs": cfg.epochs, "batch_size": cfg.batch_size, "lr": cfg.lr, "seed": cfg.seed, "device": cfg.device,
                "lr_schedule": cfg.lr_schedule}

    # -- status, title, dialogs ------------------------------------------------------------------------------
    def set_last_action(self, text: str) -> None:
        self.action_label.setText(text)

    def _update_data_banner(self) -> None:
        """Say why there is no scatter when a model is open without its test split."""
        missing = self.session.model is not None and self.session.test_set is None
        if missing:
            problem = self.data_problem or f"the {self.session.dataset_name or 'data set'} test split is not loaded"
            works = ("The decoder, its sliders and prior samples work" if getattr(self.session.model, "has_prior", False)
                     else "The decoder and its sliders work")
            cure = (f"; to see the scatter, set <b>File › Data directory…</b> or run <code>aeviewer data fetch "
                    f"{escape(self.session.dataset_name or 'mnist')}</code>, then open the model again"
                    if self.data_fetchable or not self.data_problem else "")
            self.data_banner.setText(f"<b>No scatter:</b> {escape(problem)}.<br>{works} without data{cure}.")
        self.data_banner.setVisible(missing)

    def _on_model_changed(self) -> None:
        model = self.session.model
        if model is None or self.session.test_set is not None:
            self.data_problem = ""
        self._update_data_banner()
        self.centre.setCurrentWidget(self.latent_view if model is not None else self.hint)
        is_vq = model is not None and model.config.kind == "vqvae"
        self.codebook_dock.toggleViewAction().setEnabled(is_vq)
        self.export_actions["codebook"].setEnabled(is_vq)  # other kinds have no codebook to export
        self.codebook_dock.setVisible(is_vq)
        if is_vq:
            self.codebook_dock.raise_()
            self.resizeDocks([self.codebook_dock], [440], Qt.Orientation.Vertical)  # K codes need the room
        self._update_status()
        self._update_title()

    def _update_status(self, *_: Any) -> None:
        model = self.session.model
        if model is None:
            self.model_label.setText("No model")
        else:
            c = model.config
            size = f"K={c.codebook_size}" if c.kind == "vqvae" else f"latent {c.latent_dim}"
            self.model_label.setText(f"{c.kind.upper()} · {c.arch} · {size}")
        missing = self.session.model is not None and self.session.test_set is None
        self.dataset_label.setText(f"Data: {self.session.dataset_name or '–'}" + (" (no test split)" if missing else ""))
        panel = self.training_panel
        device = panel.train_device if panel.is_running() else panel.device.currentData()
        self.device_label.setText(f"Device: {device}" + (" (training)" if panel.is_running() else ""))

    def _update_title(self) -> None:
        path = self.session.model_path
        if self.session.model is None:
            name = "no model"
        else:
            name = f"{path.name}{' (trained, not saved)' if self.unsaved else ''}" if path is not None \
                else f"untitled {self.session.kind} (unsaved)"
        self.setWindowTitle(f"{name} — aeviewer")

    def show_error(self, title: str, text: str) -> None:
        QMessageBox.warning(self, title, text)

    def ask_open_path(self) -> str:
        path, _ = QFileDialog.getOpenFileName(self, "Open model", self._last_dir(), MODEL_FILTER)
        return path

    def ask_save_path(self, caption: str = "Save model", filter: str = MODEL_FILTER, name: str = "") -> str:
        if not name and self.session.model is not None:
            name = f"{self.session.kind}-{self.session.dataset_name or 'model'}.safetensors"
        path, _ = QFileDialog.getSaveFileName(self, caption, str(Path(self._last_dir()) / name), filter)
        return path

    def _last_dir(self) -> str:
        recent = self.recent_files()
        return str(Path(recent[0]).parent) if recent else str(Path.cwd())

    def confirm_close_during_training(self) -> bool:
        answer = QMessageBox.question(self, "Training is running", "Stop training and quit?",
                                      QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                                      QMessageBox.StandardButton.No)
        return answer == QMessageBox.StandardButton.Yes

    def choose_data_dir(self) -> None:
        from aeviewer.data.sources import resolve_data_dir

        directory = QFileDialog.getExistingDirectory(self, "Data directory", str(resolve_data_dir(self.data_dir)))
        if directory:
            self.data_dir = directory
            self.training_panel.data_dir = directory
            settings().setValue("dataDir", directory)
            self.set_last_action(f"Data directory: {directory}")

    # -- drag and drop ----------------------------------------------------------------------------------------
    @staticmethod
    def _dropped_model(event: QDragEnterEvent | QDropEvent) -> str | None:
        for url in event.mimeData().urls():
            if url.isLocalFile() and url.toLocalFile().endswith(".safetensors"):
                return url.toLocalFile()
        return None

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if self._dropped_model(event):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        path = self._dropped_model(event)
        if path:
            event.acceptProposedAction()
            self.open_model(path)

    # -- settings and closing ------------------------------------------------------------------------------------
    def restore_settings(self) -> bool:
        """The last session's window geometry and dock layout; True when a dock layout was restored."""
        store = settings()
        geometry = store.value("window/geometry")
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        state = store.value("window/state")
        return isinstance(state, QByteArray) and not state.isEmpty() and self.restoreState(state, STATE_VERSION)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._first_show:
            self._first_show = False
            if not self._layout_restored:
                QTimer.singleShot(0, self._fit_bottom_docks)  # once the window has its real size

    def _fit_bottom_docks(self) -> None:
        """A first-run layout for the screen at hand: the bottom docks take about a third of the height (their
        size hint asked for 440 px, which left a 720-px window's scatter under 200 px), the scatter the rest."""
        if self.codebook_dock.isVisible():
            return  # a VQ-VAE: its codebook was given the room its K codes need
        share = int(BOTTOM_DOCK_SHARE * self.height())
        self.resizeDocks([self.denoise_dock], [max(share, self.denoise_dock.minimumSizeHint().height())],
                         Qt.Orientation.Vertical)

    def save_settings(self) -> None:
        store = settings()
        store.setValue("window/geometry", self.saveGeometry())
        store.setValue("window/state", self.saveState(STATE_VERSION))
        store.sync()

    def closeEvent(self, event: QCloseEvent) -> None:
        panel = self.training_panel
        if panel.is_running():
            if not self.confirm_close_during_training():
                event.ignore()
                return
            panel.shutdown()
        self._snapshot_timer.stop()
        self.save_settings()
        event.accept()
