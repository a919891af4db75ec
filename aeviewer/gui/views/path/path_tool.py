"""Paths drawn on the map: a polyline of clicks, decoded along its length as a strip and as an animation.

:func:`install_path_tool` puts a "Path" toggle in the latent view's toolbar row, a "Path" tab beside the
decoder's Interpolate tab, and File › Export › Path as GIF or MP4. While the toggle is on (or with Alt held) a
click on the map adds a vertex; Enter or a double-click finishes the path, Esc drops it. The finished path is
sampled at equal map distances (:func:`aeviewer.explore.walks.along_map_path`) and decoded; Play steps the
Session's current point through its frames on a timer, so every view follows. Nothing here reaches into the views
beyond what they show publicly: the view's plot and toolbar row, the canvas's tab widget.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, QPointF, Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QLabel, QMenu, QMessageBox, QToolButton, QWidget

from aeviewer.explore import export
from aeviewer.explore import walks
from aeviewer.errors import AeviewerError
from aeviewer.gui.dialogs.file_dialogs import ask_save_file
from aeviewer.gui.widgets.image_utils import image_panel, make_button, make_spin, show_image, tile

FRAME_MS = 80  # 12.5 frames a second: a path of 24 steps plays in about two seconds
DEFAULT_STEPS = 16
SAME_PLACE_PX = 4  # a double-click's second press this close to the last vertex adds none
FINISH_KEYS = (Qt.Key.Key_Return, Qt.Key.Key_Enter)


class PathTool(QObject):
    def __init__(self, session: Any, latent_view: Any, decoder_canvas: Any, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("pathTool")
        self.session, self.latent_view, self.canvas = session, latent_view, decoder_canvas
        self.vertices: list[tuple[float, float]] = []  # the path being drawn, in map coordinates
        self.path_vertices: np.ndarray | None = None  # the finished path's vertices
        self.z: np.ndarray | None = None  # its latent points, one per frame
        self.frames: np.ndarray | None = None
        self.frame_index = 0
        self._timer = QTimer(self)
        self._timer.setInterval(FRAME_MS)
        self._timer.timeout.connect(self.step_animation)

        self.line = pg.PlotDataItem(pen=pg.mkPen((200, 30, 30), width=2), symbol="o", symbolSize=7,
                                    symbolBrush=(200, 30, 30), symbolPen="w")
        self.line.setZValue(12)
        latent_view.plot.addItem(self.line, ignoreBounds=True)
        self.toggle = self._build_toggle()
        self.panel = self._build_panel()
        decoder_canvas.tabs.addTab(self.panel, "Path")
        # kept, so that events during the window's teardown are told apart without asking a deleted widget
        self._plot, self._viewport = latent_view.plot, latent_view.plot.viewport()
        self._viewport.installEventFilter(self)  # installed last, so it sees a press first
        self._plot.installEventFilter(self)  # keys go to the plot widget
        session.modelChanged.connect(self.clear)
        session.currentPointChanged.connect(self._on_point_moved)
        self._played: np.ndarray | None = None  # the frame playback made current last

    # -- building ------------------------------------------------------------------------------------
    def _build_toggle(self) -> QToolButton:
        """One checkable action (Ctrl+L while the map is on screen) shown as a button in the view's toolbar row
        (there only for a latent wider than 2) and in the Path tab (always)."""
        self.draw_action = QAction("Path", self.latent_view)
        self.draw_action.setObjectName("pathDrawAction")
        self.draw_action.setCheckable(True)
        self.draw_action.setShortcut(QKeySequence("Ctrl+L"))
        self.draw_action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        self.draw_action.setToolTip("Draw a path on the map (Ctrl+L): each click adds a point, Enter or a "
                                    "double-click finishes it, Esc drops it. Alt+click adds a point without this mode")
        self.latent_view.addAction(self.draw_action)
        toggle = QToolButton(self.latent_view.projection_box)
        toggle.setObjectName("pathToggle")
        toggle.setDefaultAction(self.draw_action)
        row = self.latent_view.projection_box.layout()
        row.insertWidget(row.count() - 1, toggle)  # before the row's stretch
        return toggle

    def _build_panel(self) -> QWidget:
        self.steps = make_spin(self.canvas, "pathSteps", 2, 200, DEFAULT_STEPS, "steps: ",
                               "Frames along the path, equally spaced on the map, both ends included")
        self.steps.valueChanged.connect(lambda _: self.decode_path())
        self.play_button = make_button(self.canvas, "Play", "pathPlay", "Move the current point through the path's "
                                       "frames, again and again: the decoder and the map follow", self.toggle_play)
        self.play_button.setCheckable(True)
        clear = make_button(self.canvas, "Clear", "pathClear", "Remove the path from the map", self.clear)
        draw = QToolButton(self.canvas)
        draw.setObjectName("pathDraw")
        draw.setDefaultAction(self.draw_action)
        draw.setText("Draw on the map")
        self.status = QLabel("Draw a path on the map: Path (Ctrl+L) or Alt+click, Enter to finish", self.canvas)
        self.status.setObjectName("pathStatus")
        panel, self.strip_view, self.strip_item = image_panel(self.canvas, [draw, self.steps, self.play_button, clear],
                                                              self.status)
        panel.setObjectName("pathPanel")
        return panel

    # -- drawing ---------------------------------------------------------------------------------------
    @property
    def drawing(self) -> bool:
        return self.draw_action.isChecked() or bool(self.vertices)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        plot = self._plot
        if watched is self._viewport and kind in (QEvent.Type.MouseButtonPress, QEvent.Type.MouseButtonDblClick):
            if event.button() != Qt.MouseButton.LeftButton:
                return False
            alt = bool(event.modifiers() & Qt.KeyboardModifier.AltModifier)
            if not (self.draw_action.isChecked() or alt):
                return False
            point = self._view_point(event.position())
            if kind == QEvent.Type.MouseButtonPress or not self._is_last_vertex(point):
                self.add_vertex(point)  # a double-click's first press has usually added its vertex already
            if kind == QEvent.Type.MouseButtonDblClick:
                self.finish()
            plot.setFocus()
            return True  # no pick, no pyqtgraph drag: the press belongs to the path
        if watched is plot and self.vertices and kind in (QEvent.Type.ShortcutOverride, QEvent.Type.KeyPress):
            key = event.key()
            if key in FINISH_KEYS or key == Qt.Key.Key_Escape:
                if kind == QEvent.Type.ShortcutOverride:
                    event.accept()  # Esc is also the window's Stop training: while drawing it drops the path
                elif key == Qt.Key.Key_Escape:
                    self.cancel()
                else:
                    self.finish()
                return True
        return False

    def _view_point(self, viewport_pos: QPointF) -> tuple[float, float]:
        scene = self.latent_view.plot.viewportTransform().inverted()[0].map(viewport_pos)
        p = self.latent_view.viewbox.mapSceneToView(scene)
        return float(p.x()), float(p.y())

    def _is_last_vertex(self, point: tuple[float, float]) -> bool:
        if not self.vertices:
            return False
        last = self.latent_view.view_to_widget(*self.vertices[-1])
        here = self.latent_view.view_to_widget(*point)
        return (last - here).manhattanLength() <= SAME_PLACE_PX

    def add_vertex(self, point: tuple[float, float]) -> None:
        if not self.vertices:
            self._stop()
            self.path_vertices = None
        self.vertices.append(point)
        self._draw_line(self.vertices)
        self.status.setText(f"{len(self.vertices)} points: Enter or double-click to finish, Esc to drop")

    def finish(self) -> np.ndarray | None:
        """End the path being drawn and decode along it; returns its frames (None for fewer than 2 points)."""
        if len(self.vertices) < 2:
            self.status.setText("A path needs at least 2 points")
            return None
        self.path_vertices = np.asarray(self.vertices, np.float32)
        self.vertices = []
        self.draw_action.setChecked(False)
        frames = self.decode_path()
        self.canvas.tabs.setCurrentWidget(self.panel)
        return frames

    def cancel(self) -> None:
        self.vertices = []
        self._draw_line(self.path_vertices if self.path_vertices is not None else [])
        self.status.setText("Path dropped")

    def clear(self) -> None:
        self._stop()
        self.vertices, self.path_vertices, self.z, self.frames = [], None, None, None
        self._draw_line([])
        self.strip_item.clear()
        self.status.setText("Draw a path on the map: Path (Ctrl+L) or Alt+click, Enter to finish")

    def _draw_line(self, points: Any) -> None:
        points = np.asarray(points, np.float64).reshape(-1, 2)
        self.line.setData(points[:, 0], points[:, 1])

    # -- decoding and playing ------------------------------------------------------------------------------
    def decode_path(self) -> np.ndarray | None:
        """Decode ``steps`` points equally spaced along the finished path; show them as a strip."""
        projection = self.session.projection
        if self.path_vertices is None or projection is None or self.session.model is None:
            return None
        self.z = np.asarray(walks.along_map_path(projection, self.path_vertices, self.steps.value()), np.float32)
        self.frames = np.asarray(self.session.decode(self.z))
        show_image(self.strip_view, self.strip_item, tile(self.frames, ncols=len(self.frames), pad=2))
        self.status.setText(f"{len(self.frames)} frames along a path of {len(self.path_vertices)} points")
        self.frame_index = 0
        return self.frames

    def toggle_play(self) -> None:
        if self._timer.isActive():
            self._stop()
        elif self.z is not None:
            self.frame_index = 0
            self.play_button.setChecked(True)
            self.play_button.setText("Stop")
            self.session.set_moving(True)
            self._timer.start()
        else:
            self.play_button.setChecked(False)

    def step_animation(self) -> None:
        """Make the path's next frame the current point, so the decoder, the crosshair and every other view
        follow it (it loops until stopped; moving the point any other way stops it)."""
        if self.z is None:
            self._stop()
            return
        self._played = self.z[self.frame_index]
        self.frame_index = (self.frame_index + 1) % len(self.z)
        self.session.set_current_z(self._played)

    def _on_point_moved(self, z: Any) -> None:
        if self._timer.isActive() and z is not self._played and not np.array_equal(z, self._played):
            self._stop()  # a click or a key moved the point: it stays where it was put

    def _stop(self) -> None:
        """Stop playing; the current point stays on the frame shown last (Ctrl+Z goes back to before Play)."""
        self._timer.stop()
        self._played = None
        self.session.set_moving(False)
        self.play_button.setChecked(False)
        self.play_button.setText("Play")

    # -- export ------------------------------------------------------------------------------------------
    def export_animation(self, path: str | Path) -> Path:
        """The path's frames as a GIF or MP4 (by the suffix), or a PNG strip."""
        if self.frames is None:
            raise AeviewerError("draw a path on the map first (Path, or Alt+click; Enter to finish)")
        path = Path(path)
        if path.suffix.lower() == ".png":
            return export.write_strip(path, self.frames)
        return export.write_animation(path, self.frames)

    def export_dialog(self) -> None:
        parent = self.latent_view.window()
        path = ask_save_file(parent, "Export the path", "path.gif", "GIF or MP4 animation, or PNG strip (*.gif *.mp4 *.png)")
        if not path:
            return
        try:
            written = self.export_animation(path)
        except AeviewerError as err:
            QMessageBox.warning(parent, "Could not export", str(err))
            return
        self.session.message.emit(f"Exported {written.name}")


def install_path_tool(session: Any, latent_view: Any, decoder_canvas: Any, export_menu: QMenu) -> PathTool:
    """The path tool on ``latent_view``, its tab in ``decoder_canvas`` and its entry in ``export_menu``."""
    tool = PathTool(session, latent_view, decoder_canvas, latent_view)
    action = export_menu.addAction("Path as GIF or MP4…", tool.export_dialog)
    action.setToolTip("The path drawn on the map, decoded frame by frame, as a GIF or MP4 animation or a PNG strip")
    tool.export_action = action
    return tool
