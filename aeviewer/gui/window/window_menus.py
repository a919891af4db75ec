"""The main window's menus, toolbar and status bar, built from its actions, docks and views.

Each builder returns what it made (a menu's parts, the status labels) for MainWindow to keep as its own
attributes; none sets anything on the window.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QDockWidget, QLabel, QMenu, QStatusBar, QToolBar

from aeviewer.gui.views.compare.compare_view import compare_with_dialog
from aeviewer.gui.widgets.fitting_label import ElidedLabel
from aeviewer.gui.views.latent.map_layers import layer_actions
from aeviewer.gui.views.latent.selection_tool import selection_menu
from aeviewer.gui.views.path.path_tool import PathTool, install_path_tool
from aeviewer.gui.window.session_menu import SessionMenu
from aeviewer.gui.dialogs.slide_exports import SlideExports
from aeviewer.gui.window.window_parts import make_action


@dataclass
class FileMenuParts:
    """What the File menu made that the window keeps."""

    compare_action: QAction
    recent_menu: QMenu
    session_menu: SessionMenu
    slide_exports: SlideExports
    export_actions: dict[str, QAction]  # by view name: Ctrl+E exports the one in use
    path_tool: PathTool
    layer_actions: list[QAction]  # the map's Images and Decoded manifold toggles (View menu and toolbar)
    selection_actions: dict[str, QAction]  # View › Selection's, by name


def build_menus_and_toolbar(window: Any, docks: Iterable[QDockWidget]) -> FileMenuParts:
    """The File, Training and View menus (View: one entry per dock, in ``docks``' order) and the toolbar."""
    bar = window.menuBar()
    file_menu = bar.addMenu("&File")
    file_menu.addAction(window.open_action)
    file_menu.addAction(window.picker_action)
    file_menu.addAction(window.open_data_action)
    file_menu.addAction(window.follow_action)  # issue 32: a run another process writes (gui/follow_run.py)
    file_menu.addAction(window.open_onnx_action)  # issue 21: a model trained outside aeviewer (gui/onnx_dialog.py)
    # issue 23: File › Compare with… (gui/compare_view.py)
    compare_action = make_action(window, "Compare with…", None, "Set 1 to 3 more models of the same data set "
                                 "beside this one, with linked selection", lambda: compare_with_dialog(window))
    file_menu.addAction(compare_action)
    recent_menu = file_menu.addMenu("Open &Recent")
    recent_menu.setObjectName("recentMenu")
    recent_menu.setToolTipsVisible(True)
    file_menu.addAction(window.save_action)
    file_menu.addAction(window.save_as_action)
    file_menu.addSeparator()
    session_menu = SessionMenu(window, file_menu)
    file_menu.addSeparator()
    file_menu.addAction(window.export_action)
    slides, export_actions, path_tool = build_export_menu(window, file_menu.addMenu("Export"))
    file_menu.addSeparator()
    file_menu.addAction(window.data_dir_action)
    file_menu.addSeparator()
    file_menu.addAction(window.quit_action)
    train_menu = bar.addMenu("&Training")
    train_menu.addAction(window.train_action)
    train_menu.addAction(window.stop_action)
    view_menu = bar.addMenu("&View")
    for dock in docks:
        view_menu.addAction(dock.toggleViewAction())
    view_menu.addSeparator()
    layers = layer_actions(window, window.latent_view.layers)  # Ctrl+I, Ctrl+M
    view_menu.addActions(layers)
    selections, selection_actions = selection_menu(window, window.latent_view.selection_tool)
    view_menu.addMenu(selections)
    view_menu.addSeparator()
    view_menu.addAction(window.reset_layout_action)
    window.addToolBar(build_toolbar(window, layers))
    return FileMenuParts(compare_action, recent_menu, session_menu, slides, export_actions, path_tool, layers,
                         selection_actions)


def build_toolbar(window: Any, layers: list[QAction]) -> QToolBar:
    toolbar = QToolBar("Main", window)
    toolbar.setObjectName("mainToolbar")
    toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
    for action in (window.open_action, window.picker_action, window.save_action, window.export_action):
        toolbar.addAction(action)
    toolbar.addSeparator()
    toolbar.addAction(window.train_action)
    toolbar.addAction(window.stop_action)
    toolbar.addSeparator()
    toolbar.addActions(layers)
    return toolbar


def build_export_menu(window: Any, menu: QMenu) -> tuple[SlideExports, dict[str, QAction], PathTool]:
    """File › Export: each thing once, by what it writes: the views as shown (one entry per exported row of the
    window's views table, ``window.specs``), then decodes over the map, then data."""
    menu.setObjectName("exportMenu")
    menu.setToolTipsVisible(True)
    slides = SlideExports(window.session, window.decoder_canvas, window.latent_view, window)
    views = {spec.export_name: make_action(window, f"{spec.export_label or spec.title} as PNG…", None, spec.export_tip,
                                           lambda n=spec.export_name: window.export_image_dialog(n))
             for spec in window.specs if spec.export_name}
    menu.addActions([slides.actions["scatter"], *views.values()])
    menu.addSeparator()
    menu.addActions([slides.actions["grid"], slides.actions["walk"]])
    path_tool = install_path_tool(window.session, window.latent_view, window.decoder_canvas, menu)  # Path as…
    menu.addSeparator()
    menu.addActions([slides.actions["latents"], slides.actions["images"]])
    return slides, {"latent": slides.actions["scatter"], **views}, path_tool


@dataclass
class StatusLabels:
    """The status bar's labels: the last action, and the open model, data set and training device."""

    action: ElidedLabel
    model: QLabel
    dataset: QLabel
    device: QLabel


def build_status_bar(status: QStatusBar) -> StatusLabels:
    labels = StatusLabels(ElidedLabel("Ready"), QLabel(), QLabel(), QLabel())  # a long message is cut (issue 29)
    for label, name in ((labels.action, "lastAction"), (labels.model, "statusModel"),
                        (labels.dataset, "statusDataset"), (labels.device, "statusDevice")):
        label.setObjectName(name)
    status.addWidget(labels.action, 1)
    for label in (labels.model, labels.dataset, labels.device):
        status.addPermanentWidget(label)
    return labels
