"""MainWindow: the docks around the latent scatter, menus and shortcuts, open/save, settings that persist."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, Qt, QTimer
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent, QKeySequence, QShowEvent
from PySide6.QtWidgets import (
    QDockWidget, QFileDialog, QMainWindow, QMessageBox, QStackedWidget, QStyle, QWidget,
)

from aeviewer.errors import AeviewerError
import aeviewer.gui.views as views_table
from aeviewer.gui.views import ViewSpec
from aeviewer.gui.views.latent.bookmarks import add_bookmark_tab
from aeviewer.gui.window.window_parts import (
    add_scrolled_dock, add_view_docks, column, data_banner, dropped_model, empty_hint, make_action, save_png,
    view_in_use,
)
from aeviewer.gui.training.data_source import ShowLoadedData, dropped_data
from aeviewer.gui.state.document import test_split_of
from aeviewer.gui.dialogs.file_dialogs import ask_open_file, ask_save_file
from aeviewer.gui.window.keyboard import SpaceForFocusedControls
from aeviewer.gui.views.latent.latent_view import LatentView
from aeviewer.gui.dialogs.model_picker import ModelPicker, trained_dir_now
from aeviewer.gui.dialogs.onnx_dialog import OnnxPairDialog, OnnxPairOpener
from aeviewer.gui.startup.screen_fit import KeepInsideScreen, fit_to_screen, fits_screen
from aeviewer.gui.window.script_access import ScriptAccess
from aeviewer.gui.state.session import Session
from aeviewer.gui.state.settings_store import recent_files, remember_recent, settings
from aeviewer.gui.training.training_panel import TrainingPanel
from aeviewer.gui.window.window_menus import build_menus_and_toolbar, build_status_bar

STATE_VERSION = 2  # bump when the docks change, so an old saved layout is ignored
BOTTOM_DOCK_SHARE = 0.36  # of the window's height, for the denoise/codebook docks on a first run
# Of the window's width on a first run: the side docks (a fixed 380 + 500 px left a 1366-px laptop's scatter 294 px)
TRAINING_DOCK_SHARE, DECODER_DOCK_SHARE = 0.22, 0.31
DOCK_FRAME_PX = 8  # a dock's frame around its view
CODEBOOK_DOCK_SHARE = 0.40  # of the window's height, for a VQ-VAE's codebook on a first run
SHORT_WINDOW_PX = 800  # a window lower than this gives the decoder the whole right column when it can
# Below this a restored dock shows nothing useful (a saved layout once squeezed the decoder to 68 px): reset
USEFUL_DOCK_PX = 160
MODEL_FILTER = "aeviewer models (*.safetensors);;All files (*)"
LEFT, RIGHT, BOTTOM = (Qt.DockWidgetArea.LeftDockWidgetArea, Qt.DockWidgetArea.RightDockWidgetArea,
                       Qt.DockWidgetArea.BottomDockWidgetArea)


def _view(name: str) -> property:
    """A view of the views table as an attribute (``window.decoder_canvas``), for scripts, tests and the menus."""
    return property(lambda self: self.views[name])


def _dock(name: str) -> property:
    return property(lambda self: self.docks[name])


class MainWindow(ScriptAccess, QMainWindow):
    """The app window. Tests drive it through ``open_model``, ``save_model``, ``export_image`` and the
    panel; dialogs go through ``show_error``, ``ask_open_path``, ``ask_save_path`` and
    ``confirm_close_during_training``, which tests replace.

    Its docked views come from the views table (``aeviewer.gui.views.VIEWS``): ``views`` and ``docks`` hold them
    by name; the built-in ones are also attributes (``decoder_canvas``, ``denoise_dock``, ...)."""

    decoder_canvas, denoise_view = _view("decoder"), _view("denoise")
    codebook_view, regulariser_view = _view("codebook"), _view("regulariser")
    decoder_dock, denoise_dock = _dock("decoder"), _dock("denoise")
    codebook_dock, regulariser_dock = _dock("codebook"), _dock("regulariser")

    def __init__(self, data_dir: str | Path | None = None, parent: QWidget | None = None,
                 trained_dir: str | Path | None = None, background_encoding: bool = True) -> None:
        super().__init__(parent)
        self.setObjectName("mainWindow")
        self.setAcceptDrops(True)
        stored_dir = settings().value("dataDir", "", str)
        self.data_dir: str | Path | None = data_dir if data_dir is not None else (stored_dir or None)
        # None: model_picker.TRAINED_DIR, read when the picker opens (tests monkeypatch it)
        self.trained_dir: Path | None = Path(trained_dir) if trained_dir is not None else None
        self.picker: ModelPicker | None = None
        self.onnx_opener = OnnxPairOpener(self)
        self.session = Session(self)
        # The app encodes test splits off the GUI thread; a test that wants the synchronous path asks by name.
        self.session.encode_in_background = background_encoding
        self.document = self.session.document  # records, unsaved, why there is no scatter
        self._last_action = ""  # what the status bar says was done last; the encoding's progress follows it

        self._build_views()
        self._build_actions()
        menus = build_menus_and_toolbar(self, [self.training_dock, *self.docks.values()])
        self.compare_action, self.recent_menu, self.session_menu = (menus.compare_action, menus.recent_menu,
                                                                    menus.session_menu)
        self.slide_exports, self.export_actions, self.path_tool = (menus.slide_exports, menus.export_actions,
                                                                   menus.path_tool)
        self.layer_actions, self.selection_actions = menus.layer_actions, menus.selection_actions
        self._refresh_recent_menu()
        labels = build_status_bar(self.statusBar())
        self.action_label, self.model_label = labels.action, labels.model
        self.dataset_label, self.device_label = labels.dataset, labels.device
        self._connect()
        self._space_keeper = SpaceForFocusedControls(self)
        fit_to_screen(self)  # 1500x920, or less on a smaller screen
        self._choose_bottom_right_corner()
        self._first_run_layout = self.saveState(STATE_VERSION)  # what View › Reset layout goes back to
        self._layout_restored = self.restore_settings()
        self._screen_keeper = KeepInsideScreen(self)  # never grows past the screen, whatever a label says
        self._first_show = True
        self._on_model_changed()

    # -- layout -------------------------------------------------------------------------------------------
    def warm_up_after_first_paint(self) -> None:
        """Import what training needs once the scatter has painted (the app's launch; a bare window skips it)."""
        from aeviewer.gui.startup.start_window import AfterFirstPaint
        from aeviewer.gui.startup.warm_up import WarmUp

        # The warm-up import holds the GIL for ~1 s: started now it slowed encoding the test set and the
        # first paint; after the scatter's first paint it runs while the user looks at the window.
        # (A Start pressed before it ran imports the same on the training thread, as without it.)
        self.warm_up = WarmUp()
        self._warm_up_trigger = AfterFirstPaint(self.latent_view.plot.viewport(), self.warm_up.start)

    def _build_views(self) -> None:
        self.training_panel = TrainingPanel(self.session, self.data_dir)
        self.latent_view = LatentView(self.session)
        self.specs: tuple[ViewSpec, ...] = tuple(views_table.VIEWS)
        self.views: dict[str, QWidget] = {spec.name: spec.cls(self.session) for spec in self.specs}

        self.hint, self.data_banner = empty_hint(), data_banner()
        self.centre = QStackedWidget()
        self.centre.addWidget(self.hint)
        self.centre.addWidget(self.latent_view)
        self.setCentralWidget(column(self.data_banner, self.centre))

        self._build_docks()

    def _build_docks(self) -> None:
        """Training on the left, then the views table's docks: the decoder on the right, the wide views (denoise,
        codebook, regulariser) as tabs along the bottom; the bookmarks are a tab of the decoder's tools, which
        keep their room. Their object names are what the saved dock layout is keyed by (bump STATE_VERSION when
        this changes)."""
        self.training_dock = add_scrolled_dock(self, "trainingDock", "Training", self.training_panel, LEFT)
        self.training_dock.widget().setMinimumWidth(self.training_panel.minimumSizeHint().width() + 24)
        self.docks: dict[str, QDockWidget] = add_view_docks(self, self.views, self.specs)
        self.setCorner(Qt.Corner.BottomLeftCorner, LEFT)
        # The denoise and codebook views are wide: the bottom area reaches under the decoder too.
        self.setCorner(Qt.Corner.BottomRightCorner, BOTTOM)
        sides = [self.training_dock, *self._docks_in(RIGHT)[:1]]
        self.resizeDocks(sides, [380, 500][:len(sides)], Qt.Orientation.Horizontal)
        self.resizeDocks(self._docks_in(BOTTOM)[:1], [300], Qt.Orientation.Vertical)
        self.bookmark_list = add_bookmark_tab(self.decoder_canvas, self.session.navigation)

    def _docks_in(self, area: Qt.DockWidgetArea) -> list[QDockWidget]:
        """The views table's docks built for ``area``, in the table's order (the first is its tab group's front)."""
        return [self.docks[spec.name] for spec in self.specs if spec.area == area]

    def _build_actions(self) -> None:
        style = self.style()
        icon = style.standardIcon
        P = QStyle.StandardPixmap
        self.open_action = make_action(self, "Open model…", QKeySequence.StandardKey.Open, "Open a .safetensors checkpoint (Ctrl+O)",
                                        self.open_model_dialog, icon(P.SP_DialogOpenButton))
        self.save_action = make_action(self, "Save model", QKeySequence.StandardKey.Save,
                                        "Save the current model (Ctrl+S); asks for a file name the first time",
                                        self.save_model, icon(P.SP_DialogSaveButton))
        self.save_as_action = make_action(self, "Save model as…", QKeySequence("Ctrl+Shift+S"),
                                           "Save the current model to a new file", self.save_model_as)
        self.export_action = make_action(self, "Export image…", QKeySequence("Ctrl+E"),
                                          "Save the view you are working in (scatter, decoder, codebook or denoise) as a PNG",
                                          self.export_image_dialog, icon(P.SP_DesktopIcon))
        self.picker_action = make_action(self, "Pretrained models…", QKeySequence("Ctrl+P"),
                                          "Choose one of the pretrained models, with its measured metrics (Ctrl+P)",
                                          self.show_model_picker, icon(P.SP_FileDialogDetailedView))
        self.open_data_action = make_action(self, "Open data…", QKeySequence("Ctrl+Shift+O"),
                                             "Train on, or show, an image folder or a .npz/.npy file (Ctrl+Shift+O)",
                                             self.training_panel.choose_data)
        self.open_onnx_action = make_action(self, "Open ONNX pair…", QKeySequence("Ctrl+Shift+N"),
                                             "Explore an encoder and a decoder exported as .onnx from any framework "
                                             "over the current data set (Ctrl+Shift+N)", self.open_onnx_dialog)
        self.follow_action = make_action(self, "Follow a training run…", None,
                                          "Open a checkpoint another process is writing (a cluster job's, copied or "
                                          "mounted here) and reopen it as each epoch lands", self.follow_run_dialog)
        self.data_dir_action = make_action(self, "Data directory…", None, "Where MNIST and Fashion-MNIST are looked for",
                                            self.choose_data_dir)
        self.quit_action = make_action(self, "Quit", QKeySequence("Ctrl+Q"), "Quit aeviewer (Ctrl+Q)", self.close)
        self.reset_layout_action = make_action(self, "Reset layout", None,
                                               "Put every panel back where a first start puts it", self.reset_layout)
        self.train_action = make_action(self, "Start / pause training", QKeySequence(Qt.Key.Key_Space),
                                         "Start training, or pause / resume it (Space)", self.toggle_training,
                                         icon(P.SP_MediaPlay))
        self.stop_action = make_action(self, "Stop training", QKeySequence(Qt.Key.Key_Escape),
                                        "Stop training; the weights so far stay loaded (Esc)", self.stop_training,
                                        icon(P.SP_MediaStop))

    def _connect(self) -> None:
        self.session.modelChanged.connect(self._on_model_changed)
        self.session.message.connect(self.set_last_action)
        self.session.priorChanged.connect(self._update_title)  # a trained prior leaves the model unsaved
        self.session.encodingStatus.connect(self._show_encoding_status)
        panel = self.training_panel
        panel.trainingStarted.connect(self._on_training_started)
        panel.trainingFinished.connect(self._on_training_finished)
        panel.message.connect(self.set_last_action)
        panel.stateChanged.connect(self._update_status)
        self.show_loaded_data = ShowLoadedData(self.session, panel, self.data_banner)

    # -- model files --------------------------------------------------------------------------------------
    def open_model(self, path: str | Path) -> bool:
        """Open a checkpoint; on a bad file show its one-line message and keep the current model."""
        from aeviewer.data.loader import portable_spec
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
        test_set, problem, fetchable = test_split_of(checkpoint, self.data_dir)
        self.document.opened(checkpoint, problem, fetchable)
        dataset = portable_spec(checkpoint.dataset, self.data_dir)  # never another machine's folder
        self.session.set_model(checkpoint.model, dataset, test_set, path=path)
        self.training_panel.show_history(checkpoint.history)
        self.add_recent(path)
        c = checkpoint.model.config
        what = f"{c.kind.upper()} on {dataset or 'an unknown data set'}"
        if test_set is not None:
            self.set_last_action(f"Opened {Path(path).name} ({what}; {len(test_set):,} test images in the scatter)")
        else:
            self.set_last_action(f"Opened {Path(path).name} ({what}); no scatter: {problem}")
        self._update_data_banner()
        return True

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

    def follow_run_dialog(self) -> None:
        path = self.ask_open_path()
        if path:
            self.follow_run(path)

    def follow_run(self, path: str | Path) -> Any:
        """Open the run at ``path`` and reopen it after each whole write (gui/follow_run.py); replaces a follow."""
        from aeviewer.gui.training.follow_run import RunFollower

        if getattr(self, "follower", None) is not None:
            self.follower.stop()
        self.follower = RunFollower(self, path)
        return self.follower

    def open_onnx_dialog(self) -> OnnxPairDialog:
        """File › Open ONNX pair…: the dialog (window-modal, returns at once); OK loads the pair in the background."""
        return self.onnx_opener.ask()

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
            saved = save_checkpoint(path, self.session.model, dataset=self.session.dataset_name,
                                    preparation=self.document.preparation, **self.document.records)
        except (AeviewerError, OSError) as err:
            self.show_error("Could not save the model", str(err).splitlines()[0])
            return None
        self.session.model_path = saved
        self.document.saved()
        self.add_recent(saved)
        self._update_title()
        self.set_last_action(f"Saved {saved.name}")
        return saved

    # -- export ---------------------------------------------------------------------------------------------
    def view_widgets(self) -> dict[str, QWidget]:
        """The exported views by export name: the scatter, then the views table's rows that have one."""
        exported = {spec.export_name: self.views[spec.name] for spec in self.specs if spec.export_name}
        return {"latent": self.latent_view, **exported}

    def current_view_name(self) -> str:
        """The view holding the keyboard focus or the mouse, else the latent scatter."""
        return view_in_use(self.view_widgets(), self.cursor().pos())

    def export_image(self, path: str | Path, view: str | None = None) -> Path:
        """Save ``view`` (an export name: "latent", "decoder", ...; default: the current one) as a PNG."""
        name = view or self.current_view_name()
        path = save_png(self.view_widgets()[name], path)
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
        return recent_files()

    def add_recent(self, path: str | Path) -> None:
        remember_recent(path)
        self._refresh_recent_menu()

    def _refresh_recent_menu(self) -> None:
        self.recent_menu.clear()
        recent = recent_files()
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

    def _on_training_started(self, continues: bool) -> None:
        self.document.run_started(continues)
        self._update_title()

    def _on_training_finished(self, result: dict) -> None:
        self.document.run_finished(result)
        self._update_status()
        self._update_title()

    # -- status, title, dialogs ------------------------------------------------------------------------------
    def set_last_action(self, text: str) -> None:
        self._last_action = text
        self.action_label.setText(text)

    def _show_encoding_status(self, text: str) -> None:
        """The encoding's progress after the action that started it ("Opened X · encoded …"), which stays."""
        base = self._last_action
        self.action_label.setText(f"{base} · {text}" if base else text[:1].upper() + text[1:])

    def _update_data_banner(self) -> None:
        """Say why there is no scatter when a model is open without its test split."""
        missing = self.session.model is not None and self.session.test_set is None
        if missing:
            self.data_banner.setText(self.document.no_scatter_html(self.session.dataset_name, self.session.model.has_prior))
        self.data_banner.setVisible(missing)

    def _on_model_changed(self) -> None:
        model = self.session.model
        if model is None or self.session.test_set is not None:
            self.document.data_problem = ""
        self._update_data_banner()
        self.centre.setCurrentWidget(self.latent_view if model is not None else self.hint)
        self._grey_out_training(model is not None and not model.trainable)
        self._show_views_for(model)
        self._update_status()
        self._update_title()

    def _show_views_for(self, model: Any) -> None:
        """Each view the open model has something for (its row's ``shown_when``) is shown, the others hidden and
        greyed in the View menu and File › Export; a newly shown view comes in as a tab behind its group's front,
        except one that claims the room (the codebook), which comes in front with a share of the height."""
        for spec in self.specs:
            if spec.shown_when is None:
                continue
            dock, shown = self.docks[spec.name], spec.shown_for(model)
            dock.toggleViewAction().setEnabled(shown)
            if spec.export_name:
                self.export_actions[spec.export_name].setEnabled(shown)
            if shown and dock.isHidden() and not spec.claims_room:
                dock.show()
                self._docks_in(spec.area)[0].raise_()  # a tab behind the group's front, not in front of it
            dock.setVisible(shown)
        for spec in self.specs:
            if spec.claims_room and spec.shown_for(model) and model is not None:
                self.docks[spec.name].raise_()
                # K codes need the room, but not all of it: the scatter and the decoder's tools above need some
                # (at 48% of a 900-px window the decoder's traversal grid kept less than one row of 48-px cells)
                self.resizeDocks([self.docks[spec.name]], [min(400, int(CODEBOOK_DOCK_SHARE * self.height()))],
                                 Qt.Orientation.Vertical)

    def _grey_out_training(self, outside: bool) -> None:
        """A model trained outside aeviewer can be explored, not trained or saved as a checkpoint."""
        self.training_panel.setEnabled(not outside)
        self.training_dock.setWindowTitle("Training — trained outside aeviewer" if outside else "Training")
        self.training_panel.setToolTip("This model was trained outside aeviewer: open or train an aeviewer model "
                                       "to use the training panel" if outside else "")
        for action in (self.train_action, self.stop_action, self.save_action, self.save_as_action):
            action.setEnabled(not outside)

    def _update_status(self, *_: Any) -> None:
        model = self.session.model
        if model is None:
            self.model_label.setText("No model")
        else:
            c = model.config
            size = f"K={c.codebook_size}" if model.has_codebook else f"latent {c.latent_dim}"
            self.model_label.setText(f"{c.kind.upper()} · {c.arch} · {size}")
        missing = self.session.model is not None and self.session.test_set is None
        self.dataset_label.setText(f"Data: {self.session.dataset_name or '–'}" + (" (no test split)" if missing else ""))
        self.device_label.setText(self.training_panel.device_text())

    def _update_title(self) -> None:
        self.setWindowTitle(self.document.title(self.session.kind, self.session.model_path))

    def show_error(self, title: str, text: str) -> None:
        QMessageBox.warning(self, title, text)

    def ask_open_path(self) -> str:
        return ask_open_file(self, "Open model", MODEL_FILTER)

    def ask_save_path(self, caption: str = "Save model", filter: str = MODEL_FILTER, name: str = "") -> str:
        if not name and self.session.model is not None:
            name = f"{self.session.kind}-{self.session.dataset_name or 'model'}.safetensors"
        return ask_save_file(self, caption, name, filter)

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
            self.training_panel.set_data_dir(directory)
            settings().setValue("dataDir", directory)
            self.set_last_action(f"Data directory: {directory}")

    # -- drag and drop ----------------------------------------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if dropped_model(event) or dropped_data(event):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        path, data = dropped_model(event), dropped_data(event)
        if path or data:
            event.acceptProposedAction()
            self.open_model(path) if path else self.open_data(data)

    def open_data(self, path: str | Path) -> None:
        """Make ``path`` the panel's data set (it loads there); an open model without a scatter whose images
        it fits shows it (see ShowLoadedData)."""
        self.training_dock.show()
        self.training_panel.set_data_source(path)

    # -- settings and closing ------------------------------------------------------------------------------------
    def restore_settings(self) -> bool:
        """The last session's window geometry, if it fits the screen now, and dock layout; True when a dock
        layout was restored."""
        store = settings()
        geometry = store.value("window/geometry")
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
            if not fits_screen(self):  # saved on a larger screen, or grown past this one
                fit_to_screen(self)
        state = store.value("window/state")
        return isinstance(state, QByteArray) and not state.isEmpty() and self.restoreState(state, STATE_VERSION)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._first_show:
            self._first_show = False
            # once the window has its real size
            QTimer.singleShot(0, self._check_restored_docks if self._layout_restored else self._fit_bottom_docks)

    def squeezed_docks(self) -> list[QDockWidget]:
        """The docks in view narrower (left, right) or lower (bottom) than USEFUL_DOCK_PX."""
        squeezed = []
        for dock in (self.training_dock, *self.docks.values()):
            if not dock.isVisible() or dock.isFloating():  # closed, a tab behind another, or its own window
                continue
            bottom = self.dockWidgetArea(dock) == Qt.DockWidgetArea.BottomDockWidgetArea
            if (dock.height() if bottom else dock.width()) < USEFUL_DOCK_PX:
                squeezed.append(dock)
        return squeezed

    def _check_restored_docks(self) -> None:
        """A restored layout whose docks were squeezed to slivers is put back to the first-run layout."""
        if self.squeezed_docks():
            self.reset_layout()

    def _fit_bottom_docks(self) -> None:
        """A first-run layout for the screen at hand: the side docks take a share of the width and the bottom
        docks about a third of the height (their size hint asked for 440 px, which left a 720-px window's
        scatter under 200 px), the scatter the rest (at least 40% of the width on a 1366x768 screen)."""
        self._choose_bottom_right_corner()
        self.resizeDocks([self.training_dock, self.decoder_dock], list(self._side_dock_widths()), Qt.Orientation.Horizontal)
        if any(self.docks[spec.name].isVisible() for spec in self.specs if spec.claims_room):
            return  # a VQ-VAE: its codebook was given the room its K codes need
        share = int(BOTTOM_DOCK_SHARE * self.height())
        front = self._docks_in(BOTTOM)[:1]
        if front:
            self.resizeDocks(front, [max(share, front[0].minimumSizeHint().height())], Qt.Orientation.Vertical)

    def _side_dock_widths(self) -> tuple[int, int]:
        """The training and decoder docks' first-run widths: a share of the window's, the decoder's no less than
        its view's minimum."""
        width = self.width()
        decoder = max(int(DECODER_DOCK_SHARE * width), self.decoder_canvas.minimumSizeHint().width() + DOCK_FRAME_PX)
        training = max(int(TRAINING_DOCK_SHARE * width), self.training_dock.widget().minimumWidth())
        return training, decoder

    def _choose_bottom_right_corner(self) -> None:
        """On a short window (a 1366x768 laptop) the decoder takes the whole right column, so that its image and
        sliders fit, when the bottom views still fit under the scatter alone; else the bottom area spans under
        the decoder too (the denoise and codebook views are wide)."""
        training, decoder = self._side_dock_widths()
        room_below_scatter = self.width() - training - decoder - 2 * DOCK_FRAME_PX
        bottom = [self.views[spec.name] for spec in self.specs if spec.area == BOTTOM]
        widest = bottom[0].minimumSizeHint().width() if bottom else 0
        column = self.height() < SHORT_WINDOW_PX and room_below_scatter >= widest + DOCK_FRAME_PX
        self.setCorner(Qt.Corner.BottomRightCorner, Qt.DockWidgetArea.RightDockWidgetArea if column
                       else Qt.DockWidgetArea.BottomDockWidgetArea)

    def reset_layout(self) -> None:
        """Every panel back where a first start puts it, and a window grown past the screen back to its first
        size: undoes a saved layout that squeezed or lost a dock."""
        if not fits_screen(self) and not (self.isMaximized() or self.isFullScreen()):
            fit_to_screen(self)
        self.restoreState(self._first_run_layout, STATE_VERSION)
        self._on_model_changed()  # the docks this model has (codebook, regulariser) and their room
        QTimer.singleShot(0, self._fit_bottom_docks)
        self.set_last_action("Layout reset")

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
        self.save_settings()
        event.accept()
