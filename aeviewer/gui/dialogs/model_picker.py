"""The pretrained-model picker: the entries of ``trained/index.json`` with their key metrics; opens one."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QAbstractItemView, QDialog, QDialogButtonBox, QHeaderView, QLabel, QTableWidget, QTableWidgetItem, QVBoxLayout,
    QWidget,
)

from aeviewer.util.paths import shipped_dir
from aeviewer.spec.vocabulary import GRID_LATENT_KINDS, KIND_LABELS

# Where the pretrained checkpoints and their index live; tests point this (or a parameter) at tmp_path.
TRAINED_DIR = shipped_dir("trained")
INDEX_NAME = "index.json"
COLUMNS = ("Model", "Kind", "Data set", "Latent", "−ELBO (nats)", "PSNR (dB)", "Codes used", "Also", "Training", "Size")


@dataclass(frozen=True)
class PretrainedModel:
    """One entry of the index, with the file resolved against the trained directory."""

    path: Path
    kind: str = ""
    dataset: str = ""
    arch: str = ""
    latent_dim: int | None = None
    command: str = ""
    seed: int | None = None
    train_seconds: float | None = None
    size_bytes: int | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    is_default: bool = False

    @property
    def exists(self) -> bool:
        return self.path.is_file()


def trained_dir_now() -> Path:
    """The trained directory as the module says now (so a monkeypatched TRAINED_DIR is honoured)."""
    return TRAINED_DIR


def as_number(value: Any) -> float | None:
    """A JSON number as a float (never a bool); None for anything else."""
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _entry(raw: dict[str, Any], trained_dir: Path, default: str | None) -> PretrainedModel | None:
    name = raw.get("file") or raw.get("path")
    if not isinstance(name, str) or not name:
        return None
    path = Path(name) if Path(name).is_absolute() else trained_dir / name
    metrics = raw.get("metrics") if isinstance(raw.get("metrics"), dict) else {}
    latent = as_number(raw.get("latent_dim"))
    seed = as_number(raw.get("seed"))
    size = as_number(raw.get("size_bytes"))
    return PretrainedModel(
        path=path, kind=str(raw.get("kind", "")), dataset=str(raw.get("dataset", "")), arch=str(raw.get("arch", "")),
        latent_dim=int(latent) if latent is not None else None, command=str(raw.get("command", "") or ""),
        seed=int(seed) if seed is not None else None, train_seconds=as_number(raw.get("train_seconds")),
        size_bytes=int(size) if size is not None else None,
        metrics={k: float(v) for k, v in metrics.items() if as_number(v) is not None},
        is_default=default is not None and name == default,
    )


def load_index(trained_dir: str | Path | None = None) -> list[PretrainedModel]:
    """The models that ``trained_dir/index.json`` lists (``{"default": file, "models": [...]}``, or a bare
    list); an absent or unreadable index is an empty list, malformed entries are skipped."""
    directory = Path(trained_dir) if trained_dir is not None else trained_dir_now()
    try:
        index = json.loads((directory / INDEX_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    default = index.get("default") if isinstance(index, dict) and isinstance(index.get("default"), str) else None
    raw = index.get("models", []) if isinstance(index, dict) else index
    if not isinstance(raw, list):
        return []
    entries = [_entry(r, directory, default) for r in raw if isinstance(r, dict)]
    return [e for e in entries if e is not None]


def format_seconds(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.1f} min"


def other_metric(model: PretrainedModel) -> str:
    """The kind's own figure beside reconstruction: denoising PSNR, code perplexity, prior distance."""
    m = model.metrics
    if "denoise_gaussian_0.5_psnr_db" in m:
        noisy = m.get("noisy_gaussian_0.5_psnr_db")
        shown = f"denoised σ=0.5: {m['denoise_gaussian_0.5_psnr_db']:.1f} dB"
        return shown + (f" (noisy {noisy:.1f})" if noisy is not None else "")
    if "perplexity" in m:
        return f"perplexity {m['perplexity']:.0f}"
    if "iw_nll" in m:
        return f"IW NLL {m['iw_nll']:.1f}"
    if "prior_distance" in m:
        return f"prior distance {m['prior_distance']:.3g}"
    return ""


