"""What a training run shows in the panel: progress, the epoch and notice lines, the loss curves, the red
error line, and the run's end (mixed into TrainingPanel, which keeps the form and the run's controls)."""
from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

from aeviewer.training.trainer import terms_text


def format_eta(seconds: float) -> str:
    if not seconds == seconds or seconds == float("inf"):  # NaN or inf before the first batches
        return "–"
    return str(datetime.timedelta(seconds=int(round(seconds))))


def progress_text(info: dict[str, Any]) -> str:
    return (f"Epoch {info['epoch']}/{info['epochs']} · batch {info['batch']}/{info['n_batches']}\n"
            f"{info['samples_per_s']:,.0f} samples/s · ETA {format_eta(info['eta_s'])}")



class RunDisplay:
    """Uses the panel's ``progress``, ``progress_label``, ``info_label``, ``error_label``, ``loss_plot``,
    ``history``, ``_info``, ``session``, ``message`` and ``trainingFinished``."""

    def _load_weights(self, state: dict) -> None:
        if self.session.model is None:
            return
        try:
            self.session.load_weights(state)
        except RuntimeError as err:  # a snapshot that does not fit the model: never take the window down
            self.message.emit(f"Could not load a weight snapshot: {str(err).splitlines()[0]}")

    def _on_progress(self, info: dict[str, Any]) -> None:
        done = (info["epoch"] - 1 + info["batch"] / max(info["n_batches"], 1)) / max(info["epochs"], 1)
        self.progress.setValue(int(done * 1000))
        self.progress_label.setText(progress_text(info) + (" (paused)" if self.is_paused() else ""))
        if info.get("losses_fresh"):
            self.loss_plot.add_point(info["global_step"], info["losses"])

    def reset_progress(self) -> None:
        self.progress.setValue(0)
        self.progress_label.setText("Not training")

    def _on_epoch(self, info: dict[str, Any]) -> None:
        self.history.append({"epoch": info["epoch"], **info["losses"], **info["stats"], "seconds": info["seconds"]})
        model = self.session.model  # the run's model, shown as it trains
        codebook_size = model.config.codebook_size if model is not None and model.has_codebook else None
        terms = terms_text(info["losses"], info["stats"], codebook_size)
        self._info["epoch"] = f"Epoch {info['epoch']}/{info['epochs']}: {terms}"
        self._refresh_info()

    def _on_notice(self, text: str) -> None:
        self._info["notice"] = text  # stays above the epoch lines for the whole run (e.g. the CPU fallback)
        self._refresh_info()
        self.message.emit(text)

    def _on_autosaved(self, info: dict[str, Any]) -> None:
        self.last_autosave = Path(info["path"])
        text = f"autosaved epoch {info['epoch']} → {info['path']}"
        self._info["autosave"] = text
        self._refresh_info()
        self.message.emit(text)

    def _refresh_info(self) -> None:
        self.info_label.setText("\n".join(line for line in self._info.values() if line))

    def show_history(self, history: list[dict[str, Any]]) -> None:
        """Draw an opened model's recorded epochs as the loss curves."""
        self.loss_plot.show_history(history)

    def info_text(self) -> str:
        return self.info_label.text()

    def _on_finished(self, result: dict[str, Any]) -> None:
        if result.get("history"):
            self.history = list(result["history"])
        self.last_result = {**result, "history": list(self.history), "train": self._run_record}
        status = result.get("status", "failed")
        if status == "finished":
            self.progress.setValue(1000)
            self.progress_label.setText(f"Finished {result.get('epochs_done', 0)} epochs")
        elif status == "stopped":
            self.progress_label.setText(f"Stopped after {result.get('epochs_done', 0)} complete epochs")
        else:
            self.progress_label.setText("Failed: the last good weights are loaded")
        self._set_state("idle")
        self.message.emit(f"Training {status}: {result.get('message', '')}".rstrip(": "))
        self.trainingFinished.emit(self.last_result)

    def set_error(self, text: str) -> None:
        """Show ``text`` as the panel's red error line (empty hides it), as a sentence: core errors are
        written for the CLI's "aeviewer: error: ..." and start in lower case."""
        self.error_label.setText(text[:1].upper() + text[1:])
        self.error_label.setVisible(bool(text))

    def error_text(self) -> str:
        return self.error_label.text()
