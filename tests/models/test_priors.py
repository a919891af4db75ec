"""The learned priors over VQ-VAE code maps: causality, KV cache, completion, checkpoints."""
from __future__ import annotations

import pytest
import torch

from aeviewer.errors import CheckpointError, ConfigError
from aeviewer.models import build_model, default_config
from aeviewer.models.priors import (
    PRIOR_ARCHS, PriorConfig, build_prior, iter_sample, keep_first, keep_rows_above, sample_codes,
)
from aeviewer.training.checkpoint import load_checkpoint, save_checkpoint


def tiny_prior(arch: str, n_classes: int = 0, grid: tuple[int, int] = (4, 5), k: int = 11):
    torch.manual_seed(0)
    config = PriorConfig(arch=arch, codebook_size=k, grid=grid, n_classes=n_classes, width=16, layers=2, heads=2,
                         kernel=3, dropout=0.0, axial_positions=True)
    return build_prior(config).eval()


def tiny_vqvae():
    torch.manual_seed(0)
    return build_model(default_config("vqvae", (1, 8, 8), codebook_size=11, code_dim=4, channels=(8, 8)))


@pytest.mark.parametrize("arch", PRIOR_ARCHS)
def test_changing_a_later_code_does_not_change_earlier_logits(arch):
    prior = tiny_prior(arch, n_classes=3)
    h, w = prior.config.grid
    codes = torch.randint(0, 11, (2, h, w))
    labels = torch.tensor([0, 2])
    with torch.no_grad():
        before = prior(codes, labels).flatten(2)
        for t in (0, 7, h * w - 1):
            changed = codes.clone().view(2, -1)
            changed[:, t] = (changed[:, t] + 1) % 11
            after = prior(changed.view(2, h, w), labels).flatten(2)
            # the logits of positions up to t (t's own included: it predicts c_t from c_<t) stay exactly as they were
            torch.testing.assert_close(after[:, :, :t + 1], before[:, :, :t + 1], rtol=0, atol=1e-5)
            if t < h * w - 1:
                assert not torch.allclose(after[:, :, t + 1:], before[:, :, t + 1:])


@pytest.mark.parametrize("arch", PRIOR_ARCHS)
def test_step_logits_equal_the_teacher_forced_ones(arch):
    prior = tiny_prior(arch)
    codes = torch.randint(0, 11, (3, 4, 5))
    with torch.no_grad():
        full = prior(codes).flatten(2)
        state = prior.start(3, None)
        for t in range(20):
            torch.testing.assert_close(prior.next_logits(state, codes.view(3, -1), t), full[:, :, t], rtol=1e-4, atol=1e-4)


def test_kv_cache_sampling_equals_sampling_without_it():
    prior = tiny_prior("transformer", n_classes=2)
    cached = sample_codes(prior, 6, labels=1, generator=torch.Generator().manual_seed(3))
    uncached = sample_codes(prior, 6, labels=1, generator=torch.Generator().manual_seed(3), use_cache=False)
    assert torch.equal(cached, uncached)


@pytest.mark.parametrize("arch", PRIOR_ARCHS)
def test_a_completion_keeps_the_given_codes_exactly(arch):
    prior = tiny_prior(arch)
    given = torch.randint(0, 11, (4, 5))
    for keep in (keep_rows_above((4, 5), 2), keep_first((4, 5), 7)):
        codes = sample_codes(prior, 5, given=given, keep=keep, temperature=1.5, generator=torch.Generator().manual_seed(0))
        assert torch.equal(codes[:, keep], given[keep].expand(5, -1))
        assert len({tuple(c[~keep].tolist()) for c in codes}) > 1  # the rest is drawn, differently per sample


def test_the_fill_in_yields_every_position_in_raster_order():
    prior = tiny_prior("transformer")
    steps = [t for t, codes in iter_sample(prior, 2, generator=torch.Generator().manual_seed(0))]
    assert steps == list(range(20))


def test_top_k_1_and_temperature_0_both_take_the_likeliest_code():
    prior = tiny_prior("pixelcnn")
    greedy = sample_codes(prior, 2, temperature=0.0)
    top1 = sample_codes(prior, 2, top_k=1, generator=torch.Generator().manual_seed(5))
    assert torch.equal(greedy, top1)


