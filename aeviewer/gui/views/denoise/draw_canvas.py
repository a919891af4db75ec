"""DrawCanvas: draw a digit (or, for a colour model, a picture with a brush colour) with the mouse; it is
encoded live, marked in the scatter and reconstructed.

The drawing's latent point reaches the LatentView through the Session's ``drawnPointChanged``, so
neither view needs a reference to the other.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPaintEvent, QResizeEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from aeviewer.data.imageset import ImageSet
from aeviewer.gui.views.denoise.brush_palette import BrushPalette
from aeviewer.gui.widgets.coalescing import CoalescingTimer
from aeviewer.gui.state.session import Session
from aeviewer.gui.widgets.image_utils import as_display, make_button, to_qimage, to_qpixmap, wrapped_label

ENCODE_DEBOUNCE_MS = 40  # encode at most ~25 times a second while the pen moves
DRAW_HINT = "Draw with the left mouse button"


def stamp(canvas: np.ndarray, row: float, col: float, radius: float, color: np.ndarray | None = None) -> None:
    """Add a soft round brush at (row, col), in place: ink a = clip(1.5 − d/r, 0, 1) where d is the distance.
    A grey (H, W) canvas takes white ink, max(canvas, a); an RGB (H, W, 3) canvas is painted over with ``color``,
    canvas + a·(color − canvas)."""
    h, w = canvas.shape[:2]
    rr, cc = np.mgrid[0:h, 0:w]
    d = np.sqrt((rr + 0.5 - row) ** 2 + (cc + 0.5 - col) ** 2)
    ink = np.clip(1.5 - d / radius, 0.0, 1.0)
    if color is None:
        np.maximum(canvas, ink, out=canvas)
    else:
        canvas += ink[..., None] * (np.asarray(color, np.float32) - canvas)


def background_of(test_set: ImageSet | None, channels: int) -> np.ndarray:
    """The paper a drawing starts on: black for a grey model (MNIST's), else the median corner colour of the
    test images (white for emoji and icons), white without a test set. (channels,) float32 in [0, 1]."""
    if channels == 1:
        return np.zeros(1, np.float32)
    if test_set is None or len(test_set) == 0 or test_set.image_shape[0] != channels:
        return np.ones(channels, np.float32)
    corners = test_set.images[:, :, [0, 0, -1, -1], [0, -1, 0, -1]]  # (N, C, 4)
    return (corners.permute(1, 0, 2).reshape(channels, -1).float().median(1).values / 255.0).numpy()


class PaintArea(QWidget):
    """The upscaled pixel canvas itself; mouse positions map to fractional pixel coordinates."""

    stroked = Signal()

    def __init__(self, owner: "DrawCanvas") -> None:
        super().__init__(owner)
        self.owner = owner
        self.setObjectName("drawPaintArea")
        self.setMinimumSize(96, 96)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self._last: tuple[float, float] | None = None

    def _square(self) -> QRectF:
        side = min(self.width(), self.height())
        return QRectF((self.width() - side) / 2, (self.height() - side) / 2, side, side)

    def to_pixel(self, pos: QPointF) -> tuple[float, float]:
        """Widget position → (row, col) in canvas pixels."""
        rect = self._square()
        h, w = self.owner.canvas.shape
        return (pos.y() - rect.top()) / rect.height() * h, (pos.x() - rect.left()) / rect.width() * w

    def from_pixel(self, row: float, col: float) -> QPointF:
        rect = self._square()
        h, w = self.owner.canvas.shape
        return QPointF(rect.left() + col / w * rect.width(), rect.top() + row / h * rect.height())

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(235, 235, 235))
        painter.drawImage(self._square(), to_qimage(self.owner.canvas))
        painter.setPen(QColor(120, 120, 120))
        painter.drawRect(self._square().adjusted(0, 0, -1, -1))
        painter.end()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self._last = self.to_pixel(event.position())
            self.owner.stroke([self._last])

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if event.buttons() & Qt.MouseButton.LeftButton and self._last is not None:
            here = self.to_pixel(event.position())
            self.owner.stroke([self._last, here])
            self._last = here

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        self._last = None


class DrawCanvas(QWidget):
    """A small drawing canvas at the model's image size, its live reconstruction and its latent point."""

    encoded = Signal(object)  # the drawing's latent vector z (L,)

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("drawCanvas")
        self.session = session
        self.canvas = np.zeros((28, 28), np.float32)  # (H, W) for a grey model, (H, W, 3) for a colour one
        self.background = np.zeros(1, np.float32)
        self.brush_color = np.zeros(3, np.float32)
        self._inked = False
        self.last_z: np.ndarray | None = None
        self.last_reconstruction: np.ndarray | None = None
        self.encode_count = 0

        self.area = PaintArea(self)
        self.recon_label = QLabel(self)
        self.recon_label.setObjectName("drawReconstruction")
        self.recon_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.recon_label.setMinimumSize(96, 96)
        self.recon_label.setStyleSheet("QLabel { background: #ebebeb; }")
        self.clear_button = make_button(self, "Clear", "drawClearButton", "Wipe the drawing", self.clear)
        self.status = wrapped_label(DRAW_HINT, self)
        self.palette_row = BrushPalette(self)
        self.palette_row.colorChosen.connect(self.set_brush_color)

        panes = QHBoxLayout()
        for title, widget in (("Your drawing", self.area), ("Reconstruction", self.recon_label)):
            col = QVBoxLayout()
            col.addWidget(QLabel(title, self))
            col.addWidget(widget, 1)
            panes.addLayout(col, 1)
        row = QHBoxLayout()
        row.addWidget(self.clear_button)
        row.addWidget(self.status, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(panes, 1)
        layout.addWidget(self.palette_row)
        layout.addLayout(row)

        self._timer = CoalescingTimer(self, self.encode_now, ENCODE_DEBOUNCE_MS)
        session.modelChanged.connect(self._on_model_changed)
        session.weightsUpdated.connect(self._schedule)
        self._on_model_changed()

    # -- public API -----------------------------------------------------------------------------------
    def image(self) -> np.ndarray:
        """The drawing, float32 in [0, 1]: (H, W) for a grey model, (H, W, 3) for a colour one."""
        return self.canvas.copy()

    def is_colour(self) -> bool:
        return self.canvas.ndim == 3

    def set_brush_color(self, rgb: Sequence[int]) -> None:
        """The colour the next strokes paint with (0..255 each; a grey model's ink stays white)."""
        self.brush_color = np.asarray(rgb, np.float32)[:3] / 255.0
        if tuple(self.palette_row.color) != tuple(int(v) for v in rgb):
            self.palette_row.set_color(tuple(int(v) for v in rgb))

    def brush_radius(self) -> float:
        return max(0.6, self.canvas.shape[0] / 28 * 1.6)  # ~ a pen stroke of MNIST's thickness

    def stroke(self, points: Sequence[tuple[float, float]]) -> None:
        """Ink along (row, col) canvas-pixel points, filling between consecutive ones; encode soon."""
        radius = self.brush_radius()
        color = self.brush_color if self.is_colour() else None
        pts = [np.asarray(p, np.float64) for p in points]
        for a, b in zip(pts[:1] + pts[:-1], pts):
            steps = max(1, int(np.ceil(np.linalg.norm(b - a) / (radius * 0.5))))
            for t in np.linspace(0.0, 1.0, steps + 1):
                p = a + (b - a) * t
                stamp(self.canvas, p[0], p[1], radius, color)
        self._inked = True
        self.area.update()
        self._schedule()

    def set_image(self, image: np.ndarray) -> None:
        """Replace the drawing (tests and "start from an example"): any layout ``as_display`` takes."""
        shown = as_display(image)
        if self.is_colour() and shown.ndim == 2:
            shown = np.repeat(shown[..., None], 3, axis=-1)
        self.canvas = np.ascontiguousarray(shown.reshape(self.canvas.shape), np.float32)
        self._inked = True
        self.area.update()
        self._schedule()

    def clear(self) -> None:
        self.canvas[:] = self.background if self.is_colour() else 0.0
        self._inked = False
        self.last_z = None
        self.last_reconstruction = None
        self.recon_label.clear()
        self.status.setText(DRAW_HINT)  # no drawing, no star: nothing may say there is one
        self.area.update()
        self.session.drawnPointChanged.emit(None)

    def encode_now(self) -> None:
        """Encode the drawing, show its reconstruction, and publish its latent point."""
        self._timer.stop()
        model = self.session.model
        if model is None or not self._inked:
            return
        if self.is_colour():
            x = torch.from_numpy(self.canvas).permute(2, 0, 1)[None].contiguous()
        else:
            c = model.config.image_shape[0]
            x = torch.from_numpy(self.canvas).expand(1, c, *self.canvas.shape).contiguous()
        with torch.inference_mode():
            z = model.encode(x)
            recon = model.decode(z)
        self.last_z = z[0].numpy().astype(np.float32)
        self.last_reconstruction = recon[0].numpy()
        self.encode_count += 1
        self._show_reconstruction()
        self.status.setText("Encoded: the star in the scatter marks your drawing")
        self.session.drawnPointChanged.emit(self.last_z)
        self.encoded.emit(self.last_z)

    # -- internals ------------------------------------------------------------------------------------
    def _show_reconstruction(self) -> None:
        """The reconstruction at the drawing's on-screen size, so the two compare pixel for pixel."""
        if self.last_reconstruction is None:
            return
        side = int(min(self.area.width(), self.area.height(), self.recon_label.width(), self.recon_label.height()))
        self.recon_label.setPixmap(to_qpixmap(self.last_reconstruction, max(60, side)))

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._show_reconstruction()

    def _schedule(self) -> None:
        self._timer.request()

    def _on_model_changed(self) -> None:
        model = self.session.model
        channels, h, w = tuple(model.config.image_shape) if model is not None else (1, 28, 28)
        shape = (h, w) if channels == 1 else (h, w, channels)
        self.background = background_of(self.session.test_set, channels)
        if self.canvas.shape != shape or (self.is_colour() and not self._inked) or model is None:
            self.canvas = np.zeros(shape, np.float32)
            self.clear()  # onto this model's background
        self.palette_row.setVisible(channels == 3)
        self.setEnabled(model is not None)
        self._schedule()
