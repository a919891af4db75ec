"""Document: the records a save writes after opening, training and continuing a model, and the window title."""
from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from aeviewer.gui.state.document import Document


def _checkpoint(history, extra):
    return SimpleNamespace(metrics={"psnr_db": 17.0}, history=history, extra=extra, preparation=None)


def test_a_continued_run_goes_on_from_the_last_epoch_and_keeps_where_the_model_came_from():
    doc = Document()
    doc.opened(_checkpoint([{"epoch": 1, "total": 3.0}, {"epoch": 2, "total": 2.0}], {"status": "finished"}), "", False)
    assert not doc.unsaved and doc.records["metrics"] == {"psnr_db": 17.0}
    doc.run_started(continues=True)
    doc.run_finished({"status": "stopped", "history": [{"epoch": 1, "total": 1.5}], "train": {"lr": 0.01}})
    assert doc.unsaved and doc.records["metrics"] == {}  # they measured the weights before this run
    assert [r["epoch"] for r in doc.records["history"]] == [1, 2, 3]
    assert doc.records["extra"] == {"status": "stopped", "train": {"lr": 0.01}, "continued_from": {"status": "finished"}}


def test_a_new_run_starts_its_own_records_and_the_title_says_what_is_saved():
    doc = Document()
    assert doc.title("", None) == "no model — aeviewer"
    doc.run_started(continues=False)
    assert doc.title("vae", None) == "untitled vae (unsaved) — aeviewer"
    doc.run_finished({"status": "finished", "history": [{"epoch": 1}], "train": {}})
    assert doc.records["history"] == [{"epoch": 1}] and "continued_from" not in doc.records["extra"]
    assert doc.title("vae", Path("/m/vae.safetensors")) == "vae.safetensors (trained, not saved) — aeviewer"
    doc.saved()
    assert doc.title("vae", Path("/m/vae.safetensors")) == "vae.safetensors — aeviewer"


def test_a_path_data_set_that_has_moved_is_named_with_a_link_to_open_data():
    doc = Document()
    doc.data_problem, doc.data_fetchable = "/old/place/shapes: no such file or folder", True
    html = doc.no_scatter_html("/old/place/shapes", has_prior=False)
    assert "<code>/old/place/shapes</code>" in html and 'href="open-data"' in html
    assert "aeviewer data fetch" not in html
    assert "aeviewer data fetch mnist" in doc.no_scatter_html("mnist", has_prior=False)