def test_a_conditional_prior_refuses_a_class_it_does_not_know():
    prior = tiny_prior("transformer", n_classes=3)
    with pytest.raises(ConfigError, match="class out of range"):
        sample_codes(prior, 2, labels=3)


def test_a_vqvae_with_a_prior_samples_latents_that_decode_to_images():
    model = tiny_vqvae()
    assert not model.has_prior
    model.attach_prior(tiny_prior("transformer", grid=model.code_grid_shape))
    assert model.has_prior
    z = model.sample(3, generator=torch.Generator().manual_seed(0))
    assert z.shape == (3, model.latent_size)
    assert model.decode(z).shape == (3, 1, 8, 8)


def test_a_prior_of_another_grid_is_refused():
    with pytest.raises(ConfigError, match="does not fit"):
        tiny_vqvae().attach_prior(tiny_prior("transformer", grid=(7, 7)))


@pytest.mark.parametrize("arch", PRIOR_ARCHS)
def test_a_checkpoint_round_trip_keeps_the_prior(tmp_path, arch):
    model = tiny_vqvae()
    model.attach_prior(tiny_prior(arch, n_classes=10, grid=model.code_grid_shape))
    path = save_checkpoint(tmp_path / "vq.safetensors", model, dataset="digits")
    loaded = load_checkpoint(path).model
    assert loaded.has_prior and loaded.prior.config == model.prior.config
    for name, value in model.state_dict().items():
        torch.testing.assert_close(loaded.state_dict()[name], value)
    gen = lambda: torch.Generator().manual_seed(1)  # noqa: E731
    assert torch.equal(loaded.sample_codes(4, generator=gen(), labels=2), model.sample_codes(4, generator=gen(), labels=2))


def test_a_checkpoint_without_a_prior_still_loads(tmp_path):
    path = save_checkpoint(tmp_path / "vq.safetensors", tiny_vqvae(), dataset="digits")
    loaded = load_checkpoint(path).model
    assert loaded.has_codebook and not loaded.has_prior


def test_a_damaged_prior_entry_is_one_line(tmp_path):
    from aeviewer.training.checkpoint import rewrite_metadata

    model = tiny_vqvae()
    model.attach_prior(tiny_prior("pixelcnn", grid=model.code_grid_shape))
    path = save_checkpoint(tmp_path / "vq.safetensors", model, dataset="digits")
    rewrite_metadata(path, {"prior": '{"arch": "lstm"}'})
    with pytest.raises(CheckpointError, match="unknown prior arch 'lstm'"):
        load_checkpoint(path)


def test_code_maps_are_encoded_once_then_read_from_the_cache(monkeypatch):
    from aeviewer.data.imageset import ImageSet
    from aeviewer.training import prior as prior_training

    model = tiny_vqvae().eval()
    images = ImageSet(torch.randint(0, 256, (30, 1, 8, 8), dtype=torch.uint8), torch.zeros(30, dtype=torch.long), ("a",))
    first = prior_training.cached_code_maps(model, images)
    assert torch.equal(first, model.encode_codes(images.float_batch(slice(None))))

    def no_encoding(*args, **kwargs):
        raise AssertionError("encoded again")

    monkeypatch.setattr(prior_training, "encode_code_maps", no_encoding)
    assert torch.equal(prior_training.cached_code_maps(model, images), first)


def test_packed_code_maps_come_back_exactly_through_the_trainer_s_float_batches():
    from aeviewer.data.imageset import ImageSet
    from aeviewer.training.prior import pack_codes, unpack_codes

    codes = torch.tensor([[[0, 255], [256, 65535]]])
    packed = ImageSet(pack_codes(codes), torch.zeros(1, dtype=torch.long), ("a",))
    assert torch.equal(unpack_codes(packed.float_batch(slice(None))), codes)


def test_classes_for_some_but_not_all_code_maps_are_one_line():
    prior = tiny_prior("pixelcnn", n_classes=3)
    with pytest.raises(ConfigError, match="one for each of the 4"):
        sample_codes(prior, 4, labels=torch.tensor([0, 1]))
