"""File › Follow a training run…: a checkpoint another process writes is reopened as each autosave lands."""
from __future__ import annotations

import time

from aeviewer.gui.app import create_main_window
from aeviewer.models import default_config
from aeviewer.training.checkpoint import save_checkpoint
from aeviewer.training.follow import age_text, run_summary
from aeviewer.training.trainer import seeded_build

EXTRA = {"train": {"epochs": 5}, "world_size": 2, "host": "node3", "user": "alice", "status": "training"}


def autosave(path, epochs: int, seed: int) -> None:
    model = seeded_build(default_config("ae", image_shape=(1, 8, 8), hidden=(16,), latent_dim=2), seed)
    history = [{"epoch": e, "recon": 30.0 - e, "total": 30.0 - e} for e in range(1, epochs + 1)]
    save_checkpoint(path, model, dataset="digits", history=history, extra=EXTRA)


def test_a_run_summary_says_whose_run_and_how_old():
    text = run_summary(EXTRA, [{}, {}], written_at=1000.0, now=1180.0)
    assert text == "alice@node3's run on 2 ranks · epoch 2 of 5 · latest epoch 3 min ago"
    assert age_text(2) == "just now" and age_text(7300) == "2 h 1 min ago"


def test_the_follow_view_picks_up_a_second_autosave(qtbot, tmp_path):
    run = tmp_path / "run.safetensors"
    autosave(run, 1, seed=0)
    window = create_main_window(run, background_encoding=True)
    qtbot.addWidget(window)
    follower = window.follow_run(run)
    assert follower.reloads == 1 and "alice@node3's run on 2 ranks · epoch 1 of 5" in follower.label.text()
    first_weights = window.session.model.state_dict()["decoder.0.weight"].clone()

    time.sleep(0.05)  # a later modification time, as the next epoch's write has
    autosave(run, 2, seed=1)  # atomic: a temp file renamed over the run
    qtbot.waitUntil(lambda: follower.reloads == 2, timeout=20_000)
    assert "epoch 2 of 5" in follower.label.text()
    assert window.training_panel.loss_plot.series("total")[0].tolist() == [1.0, 2.0]
    assert not window.session.model.state_dict()["decoder.0.weight"].equal(first_weights)  # the decoder's new weights
    qtbot.waitUntil(lambda: len(window.session.latents) > 0, timeout=20_000)  # the scatter filled again
