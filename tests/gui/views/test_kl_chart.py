"""KLChart: one bar per latent dimension, its height the KL, blue when active, grey and crossed when collapsed."""
from __future__ import annotations

import numpy as np
import torch

from aeviewer.explore import regulariser
from aeviewer.gui.views.regulariser.kl_chart import ACTIVE_COLOR, INACTIVE_COLOR, KLChart


def test_bars_show_each_dimensions_kl_and_mark_the_collapsed_ones(qtbot, make_tiny_model, digits_test) -> None:
    model = make_tiny_model("vae", latent_dim=4)
    head = [m for m in model.encoder.modules() if isinstance(m, torch.nn.Linear)][-1]
    with torch.no_grad():  # dimension 1 collapses: mu = 0 and log sigma² = 0 for every image
        for row in (1, 4 + 1):
            head.weight[row] = 0.0
            head.bias[row] = 0.0
    chart = KLChart()
    qtbot.addWidget(chart)
    report = chart.show_model(model, digits_test)
    expected = regulariser.kl_per_dimension(model, digits_test)
    np.testing.assert_allclose(chart.bars.opts["height"], expected.kl, rtol=1e-6)
    colors = chart.bar_colors()
    assert colors[1] == INACTIVE_COLOR.lower()
    assert colors == [ACTIVE_COLOR.lower() if a else INACTIVE_COLOR.lower() for a in expected.active]
    x, _ = chart.inactive_marks.getData()
    assert 1 in x.tolist() and len(x) == 4 - report.n_active
    assert f"{report.n_active} of 4 dimensions active" in chart.plotItem.titleLabel.text


def test_an_update_replaces_the_bars_instead_of_adding_items(qtbot, make_tiny_model, digits_test) -> None:
    chart = KLChart()
    qtbot.addWidget(chart)
    chart.show_model(make_tiny_model("vae", latent_dim=3), digits_test)
    items = len(chart.plotItem.items)
    chart.show_model(make_tiny_model("vae", seed=1, latent_dim=6), digits_test)
    assert len(chart.plotItem.items) == items
    assert len(chart.bars.opts["height"]) == 6
