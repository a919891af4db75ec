"""The training panel's precision field and resnet arch (issue 33): both come from the options table; a run in
bf16 trains in the window and records the precision used (auto resolved) for its checkpoint."""
from __future__ import annotations

import pytest

from aeviewer.gui import app as app_module
from aeviewer.gui.app import create_main_window
from aeviewer.models import default_config, parameter_count, size_text
from aeviewer.training import precision


@pytest.fixture
def window(qtbot, monkeypatch):
    monkeypatch.setattr(app_module, "default_model_path", lambda *a, **k: None)
    window = create_main_window(None, background_encoding=True)
    window.show_error = lambda title, text: None
    window.confirm_close_during_training = lambda: True
    window.training_panel.train_threads = 1
    qtbot.addWidget(window)
    yield window
    window.training_panel.shutdown()


def choose(box, value) -> None:
    index = box.findData(value)
    assert index >= 0, value
    box.setCurrentIndex(index)


def test_the_precision_field_shows_with_its_choices_and_a_tooltip(window):
    panel = window.training_panel
    box = panel.precision
    assert panel.form.isRowVisible(box) and box.toolTip()
    assert [box.itemData(i) for i in range(box.count())] == ["auto", "fp32", "bf16", "fp16"]
    assert box.currentData() == "auto"
    choose(box, "bf16")
    assert panel.train_config().precision == "bf16"


def test_resnet_is_offered_for_the_vqvae_with_its_size(window, qtbot):
    panel = window.training_panel
    choose(panel.dataset, "mnist")
    choose(panel.kind, "vqvae")
    assert panel.form.isRowVisible(panel.arch)
    choose(panel.arch, "resnet")
    assert panel.model_config().arch == "resnet"
    expected = size_text(parameter_count(panel.model_config()))
    qtbot.waitUntil(lambda: panel.size_label.text() == expected, timeout=5000)
    assert expected != size_text(parameter_count(default_config("vqvae", (1, 28, 28))))


def test_a_run_in_the_window_trains_in_the_auto_precision_and_records_it(window, qtbot, monkeypatch, wait_encoded):
    monkeypatch.setattr(precision, "cpu_flags", lambda: frozenset({"avx512_bf16"}))  # bf16, whatever this CPU has
    panel = window.training_panel
    choose(panel.dataset, "digits")
    choose(panel.kind, "vae")
    panel.hidden.setText("32")
    panel.epochs.setValue(2)
    with qtbot.waitSignal(panel.trainingFinished, timeout=60_000) as blocker:
        assert panel.start()
    result = blocker.args[0]
    assert result["history"] and all(row["total"] == row["total"] for row in result["history"])  # finite
    assert panel._run_record["precision"] == "bf16"  # auto, resolved
    wait_encoded(window)


def test_fp16_on_the_cpu_is_a_red_line_and_nothing_starts(window, monkeypatch):
    panel = window.training_panel
    choose(panel.dataset, "digits")
    choose(panel.device, "cpu")
    choose(panel.precision, "fp16")
    assert not panel.start()
    assert "fp16 needs a CUDA GPU" in panel.error_label.text()
    assert not panel.is_running()
