"""LossPlot: live points are batched into a few redraws; a saved history shows at once."""
from __future__ import annotations

import numpy as np

from aeviewer.gui.training.loss_plot import REDRAW_INTERVAL_MS, LossPlot


def test_a_burst_of_points_is_drawn_in_one_redraw_with_every_point(qtbot):
    plot = LossPlot()
    qtbot.addWidget(plot)
    plot.add_point(0, {"total": 5.0, "recon": 4.0})
    curve = plot.curves["total"]
    redraws = []
    curve.sigPlotChanged.connect(lambda *_: redraws.append(1))
    for step in range(1, 50):
        plot.add_point(step, {"total": 5.0 - 0.01 * step, "recon": 4.0})
    assert curve.xData is None or len(curve.xData) < 50  # nothing redrawn yet
    qtbot.waitUntil(lambda: curve.xData is not None and len(curve.xData) == 50, timeout=4 * REDRAW_INTERVAL_MS)
    assert len(redraws) == 1
    np.testing.assert_allclose(curve.yData, plot.series("total")[1])


def test_a_saved_history_is_drawn_without_waiting(qtbot):
    plot = LossPlot()
    qtbot.addWidget(plot)
    assert plot.show_history([{"epoch": 1, "total": 3.0}, {"epoch": 2, "total": 2.0}]) == 2
    np.testing.assert_allclose(plot.curves["total"].yData, [3.0, 2.0])


def test_a_history_the_trainer_wrote_shows_only_loss_terms(qtbot):
    """The GUI saves the Trainer's own history rows (autosave, Save after training): their bookkeeping
    (epoch, seconds, samples/s) must not come back as curves when the file is opened again."""
    from aeviewer.data.loader import load_split
    from aeviewer.models import build_model, default_config
    from aeviewer.training.trainer import TrainConfig, Trainer

    data = load_split("digits", "train").subset(slice(0, 200))
    model = build_model(default_config("ae", data.image_shape))
    trainer = Trainer(model, data, TrainConfig(epochs=2, batch_size=50, device="cpu"))
    assert trainer.run().status == "finished"
    plot = LossPlot()
    qtbot.addWidget(plot)
    assert plot.show_history(trainer.history) == 2
    assert "samples_per_s" in trainer.history[0]
    assert set(plot.curves) == {"recon", "total"}  # an AE's two loss terms, nothing else


def test_a_new_history_lists_only_its_own_terms_in_the_legend(qtbot):
    """Opening a VQ-VAE after a VAE: no empty 'kl' curve left in the legend from the model before."""
    plot = LossPlot()
    qtbot.addWidget(plot)
    plot.show_history([{"epoch": 1, "recon": 3.0, "kl": 1.0, "total": 4.0}])
    plot.show_history([{"epoch": 1, "recon": 2.0, "vq": 0.5, "total": 2.5}])
    legend = [label.text for _, label in plot.getPlotItem().legend.items]
    assert sorted(legend) == ["recon", "total", "vq"] and sorted(plot.curves) == ["recon", "total", "vq"]
    plot.show_history([])  # a checkpoint without history: an empty plot, an empty legend
    assert plot.getPlotItem().legend.items == [] and plot.curves == {}


def pen_colours(plot: LossPlot) -> dict[str, str]:
    return {name: curve.opts["pen"].color().name() for name, curve in plot.curves.items()}


def test_each_loss_term_keeps_its_colour_in_a_saved_history_and_a_live_run(qtbot):
    """The saved history drew recon orange and a live run recon blue: colours went by the order terms came in."""
    from aeviewer.util.paths import shipped_dir
    from aeviewer.training.checkpoint import load_checkpoint

    saved, live = LossPlot(), LossPlot()
    qtbot.addWidget(saved)
    qtbot.addWidget(live)
    history = load_checkpoint(shipped_dir("trained") / "vae-digits.safetensors").history
    assert saved.show_history(history) > 0
    live.add_point(0, {"total": 5.0, "kl": 1.0, "recon": 4.0})  # another order of the same terms
    live.flush()
    assert pen_colours(saved) == pen_colours(live)
    assert len(set(pen_colours(saved).values())) == 3  # and the terms stay apart


def test_the_kl_term_has_the_kl_charts_colour(qtbot):
    from aeviewer.gui.views.regulariser.kl_chart import ACTIVE_COLOR

    plot = LossPlot()
    qtbot.addWidget(plot)
    plot.show_history([{"epoch": 1, "recon": 3.0, "kl": 1.0, "total": 4.0}])
    assert pen_colours(plot)["kl"] == ACTIVE_COLOR.lower()


def test_a_saved_history_of_a_few_epochs_has_whole_epoch_ticks(qtbot):
    """The epoch axis read 1.5, 2.5 for a three-epoch history."""
    plot = LossPlot()
    qtbot.addWidget(plot)
    plot.resize(500, 300)
    plot.show()
    qtbot.waitExposed(plot)
    plot.show_history([{"epoch": e, "total": 4.0 - e} for e in (1, 2, 3)])
    qtbot.waitUntil(lambda: plot.getPlotItem().viewRange()[0][1] >= 3)  # the auto range follows on a later turn
    axis = plot.getAxis("bottom")
    (x0, x1), _ = plot.getPlotItem().viewRange()
    ticks = [v for _, values in axis.tickValues(x0, x1, axis.width()) for v in values]
    assert ticks and all(float(v).is_integer() for v in ticks)
