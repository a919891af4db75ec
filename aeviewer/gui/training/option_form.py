"""OptionForm: the form rows that aeviewer.spec.options describes, one Qt widget per option, read and written by name."""
from __future__ import annotations

from typing import Any, Callable, Iterable

from PySide6.QtCore import QRegularExpression
from PySide6.QtGui import QRegularExpressionValidator
from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QLineEdit, QSpinBox, QWidget

from aeviewer.errors import ConfigError
from aeviewer.spec.widths import parse_widths, widths_text
from aeviewer.spec.options import Option


def object_name(option_name: str) -> str:
    """"latent_dim" -> "latentDim": the widget's objectName (tests and saved layouts find it by that)."""
    head, *rest = option_name.split("_")
    return head + "".join(part.title() for part in rest)


def _combo(option: Option, items: Iterable[tuple[str, str]]) -> QComboBox:
    box = QComboBox()
    for value, label in items:
        box.addItem(label, value)
    select(box, option.default)
    return box


def _double(option: Option) -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setDecimals(option.decimals)
    box.setRange(option.low, option.high)
    box.setSingleStep(option.step)
    box.setSuffix(option.suffix)
    box.setValue(option.default)
    return box


def _int(option: Option) -> QSpinBox:
    box = QSpinBox()
    box.setRange(int(option.low), int(option.high))
    box.setSuffix(option.suffix)
    box.setSpecialValueText(option.special)  # shown at the lowest value, which stands for None
    box.setValue(option.default)
    return box


def _widths(option: Option) -> QLineEdit:
    edit = QLineEdit(widths_text(option.default))
    edit.setValidator(QRegularExpressionValidator(QRegularExpression(r"[0-9, ]*"), edit))
    edit.setPlaceholderText("e.g. 512, 256")
    return edit


def make_widget(option: Option, items: Callable[[Option], list[tuple[str, str]]]) -> QWidget:
    """The widget for ``option``; ``items`` gives the entries of the lists the table cannot know (data sets, devices)."""
    makers: dict[str, Callable[[], QWidget]] = {
        "int": lambda: _int(option), "float": lambda: _double(option), "widths": lambda: _widths(option),
        "bool": lambda: QCheckBox(option.text), "choice": lambda: _combo(option, option.choices.items()),
    }
    widget = makers[option.type]() if option.type in makers else _combo(option, items(option))
    widget.setObjectName(object_name(option.name))
    widget.setToolTip(option.tooltip)
    return widget


def select(box: QComboBox, value: Any) -> None:
    """Choose the entry holding ``value``; an unknown value leaves the box as it is."""
    index = box.findData(value)
    if index >= 0:
        box.setCurrentIndex(index)


def value_of(widget: QWidget) -> Any:
    """A widget's value as the config holds it (a widths field: its text, parsed by ``read_widths``)."""
    if isinstance(widget, QComboBox):
        return widget.currentData()
    if isinstance(widget, QCheckBox):
        return widget.isChecked()
    if isinstance(widget, QLineEdit):
        return widget.text()
    return widget.value()


def set_value(widget: QWidget, value: Any) -> None:
    if isinstance(widget, QComboBox):
        select(widget, value)
    elif isinstance(widget, QCheckBox):
        widget.setChecked(bool(value))
    elif isinstance(widget, QLineEdit):
        widget.setText(widths_text(value))
    else:
        widget.setValue(value)


def changed_signal(widget: QWidget) -> Any:
    """The signal a widget sends when a person changes its value."""
    if isinstance(widget, QComboBox):
        return widget.currentIndexChanged
    if isinstance(widget, QCheckBox):
        return widget.toggled
    if isinstance(widget, QLineEdit):
        return widget.textChanged
    return widget.valueChanged


def read_widths(option: Option, text: str) -> tuple[int, ...]:
    try:
        return parse_widths(text)
    except ConfigError as err:
        raise ConfigError(f"{option.label}: {err}") from None


class OptionForm:
    """The widgets of ``options`` in ``form``'s rows, in the table's order; look one up with ``widget(name)``."""

    def __init__(self, form: QFormLayout, chosen: Iterable[Option],
                 items: Callable[[Option], list[tuple[str, str]]],
                 wrap: Callable[[str, QWidget], QWidget] = lambda name, widget: widget) -> None:
        """``wrap(name, widget)``: the row's field, when a widget comes with more (the data set's "…")."""
        self.form = form
        self.options = {o.name: o for o in chosen}
        self.widgets = {name: make_widget(o, items) for name, o in self.options.items()}
        self.rows = {name: wrap(name, widget) for name, widget in self.widgets.items()}
        for name, row in self.rows.items():
            form.addRow(self.options[name].label, row)

    def widget(self, name: str) -> QWidget:
        return self.widgets[name]

    def values(self) -> dict[str, Any]:
        return {name: value_of(w) for name, w in self.widgets.items()}

    def read(self, name: str) -> Any:
        """The option's value for a config (widths parsed; a bad one raises ConfigError naming the row)."""
        value = value_of(self.widgets[name])
        option = self.options[name]
        return read_widths(option, value) if option.type == "widths" else value

    def show(self, name: str, value: Any) -> None:
        set_value(self.widgets[name], value)

    def update_visibility(self) -> None:
        """Show exactly the rows that apply to the settings the form holds now."""
        values = self.values()
        for name, option in self.options.items():
            self.form.setRowVisible(self.rows[name], option.applies(values))
