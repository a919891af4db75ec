"""DrawCanvas: draw a digit with the mouse; it is encoded live, marked in the scatter and reconstructed.

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

from aeviewer.gui.coalescing import CoalescingTimer
from aeviewer.gui.session import Session
from aeviewer.gui.image_utils import make_button, to_qimage, to_qpixmap, wrapped_label

ENCODE_DEBOUNCE_MS = 40  # encode at most ~25 times a second while the pen moves


def stamp(canvas: np.ndarray, row: float, col: float, radius: float) -> None:
    """Add a soft round brush at (row, col), in place: ink = clip(1.5 − d/r, 0, 1) where d is the distance."""
    h, w = canvas.shape
    rr, cc = np.mgrid[0:h, 0:w]
    d = np.sqrt((rr + 0.5 - row) ** 2 + (cc + 0.5 - col) ** 2)
    np.maximum(canvas, np.clip(1.5 - d / radius, 0.0, 1.0), out=canvas)


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
        self.canvas = np.zeros((28, 28), np.float32)
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
        self.status = wrapped_label("Draw with the left mouse button", self)

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
        layout.addLayout(row)

        self._timer = CoalescingTimer(self, self.encode_now, ENCODE_DEBOUNCE_MS)
        session.modelChanged.connect(self._on_model_changed)
        session.weightsUpdated.connect(self._schedule)
        self._on_model_changed()

    # -- public API -----------------------------------------------------------------------------------
    def image(self) -> np.ndarray:
        """The drawing, (H, W) float32 in [0, 1]."""
        return self.canvas.copy()

    def brush_radius(self) -> float:
        return max(0.6, self.canvas.shape[0] / 28 * 1.6)  # ~ a pen stroke of MNIST's thickness

    def stroke(self, points: Sequence[tuple[float, float]]) -> None:
        """Ink along (row, col) canvas-pixel points, filling between consecutive ones; encode soon."""
        radius = self.brush_radius()
        pts = [np.asarray(p, np.float64) for p in points]
        for a, b in zip(pts[:1] + pts[:-1], pts):
            steps = max(1, int(np.ceil(np.linalg.norm(b - a) / (radius * 0.5))))
            for t in np.linspace(0.0, 1.0, steps + 1):
                p = a + (b - a) * t
                stamp(self.canvas, p[0], p[1], radius)
        self.area.update()
        self._schedule()

    def set_image(self, image: np.ndarray) -> None:
        """Replace the drawing (tests and "start from an example")."""
        self.canvas = np.clip(np.asarray(image, np.float32).reshape(self.canvas.shape), 0.0, 1.0)
        self.area.update()
        self._schedule()

    def clear(self) -> None:
        self.canvas[:] = 0.0
        self.last_z = None
        self.last_reconstruction = None
        self.recon_label.clear()
        self.area.update()
        self.session.drawnPointChanged.emit(None)

    def encode_now(self) -> None:
        """Encode the drawing, show its reconstruction, and publish its latent point."""
        self._timer.stop()
        model = self.session.model
        if model is None or not self.canvas.any():
            return
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
        shape = tuple(model.config.image_shape[1:]) if model is not None else (28, 28)
        if self.canvas.shape != shape:
            self.canvas = np.zeros(shape, np.float32)
            self.clear()
        self.setEnabled(model is not None)
        self._schedule()
