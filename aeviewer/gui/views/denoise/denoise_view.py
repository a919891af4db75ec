"""DenoiseView: clean | noisy | denoised rows for a few test images, with PSNR, and a canvas to draw on.

Works with every kind: the reconstruction is decode(encode(noisy)), so a plain AE can be compared
with a DAE on the same seeded noise. PSNR is the core's ``aeviewer.training.metrics.psnr``.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
import torch
from PySide6.QtCore import QRectF, QSignalBlocker, Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QComboBox, QDoubleSpinBox, QGroupBox, QHBoxLayout, QLabel, QSlider, QSplitter, QVBoxLayout, QWidget,
)

from aeviewer.gui.widgets.coalescing import CoalescingTimer
from aeviewer.data.noise import NoiseSpec, corrupt
from aeviewer.gui.views.denoise.draw_canvas import DrawCanvas
from aeviewer.gui.state.session import Session
from aeviewer.gui.widgets.image_utils import as_display_batch, image_view, make_button, make_spin, show_image, wrapped_label
from aeviewer.training.metrics import psnr
from aeviewer.spec.vocabulary import NOISE_KINDS, NOISE_LABELS, NOISE_MAX_LEVEL as MAX_LEVEL

ROW_TITLES = ("clean", "noisy", "denoised")
CLEAN_INPUT_TITLES = ("clean", "no noise", "reconstructed")  # with Noise None nothing is denoised
LEVEL_STEPS = 100  # slider steps per unit of level
GAP_SHARE = 0.45  # of an image's height: the room under the noisy and denoised rows for their PSNR
PSNR_FONT_PX = (6, 12)  # the PSNR captions' smallest and largest font, in pixels
# Gaussian σ goes as high as the training panel lets a DAE be trained; the others are fractions of pixels.
LEVEL_TIP = "σ for Gaussian noise (up to 2); the fraction of pixels hit for masking and salt & pepper"


class DenoiseView(QWidget):
    """Corrupt a chosen set of test images, reconstruct them, and report PSNR per image and on average."""

    updated = Signal()  # a new set of rows and PSNR values is shown

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("denoiseView")
        self.session = session
        self.indices = np.zeros(0, np.int64)
        self.clean = self.noisy = self.denoised = None
        self.noisy_psnr = np.zeros(0, np.float32)
        self.denoised_psnr = np.zeros(0, np.float32)
        self.image_seed = 0
        self.noise_seed = 0
        self._texts: list[pg.TextItem] = []

        self._timer = CoalescingTimer(self, self.update_now, 0)

        controls = self._build_controls()
        self.summary = wrapped_label("", self)  # wraps in a narrow dock (a laptop screen) instead of widening it
        self.summary.setObjectName("denoiseSummary")
        self.plots = pg.GraphicsLayoutWidget()
        self.plots.setBackground("w")
        self.view, self.item = image_view(self.plots.ci)
        self.view.sigResized.connect(self._fit_psnr_texts)  # captions sized to the gap they sit in
        self.view.sigRangeChanged.connect(self._fit_psnr_texts)
        self.draw_canvas = DrawCanvas(session, self)
        draw_box = QGroupBox("Draw your own", self)
        QVBoxLayout(draw_box).addWidget(self.draw_canvas)

        rows = QWidget(self)
        left = QVBoxLayout(rows)
        left.setContentsMargins(0, 0, 0, 0)
        left.addLayout(controls)
        left.addWidget(self.summary)
        left.addWidget(self.plots, 1)
        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.addWidget(rows)
        splitter.addWidget(draw_box)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 1)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(splitter)

        session.modelChanged.connect(self._on_model_changed)
        session.weightsUpdated.connect(self.schedule_update)
        self._on_model_changed()

    # -- building -----------------------------------------------------------------------------------------
    def _build_controls(self) -> QVBoxLayout:
        self.kind_combo = QComboBox(self)
        self.kind_combo.setObjectName("denoiseNoiseKind")
        for kind in (*NOISE_KINDS, "none"):
            self.kind_combo.addItem(NOISE_LABELS[kind], kind)
        self.kind_combo.setToolTip("Which corruption to apply to the clean images")
        self.level_slider = QSlider(Qt.Orientation.Horizontal, self)
        self.level_slider.setObjectName("denoiseLevelSlider")
        self.level_slider.setRange(0, int(MAX_LEVEL["gaussian"] * LEVEL_STEPS))
        self.level_slider.setMinimumWidth(60)
        self.level_slider.setToolTip(LEVEL_TIP)
        self.level_spin = QDoubleSpinBox(self)
        self.level_spin.setObjectName("denoiseLevel")
        self.level_spin.setRange(0.0, MAX_LEVEL["gaussian"])
        self.level_spin.setSingleStep(0.05)
        self.level_spin.setDecimals(2)
        self.level_spin.setToolTip(LEVEL_TIP)
        self.count_spin = make_spin(self, "denoiseCount", 1, 32, 8, "images: ", "How many test images to show")
        self.new_button = make_button(self, "Other images", "denoiseOtherImages",
                                      "Pick another random set of test images", self._next_images)
        self.noise_button = make_button(self, "New noise", "denoiseNewNoise",
                                        "Draw the noise again with another seed", self._next_noise)

        self.kind_combo.currentIndexChanged.connect(self._on_kind_changed)
        self.level_slider.valueChanged.connect(lambda v: self.level_spin.setValue(v / LEVEL_STEPS))
        self.level_spin.valueChanged.connect(self._on_level_changed)
        self.count_spin.valueChanged.connect(lambda _: self._choose_images())
        self.set_noise("gaussian", 0.5)

        # two rows: in one they made the view 815 px wide, more than a laptop screen's bottom dock
        noise, images = QHBoxLayout(), QHBoxLayout()
        noise.addWidget(QLabel("Noise:", self))
        for w in (self.kind_combo, self.level_slider, self.level_spin):
            noise.addWidget(w)
        for w in (self.count_spin, self.new_button, self.noise_button):
            images.addWidget(w)
        for row in (noise, images):
            row.addStretch(1)
        rows = QVBoxLayout()
        rows.addLayout(noise)
        rows.addLayout(images)
        return rows

    # -- public API ---------------------------------------------------------------------------------------
    def noise_spec(self) -> NoiseSpec:
        kind = self.kind_combo.currentData()
        return NoiseSpec("none") if kind == "none" else NoiseSpec(kind, self.level_spin.value())

    def set_noise(self, kind: str, level: float) -> None:
        """Choose the corruption (the rows update on the next event-loop turn)."""
        self.kind_combo.setCurrentIndex(self.kind_combo.findData(kind))
        self.level_spin.setValue(level)
        self.schedule_update()

    def set_indices(self, indices: Any) -> None:
        """Show exactly these test images (in this order)."""
        self.indices = np.asarray(indices, np.int64).reshape(-1)
        self.schedule_update()

    def mean_psnr(self) -> float:
        """Mean PSNR (dB) of the denoised images against the clean ones."""
        return float(self.denoised_psnr.mean()) if len(self.denoised_psnr) else float("nan")

    def mean_noisy_psnr(self) -> float:
        return float(self.noisy_psnr.mean()) if len(self.noisy_psnr) else float("nan")

    def schedule_update(self) -> None:
        self._timer.request()

    def update_now(self) -> None:
        """Corrupt (seeded), reconstruct, measure, and draw the three rows."""
        self._timer.stop()
        model = self.session.model
        test_set = self.session.test_set
        if model is None or test_set is None or len(self.indices) == 0:
            self._show_no_rows(model is not None)
            return
        clean = test_set.float_batch(torch.from_numpy(self.indices))
        generator = torch.Generator().manual_seed(self.noise_seed)
        noisy = corrupt(clean, self.noise_spec(), generator=generator)
        with torch.inference_mode():
            denoised = model.decode(model.encode(noisy)).float()
        self.clean, self.noisy, self.denoised = clean, noisy, denoised
        self.noisy_psnr = psnr(noisy, clean).numpy().astype(np.float64)
        self.denoised_psnr = psnr(denoised, clean).numpy().astype(np.float64)
        self._draw()
        if self._clean_input():  # the input is the clean image: its PSNR would be infinite (shown capped at 100)
            self.summary.setText(f"<b>no noise</b> on {len(self.indices)} test images · mean PSNR: "
                                 f"reconstructed <b>{self.mean_psnr():.2f} dB</b> (per image under each)")
        else:
            self.summary.setText(
                f"<b>{self.noise_spec()}</b> on {len(self.indices)} test images · mean PSNR: "
                f"noisy {self.mean_noisy_psnr():.2f} dB → denoised <b>{self.mean_psnr():.2f} dB</b> "
                f"(per image under each)"
            )
        self.updated.emit()

    def _clean_input(self) -> bool:
        return self.noise_spec().kind == "none"

    # -- drawing ------------------------------------------------------------------------------------------
    def _show_no_rows(self, model_open: bool) -> None:
        """Empty rows, not the previous model's: this model's test split is not loaded."""
        self.item.clear()
        for text in self._texts:
            text.hide()
        self.noisy_psnr = self.denoised_psnr = np.zeros(0)
        self.summary.setText("The rows need the model's test split, which is not loaded; drawing your own image "
                             "works without it." if model_open else "")

    def _draw(self) -> None:
        """One image: three rows of n images, a gap under the noisy and denoised rows for their PSNR."""
        rows = [as_display_batch(x) for x in (self.clean, self.noisy, self.denoised)]
        n, h, w = rows[0].shape[:3]
        pad = max(1, w // 10)
        gap = max(2, int(h * GAP_SHARE))  # room for the PSNR text under a row
        row_h = h + gap
        shape = (3 * row_h, n * (w + pad) - pad) + rows[0].shape[3:]
        canvas = np.ones(shape, np.float32)
        for r, batch in enumerate(rows):
            for i, img in enumerate(batch):
                canvas[r * row_h: r * row_h + h, i * (w + pad): i * (w + pad) + w] = img
        show_image(self.view, self.item, canvas)
        self._place_texts(n, h, w, pad, row_h)
        self.view.setRange(QRectF(-2.2 * w, -0.1 * h, shape[1] + 2.2 * w, shape[0] + 0.1 * h), padding=0.01)

    def _place_texts(self, n: int, h: int, w: int, pad: int, row_h: int) -> None:
        wanted = 3 + 2 * n
        while len(self._texts) < wanted:
            text = pg.TextItem("", color="k", anchor=(0.5, 0.0))
            self.view.addItem(text, ignoreBounds=True)
            self._texts.append(text)
        clean_input = self._clean_input()
        for r, title in enumerate(ROW_TITLES):
            title = CLEAN_INPUT_TITLES[r] if clean_input else title
            text = self._texts[r]
            text.setAnchor((1.0, 0.5))
            text.setText(title)
            text.setPos(-0.15 * w, r * row_h + h / 2)
            text.show()
        for i in range(n):
            x = i * (w + pad) + w / 2
            for j, (r, values) in enumerate(((1, self.noisy_psnr), (2, self.denoised_psnr))):
                text = self._texts[3 + 2 * i + j]
                text.setText(f"{values[i]:.1f}")  # dB, said once in the summary: keeps narrow columns legible
                text.setPos(x, r * row_h + h)
                text.setVisible(not (clean_input and r == 1))
        for text in self._texts[wanted:]:
            text.hide()
        self._fit_psnr_texts()

    def _fit_psnr_texts(self, *_: Any) -> None:
        """The PSNR captions' font fits the gap under their row as drawn: a fixed 9-pt caption overlapped the
        row below when the dock was low (a laptop screen)."""
        if self.clean is None:
            return
        gap = max(2, int(self.clean.shape[-2] * GAP_SHARE))
        pixel_h = self.view.viewPixelSize()[1]
        if pixel_h <= 0:
            return
        lo, hi = PSNR_FONT_PX
        size = int(max(lo, min(hi, gap / pixel_h / 1.25)))  # a line is about 1.25 font sizes high
        font = QFont()
        font.setPixelSize(size)
        for text in self._texts[3:]:
            if text.textItem.font().pixelSize() != size:
                text.textItem.document().setDocumentMargin(0)
                text.setFont(font)

    def psnr_texts(self) -> list[str]:
        """The per-image PSNR captions as shown (noisy, denoised for each column)."""
        return [t.toPlainText() for t in self._texts[3:] if t.isVisible()]

    # -- slots ---------------------------------------------------------------------------------------------
    def _on_kind_changed(self, _index: int) -> None:
        kind = self.kind_combo.currentData()
        self.level_slider.setEnabled(kind != "none")
        self.level_spin.setEnabled(kind != "none")
        self.level_spin.setMaximum(MAX_LEVEL[kind])  # clamps a σ above 1 when switching to a fraction
        self.level_slider.setMaximum(int(MAX_LEVEL[kind] * LEVEL_STEPS))
        self.schedule_update()

    def _on_level_changed(self, value: float) -> None:
        with QSignalBlocker(self.level_slider):
            self.level_slider.setValue(int(round(value * LEVEL_STEPS)))
        self.schedule_update()

    def _choose_images(self) -> None:
        """A seeded random set of test images (seed 0 → the same set every run)."""
        test_set = self.session.test_set
        if test_set is None or len(test_set) == 0:
            self.set_indices(np.zeros(0, np.int64))  # the update empties the rows
            return
        n = min(self.count_spin.value(), len(test_set))
        rng = np.random.default_rng(self.image_seed)
        self.set_indices(np.sort(rng.choice(len(test_set), size=n, replace=False)))

    def _next_images(self) -> None:
        self.image_seed += 1
        self._choose_images()

    def _next_noise(self) -> None:
        self.noise_seed += 1
        self.schedule_update()

    def _on_model_changed(self) -> None:
        model = self.session.model
        self.setEnabled(model is not None)
        noise = model.config.noise if model is not None else "none"
        spec = NoiseSpec.parse(noise)
        if not spec.is_identity:  # a DAE opens on the noise it was trained for
            self.set_noise(spec.kind, spec.level)
        self._choose_images()
        test_set = self.session.test_set
        has_data = test_set is not None and len(test_set) > 0
        for widget in (self.count_spin, self.new_button, self.noise_button):
            widget.setEnabled(has_data)
