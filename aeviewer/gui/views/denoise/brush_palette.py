"""BrushPalette: the brush colour of draw-your-own for a colour model — a few swatches and "Other…" (QColorDialog)."""
from __future__ import annotations

from PySide6.QtCore import QSize, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QColorDialog, QHBoxLayout, QToolButton, QWidget

# (name, RGB): the colours emoji and icons are mostly made of; white paints the background back.
SWATCHES: tuple[tuple[str, tuple[int, int, int]], ...] = (
    ("black", (0, 0, 0)), ("red", (230, 30, 30)), ("orange", (250, 150, 20)), ("yellow", (255, 210, 30)),
    ("green", (40, 170, 60)), ("blue", (30, 100, 230)), ("brown", (130, 80, 40)), ("white", (255, 255, 255)),
)
SWATCH_PX = 18


def _swatch_style(rgb: tuple[int, int, int], chosen: bool) -> str:
    border = "2px solid #202020" if chosen else "1px solid #909090"
    return f"QToolButton {{ background: rgb{rgb}; border: {border}; }}"


class BrushPalette(QWidget):
    """A row of colour swatches and an "Other…" button; ``colorChosen`` carries (r, g, b) in 0..255."""

    colorChosen = Signal(tuple)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("brushPalette")
        self.color: tuple[int, int, int] = SWATCHES[0][1]
        self.swatches: dict[str, QToolButton] = {}
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(2)
        for name, rgb in SWATCHES:
            button = QToolButton(self)
            button.setObjectName(f"brushSwatch_{name}")
            button.setFixedSize(QSize(SWATCH_PX, SWATCH_PX))
            button.setToolTip(f"Brush colour: {name}" + (" (paints the background back)" if name == "white" else ""))
            button.clicked.connect(lambda _checked=False, rgb=rgb: self.set_color(rgb))
            row.addWidget(button)
            self.swatches[name] = button
        self.other = QToolButton(self)
        self.other.setObjectName("brushOtherColour")
        self.other.setText("…")
        self.other.setToolTip("Any brush colour (a colour dialog)")
        self.other.clicked.connect(self.choose_other)
        row.addWidget(self.other)
        row.addStretch(1)
        self._restyle()

    def set_color(self, rgb: tuple[int, int, int]) -> None:
        self.color = tuple(int(v) for v in rgb)  # type: ignore[assignment]
        self._restyle()
        self.colorChosen.emit(self.color)

    def choose_other(self) -> None:
        chosen = QColorDialog.getColor(QColor(*self.color), self, "Brush colour")
        if chosen.isValid():
            self.set_color((chosen.red(), chosen.green(), chosen.blue()))

    def _restyle(self) -> None:
        for name, rgb in SWATCHES:
            self.swatches[name].setStyleSheet(_swatch_style(rgb, rgb == self.color))