def row_texts(model: PretrainedModel) -> list[str]:
    """The table row for ``model``, in COLUMNS order."""
    m = model.metrics
    used = m.get("codes_used_frac")
    size = f"{model.size_bytes / 1e6:.1f} MB" if model.size_bytes is not None else "–"
    return [
        model.path.name + ("  ★ default" if model.is_default else ""),
        KIND_LABELS.get(model.kind, model.kind),
        Path(model.dataset).name if Path(model.dataset).is_absolute() else model.dataset or "–",  # no foreign folder
        "–" if model.kind in GRID_LATENT_KINDS or model.latent_dim is None else str(model.latent_dim),
        f"{m['neg_elbo']:.1f}" if "neg_elbo" in m else "–",
        f"{m['psnr_db']:.1f}" if "psnr_db" in m else "–",
        f"{100 * used:.0f}%" if used is not None else "–",
        other_metric(model),
        format_seconds(model.train_seconds),
        size,
    ]


def row_tooltip(model: PretrainedModel) -> str:
    lines = [str(model.path)]
    if not model.exists:
        lines.append("The file is missing: re-create it with trained/train_all.sh")
    if model.command:
        lines.append(f"made by: {model.command}" + (f" (seed {model.seed})" if model.seed is not None else ""))
    lines += [f"{k} = {v:.4g}" for k, v in sorted(model.metrics.items())]
    return "\n".join(lines)


class ModelPicker(QDialog):
    """Lists the pretrained models; double-click or Open emits ``modelChosen(path)`` and closes."""

    modelChosen = Signal(object)  # pathlib.Path

    def __init__(self, trained_dir: str | Path | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("modelPicker")
        self.setWindowTitle("Pretrained models")
        self.trained_dir = Path(trained_dir) if trained_dir is not None else trained_dir_now()
        self.entries: list[PretrainedModel] = []

        self.intro = QLabel()
        self.intro.setObjectName("modelPickerIntro")
        self.intro.setWordWrap(True)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("modelTable")
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.setAlternatingRowColors(True)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(False)
        self.table.cellDoubleClicked.connect(lambda row, _col: self.open_row(row))
        self.table.itemSelectionChanged.connect(self._update_buttons)

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Open | QDialogButtonBox.StandardButton.Close)
        self.open_button = self.buttons.button(QDialogButtonBox.StandardButton.Open)
        self.open_button.setToolTip("Open the selected model (or double-click its row)")
        self.buttons.accepted.connect(self.open_selected)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(self.intro)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.buttons)
        self.refresh()

    def refresh(self) -> None:
        """Read the index again (the training script writes it when it ends) and fill the table."""
        self.entries = load_index(self.trained_dir)
        self.table.setRowCount(len(self.entries))
        bold = QFont(self.table.font())
        bold.setBold(True)
        for row, model in enumerate(self.entries):
            tip = row_tooltip(model)
            for col, text in enumerate(row_texts(model)):
                item = QTableWidgetItem(text)
                item.setToolTip(tip)
                if col >= 3:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if not model.exists:
                    item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEnabled)
                elif model.is_default:
                    item.setFont(bold)
                self.table.setItem(row, col, item)
        if self.entries:
            self.intro.setText(f"Models trained by <code>trained/train_all.sh</code>, measured on each data set's "
                               f"test split (from {self.trained_dir / INDEX_NAME}). Hover a row for the command "
                               f"that made it and every metric; double-click to open.")
            default = next((r for r, e in enumerate(self.entries) if e.is_default and e.exists), None)
            first = next((r for r, e in enumerate(self.entries) if e.exists), None)
            pick = default if default is not None else first
            if pick is not None:
                self.table.selectRow(pick)
        else:
            self.intro.setText(f"No pretrained models found: {self.trained_dir / INDEX_NAME} is missing or empty. "
                               f"Make them with <code>bash trained/train_all.sh</code>, or open a checkpoint "
                               f"with File › Open model….")
        self._update_buttons()
        width = self.table.horizontalHeader().length() + 40
        self.resize(max(640, min(width, 1400)), min(120 + 32 * max(len(self.entries), 3), 640))

    def selected_row(self) -> int | None:
        rows = self.table.selectionModel().selectedRows()
        return rows[0].row() if rows else None

    def select_file(self, name: str) -> bool:
        """Select the row whose file is named ``name``; False when none is."""
        for row, model in enumerate(self.entries):
            if model.path.name == name:
                self.table.selectRow(row)
                return True
        return False

    def open_row(self, row: int) -> Path | None:
        """Emit ``modelChosen`` for ``row`` (when its file exists) and close; returns the path."""
        if not 0 <= row < len(self.entries) or not self.entries[row].exists:
            return None
        path = self.entries[row].path
        self.accept()
        self.modelChosen.emit(path)
        return path

    def open_selected(self) -> Path | None:
        row = self.selected_row()
        return self.open_row(row) if row is not None else None

    def _update_buttons(self) -> None:
        row = self.selected_row()
        self.open_button.setEnabled(row is not None and self.entries[row].exists)
