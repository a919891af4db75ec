"""The main window's menus, toolbar and status bar, built from its actions, docks and views."""
from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QMenu, QToolBar

from aeviewer.gui.views.compare.compare_view import compare_with_dialog
from aeviewer.gui.widgets.fitting_label import ElidedLabel
from aeviewer.gui.views.path.path_tool import install_path_tool
from aeviewer.gui.window.session_menu import SessionMenu
from aeviewer.gui.dialogs.slide_exports import SlideExports
from aeviewer.gui.window.window_parts import make_action


def build_menus_and_toolbar(window: Any) -> None:
    """The File, Training and View menus and the toolbar, from the window's actions and docks."""
    bar = window.menuBar()
    file_menu = bar.addMenu("&File")
    file_menu.addAction(window.open_action)
    file_menu.addAction(window.picker_action)
    file_menu.addAction(window.open_data_action)
    file_menu.addAction(window.follow_action)  # issue 32: a run another process writes (gui/follow_run.py)
    file_menu.addAction(window.open_onnx_action)  # issue 21: a model trained outside aeviewer (gui/onnx_dialog.py)
    # issue 23: File › Compare with… (gui/compare_view.py)
    window.compare_action = make_action(window, "Compare with…", None, "Set 1 to 3 more models of the same data set "
                                      "beside this one, with linked selection", lambda: compare_with_dialog(window))
    file_menu.addAction(window.compare_action)
    window.recent_menu = file_menu.addMenu("Open &Recent")
    window.recent_menu.setObjectName("recentMenu")
    window.recent_menu.setToolTipsVisible(True)
    file_menu.addAction(window.save_action)
    file_menu.addAction(window.save_as_action)
    file_menu.addSeparator()
    window.session_menu = SessionMenu(window, file_menu)
    window.session_menu.set_selection = window.denoise_view.set_indices
    window.session_menu.bookmarks = lambda: window.latent_view.navigation.bookmarks.items
    window.session_menu.set_bookmarks = window.latent_view.navigation.set_bookmarks
    file_menu.addSeparator()
    file_menu.addAction(window.export_action)
    build_export_menu(window, file_menu.addMenu("Export"))
    file_menu.addSeparator()
    file_menu.addAction(window.data_dir_action)
    file_menu.addSeparator()
    file_menu.addAction(window.quit_action)
    train_menu = bar.addMenu("&Training")
    train_menu.addAction(window.train_action)
    train_menu.addAction(window.stop_action)
    view_menu = bar.addMenu("&View")
    for dock in (window.training_dock, window.decoder_dock, window.denoise_dock, window.codebook_dock, window.regulariser_dock):
        view_menu.addAction(dock.toggleViewAction())
    view_menu.addSeparator()
    view_menu.addAction(window.reset_layout_action)

    toolbar = QToolBar("Main", window)
    toolbar.setObjectName("mainToolbar")
    toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
    for action in (window.open_action, window.picker_action, window.save_action, window.export_action):
        toolbar.addAction(action)
    toolbar.addSeparator()
    toolbar.addAction(window.train_action)
    toolbar.addAction(window.stop_action)
    window.addToolBar(toolbar)
    window._refresh_recent_menu()

def build_export_menu(window: Any, menu: QMenu) -> None:
    """File › Export: each thing once, by what it writes: the views as shown, then decodes over the map, then data."""
    menu.setObjectName("exportMenu")
    menu.setToolTipsVisible(True)
    window.slide_exports = slides = SlideExports(window.session, window.decoder_canvas, window.latent_view, window)
    # the selection sessions keep and Export › Selected images writes: the denoise view's test images
    window.session_menu.selection = slides.selection = lambda: window.denoise_view.indices.tolist()
    views = {name: make_action(window, f"{label} as PNG…", None, tip, lambda n=name: window.export_image_dialog(n))
             for name, label, tip in (
                 ("decoder", "Decoder view", "The decoder's tab as shown: the canvas, grid, interpolation or path"),
                 ("codebook", "Codebook", "The VQ-VAE's codebook view as shown"),
                 ("denoise", "Denoise comparison", "The denoise view's clean, noisy and reconstructed images"))}
    window.export_actions = {"latent": slides.actions["scatter"], **views}  # Ctrl+E exports the one in use
    menu.addActions([slides.actions["scatter"], *views.values()])
    menu.addSeparator()
    menu.addActions([slides.actions["grid"], slides.actions["walk"]])
    window.path_tool = install_path_tool(window.session, window.latent_view, window.decoder_canvas, menu)  # Path as…
    menu.addSeparator()
    menu.addActions([slides.actions["latents"], slides.actions["images"]])


def build_status_bar(window: Any) -> None:
    """The status bar: the last action, and the open model, data set and training device."""
    status = window.statusBar()
    window.action_label = ElidedLabel("Ready")  # a long message is cut, not the window widened (issue 29)
    window.action_label.setObjectName("lastAction")
    window.model_label = QLabel()
    window.model_label.setObjectName("statusModel")
    window.dataset_label = QLabel()
    window.dataset_label.setObjectName("statusDataset")
    window.device_label = QLabel()
    window.device_label.setObjectName("statusDevice")
    status.addWidget(window.action_label, 1)
    for label in (window.model_label, window.dataset_label, window.device_label):
        status.addPermanentWidget(label)
