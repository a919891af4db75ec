"""The decoded manifold under the dots: the decoder's image at the centre of each tile of the visible region
(Kingma and Welling's 2-D VAE figure, for any projection with a way back: PCA, a pair, a map's inverse).

Tiles lie on a power-of-two lattice (``explore.map_cells.TileLevel``) at least ``MIN_TILE_PX`` wide on
screen, so a pan reuses what was decoded and only the new tiles are decoded. Decoding runs as a
background job (gui/jobs.py) that always takes the newest view's missing tiles first (a newer request ends the
older one between chunks); results come back on the GUI thread with the generation they were made for,
and a new model, new weights or a new projection starts a new generation (older tiles are dropped).
"""
from __future__ import annotations

import copy
import threading
from typing import Any, Callable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, QRectF, Qt, Signal
from PySide6.QtWidgets import QGraphicsItem
from PySide6.QtGui import QImage, QPainter

from aeviewer.explore import latent_space
from aeviewer.explore.map_cells import TileLevel, tile_latents
from aeviewer.gui.jobs import Job, Jobs
from aeviewer.gui.widgets.image_utils import to_qimage

MIN_TILE_PX = 56  # legible: a tile is 56 to 112 px on screen (the issue asks for >= 40)
CHUNK = 12  # tiles a decode step: a newer view waits at most one step, and the first tiles show at once
MANIFOLD_Z = -20  # under the dots (0) and under a map's far shading (-10), which stays visible over it
MAX_TILES = 4000  # decoded tiles kept, all levels together

Key = tuple[int, int, int, int]  # (level_x, level_y, i, j)


class TileDecoder(QObject):
    """Decodes tiles in a background job, newest request first; ``decoded(generation, keys, images)``."""

    decoded = Signal(int, object, object)
    failed = Signal(str)

    def __init__(self) -> None:
        super().__init__()
        self._jobs = Jobs(self)
        # One decode at a time: a superseded job ends its chunk before the newest starts, not beside it (panning
        # submits a job a frame; run side by side they shared the cores and the first tiles took 0.5 s)
        self._one_at_a_time = threading.Lock()

    def request(self, generation: int, model: Any, projection: Any, level: TileLevel, tiles: list[tuple[int, int]]) -> None:
        """Decode ``tiles``; an older request still running stops at its next chunk and is dropped."""
        def decode(job: Job) -> None:
            with self._one_at_a_time:
                for start in range(0, len(tiles), CHUNK):
                    job.check()  # the view moved on: its tiles come first
                    chunk = tiles[start:start + CHUNK]
                    images = latent_space.decode_points(model, tile_latents(projection, level, chunk))
                    job.send(([(level.level_x, level.level_y, i, j) for i, j in chunk], images))

        self._jobs.submit(decode, key="tiles", name="manifold-tiles",
                          on_progress=lambda sent: self.decoded.emit(generation, *sent),
                          on_error=lambda line: self.failed.emit(f"Decoded manifold: {line}"))

    def busy(self) -> bool:
        return self._jobs.newest("tiles") is not None


class ManifoldItem(pg.GraphicsObject):
    """Paints the decoded tiles of the current level that meet the view; ``refresh()`` asks for the missing ones."""

    def __init__(self, viewbox: pg.ViewBox, model_and_projection: Callable[[], tuple[Any, Any]]) -> None:
        super().__init__()
        self.viewbox = viewbox
        self.model_and_projection = model_and_projection
        self.decoder = TileDecoder()
        self.decoder.decoded.connect(self._on_decoded)
        self.generation = 0
        self.level: TileLevel | None = None
        self.visible_tiles: list[tuple[int, int]] = []
        self.tiles: dict[Key, np.ndarray] = {}  # the decoded images (H, W) or (H, W, C) in [0, 1]
        self._qimages: dict[Key, QImage] = {}
        self._model_copy: Any = None
        self._bounds = QRectF()
        self.setZValue(MANIFOLD_Z)
        # painted into a pixmap once per range: a crosshair move or a click's repaint then only blits it
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)

    def forget(self) -> None:
        """A new model, new weights or a new projection: every tile is stale."""
        self.generation += 1
        self.tiles.clear()
        self._qimages.clear()
        self._model_copy = None
        self.update()

    def refresh(self) -> None:
        px, py = self.viewbox.viewPixelSize()
        model, projection = self.model_and_projection()
        self.prepareGeometryChange()
        if not self.isVisible() or model is None or projection is None or px <= 0 or py <= 0:
            self.visible_tiles, self._bounds = [], QRectF()
            self.update()
            return
        (x0, x1), (y0, y1) = self.viewbox.viewRange()
        self.level = TileLevel.for_pixels(MIN_TILE_PX, (px, py))
        self.visible_tiles = self.level.tiles_in(((x0, x1), (y0, y1)))
        self._bounds = QRectF(x0, y0, x1 - x0, y1 - y0)
        missing = [t for t in self.visible_tiles if self.key(t) not in self.tiles]
        if missing:
            self.decoder.request(self.generation, self._decoding_model(model), projection, self.level, missing)
        self.update()

    def key(self, tile: tuple[int, int]) -> Key:
        assert self.level is not None
        return self.level.level_x, self.level.level_y, tile[0], tile[1]

    def _decoding_model(self, model: Any) -> Any:
        """A copy of the model for the decoding thread: the GUI keeps decoding clicks with its own, and a live
        snapshot may load new weights into it meanwhile (a model that cannot be copied is shared)."""
        if self._model_copy is None:
            try:
                self._model_copy = copy.deepcopy(model)
            except Exception:  # noqa: BLE001 - foreign models (ONNX sessions) are read-only: share them
                self._model_copy = model
        return self._model_copy

    def _on_decoded(self, generation: int, keys: list[Key], images: np.ndarray) -> None:
        if generation != self.generation:
            return
        if len(self.tiles) + len(keys) > MAX_TILES:
            self.tiles.clear()
            self._qimages.clear()
        for key, image in zip(keys, images):
            self.tiles[key] = image
        self.update()

    def shown_count(self) -> int:
        """How many of the visible tiles are decoded and painted."""
        return sum(self.key(t) in self.tiles for t in self.visible_tiles) if self.level is not None else 0

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt's name
        return self._bounds

    def paint(self, painter: QPainter, *_: Any) -> None:
        if self.level is None or not self.visible_tiles:
            return
        to_device = painter.transform()
        painter.save()
        painter.resetTransform()  # device pixels: the images upright, whatever the axes' directions
        painter.setClipRect(to_device.mapRect(self.viewbox.viewRect()), Qt.ClipOperation.IntersectClip)  # not over the axes
        for tile in self.visible_tiles:
            key = self.key(tile)
            if key not in self.tiles:
                continue
            qimage = self._qimages.get(key)
            if qimage is None:
                qimage = self._qimages[key] = to_qimage(self.tiles[key])
            x0, y0, x1, y1 = self.level.rect(tile)
            target = to_device.mapRect(QRectF(x0, y0, x1 - x0, y1 - y0))
            painter.drawImage(fitted(target).toAlignedRect(), qimage)
        painter.restore()


def fitted(target: QRectF, max_stretch: float = 1.5) -> QRectF:
    """The tile's rectangle when it is nearly square (no gaps between tiles), else the square in its middle
    (the axes' units would stretch the image past recognition)."""
    w, h = target.width(), target.height()
    if max(w, h) <= max_stretch * min(w, h):
        return target
    square = QRectF(0, 0, min(w, h), min(w, h))
    square.moveCenter(target.center())
    return square
