"""Opening a model never blocks the window: the test split is encoded and projected on a worker thread, the
scatter fills in when it is done, a newer open or snapshot supersedes a pending encode, and the decoder
works from the first moment (at the origin until the codes arrive)."""
from __future__ import annotations

import numpy as np
import torch

from aeviewer.explore import latent_space
from aeviewer.gui.app import create_main_window
from aeviewer.gui.state.background_encode import BackgroundEncoder
from aeviewer.gui.state.session import Session


def background_session() -> Session:
    session = Session()
    session.encode_in_background = True
    return session


def test_set_model_returns_before_the_encodings_and_the_scatter_fills_in_later(qtbot, make_tiny_model, digits_test):
    session = background_session()
    model = make_tiny_model("vae", latent_dim=6)
    changes: list[int] = []
    session.encodingsChanged.connect(lambda: changes.append(len(session.coords)))
    session.set_model(model, "digits", digits_test)
    assert len(session.coords) == 0 and session.projection is None
    np.testing.assert_array_equal(session.current_z, np.zeros(6, np.float32))  # the prior's mean until then
    assert session.decode(session.current_z).shape == (8, 8)  # the decoder answers at once
    qtbot.waitUntil(lambda: len(session.coords) == len(digits_test), timeout=10_000)
    assert changes[0] == 0 and changes[-1] == len(digits_test)
    expected = latent_space.encode_set(model, digits_test)
    np.testing.assert_allclose(session.latents, expected, atol=1e-5)
    np.testing.assert_allclose(session.current_z, expected[0], atol=1e-5)  # nobody moved it: the first code


def test_encoding_says_pending_until_the_encodings_are_in_place(qtbot, make_tiny_model, digits_test):
    """`not session.encoding` is what tests and the training run wait on: it must mean the codes are there, not
    only that the encoder's thread has ended (its result reaches the GUI thread one queued signal later)."""
    session = background_session()
    session.set_model(make_tiny_model("vqvae"), "digits", digits_test)
    session._encoder._thread.join()  # the work is done, the queued result not yet taken
    assert session.encoding and session.test_codes is None
    qtbot.waitUntil(lambda: not session.encoding, timeout=10_000)
    assert session.test_codes is not None and len(session.latents) == len(digits_test)


def test_a_point_picked_while_encoding_stays_when_the_codes_arrive(qtbot, make_tiny_model, digits_test):
    session = background_session()
    session.set_model(make_tiny_model("vae", latent_dim=6), "digits", digits_test)
    picked = np.full(6, 0.5, np.float32)
    session.set_current_z(picked)
    session.wait_for_encodings()
    assert len(session.coords) == len(digits_test)
    np.testing.assert_array_equal(session.current_z, picked)


def test_a_newer_open_supersedes_a_pending_encode(qtbot, make_tiny_model, digits_test):
    session = background_session()
    shapes: list[tuple[int, ...]] = []
    session.encodingsChanged.connect(lambda: shapes.append(session.latents.shape))
    session.set_model(make_tiny_model("vae", latent_dim=6), "digits", digits_test)
    second = make_tiny_model("ae", seed=1)
    session.set_model(second, "digits", digits_test)
    session.wait_for_encodings()
    qtbot.wait(50)  # a stale result's queued signal, had one been sent, arrives now
    assert (len(digits_test), 6) not in shapes  # the first model's codes never reached the views
    np.testing.assert_allclose(session.latents, latent_space.encode_set(second, digits_test), atol=1e-5)


def test_a_live_snapshot_encodes_off_the_gui_thread(qtbot, make_tiny_model, digits_test):
    session = background_session()
    session.set_model(make_tiny_model("ae"), "digits", digits_test)
    session.wait_for_encodings()
    before = session.latents
    trained = make_tiny_model("ae", seed=3)
    with qtbot.waitSignal(session.encodingsChanged, timeout=10_000):
        session.load_weights(trained.state_dict())
        assert session.latents is before  # load_weights returned with the old codes still shown
    np.testing.assert_allclose(session.latents, latent_space.encode_set(trained, digits_test), atol=1e-5)
    with torch.no_grad():  # the job worked on its own copy: the session's model is the one loaded
        for a, b in zip(session.model.parameters(), trained.parameters()):
            torch.testing.assert_close(a, b)


def test_the_window_says_the_encoding_in_its_status_bar(qtbot, digits_checkpoint):
    window = create_main_window(digits_checkpoint, background_encoding=True)
    qtbot.addWidget(window)
    messages: list[str] = []
    window.session.encodingStatus.connect(messages.append)
    qtbot.waitUntil(lambda: len(window.session.coords) > 0, timeout=10_000)
    qtbot.waitUntil(lambda: any(m.startswith("encoded ") for m in messages), timeout=2000)
    assert window.action_label.text().startswith(f"Opened {digits_checkpoint.name}")  # the action stays, the encoding follows
    assert "encoded 359 test images" in window.action_label.text()
    assert len(window.latent_view.class_items()) == len(window.session.class_names)
    assert sum(len(item.data) for item in window.latent_view.class_items()) == len(window.session.coords)


def test_a_late_ready_of_a_job_taken_by_wait_keeps_the_next_jobs_result(make_tiny_model, digits_test):
    """CI once lost a live snapshot's codes: wait() took job 1, job 2 finished, then job 1's queued ready()
    reached take(1), which cleared every result, job 2's too, so ready(2) found nothing."""
    encoder = BackgroundEncoder()
    model = make_tiny_model("ae")
    first = encoder.submit(model, digits_test, "identity", (0, 1))
    assert encoder.take(encoder.wait()) is not None
    second = encoder.submit(model, digits_test, "identity", (0, 1))
    encoder.wait()
    assert encoder.take(first) is None  # the late ready() of the first job
    result = encoder.take(second)
    assert result is not None and not isinstance(result, Exception) and len(result.latents) == len(digits_test)
    assert encoder.take(second) is None  # once
