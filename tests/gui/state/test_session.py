"""Session: encodings, projections, the current point, decoding and live weight snapshots."""
from __future__ import annotations

import numpy as np
import torch

from aeviewer.explore import latent_space
from aeviewer.gui.state.session import Session


def test_set_model_encodes_the_test_set_and_emits(qtbot, make_tiny_model, digits_test):
    session = Session()
    model = make_tiny_model("ae")
    with qtbot.waitSignals([session.modelChanged, session.encodingsChanged, session.currentPointChanged]):
        session.set_model(model, "digits", digits_test, path="x.safetensors")
    assert session.kind == "ae" and session.dataset_name == "digits" and session.model_path.name == "x.safetensors"
    assert session.latents.shape == (len(digits_test), 2)
    np.testing.assert_allclose(session.latents, latent_space.encode_set(model, digits_test), rtol=1e-5, atol=1e-6)
    assert session.projection.kind == "identity"
    np.testing.assert_allclose(session.coords, session.latents)
    assert session.current_z.shape == (2,)
    assert not session.model.training


def test_wide_latent_uses_pca_and_a_click_maps_back_to_a_full_vector(qtbot, make_tiny_model, digits_test):
    session = Session()
    session.set_model(make_tiny_model("vae", latent_dim=6), "digits", digits_test)
    assert session.projection.kind == "pca" and session.coords.shape == (len(digits_test), 2)
    with qtbot.waitSignal(session.currentPointChanged) as blocker:
        session.set_current_point_2d(0.5, -0.25)
    z = blocker.args[0]
    assert z.shape == (6,)
    np.testing.assert_allclose(session.projection.to_2d(z)[0], [0.5, -0.25], atol=1e-5)


def test_pair_projection_keeps_the_other_dims_of_the_current_point(qtbot, make_tiny_model, digits_test):
    session = Session()
    session.set_model(make_tiny_model("ae", latent_dim=4), "digits", digits_test)
    session.set_current_z(np.array([1.0, 2.0, 3.0, 4.0]))
    with qtbot.waitSignal(session.encodingsChanged):
        session.set_projection("pair", (1, 3))
    np.testing.assert_allclose(session.coords, session.latents[:, [1, 3]])
    session.set_current_point_2d(-1.0, -2.0)
    np.testing.assert_allclose(session.current_z, [1.0, -1.0, 3.0, -2.0])


def test_decode_matches_the_model(make_tiny_model, digits_test):
    session = Session()
    model = make_tiny_model("ae")
    session.set_model(model, "digits", digits_test)
    z = np.array([[0.1, -0.2], [1.0, 0.5]], np.float32)
    images = session.decode(z)
    assert images.shape == (2, 8, 8) and images.dtype == np.float32
    with torch.no_grad():
        expected = model.decode(torch.from_numpy(z))[:, 0].numpy()
    np.testing.assert_allclose(images, expected, atol=1e-6)
    assert session.decode(z[1]).shape == (8, 8)


def test_load_weights_replaces_weights_and_re_encodes(qtbot, make_tiny_model, digits_test):
    session = Session()
    session.set_model(make_tiny_model("ae", seed=0), "digits", digits_test)
    old = session.latents.copy()
    other = make_tiny_model("ae", seed=1)
    with qtbot.waitSignals([session.encodingsChanged, session.weightsUpdated]):
        session.load_weights(other.state_dict())
    np.testing.assert_allclose(session.latents, latent_space.encode_set(other, digits_test), rtol=1e-5, atol=1e-6)
    assert not np.allclose(old, session.latents)
    # The session copied the values: changing the snapshot's source later does not touch it.
    with torch.no_grad():
        next(other.parameters()).add_(1.0)
    assert not torch.equal(next(other.parameters()), next(session.model.parameters()))


def test_empty_session_and_clearing(make_tiny_model, digits_test):
    session = Session()
    assert session.model is None and session.latents.shape[0] == 0 and session.kind == ""
    session.set_model(make_tiny_model("ae"), "digits", digits_test)
    session.set_model(None, "", None)
    assert session.model is None and session.coords.shape == (0, 2) and session.current_z is None


def test_a_vq_model_is_encoded_once_to_code_maps_and_latents(make_tiny_model, digits_test):
    """The scatter's latents and the codebook view's code maps come from one pass of the encoder."""
    session = Session()
    model = make_tiny_model("vqvae")
    session.set_model(model, "digits", digits_test)
    np.testing.assert_array_equal(session.test_codes, latent_space.encode_codes_set(model, digits_test))
    np.testing.assert_array_equal(session.latents, latent_space.encode_set(model, digits_test))
    session.set_model(make_tiny_model("ae"), "digits", digits_test)
    assert session.test_codes is None
    session.set_model(model, "digits", None)
    assert session.test_codes is None
