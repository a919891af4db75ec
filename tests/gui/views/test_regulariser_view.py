"""RegulariserView: the KL chart for a VAE, the prior's contours for an AAE, a note otherwise; live updates."""
from __future__ import annotations

import numpy as np
import torch

from aeviewer.explore import regulariser
from aeviewer.gui.views.regulariser.regulariser_view import REFRESH_MS, RegulariserView
from aeviewer.gui.state.session import Session


def shown_view(qtbot, session: Session) -> RegulariserView:
    view = RegulariserView(session)
    qtbot.addWidget(view)
    view.show()
    qtbot.waitExposed(view)
    return view


def test_each_kind_shows_its_picture(qtbot, make_tiny_model, digits_test) -> None:
    session = Session()
    view = shown_view(qtbot, session)
    session.set_model(make_tiny_model("vae", latent_dim=3), "digits", digits_test)
    qtbot.waitUntil(lambda: view.stack.currentWidget() is view.kl_chart, timeout=3 * REFRESH_MS)
    np.testing.assert_allclose(view.kl_chart.bars.opts["height"],
                               regulariser.kl_per_dimension(session.model, digits_test).kl, rtol=1e-6)
    session.set_model(make_tiny_model("aae"), "digits", digits_test)
    qtbot.waitUntil(lambda: view.stack.currentWidget() is view.prior_view, timeout=3 * REFRESH_MS)
    assert sum(len(s.data) for s in view.prior_view.scatters) == len(digits_test)
    session.set_model(make_tiny_model("ae"), "digits", digits_test)
    qtbot.waitUntil(lambda: view.stack.currentWidget() is view.note, timeout=3 * REFRESH_MS)
    assert "no regulariser" in view.note.text()


def test_a_live_snapshot_redraws_the_kl_chart(qtbot, make_tiny_model, digits_test) -> None:
    session = Session()
    view = shown_view(qtbot, session)
    session.set_model(make_tiny_model("vae", latent_dim=3), "digits", digits_test)
    qtbot.waitUntil(lambda: view.stack.currentWidget() is view.kl_chart, timeout=3 * REFRESH_MS)
    before = np.array(view.kl_chart.bars.opts["height"])
    snapshot = {k: v.clone() for k, v in make_tiny_model("vae", seed=5, latent_dim=3).state_dict().items()}
    session.load_weights(snapshot)  # what the training run publishes
    qtbot.waitUntil(lambda: not np.allclose(view.kl_chart.bars.opts["height"], before), timeout=3 * REFRESH_MS)
    with torch.no_grad():
        expected = regulariser.kl_per_dimension(session.model, digits_test).kl
    np.testing.assert_allclose(view.kl_chart.bars.opts["height"], expected, rtol=1e-6)


def test_a_hidden_view_waits_until_it_is_shown(qtbot, make_tiny_model, digits_test) -> None:
    session = Session()
    view = RegulariserView(session)
    qtbot.addWidget(view)
    session.set_model(make_tiny_model("vae", latent_dim=3), "digits", digits_test)
    qtbot.wait(2 * REFRESH_MS)
    assert view.kl_chart.report is None  # nothing computed for a view nobody sees
    view.show()
    qtbot.waitUntil(lambda: view.kl_chart.report is not None, timeout=3 * REFRESH_MS)
