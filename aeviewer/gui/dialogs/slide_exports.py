"""File › Export entries for slides and notebooks: the scatter as PNG at a chosen DPI, SVG or PDF, the decoder's
interpolation A→B as GIF, MP4 or a PNG strip, the traversal grid over the visible map as PNG, the latents as CSV
or NPZ, the selected test images as a folder of PNGs (``actions``; window_menus.py puts them in the menu). The writing is :mod:`aeviewer.explore.export`'s (the same files
as ``aeviewer export``); this only gathers what the window shows and asks where to put it.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
from PySide6.QtCore import QMarginsF, QObject, QSizeF
from PySide6.QtGui import QAction, QPageSize, QPainter, QPdfWriter
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import QInputDialog, QMessageBox, QWidget

from aeviewer.util import atomic
from aeviewer.explore import latent_space
from aeviewer.explore import export
from aeviewer.errors import AeviewerError
from aeviewer.gui.dialogs.file_dialogs import ask_folder, ask_save_file

SCREEN_DPI = 96  # what the scatter's pixels are on screen; a PNG at D dpi is D/96 times as wide
DEFAULT_DPI = 300


class SlideExports(QObject):
    def __init__(self, session: Any, decoder_canvas: Any, latent_view: Any, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("slideExports")
        self.session, self.decoder_canvas, self.latent_view, self.parent_widget = session, decoder_canvas, latent_view, parent
        entries: tuple[tuple[str, str, str, str, Callable[[Path], Path]], ...] = (
            ("Scatter as PNG, SVG or PDF…", "PNG, SVG or PDF (*.png *.svg *.pdf)", "scatter.png",
             "The latent scatter as a PNG at a chosen DPI, or as a vector drawing (SVG, PDF)", self.export_scatter),
            ("Interpolation A→B as GIF, MP4 or PNG strip…", "GIF or MP4 animation, or PNG strip (*.gif *.mp4 *.png)",
             "walk.gif", "One frame per step of the decoder's Interpolate tab (A to B, its mode and steps)",
             self.export_interpolation),
            ("Traversal grid (full resolution) as PNG…", "PNG images (*.png)", "grid.png",
             "The traversal grid decoded over the visible region of the map, each image at full size",
             self.export_grid),
            ("Latents as CSV or NPZ…", "CSV or NPZ (*.csv *.npz)", "latents.csv",
             "index, label, class, z0..z{D-1} and the map's x, y of every test image", self.export_latents),
        )
        self.selection: Callable[[], Sequence[int]] = lambda: ()  # the window's selected test images
        self.actions: dict[str, QAction] = {}
        for label, file_filter, name, tip, write in entries:
            self.actions[name.split(".")[0]] = self._action(
                label, tip, lambda f=file_filter, n=name, w=write, c=label: self._ask_and_write(c, f, n, w))
        self.actions["images"] = self._action("Selected images as PNGs…", "The selected test images (those the denoise "
                                              "view shows), one PNG each, named by their index, into a folder",
                                              self._ask_and_write_images)

    def _action(self, label: str, tip: str, slot: Callable[[], None]) -> QAction:
        action = QAction(label, self)
        action.setToolTip(tip)
        action.setStatusTip(tip)
        action.triggered.connect(slot)
        return action

    # -- the writers (tests call these) ------------------------------------------------------------------
    def export_interpolation(self, path: Path) -> Path:
        canvas = self.decoder_canvas
        if canvas.point_a is None or canvas.point_b is None:
            raise AeviewerError("set A and B in the decoder's Interpolate tab first")
        frames = canvas.show_interpolation()
        if frames is None:
            raise AeviewerError("open a model first")
        path = Path(path)
        if path.suffix.lower() == ".png":
            return export.write_strip(path, frames)
        return export.write_animation(path, frames)

    def export_grid(self, path: Path) -> Path:
        grid_n = self.decoder_canvas.grid_n.value()
        projection = self.session.projection
        if projection is None:
            raise AeviewerError("open a model with its test images first")
        z = latent_space.grid_points(projection, *self.latent_view.visible_range(), grid_n)
        return export.write_grid(path, self.session.decode(np.asarray(z, np.float32)), grid_n)

    def export_latents(self, path: Path) -> Path:
        session = self.session
        if session.latents is None or session.test_set is None:
            raise AeviewerError("open a model with its test images first")
        return export.write_latents(path, session.latents, session.test_set.labels.numpy(),
                                    session.test_set.class_names, session.coords)

    def export_scatter(self, path: Path, dpi: int = DEFAULT_DPI) -> Path:
        """SVG and PDF as vector drawings at the on-screen size; PNG rendered at ``dpi`` (the screen taken as 96 dpi)."""
        path = Path(path)
        export.check_target(path, (".svg", ".pdf", ".png"), "scatters")
        plot = self.latent_view.plot
        with atomic.replacing(path) as tmp:
            if path.suffix.lower() == ".svg":
                _render_svg(plot, tmp)
            elif path.suffix.lower() == ".pdf":
                _render_pdf(plot, tmp)
            else:
                from pyqtgraph.exporters import ImageExporter

                exporter = ImageExporter(plot.plotItem)
                exporter.parameters()["width"] = int(plot.width() * dpi / SCREEN_DPI)
                exporter.export(str(tmp))
        return path

    def export_selected_images(self, folder: Path) -> list[Path]:
        """Each selected test image at its own size as ``folder/{index:05d}.png``."""
        import torch

        test_set, indices = self.session.test_set, [int(i) for i in self.selection()]
        if test_set is None:
            raise AeviewerError("open a model with its test images first")
        if not indices:
            raise AeviewerError("no images are selected")
        images = test_set.images[torch.as_tensor(indices, dtype=torch.long)].numpy()
        return export.write_image_folder(folder, images, indices, scale=1)

    # -- dialogs ---------------------------------------------------------------------------------------------
    def _ask_and_write(self, caption: str, file_filter: str, name: str, write: Callable[[Path], Path]) -> None:
        path = ask_save_file(self.parent_widget, caption.rstrip("…"), name, file_filter)
        if not path:
            return
        try:
            if write == self.export_scatter and Path(path).suffix.lower() == ".png":
                dpi, ok = QInputDialog.getInt(self.parent_widget, "Resolution", "Dots per inch:", DEFAULT_DPI, 72, 1200)
                if not ok:
                    return
                written = self.export_scatter(Path(path), dpi)
            else:
                written = write(Path(path))
        except AeviewerError as err:
            QMessageBox.warning(self.parent_widget, "Could not export", str(err))
            return
        self.session.message.emit(f"Exported {written.name}")


    def _ask_and_write_images(self) -> None:
        folder = ask_folder(self.parent_widget, "Folder for the selected images")
        if not folder:
            return
        try:
            written = self.export_selected_images(Path(folder))
        except AeviewerError as err:
            QMessageBox.warning(self.parent_widget, "Could not export", str(err))
            return
        self.session.message.emit(f"Exported {len(written)} images to {folder}")


def _render_pdf(plot: QWidget, path: Path) -> None:
    """The plot widget painted onto one PDF page of its own size, as vectors (the scene is drawn, not grabbed).
    The writer works at the screen's 96 dpi so one unit is one pixel of the widget: at a higher resolution
    Qt scaled the text by the resolution and the scene by the painter again, and the page showed a corner."""
    writer = QPdfWriter(str(path))
    writer.setResolution(SCREEN_DPI)
    writer.setPageSize(QPageSize(QSizeF(plot.width() / SCREEN_DPI, plot.height() / SCREEN_DPI), QPageSize.Unit.Inch))
    writer.setPageMargins(QMarginsF(0, 0, 0, 0))
    _paint(plot, writer)


def _render_svg(plot: QWidget, path: Path) -> None:
    """The plot widget as SVG through Qt's own generator (pyqtgraph 0.14's SVGExporter fails on Qt 6.11's paths:
    pyqtgraph issue #3485)."""
    generator = QSvgGenerator()
    generator.setFileName(str(path))
    generator.setSize(plot.size())
    generator.setViewBox(plot.rect())
    generator.setResolution(SCREEN_DPI)  # the default 90 dpi put pixel-placed items (the dots) 25% off the axes
    generator.setTitle("aeviewer latent scatter")
    _paint(plot, generator)


def _paint(plot: Any, device: Any) -> None:
    """Render the plot onto ``device`` with every item in pyqtgraph's export mode: the dots are drawn one by one
    as vector symbols instead of stamped from the on-screen pixmap atlas."""
    items = [item for item in plot.scene().items() if hasattr(item, "setExportMode")]
    painter = QPainter(device)
    try:
        for item in items:
            item.setExportMode(True, {"antialias": True, "background": plot.backgroundBrush(), "painter": painter})
        plot.render(painter)
    finally:
        painter.end()
        for item in items:
            item.setExportMode(False)
