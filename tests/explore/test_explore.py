"""latent_space.py: encoding, projections and their inverses, decoding, interpolation, grids, neighbours."""
from __future__ import annotations


import numpy as np
import pytest
import torch

from aeviewer.explore import latent_space
from aeviewer.data.imageset import ImageSet
from aeviewer.errors import ConfigError
from aeviewer.models import build_model, default_config


def model_of(kind: str = "vae", image_shape=(1, 8, 8), **overrides):
    torch.manual_seed(0)
    options = dict(hidden=(32,), latent_dim=2, codebook_size=16, code_dim=4, channels=(8, 8))
    options.update(overrides)
    return build_model(default_config(kind, image_shape=image_shape, **options))


def random_set(n: int, shape=(1, 8, 8)) -> ImageSet:
    images = torch.randint(0, 256, (n, *shape), generator=torch.Generator().manual_seed(0), dtype=torch.uint8)
    return ImageSet(images, torch.zeros(n, dtype=torch.long), ("x",))


def cloud(n: int = 500, size: int = 5, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.normal(size=(n, size)) * np.array([5.0, 2.0, 1.0, 0.5, 0.1][:size]) + 3.0).astype(np.float32)


def test_encode_set_matches_encode_and_keeps_the_model_mode():
    model = model_of(latent_dim=3).train()
    images = random_set(25)
    z = latent_space.encode_set(model, images, batch_size=10)
    assert z.shape == (25, 3) and z.dtype == np.float32
    model.eval()
    with torch.no_grad():
        expected = model.encode(images.float_batch(slice(None))).numpy()
    np.testing.assert_allclose(z, expected, rtol=1e-5, atol=1e-6)
    model.train()
    latent_space.encode_set(model, images)
    assert model.training


def test_decoding_runs_in_eval_mode_and_gives_back_a_whole_models_mode():
    model = model_of(latent_dim=3).eval()
    z = np.zeros((2, 3), np.float32)
    latent_space.decode_points(model, z)
    assert not any(m.training for m in model.modules())
    model.train()
    latent_space.decode_points(model, z)
    assert all(m.training for m in model.modules())
    model.eval()
    next(iter(model.children())).train()  # one part training: decoding must still run in eval mode
    seen = []
    handles = [m.register_forward_hook(lambda m, i, o: seen.append(m.training)) for m in model.modules()]
    latent_space.decode_points(model, z)
    for h in handles:
        h.remove()
    assert seen and not any(seen)


def test_encode_set_encodes_every_image_across_batches():
    # its speed is benchmarks/bench_encode.py's to measure: a timed assertion fails on a loaded machine
    model = model_of("ae", image_shape=(1, 28, 28), hidden=(512, 256), latent_dim=2)
    images = random_set(2_500, (1, 28, 28))
    z = latent_space.encode_set(model, images, batch_size=1000)
    with torch.no_grad():
        np.testing.assert_allclose(z, model.encode(images.float_batch(slice(None))).numpy(), rtol=1e-5, atol=1e-6)


def test_decode_points_gives_float_images_in_unit_range():
    model = model_of(latent_dim=2)
    images = latent_space.decode_points(model, np.zeros((3, 2), np.float32))
    assert images.shape == (3, 8, 8) and images.dtype == np.float32
    assert images.min() >= 0 and images.max() <= 1
    with torch.no_grad():
        np.testing.assert_allclose(images, model.decode(torch.zeros(3, 2))[:, 0].numpy(), rtol=1e-6)


def test_decode_points_keeps_colour_channels_last():
    model = model_of("ae", image_shape=(3, 8, 8), latent_dim=2)
    assert latent_space.decode_points(model, np.zeros((2, 2))).shape == (2, 8, 8, 3)


def test_vqvae_codes_encode_project_and_decode():
    model = model_of("vqvae")
    z = latent_space.encode_set(model, random_set(20))
    assert z.shape == (20, model.latent_size)
    projection = latent_space.make_projection("pca", z)
    images = latent_space.decode_points(model, projection.from_2d(projection.to_2d(z[:3])))
    assert images.shape == (3, 8, 8)


def test_identity_projection_is_the_point_itself():
    z = cloud(size=2)
    projection = latent_space.make_projection("identity", z)
    np.testing.assert_array_equal(projection.to_2d(z), z)
    np.testing.assert_array_equal(projection.from_2d(z), z)
    assert projection.axis_labels == ("z0", "z1")
    with pytest.raises(ConfigError, match="2-dim"):
        latent_space.make_projection("identity", cloud(size=3))


