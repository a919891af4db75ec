"""Labels whose text can grow (paths, long status messages) without widening what holds them.

A plain QLabel's minimum width is its text's width (a word-wrapped one: its longest word, a whole path).
One long message then raised the main window's minimum width: the window grew past the screen and the decoder
dock shrank to a sliver. These labels keep a small minimum width and show the full text in their tooltip;
``text()`` is the full text.
"""
from __future__ import annotations

import re

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QLabel, QWidget

MIN_WIDTH_PX = 60
ZERO_WIDTH_SPACE = "\u200b"
# after a path separator, an underscore or a hyphen: where a wrapped line may break inside a long word
_BREAK_AFTER = re.compile(r"([/\\_\-])")


class ElidedLabel(QLabel):
    """Each line of its plain text cut to the label's width with an ellipsis (``mode``: where the cut is;
    Qt.TextElideMode.ElideMiddle keeps both ends of a path)."""

    def __init__(self, text: str = "", parent: QWidget | None = None,
                 mode: Qt.TextElideMode = Qt.TextElideMode.ElideRight) -> None:
        super().__init__(parent)
        self._full = ""
        self._mode = mode
        self._tip = ""
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setText(text)

    def text(self) -> str:  # noqa: D102 - the full text, not the elided one shown
        return self._full

    def setText(self, text: str) -> None:  # noqa: N802 - Qt's name
        self._full = str(text)
        self._show()
        self.updateGeometry()

    def setToolTip(self, tip: str) -> None:  # noqa: N802 - Qt's name
        self._tip = tip
        self._show()

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        return QSize(min(MIN_WIDTH_PX, self._full_size().width()), self._full_size().height())

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        return self._full_size()

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        self._show()

    def _full_size(self) -> QSize:
        lines = self._full.split("\n") if self._full else [""]
        metrics = self.fontMetrics()
        margins = self.contentsMargins()
        extra = 2 * self.margin() + margins.left() + margins.right()
        return QSize(max(metrics.horizontalAdvance(line) for line in lines) + extra,
                     metrics.lineSpacing() * len(lines) + 2 * self.margin() + margins.top() + margins.bottom())

    def _show(self) -> None:
        metrics = self.fontMetrics()
        width = max(1, self.contentsRect().width() - 2 * self.margin())
        shown = "\n".join(metrics.elidedText(line, self._mode, width) for line in self._full.split("\n"))
        super().setText(shown)
        cut = shown != self._full
        tip = "\n".join(part for part in (self._full if cut else "", self._tip) if part)
        super().setToolTip(tip)


class BreakingLabel(QLabel):
    """A word-wrapped label whose long words (paths) may break after a separator, so its minimum width is
    a few characters rather than the longest path in it."""

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._full = ""
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setText(text)

    def text(self) -> str:  # noqa: D102 - without the break opportunities it shows
        return self._full

    def setText(self, text: str) -> None:  # noqa: N802 - Qt's name
        self._full = str(text)
        super().setText(breakable(self._full))


def breakable(text: str) -> str:
    """``text`` with a zero-width space after each path separator, underscore or hyphen: a wrapped
    label may break a long path there (it looks the same)."""
    return _BREAK_AFTER.sub(lambda m: m.group(1) + ZERO_WIDTH_SPACE, text)
