"""The main window's parts: its docks and their layout (each view scrolled, held at the viewport's size), the empty-window hint,
the no-scatter banner, which view is in use and its PNG."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QObject, QPoint, QSize, Qt
from PySide6.QtGui import QAction, QDragEnterEvent, QDropEvent, QResizeEvent
from PySide6.QtWidgets import QApplication, QDockWidget, QLabel, QMainWindow, QScrollArea, QVBoxLayout, QWidget

from aeviewer.errors import AeviewerError
from aeviewer.gui.views.latent.bookmarks import add_bookmark_tab
from aeviewer.gui.widgets.image_utils import NOT_EXPORTED

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


def add_scrolled_dock(window: QMainWindow, name: str, title: str, widget: QWidget,
                      area: Qt.DockWidgetArea) -> QDockWidget:
    """A dock named ``name`` (saveState/restoreState find docks by objectName) that scrolls ``widget``, so
    no view's minimum size can force the window wider than the screen."""
    dock = QDockWidget(title, window)
    dock.setObjectName(name)
    scroll = QScrollArea()
    scroll.setObjectName(f"{name}Scroll")
    scroll.setWidgetResizable(True)
    scroll.setFrameShape(QScrollArea.Shape.NoFrame)
    scroll.setWidget(DockHolder(widget))
    dock.setWidget(scroll)
    window.addDockWidget(area, dock)
    return dock


def add_view_docks(window: Any) -> None:
    """The main window's docks around the scatter: training on the left, the decoder on the right, and the wide
    views (denoise, codebook, regulariser) as tabs along the bottom; the bookmarks are a tab of the decoder's tools.
    Their object names are what the saved dock layout is keyed by (bump main_window.STATE_VERSION when this changes)."""
    left, right, bottom = (Qt.DockWidgetArea.LeftDockWidgetArea, Qt.DockWidgetArea.RightDockWidgetArea,
                           Qt.DockWidgetArea.BottomDockWidgetArea)
    window.training_dock = add_scrolled_dock(window, "trainingDock", "Training", window.training_panel, left)
    window.training_dock.widget().setMinimumWidth(window.training_panel.minimumSizeHint().width() + 24)
    window.decoder_dock = add_scrolled_dock(window, "decoderDock", "Decoder", window.decoder_canvas, right)
    window.denoise_dock = add_scrolled_dock(window, "denoiseDock", "Denoise", window.denoise_view, bottom)
    window.codebook_dock = add_scrolled_dock(window, "codebookDock", "Codebook", window.codebook_view, bottom)
    window.regulariser_dock = add_scrolled_dock(window, "regulariserDock", "Regulariser", window.regulariser_view, bottom)
    window.regulariser_dock.toggleViewAction().setToolTip(
        "What the regulariser did: a VAE's KL per latent dimension (active units marked), an AAE's codes over the "
        "prior's contours")
    window.tabifyDockWidget(window.denoise_dock, window.codebook_dock)
    window.tabifyDockWidget(window.denoise_dock, window.regulariser_dock)
    window.denoise_dock.raise_()
    window.setCorner(Qt.Corner.BottomLeftCorner, left)
    # The denoise and codebook views are wide: the bottom area reaches under the decoder too.
    window.setCorner(Qt.Corner.BottomRightCorner, bottom)
    window.resizeDocks([window.training_dock, window.decoder_dock], [380, 500], Qt.Orientation.Horizontal)
    window.resizeDocks([window.denoise_dock], [300], Qt.Orientation.Vertical)
    # the current point's bookmarks (gui/bookmarks.py): a tab of the decoder's tools, which keep their room
    window.bookmark_list = add_bookmark_tab(window.decoder_canvas.tabs, window.latent_view.navigation)


def view_in_use(views: dict[str, QWidget], cursor: QPoint) -> str:
    """The name of the view holding the keyboard focus or under the mouse at ``cursor``, else "latent"."""
    app = QApplication.instance()
    candidates = [QApplication.focusWidget(), app.widgetAt(cursor) if app else None]
    for widget in candidates:
        while widget is not None:
            for name, view in views.items():
                if widget is view and view.isVisible():
                    return name
            widget = widget.parentWidget()
    return "latent"


def save_png(view: QWidget, path: str | Path) -> Path:
    """Save what ``view`` shows as a PNG (".png" added when missing); AeviewerError when it cannot be written."""
    path = Path(path)
    if path.suffix.lower() != ".png":
        path = path.with_name(path.name + ".png")
    passing = [w for w in view.findChildren(QWidget) if w.property(NOT_EXPORTED) and w.isVisible()]
    for widget in passing:  # the hover card follows the mouse, which is on the menu or the shortcut: not content
        widget.hide()
    try:
        saved = view.grab().save(str(path), "PNG")
    finally:
        for widget in passing:
            widget.show()
    if not saved:
        raise AeviewerError(f"{path}: could not write the image")
    return path


def empty_hint() -> QLabel:
    """What the centre shows with no model open."""
    hint = QLabel(EMPTY_HINT)
    hint.setObjectName("emptyHint")
    hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
    hint.setWordWrap(True)
    hint.setMargin(40)
    return hint


def data_banner() -> QLabel:
    """Above the scatter when the open model's test split cannot be loaded: the model still works
    (decoder, sliders, prior samples), and this says why the scatter is empty and how to fix it."""
    banner = QLabel()
    banner.setObjectName("dataBanner")
    banner.setWordWrap(True)
    banner.setTextFormat(Qt.TextFormat.RichText)
    banner.setStyleSheet("QLabel#dataBanner { background: #fff4d6; border: 1px solid #e0b84d; "
                         "padding: 6px; color: #3d2e00; }")
    banner.setMinimumWidth(1)  # a long path in it is clipped rather than widening the window past the screen
    banner.hide()
    return banner


def column(top: QWidget, main: QWidget) -> QWidget:
    """``top`` above ``main``, which takes the height left."""
    central = QWidget()
    layout = QVBoxLayout(central)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(2)
    layout.addWidget(top)
    layout.addWidget(main, 1)
    return central


def make_action(window: QMainWindow, text: str, shortcut: Any, tip: str, slot: Any, icon: Any = None) -> QAction:
    """An action of ``window`` with its tooltip, status tip and window-wide shortcut."""
    action = QAction(text, window)
    if icon is not None:
        action.setIcon(icon)
    if shortcut is not None:
        action.setShortcut(shortcut)
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
    action.setToolTip(tip)
    action.setStatusTip(tip)
    action.triggered.connect(slot)
    window.addAction(action)  # shortcuts work even with the menu bar hidden
    return action


def dropped_model(event: QDragEnterEvent | QDropEvent) -> str | None:
    """The first local .safetensors file dragged onto the window, if any."""
    for url in event.mimeData().urls():
        if url.isLocalFile() and url.toLocalFile().endswith(".safetensors"):
            return url.toLocalFile()
    return None