def test_pair_projection_fills_the_other_dims_from_the_mean_or_a_base():
    z = cloud()
    projection = latent_space.make_projection("pair", z, dims=(3, 1))
    np.testing.assert_array_equal(projection.to_2d(z), z[:, [3, 1]])
    back = projection.from_2d(np.array([[7.0, -2.0]]))
    assert back[0, 3] == 7.0 and back[0, 1] == -2.0
    np.testing.assert_allclose(back[0, [0, 2, 4]], z.mean(0)[[0, 2, 4]], rtol=1e-6)
    base = np.arange(5, dtype=np.float32)
    np.testing.assert_array_equal(projection.from_2d([[7.0, -2.0]], base=base)[0], [0, -2, 2, 7, 4])
    assert projection.axis_labels == ("z3", "z1")
    with pytest.raises(ConfigError):
        latent_space.make_projection("pair", z, dims=(2, 2))
    with pytest.raises(ConfigError):
        latent_space.make_projection("pair", z, dims=(0, 5))


def test_pca_finds_the_directions_of_largest_variance():
    z = cloud(n=5000)
    projection = latent_space.make_projection("pca", z)
    # The cloud's axes are the coordinate axes with std 5 and 2: the components are e0 and e1.
    np.testing.assert_allclose(np.abs(projection.components), np.eye(2, 5), atol=0.05)
    np.testing.assert_allclose(projection.components @ projection.components.T, np.eye(2), atol=1e-5)
    assert projection.explained[0] > projection.explained[1] > 0.1
    assert projection.axis_labels[0].startswith("PC1 (")


def test_pca_inverse_roundtrips_points_in_the_plane():
    z = cloud()
    projection = latent_space.make_projection("pca", z)
    p = np.random.default_rng(1).normal(size=(50, 2)).astype(np.float32) * 4
    np.testing.assert_allclose(projection.to_2d(projection.from_2d(p)), p, atol=1e-4)
    # The origin of the view is the mean of the latents; projecting a latent then lifting it lands on its
    # orthogonal projection onto the plane, which projects to the same 2-D point.
    np.testing.assert_allclose(projection.from_2d(np.zeros((1, 2)))[0], z.mean(0), rtol=1e-5)
    lifted = projection.from_2d(projection.to_2d(z))
    np.testing.assert_allclose(projection.to_2d(lifted), projection.to_2d(z), atol=1e-3)


def test_auto_projection_and_bad_kinds():
    assert latent_space.make_projection("auto", cloud(size=2)).kind == "identity"
    assert latent_space.make_projection("auto", cloud(size=4)).kind == "pca"
    with pytest.raises(ConfigError, match="unknown projection"):
        latent_space.make_projection("tsne", cloud())
    with pytest.raises(ConfigError):
        latent_space.make_projection("pca", np.zeros((10, 1), np.float32))


def test_lerp_goes_in_a_straight_line_with_both_ends_included():
    a, b = np.array([0.0, 0.0, 1.0]), np.array([2.0, 4.0, 1.0])
    path = latent_space.interpolate(a, b, 5)
    assert path.shape == (5, 3) and path.dtype == np.float32
    np.testing.assert_allclose(path[[0, -1]], [a, b])
    np.testing.assert_allclose(path[2], [1.0, 2.0, 1.0])


def test_slerp_keeps_norm():
    rng = np.random.default_rng(0)
    a = rng.normal(size=20)
    b = rng.normal(size=20)
    b *= np.linalg.norm(a) / np.linalg.norm(b)
    path = latent_space.interpolate(a, b, 11, mode="slerp")
    np.testing.assert_allclose(np.linalg.norm(path, axis=1), np.linalg.norm(a), rtol=1e-5)
    np.testing.assert_allclose(path[[0, -1]], np.stack([a, b]), atol=1e-5)
    lerp_mid = latent_space.interpolate(a, b, 3)[1]
    assert np.linalg.norm(lerp_mid) < 0.9 * np.linalg.norm(a)  # lerp cuts the corner, slerp does not


def test_slerp_of_a_right_angle_walks_the_circle():
    path = latent_space.interpolate([1.0, 0.0], [0.0, 1.0], 3, mode="slerp")
    np.testing.assert_allclose(path[1], [np.sqrt(0.5), np.sqrt(0.5)], atol=1e-6)


