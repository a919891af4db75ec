"""The Prior samples tab's controls for a learned prior over code maps: temperature, top-k, the class to sample and
how strongly to steer towards it.

Shown only for a model whose prior is a learned one (a VQ-VAE after ``aeviewer train-prior``); a VAE's or an AAE's
prior takes none of these. Any change asks for a new batch through ``changed``.
"""
from __future__ import annotations

from typing import Any

from PySide6.QtCore import QSignalBlocker, Signal
from PySide6.QtWidgets import QComboBox, QDoubleSpinBox, QGridLayout, QSpinBox, QWidget

from aeviewer.models.priors import prior_of
from aeviewer.models.priors.guidance import DEFAULT_GUIDANCE, MAX_GUIDANCE

ANY_CLASS = "any class"


class LearnedPriorControls(QWidget):
    """Temperature, top-k, class and guidance for ``model.sample(n, **options())``."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("learnedPriorControls")
        self.temperature = QDoubleSpinBox(self)
        self.temperature.setObjectName("priorTemperature")
        self.temperature.setRange(0.05, 3.0)
        self.temperature.setSingleStep(0.1)
        self.temperature.setValue(1.0)
        self.temperature.setPrefix("T ")
        self.temperature.setToolTip("Sampling temperature: below 1 likelier codes, above 1 more varied ones")
        self.top_k = QSpinBox(self)
        self.top_k.setObjectName("priorTopK")
        self.top_k.setRange(0, 1)
        self.top_k.setPrefix("top-k ")
        self.top_k.setSpecialValueText("top-k all")
        self.top_k.setToolTip("Draw each code from the k likeliest only (all: from every code)")
        self.label = QComboBox(self)
        self.label.setObjectName("priorClass")
        self.label.setToolTip("The class a class-conditional prior samples")
        # long class names (emoji's "animals-and-nature") would push guidance off a laptop screen's panel
        self.label.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.label.setMinimumContentsLength(8)
        self.guidance = QDoubleSpinBox(self)
        self.guidance.setObjectName("priorGuidance")
        self.guidance.setRange(0.0, MAX_GUIDANCE)
        self.guidance.setSingleStep(0.5)
        self.guidance.setDecimals(1)
        self.guidance.setValue(DEFAULT_GUIDANCE)
        self.guidance.setPrefix("guidance ")
        self.guidance.setToolTip("How strongly each code is steered towards its class: 1 none, higher more typical "
                                 "of the class, 0 the prior with the class left out")
        grid = QGridLayout(self)  # two rows: in one, guidance would fall off a laptop screen's decoder panel
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setVerticalSpacing(2)
        for i, widget in enumerate((self.temperature, self.top_k, self.label, self.guidance)):
            grid.addWidget(widget, i // 2, i % 2)
        self.temperature.valueChanged.connect(lambda _value: self.changed.emit())
        self.top_k.valueChanged.connect(lambda _value: self.changed.emit())
        self.label.currentIndexChanged.connect(lambda _index: self.changed.emit())
        self.guidance.valueChanged.connect(lambda _value: self.changed.emit())
        self.active = self.conditional = False
        self._shape: Any = None  # the config and class names of the prior the choices were made for
        self.setVisible(False)

    def set_model(self, model: Any, class_names: tuple[str, ...]) -> None:
        """Show the controls for ``model``'s learned prior (hidden for any other model), without asking for samples."""
        prior = prior_of(model)
        self.active = prior is not None
        self.conditional = bool(prior is not None and prior.conditional)
        self.setVisible(self.active)
        shape = None if prior is None else (prior.config, tuple(class_names))
        if prior is None or shape == self._shape:  # a prior of the same shape (a training's live one) keeps the choices
            self._shape = shape
            return
        self._shape = shape
        with QSignalBlocker(self.top_k), QSignalBlocker(self.label):  # a new model is no request for samples
            self.top_k.setRange(0, prior.config.codebook_size)
            self.top_k.setValue(0)
            self.label.clear()
            if prior.conditional:
                names = [class_names[k] if k < len(class_names) else str(k) for k in range(prior.config.n_classes)]
                self.label.addItems([ANY_CLASS, *names])
        self.label.setVisible(prior.conditional)
        self.guidance.setVisible(prior.conditional)

    def options(self) -> dict[str, Any]:
        """Keyword arguments for ``sample``: {} when no learned prior is shown."""
        if not self.active:
            return {}
        options: dict[str, Any] = {"temperature": self.temperature.value(), "top_k": self.top_k.value()}
        if self.conditional:
            options["guidance"] = self.guidance.value()
        if self.conditional and self.label.currentIndex() > 0:
            options["labels"] = self.label.currentIndex() - 1
        return options
