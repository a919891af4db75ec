"""MapRunner: the GUI's side of the map worker, a QTimer that polls it and turns its events into Qt signals;
MapParams: the parameter fields of a map kind (built from the projection registry), with Run and Cancel.

The worker (aeviewer.projections.worker.MapWorker) computes in a child process, so polling here costs the
GUI thread only the unpickling of a layout every few hundred milliseconds.
"""
from __future__ import annotations

from typing import Any, Mapping

import numpy as np
from PySide6.QtCore import QObject, QSettings, QTimer, Signal
from PySide6.QtWidgets import QDoubleSpinBox, QHBoxLayout, QLabel, QPushButton, QSpinBox, QWidget

from aeviewer.errors import AeviewerError
from aeviewer.gui.widgets.fitting_label import ElidedLabel
from aeviewer.projections.registry import Param, checked_params, kind_of
from aeviewer.projections.worker import MapWorker

POLL_MS = 50


class MapRunner(QObject):
    """Signals: ``progress(str stage, float fraction)``, ``layout(object coords, bool final)`` (an intermediate
    or the final map, (N, 2) float32), ``placed(object coords)`` (new points placed by ``place``),
    ``failed(str)`` (one line)."""

    progress = Signal(str, float)
    layout = Signal(object, bool)
    placed = Signal(object)
    failed = Signal(str)

    def __init__(self, parent: QObject | None = None, worker: MapWorker | None = None) -> None:
        super().__init__(parent)
        self.worker = worker or MapWorker()
        self.kind = ""
        self.params: dict[str, Any] = {}
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self._poll)
        self._placing = 0  # transform requests not answered yet

    @property
    def busy(self) -> bool:
        return self.worker.busy

    def start(self, kind: str, latents: np.ndarray, params: Mapping[str, Any] | None = None) -> bool:
        """Start a map; False (and ``failed`` emitted) when the kind or its parameters cannot run."""
        try:
            self.params = checked_params(kind, params)
            self.kind = kind
            self.worker.start(kind, latents, self.params)
        except AeviewerError as err:
            self.failed.emit(str(err))
            return False
        self._timer.start()
        self._poll()  # a cache hit answers at once
        return True

    def place(self, z: np.ndarray) -> bool:
        """Ask the worker to place codes ``z`` on the map with the estimator's transform (``placed`` follows)."""
        if self.worker.transform(z) is None:
            return False
        self._placing += 1
        self._timer.start()
        return True

    def cancel(self) -> None:
        self._placing = 0
        self.worker.cancel()
        self._timer.stop()
        self.progress.emit("cancelled", 0.0)

    def close(self) -> None:
        self._timer.stop()
        self.worker.close()

    def _poll(self) -> None:
        for event in self.worker.poll():
            if event.what == "error":
                self._placing = 0 if event.request else self._placing
                self.failed.emit(event.message)
            elif event.what == "placed":
                self._placing = max(0, self._placing - 1)
                self.placed.emit(event.coords)
            elif event.what == "done":
                self.layout.emit(event.coords, True)
                self.progress.emit("cached" if event.cached else "done", 1.0)
            else:
                self.progress.emit(event.stage, event.fraction)
                if event.coords is not None:
                    self.layout.emit(event.coords, False)
        if not self.worker.busy and not self._placing:
            self._timer.stop()  # nothing is coming: no polling while the map just sits there


class MapParams(QWidget):
    """The fields of one map kind's parameters, remembered in QSettings, a Run/Cancel button and a status."""

    runRequested = Signal()
    cancelRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("mapParams")
        self._row = QHBoxLayout(self)
        self._row.setContentsMargins(0, 0, 0, 0)
        self.kind = ""
        self.fields: dict[str, QSpinBox | QDoubleSpinBox] = {}
        self.run_button = QPushButton("Cancel", self)
        self.run_button.setObjectName("mapRunButton")
        self.run_button.clicked.connect(self._on_button)
        self.status = ElidedLabel("", self)  # a far click's note must not widen the window
        self.status.setObjectName("mapStatus")
        self.status.setToolTip("What the map worker is doing; on a map, whether the picked place is far from the data")
        self.set_running(False)

    def set_kind(self, kind: str) -> None:
        """Show ``kind``'s fields with their remembered values."""
        for i in reversed(range(self._row.count())):
            widget = self._row.itemAt(i).widget()
            self._row.removeWidget(widget)
            if widget not in (self.run_button, self.status):
                widget.setParent(None)  # gone now: a deferred delete alone leaves it drawn until the loop runs
                widget.deleteLater()
        self.kind, self.fields = kind, {}
        for param in kind_of(kind).params:
            self._row.addWidget(QLabel(f"{param.label}:", self))
            field = self._field(param)
            self.fields[param.name] = field
            self._row.addWidget(field)
        self._row.addWidget(self.run_button)
        self._row.addWidget(self.status)

    def params(self) -> dict[str, float | int]:
        values = {name: field.value() for name, field in self.fields.items()}
        settings = QSettings()
        for name, value in values.items():
            settings.setValue(f"maps/{self.kind}/{name}", value)
        return values

    def set_running(self, running: bool) -> None:
        self._running = running
        self.run_button.setText("Cancel" if running else "Run")
        self.run_button.setToolTip("Stop computing this map (Esc)" if running else
                                   "Compute the map again with these parameters (Ctrl+R)")
        self.run_button.setShortcut("Esc" if running else "Ctrl+R")

    def _on_button(self) -> None:
        (self.cancelRequested if self._running else self.runRequested).emit()

    def _field(self, param: Param) -> QSpinBox | QDoubleSpinBox:
        field: QSpinBox | QDoubleSpinBox = QSpinBox(self) if param.integer else QDoubleSpinBox(self)
        field.setObjectName(f"mapParam_{param.name}")
        if isinstance(field, QDoubleSpinBox):
            field.setDecimals(2)
            field.setSingleStep(0.05 if param.maximum <= 1 else 1.0)
        field.setRange(param.minimum, param.maximum)
        remembered = QSettings().value(f"maps/{self.kind}/{param.name}", param.default)
        try:
            field.setValue(int(float(remembered)) if param.integer else float(remembered))
        except (TypeError, ValueError):
            field.setValue(param.default)
        field.setToolTip(param.tooltip)
        return field
