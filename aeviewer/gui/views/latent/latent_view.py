"""LatentView: the test set's latent points, one ScatterPlotItem per class, click or drag to pick a point.

Mouse: left press or left drag picks the current latent point (the decoder follows); Shift+left drag
or middle drag pans, right drag or the wheel zooms, right click opens pyqtgraph's menu.

A plain left press picks at once, from an event filter on the plot's viewport, rather than through
pyqtgraph's click-on-release: the image shows as the button goes down, and the release skips
pyqtgraph's click delivery (a walk of every item near the cursor, ~3 ms a click).
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, QPointF, QSignalBlocker, Qt, Signal
from PySide6.QtGui import QFont, QFontMetrics, QPainter, QPixmap
from PySide6.QtWidgets import QComboBox, QGraphicsItem, QHBoxLayout, QLabel, QSpinBox, QVBoxLayout, QWidget

from aeviewer.data.imageset import UNLABELLED
from aeviewer.gui.state.session import Session
from aeviewer.gui.views.latent.bookmarks import install_navigation_shortcuts
from aeviewer.gui.widgets.coalescing import CoalescingTimer
from aeviewer.gui.widgets.image_utils import NOT_EXPORTED, class_color, to_qpixmap
from aeviewer.gui.views.latent.legend_corner import place_legend
from aeviewer.gui.widgets.pg_items import HOVER_RADIUS_PX, ClassScatter, PickViewBox
from aeviewer.gui.views.latent.latent_maps import GUESS_NOTE, LatentMaps
from aeviewer.gui.views.latent.map_layers import MapLayers
from aeviewer.gui.views.latent.map_runner import MapRunner
from aeviewer.gui.views.latent.selection_tool import SelectionTool
from aeviewer.gui.views.latent.scatter_density import PointIndex, ScatterDensity
from aeviewer.projections.registry import KINDS, MAP_KINDS

__all__ = ["GUESS_NOTE", "LatentView"]



class ProjectionCombo(QComboBox):
    """The projection choice; says when its list opens (someone may be about to choose a map)."""

    popupShown = Signal()

    def showPopup(self) -> None:  # noqa: N802 - Qt's name
        self.popupShown.emit()
        super().showPopup()


class HoverInset(QLabel):
    """A small frameless card with the hovered test image and its label."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("latentHoverInset")
        self.setStyleSheet(
            "QLabel { background: rgba(255,255,255,235); border: 1px solid #888; border-radius: 4px; padding: 4px; }"
        )
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setProperty(NOT_EXPORTED, True)
        self.index: int | None = None
        self.caption = ""
        self.hide()

    def show_example(self, index: int, image: Any, caption: str, at: QPointF) -> None:
        if index != self.index:
            self.index = index
            self.caption = caption
            self.setPixmap(self._with_caption(image, caption))
            self.adjustSize()
        parent = self.parentWidget()
        x = int(at.x()) + 14
        y = int(at.y()) + 14
        if parent is not None:  # keep the card inside the plot
            x = min(x, parent.width() - self.width() - 2)
            y = min(y, parent.height() - self.height() - 2)
        self.move(max(0, x), max(0, y))
        self.show()
        self.raise_()

    @staticmethod
    def _with_caption(image: Any, caption: str) -> QPixmap:
        pix = to_qpixmap(image, 84)
        # A long class name ("smileys-and-emotion") widens the card rather than being cut off.
        width = max(pix.width(), QFontMetrics(QFont()).horizontalAdvance(caption) + 4)
        out = QPixmap(width, pix.height() + 18)
        out.fill(Qt.GlobalColor.white)
        painter = QPainter(out)
        painter.drawPixmap((out.width() - pix.width()) // 2, 0, pix)
        painter.drawText(0, pix.height(), out.width(), 18, Qt.AlignmentFlag.AlignCenter, caption)
        painter.end()
        return out

    def hide_example(self) -> None:
        self.index = None
        self.hide()


class LatentView(QWidget):
    """The latent scatter of ``session.coords`` coloured by class, with a crosshair on the current point."""

    pointPicked = Signal(float, float)  # every pick (click or drag step), in 2-D view coordinates
    classToggled = Signal(int, bool)  # class index, now visible
    hovered = Signal(int)  # index of the hovered test example, -1 when none

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("latentView")
        self.session = session
        self.dragging = False
        self._items: list[pg.ScatterPlotItem] = []
        self._class_of: np.ndarray = np.zeros(0, np.int64)

        self.viewbox = PickViewBox()
        self.plot = pg.PlotWidget(viewBox=self.viewbox, background="w")
        self.plot.setObjectName("latentPlot")
        self.plot.setAntialiasing(False)
        self.legend = self.plot.addLegend(offset=None, labelTextColor="k")  # above the plot: place_legend
        self.legend.sigSampleClicked.connect(self._on_legend_clicked)
        pen = pg.mkPen((30, 30, 30), width=1, style=Qt.PenStyle.DashLine)
        self.vline = pg.InfiniteLine(angle=90, movable=False, pen=pen)
        self.hline = pg.InfiniteLine(angle=0, movable=False, pen=pen)
        for line in (self.vline, self.hline):
            line.setZValue(10)
            line.hide()
            self.plot.addItem(line, ignoreBounds=True)
        self.drawn_marker = pg.ScatterPlotItem(
            size=18, symbol="star", pen=pg.mkPen("k", width=1.5), brush=pg.mkBrush(255, 215, 0), antialias=True
        )
        self.drawn_marker.setZValue(11)
        self._drawn_z: np.ndarray | None = None  # the starred code, kept to project it again
        self._crosshair_z: Any = None
        self._crosshair_timer = CoalescingTimer(self, self._move_crosshair)
        self.plot.addItem(self.drawn_marker, ignoreBounds=True)
        self.inset = HoverInset(self.plot)
        self.density = ScatterDensity(self.plot)  # a large set zoomed out: a 2-D histogram instead of dots
        self._index = PointIndex(np.zeros((0, 2), np.float32))

        self.projection_box = self._build_projection_controls()
        # UMAP / t-SNE: the runner, parameter fields, far shade
        self.maps = LatentMaps(session, self.plot, self.projection_box, self.projection_combo.currentData,
                               self._move_drawn_star, parent=self)
        self.map_params = self.maps.params
        self.far_shade = self.maps.far_shade
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.projection_box)
        # a row of its own: beside the projection list the map's fields made the scatter 688 px wide at least,
        # which squeezed the decoder on a laptop screen
        self.map_params.setContentsMargins(4, 0, 4, 0)
        layout.addWidget(self.map_params)
        layout.addWidget(self.plot, 1)
        self.setToolTip("Click or drag: pick a latent point · Shift/middle drag: pan · wheel/right drag: zoom")

        self.viewbox.sigPick.connect(self._on_pick)
        self.viewbox.sigPickDrag.connect(self._on_pick_drag)
        self._press_picked = False  # the left button went down on the plot and picked there
        self.plot.viewport().installEventFilter(self)
        self.plot.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self._skip_release_hover = False
        self._scene_hover = self.plot.scene().sendHoverEvents
        self.plot.scene().sendHoverEvents = self._send_hover_events  # see _send_hover_events
        session.modelChanged.connect(self._on_model_changed)
        session.encodingsChanged.connect(self._on_encodings_changed)
        session.currentPointChanged.connect(self._on_current_point)
        session.drawnPointChanged.connect(self.show_drawn_point)
        self.viewbox.sigRangeChanged.connect(self._publish_visible_region)
        self._publish_visible_region()
        self._on_model_changed()
        self._on_encodings_changed()
        self.viewbox.sigResized.connect(self._place_legend)  # the legend's share of the plot changes
        if session.current_z is not None:
            self._on_current_point(session.current_z)
        self.navigation = session.navigation  # the Session's; its keys work while the map has focus
        self.shortcuts = install_navigation_shortcuts(self, session.navigation)
        self.layers = MapLayers(self)  # thumbnails at the points, the decoded manifold under them
        self.selection_tool = SelectionTool(self)  # lasso/rectangle selections that stay

    # -- public API --------------------------------------------------------------------------------
    def class_items(self) -> list[pg.ScatterPlotItem]:
        return list(self._items)

    def set_class_visible(self, k: int, visible: bool) -> None:
        """Show or hide class ``k`` (its item is kept, only hidden)."""
        item = self._items[k]
        if item.isVisible() != visible:
            item.setVisible(visible)
            self._refresh_legend_sample(k)
            self.density.set_hidden(self._hidden_classes())
            self.classToggled.emit(k, visible)

    def is_class_visible(self, k: int) -> bool:
        return self._items[k].isVisible()

    def visible_range(self) -> tuple[tuple[float, float], tuple[float, float]]:
        """The visible region ((x0, x1), (y0, y1)) in 2-D view coordinates."""
        (x0, x1), (y0, y1) = self.viewbox.viewRange()
        return (float(x0), float(x1)), (float(y0), float(y1))

    def _publish_visible_region(self, *_: Any) -> None:
        self.session.visible_region = self.visible_range()
        self._update_density_mode()

    def showing_density(self) -> bool:
        """The scatter is drawn as a density image (a large set, zoomed out), not as points."""
        return self.density.showing

    def _update_density_mode(self) -> None:
        self.density.update_mode(*self.visible_range(), self._items)

    def _hidden_classes(self) -> list[int]:
        return [k for k, item in enumerate(self._items) if not item.isVisible()]

    @property
    def _runner(self) -> MapRunner | None:
        return self.maps.runner

    def map_runner(self) -> MapRunner:
        return self.maps.map_runner()

    def drawn_code(self) -> np.ndarray | None:
        """The starred code (1, L), or None."""
        return self._drawn_z

    def crosshair_pos(self) -> tuple[float, float] | None:
        if self._crosshair_timer.isActive():  # a move still waiting for its turn: where it goes
            self._crosshair_timer.stop()
            self._move_crosshair()
        if not self.vline.isVisible():
            return None
        return float(self.vline.value()), float(self.hline.value())

    def show_drawn_point(self, z: Any) -> None:
        """Mark a latent vector (a drawing's code) with a star; None clears it. The star follows a change of
        projection (PCA, another pair of dimensions) like the scatter does."""
        self._drawn_z = None if z is None else np.asarray(z, np.float32).reshape(1, -1)
        projection = self.session.projection
        if z is None or projection is None:
            self.drawn_marker.setData([], [])
            return
        p = np.asarray(projection.to_2d(self._drawn_z))[0]  # on a map: near its nearest codes, at once
        self.drawn_marker.setData([float(p[0])], [float(p[1])])
        self.maps.place_drawn(self._drawn_z)  # then where the map's own transform puts it

    def _move_drawn_star(self, x: float, y: float) -> None:
        """The map's own transform placed the drawing's code at (x, y); the star goes there unless it was cleared."""
        if self._drawn_z is not None:
            self.drawn_marker.setData([x], [y])

    def drawn_point(self) -> tuple[float, float] | None:
        x, y = self.drawn_marker.getData()
        return (float(x[0]), float(y[0])) if len(x) else None

    # -- extension points: tools drawn over the map (the path tool) use these, never the plot itself ----------
    def add_overlay(self, item: pg.GraphicsObject) -> None:
        """Draw ``item`` over the scatter in view coordinates; it does not change the auto-range."""
        self.plot.addItem(item, ignoreBounds=True)

    def remove_overlay(self, item: pg.GraphicsObject) -> None:
        self.plot.removeItem(item)

    def add_tool(self, widget: QWidget) -> None:
        """A button (or any small widget) at the end of the projection row, before its stretch."""
        row = self.projection_box.layout()
        widget.setParent(self.projection_box)
        row.insertWidget(row.count() - 1, widget)

    def filter_plot_input(self, watcher: QObject) -> tuple[QWidget, QWidget]:
        """Let ``watcher`` see the plot's mouse presses (on its viewport, before the pick) and keys (on the plot
        widget) first; returns (plot widget, viewport), the objects its ``eventFilter`` is called with."""
        viewport = self.plot.viewport()
        viewport.installEventFilter(watcher)
        self.plot.installEventFilter(watcher)
        return self.plot, viewport

    def widget_to_view(self, pos: QPointF) -> tuple[float, float]:
        """The view point under ``pos`` in the plot's viewport (the inverse of ``view_to_widget``)."""
        scene = self.plot.viewportTransform().inverted()[0].map(pos)
        p = self.viewbox.mapSceneToView(scene)
        return float(p.x()), float(p.y())

    def view_to_widget(self, x: float, y: float) -> QPointF:
        """Where the view point (x, y) lies in the plot widget's viewport (for tests and insets)."""
        scene = self.viewbox.mapViewToScene(QPointF(x, y))
        return self.plot.viewportTransform().map(scene)  # sub-pixel (mapFromScene rounds to whole pixels)

    # -- building ------------------------------------------------------------------------------------
    def _build_projection_controls(self) -> QWidget:
        box = QWidget(self)
        row = QHBoxLayout(box)
        row.setContentsMargins(4, 2, 4, 2)
        row.addWidget(QLabel("Projection:"))
        self.projection_combo = ProjectionCombo(box)
        self.projection_combo.popupShown.connect(lambda: self.maps.warm())
        self.projection_combo.setObjectName("projectionCombo")
        self.projection_combo.addItem("PCA", "pca")
        self.projection_combo.addItem("Two dimensions", "pair")
        for name in MAP_KINDS:
            self.projection_combo.addItem(KINDS[name].label, name)
            self.projection_combo.setItemData(self.projection_combo.count() - 1, KINDS[name].tooltip,
                                              Qt.ItemDataRole.ToolTipRole)
        self.projection_combo.setToolTip("How a latent space wider than 2 is drawn (PCA has an exact inverse; "
                                         "UMAP and t-SNE are computed in the background, clicks interpolate)")
        self.dim_x = QSpinBox(box)
        self.dim_y = QSpinBox(box)
        for spin, name in ((self.dim_x, "x"), (self.dim_y, "y")):
            spin.setObjectName(f"projectionDim{name.upper()}")
            spin.setPrefix(f"{name}: z")
            spin.setToolTip(f"Latent dimension on the {name} axis")
        row.addWidget(self.projection_combo)
        row.addWidget(self.dim_x)
        row.addWidget(self.dim_y)
        row.addStretch(1)
        self.projection_combo.activated.connect(self._apply_projection)
        self.dim_x.valueChanged.connect(self._apply_projection)
        self.dim_y.valueChanged.connect(self._apply_projection)
        return box

    def _ensure_class_items(self, names: tuple[str, ...]) -> None:
        """One ScatterPlotItem per class, with one shared brush each; re-made only when the classes change."""
        if [item.name() for item in self._items] == list(names):
            return
        for item in self._items:
            self.legend.removeItem(item)
            self.plot.removeItem(item)
        self._items = []
        for k, name in enumerate(names):
            item = ClassScatter(
                pen=None, brush=pg.mkBrush(*class_color(k), 200), size=5, symbol="o",
                pxMode=True, useCache=True, antialias=False, name=name,
            )
            # Cache the rendered dots as a pixmap: moving the crosshair or the inset then only blits it.
            item.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
            self.plot.addItem(item)
            self._items.append(item)

    # -- slots -------------------------------------------------------------------------------------------
    def _on_model_changed(self) -> None:
        self._clear_hover()  # its image is the old model's test image
        model = self.session.model
        size = int(model.latent_size) if model is not None else 2
        self.projection_box.setVisible(size > 2)
        for spin, value in ((self.dim_x, 0), (self.dim_y, 1)):
            with QSignalBlocker(spin):
                spin.setRange(0, max(0, size - 1))
                spin.setValue(min(value, max(0, size - 1)))
        self.maps.forget()
        self._sync_projection_controls()
        self._ensure_class_items(self.session.class_names)
        self.viewbox.enableAutoRange()
        self.show_drawn_point(None)

    def _on_encodings_changed(self) -> None:
        coords = np.asarray(self.session.coords, np.float32)
        labels = np.asarray(self.session.labels, np.int64)
        names = self.session.class_names
        if len(labels) != len(coords):
            labels = np.zeros(len(coords), np.int64)
        if not names and len(coords):  # a set that came without class names: one class is an unlabelled set
            top = int(labels.max())
            names = tuple(str(k) for k in range(top + 1)) if top > 0 else (UNLABELLED,)
        self._ensure_class_items(names)
        self._coords = coords
        self._labels = labels
        self._index = PointIndex(coords)
        self.density.set_points(coords, labels, len(self._items), self._hidden_classes())
        # size by count: small dots keep 60,000 points readable
        size = 5 if len(coords) <= 12000 else 3
        for k, item in enumerate(self._items):
            mask = labels == k
            if item.opts["size"] == size:
                item.move_points(coords[mask, 0], coords[mask, 1])
            else:
                item.setData(x=coords[mask, 0], y=coords[mask, 1], size=size)
            if self.legend.getLabel(item) is None:
                self.legend.addItem(item, item.name())
        self._place_legend()
        self._sync_projection_controls()
        labels_xy = (self.session.projection.axis_labels if self.session.projection is not None else ("z0", "z1"))
        self.plot.setLabel("bottom", labels_xy[0])
        self.plot.setLabel("left", labels_xy[1])
        self._update_density_mode()
        if self.session.current_z is not None:
            self._on_current_point(self.session.current_z)  # the projection may have changed
        if self._drawn_z is not None:
            self.show_drawn_point(self._drawn_z)

    def _place_legend(self, *_: Any) -> None:
        place_legend(self.legend, self.plot.getPlotItem())

    def _on_current_point(self, z: Any) -> None:
        """The crosshair follows the point one event-loop turn later: the decoded image a click asks for is
        painted first, without waiting for the plot's repaint in the same window update (~2 ms)."""
        self._crosshair_z = z
        self._crosshair_timer.request()

    def _move_crosshair(self) -> None:
        z, projection = self._crosshair_z, self.session.projection
        if z is None or projection is None:
            return
        p = np.asarray(projection.to_2d(np.asarray(z, np.float32).reshape(1, -1)))[0]
        self.vline.setPos(float(p[0]))
        self.hline.setPos(float(p[1]))
        self.vline.show()
        self.hline.show()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Pick on a plain left press in the plot (not on the legend, whose samples toggle classes).
        The event still goes on to pyqtgraph, which needs the press to start a picking drag."""
        kind = event.type()
        if kind == QEvent.Type.Leave:  # pyqtgraph sends no move once the mouse is outside the plot
            self._clear_hover()
        elif kind == QEvent.Type.MouseButtonPress and event.button() == Qt.MouseButton.LeftButton:
            self._press_picked = False
            if not event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
                scene_pos = self.plot.viewportTransform().inverted()[0].map(event.position())  # sub-pixel
                if (self.viewbox.sceneBoundingRect().contains(scene_pos)
                        and not (self.legend.isVisible() and self.legend.sceneBoundingRect().contains(scene_pos))):
                    self._press_picked = True
                    p = self.viewbox.mapSceneToView(scene_pos)
                    self._pick(p.x(), p.y(), now=True)
        elif kind == QEvent.Type.MouseButtonRelease and event.button() == Qt.MouseButton.LeftButton:
            if self._press_picked:
                self._press_picked = False
                scene = self.plot.scene()
                if Qt.MouseButton.LeftButton not in scene.dragButtons:
                    # the press already picked: drop pyqtgraph's pending click so that the release
                    # neither picks again nor walks the items near the cursor to deliver it
                    scene.clickEvents = [e for e in scene.clickEvents if e.button() != Qt.MouseButton.LeftButton]
                    self._skip_release_hover = True
        return False

    def _send_hover_events(self, ev: Any, exitOnly: bool = False) -> None:  # noqa: N803 (pyqtgraph's name)
        """pyqtgraph's hover pass, except the one its scene runs after the release of a picking click: the
        mouse has not moved since the last hover, and that pass walks the items near the cursor (~0.7 ms)
        before the decoded image can be painted. The next mouse move hovers as usual."""
        if self._skip_release_hover and not exitOnly and ev.type() == QEvent.Type.GraphicsSceneMouseRelease:
            self._skip_release_hover = False
            return
        self._skip_release_hover = False
        self._scene_hover(ev, exitOnly)

    def _on_pick(self, x: float, y: float) -> None:
        self._pick(x, y, now=not self.dragging)  # drag steps coalesce on the canvas's frame timer

    def _pick(self, x: float, y: float, now: bool) -> None:
        self.pointPicked.emit(x, y)
        if self.session.model is not None:
            self.maps.say_if_guess(x, y)
            self.session.set_current_point_2d(x, y, now=now)

    def _on_pick_drag(self, active: bool) -> None:
        self.dragging = active
        self.session.set_moving(active)  # a drag is one move: the history records where it ends
        if active:
            self.inset.hide_example()

    def _on_legend_clicked(self, item: pg.ScatterPlotItem) -> None:
        # pyqtgraph's legend sample already flipped the item's visibility
        if item in self._items:
            self.density.set_hidden(self._hidden_classes())
            self.classToggled.emit(self._items.index(item), item.isVisible())

    def _refresh_legend_sample(self, k: int) -> None:
        for sample, _label in self.legend.items:
            if sample.item is self._items[k]:
                sample.update()

    def _apply_projection(self, *_: Any) -> None:
        kind = self.projection_combo.currentData()
        self._show_controls_of(kind)
        if self.session.model is None:
            return
        if kind in MAP_KINDS:
            self.maps.choose(kind, chosen=self.sender() is self.projection_combo)
            return
        self.maps.forget()
        dims = (self.dim_x.value(), self.dim_y.value())
        if kind == "pair" and dims[0] == dims[1]:
            return  # a dimension against itself is a line, not a map
        self.session.set_projection(kind, dims)

    def _sync_projection_controls(self) -> None:
        kind = self.session.projection_kind
        index = self.projection_combo.findData(kind)
        if index >= 0:
            self.projection_combo.setCurrentIndex(index)
        self._show_controls_of(kind)

    def _show_controls_of(self, kind: str) -> None:
        """The x/y dimension fields only for a pair of dims, a map's parameters only for that map: hidden
        fields take no width from the decoder dock beside the plot."""
        for spin in (self.dim_x, self.dim_y):
            spin.setEnabled(kind == "pair")
            spin.setVisible(kind == "pair")
        self.maps.show_params(kind)

    # -- hovering ------------------------------------------------------------------------------------
    def _on_mouse_moved(self, scene_pos: QPointF) -> None:
        if self.dragging or not self.viewbox.sceneBoundingRect().contains(scene_pos):
            self._set_hover(-1, scene_pos)
            return
        self._set_hover(self.nearest_visible(scene_pos), scene_pos)

    def nearest_visible(self, scene_pos: QPointF) -> int:
        """Index of the visible test point nearest to ``scene_pos`` within HOVER_RADIUS_PX, else -1."""
        view = self.viewbox.mapSceneToView(scene_pos)
        px, py = self.viewbox.viewPixelSize()  # view units per screen pixel
        if px <= 0 or py <= 0:
            return -1
        hidden = self._hidden_classes()
        excluded = np.isin(self._labels, hidden) if hidden else None
        return self._index.nearest(view.x(), view.y(), px, py, HOVER_RADIUS_PX, excluded)

    def _clear_hover(self) -> None:
        if self.inset.index is not None:
            self.inset.hide_example()
            self.hovered.emit(-1)

    def _set_hover(self, index: int, scene_pos: QPointF) -> None:
        test_set = self.session.test_set
        if index < 0 or test_set is None:
            self._clear_hover()
            return
        names = self.session.class_names
        label = int(self._labels[index])
        caption = f"#{index}: {names[label] if label < len(names) else label}"
        changed = index != self.inset.index
        self.inset.show_example(index, test_set.images[index], caption, self.plot.mapFromScene(scene_pos))
        if changed:
            self.hovered.emit(index)