def test_slerp_falls_back_to_lerp_for_parallel_or_zero_vectors():
    a = np.array([1.0, 2.0, 3.0])
    for b in (2 * a, a.copy(), np.zeros(3)):
        slerp = latent_space.interpolate(a, b, 4, mode="slerp")
        assert np.isfinite(slerp).all()
        np.testing.assert_allclose(slerp, latent_space.interpolate(a, b, 4), atol=1e-6)
    with pytest.raises(ConfigError):
        latent_space.interpolate(a, a, 3, mode="cubic")


def test_grid_points_cover_the_range_row_by_row_from_the_top():
    projection = latent_space.make_projection("pca", cloud())
    grid = latent_space.grid_points(projection, (-1.0, 1.0), (0.0, 4.0), 3)
    assert grid.shape == (9, 5)
    p = projection.to_2d(grid)
    np.testing.assert_allclose(p[:3], [[-1, 4], [0, 4], [1, 4]], atol=1e-4)  # top row: largest y
    np.testing.assert_allclose(p[-1], [1, 0], atol=1e-4)


def test_grid_points_take_fewer_rows_than_columns():
    projection = latent_space.make_projection("pca", cloud())
    grid = latent_space.grid_points(projection, (-1.0, 1.0), (0.0, 4.0), 3, rows=2)
    p = projection.to_2d(grid)
    np.testing.assert_allclose(p, [[-1, 4], [0, 4], [1, 4], [-1, 0], [0, 0], [1, 0]], atol=1e-4)


def test_nearest_examples_returns_the_closest_first():
    latents = np.array([[0, 0], [5, 5], [1, 0], [0.4, 0.1], [10, 10]], np.float32)
    assert latent_space.nearest_examples(latents, np.array([0.6, 0.0]), k=3).tolist() == [3, 2, 0]
    assert latent_space.nearest_examples(latents, [9.0, 9.0]).tolist() == [4]
    assert len(latent_space.nearest_examples(latents, [0.0, 0.0], k=99)) == 5


def test_pca_of_wide_latents_takes_the_leading_axes_of_the_full_svd():
    """Past FULL_SVD_MAX_DIM the two axes come from ARPACK (a VQ-VAE's 3136-dim codes): the same axes, signs
    and variance shares as numpy's full SVD, and the same axes again on a second fit."""
    rng = np.random.default_rng(3)
    size = latent_space.FULL_SVD_MAX_DIM + 100
    scales = np.r_[9.0, 5.0, np.full(size - 2, 0.5)]  # two clear leading directions, then noise
    basis = np.linalg.qr(rng.standard_normal((size, size)))[0]
    z = ((rng.standard_normal((800, size)) * scales) @ basis.T + 2.0).astype(np.float32)
    projection = latent_space.make_projection("pca", z)
    centred = (z - z.mean(0)).astype(np.float64)
    _, s, vt = np.linalg.svd(centred, full_matrices=False)
    expected = vt[:2] * np.sign(vt[np.arange(2), np.abs(vt[:2]).argmax(1)])[:, None]
    np.testing.assert_allclose(projection.components, expected, atol=1e-4)
    np.testing.assert_allclose(projection.explained, s[:2] ** 2 / (s ** 2).sum(), rtol=1e-4)
    np.testing.assert_array_equal(latent_space.make_projection("pca", z).components, projection.components)
    p = projection.to_2d(z[:5])  # and the map still inverts exactly on its plane
    np.testing.assert_allclose(projection.to_2d(projection.from_2d(p)), p, atol=1e-3)


def test_vqvae_code_maps_of_a_set_give_exactly_its_latents():
    """The GUI encodes a VQ-VAE's test set once, to code maps, and derives the scatter's latents from them."""
    model = model_of("vqvae")
    images = random_set(30)
    codes = latent_space.encode_codes_set(model, images, batch_size=7)
    assert codes.shape == (30, *model.code_grid_shape) and codes.dtype == np.int64
    with torch.no_grad():
        np.testing.assert_array_equal(codes, model.encode_codes(images.float_batch(slice(0, 30))).numpy())
        latents = model.latents_of_codes(torch.from_numpy(codes)).numpy()
    np.testing.assert_array_equal(latents, latent_space.encode_set(model, images))
