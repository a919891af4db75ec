"""AAE: the priors' moments and shapes, the discriminator, and the three training phases."""
import math

import pytest
import torch
import torch.nn.functional as F

from aeviewer.errors import ConfigError
from aeviewer.models import build_model, default_config
from aeviewer.models.config import ModelConfig

torch.set_num_threads(1)


def _aae(latent_dim=2, prior="gaussian", conditional=False, n_classes=10, adversarial_weight=10.0, posterior_std=0.0,
         adversarial_growth=1.0):
    torch.manual_seed(0)
    config = default_config(
        "aae", (1, 8, 8), hidden=(32,), latent_dim=latent_dim, prior=prior, conditional_prior=conditional, n_classes=n_classes,
        adversarial_weight=adversarial_weight, posterior_std=posterior_std, adversarial_growth=adversarial_growth,
    )
    return build_model(config)


def _gen(seed=0):
    return torch.Generator().manual_seed(seed)


def test_gaussian_prior_is_standard_normal():
    z = _aae(latent_dim=3).sample(50_000, generator=_gen())
    assert z.shape == (50_000, 3)
    torch.testing.assert_close(z.mean(0), torch.zeros(3), atol=0.03, rtol=0)
    torch.testing.assert_close(z.std(0), torch.ones(3), atol=0.03, rtol=0)


def test_mixture10_prior_has_its_moments_and_pads_extra_dims_with_standard_normal():
    z = _aae(latent_dim=4, prior="mixture10").sample(50_000, generator=_gen())
    assert z.shape == (50_000, 4)
    torch.testing.assert_close(z.mean(0), torch.zeros(4), atol=0.06, rtol=0)
    # ten equal components at radius 4, std 0.5: E||z_01||^2 = 16 + 2 * 0.25
    assert float(z[:, :2].square().sum(1).mean()) == pytest.approx(16.5, abs=0.15)
    torch.testing.assert_close(z[:, 2:].std(0), torch.ones(2), atol=0.03, rtol=0)


def test_conditional_mixture10_draws_class_k_from_component_k():
    model = _aae(prior="mixture10", conditional=True)
    for k in (0, 3, 7):
        z = model.prior_samples(0, labels=torch.full((20_000,), k), generator=_gen(k))
        centre = 4.0 * torch.tensor([math.cos(2 * math.pi * k / 10), math.sin(2 * math.pi * k / 10)])
        torch.testing.assert_close(z.mean(0), centre, atol=0.02, rtol=0)
        torch.testing.assert_close(z.std(0), torch.full((2,), 0.5), atol=0.02, rtol=0)


def test_swissroll_prior_lies_on_the_roll_and_class_k_takes_segment_k():
    model = _aae(prior="swissroll", conditional=True, n_classes=5)
    z = model.sample(20_000, generator=_gen())
    radius = z.norm(dim=1)
    assert z.shape == (20_000, 2) and 0.8 < float(radius.min()) and float(radius.max()) < 3.2
    t = 1.5 * math.pi * radius  # on the roll, the angle of the point is t = 1.5 pi * radius
    off_roll = (z - radius[:, None] * torch.stack([t.cos(), t.sin()], 1)).norm(dim=1)
    assert float(off_roll.median()) < 0.5
    for k in range(5):
        seg = model.prior_samples(0, labels=torch.full((2000,), k), generator=_gen(k)).norm(dim=1)
        lo, hi = 1 + 2 * k / 5, 1 + 2 * (k + 1) / 5
        assert lo - 0.2 < float(seg.min()) and float(seg.max()) < hi + 0.2
        assert lo < float(seg.mean()) < hi


def test_same_generator_seed_gives_the_same_prior_samples():
    model = _aae(prior="swissroll")
    torch.testing.assert_close(model.sample(7, generator=_gen(4)), model.sample(7, generator=_gen(4)))


def _train_discriminator(model, real_fn, fake_fn, labels_fn=lambda: None, steps=150):
    opt = torch.optim.Adam(model.discriminator.parameters(), lr=3e-3)
    for _ in range(steps):
        labels = labels_fn()
        loss = model.discriminator_loss(real_fn(labels), fake_fn(labels), labels)
        opt.zero_grad()
        loss.backward()
        opt.step()


def test_discriminator_separates_prior_samples_from_a_shifted_cloud():
    model = _aae()
    shifted = lambda _labels: torch.randn(256, 2) + torch.tensor([3.0, 0.0])  # noqa: E731
    _train_discriminator(model, lambda _labels: model.sample(256), shifted)
    with torch.no_grad():
        real, fake = model.discriminate(model.sample(2000)), model.discriminate(shifted(None)[:2000])
    accuracy = 0.5 * (float((real > 0).float().mean()) + float((fake < 0).float().mean()))
    assert accuracy > 0.9


def test_conditional_discriminator_uses_the_label():
    model = _aae(prior="mixture10", conditional=True)
    labels_fn = lambda: torch.randint(0, 10, (256,))  # noqa: E731
    wrong = lambda labels: model.prior_samples(0, labels=(labels + 5) % 10)  # noqa: E731
    _train_discriminator(model, lambda labels: model.prior_samples(0, labels=labels), wrong, labels_fn, steps=300)
    labels = labels_fn()
    with torch.no_grad():
        real = model.discriminate(model.prior_samples(0, labels=labels), labels)
        fake = model.discriminate(wrong(labels), labels)
    assert 0.5 * (float((real > 0).float().mean()) + float((fake < 0).float().mean())) > 0.9
    with pytest.raises(ConfigError):
        model.loss(torch.rand(4, 1, 8, 8), torch.rand(4, 1, 8, 8))


def test_default_adversarial_weight_is_10_for_28x28_and_scales_with_the_pixel_count():
    assert default_config("aae", (1, 28, 28)).adversarial_weight == 10.0
    assert default_config("aae", (1, 8, 8)).adversarial_weight == 0.82
    assert default_config("aae", (3, 28, 28)).adversarial_weight == 30.0
    assert default_config("aae", (1, 8, 8), adversarial_weight=4.0).adversarial_weight == 4.0
    with pytest.raises(ConfigError):
        default_config("aae", (1, 8, 8), adversarial_weight=-1.0)
    with pytest.raises(ConfigError):
        default_config("aae", (1, 8, 8), posterior_std=float("nan"))
    with pytest.raises(ConfigError, match="adversarial_growth"):
        default_config("aae", (1, 8, 8), adversarial_growth=0.5)
    with pytest.raises(ConfigError, match="disc_hidden"):
        default_config("aae", (1, 8, 8), disc_hidden=())
    with pytest.raises(ConfigError, match="disc_hidden"):
        default_config("aae", (1, 8, 8), disc_hidden=(16, 0))


def _disc_widths(model):
    return [layer.out_features for layer in model.discriminator if isinstance(layer, torch.nn.Linear)]


def test_the_discriminator_has_the_configured_widths_and_older_configs_keep_256_256():
    assert _disc_widths(build_model(default_config("aae", (1, 8, 8), latent_dim=3, disc_hidden=(40, 30, 20)))) == [40, 30, 20, 1]
    old = default_config("aae", (1, 8, 8)).to_dict()
    del old["disc_hidden"]  # a checkpoint written before the field existed
    assert _disc_widths(build_model(ModelConfig.from_dict(old))) == [256, 256, 1]


def test_a_gaussian_posterior_encodes_to_its_mean_and_samples_around_it():
    model = _aae(latent_dim=3, posterior_std=0.5)
    x = torch.rand(1, 1, 8, 8, generator=_gen()).expand(20_000, 1, 8, 8)
    with torch.no_grad():
        mean = model.encode(x[:1])
        z = model.posterior_sample(x)
    torch.testing.assert_close(model.encode(x[:2]).detach(), mean.expand(2, 3))  # encode is deterministic: the mean
    torch.testing.assert_close(z.mean(0), mean[0], atol=0.02, rtol=0)
    torch.testing.assert_close(z.std(0), torch.full((3,), 0.5), atol=0.01, rtol=0)


def _encoder_after_one_sgd_step(model, x, z, weight):
    """The encoder's weights after one SGD step (lr 0.1) on recon + weight · gen at the codes z, computed
    here from the networks directly; also the gradients."""
    recon = F.binary_cross_entropy_with_logits(model.decoder(z), x, reduction="sum") / len(x)
    gen = F.binary_cross_entropy_with_logits(model.discriminator(z).squeeze(1), torch.ones(len(x)))
    grads = torch.autograd.grad(recon + weight * gen, list(model.encoder.parameters()))
    return {name: p.detach() - 0.1 * g for (name, p), g in zip(model.encoder.named_parameters(), grads)}, grads


def _train_step_matches(model, x, expected):
    torch.manual_seed(0)  # the same u inside train_step as the caller drew after seeding 0
    sgd = [torch.optim.SGD(list(model.encoder.parameters()) + list(model.decoder.parameters()), lr=0.1),
           torch.optim.SGD(model.discriminator.parameters(), lr=0.1)]
    model.train_step(x, x, sgd)
    for name, p in model.encoder.named_parameters():
        torch.testing.assert_close(p.detach(), expected[name])


def _learned_aae(latent_dim=3):
    torch.manual_seed(0)
    return build_model(default_config("aae", (1, 8, 8), hidden=(32,), latent_dim=latent_dim, learned_posterior=True))


def test_a_learned_posterior_encodes_to_its_mean_and_samples_with_its_own_spread():
    """Independently: the encoder's last layer is one head of 2·d outputs, mu first, log sigma² second."""
    model = _learned_aae()
    x = torch.rand(5, 1, 8, 8, generator=_gen())
    with torch.no_grad():
        head = model.encoder(x)
        torch.manual_seed(3)
        z = model.posterior_sample(x)
        torch.manual_seed(3)
        u = torch.randn(5, 3)
    assert head.shape == (5, 6)
    torch.testing.assert_close(model.encode(x).detach(), head[:, :3])
    torch.testing.assert_close(z, head[:, :3] + torch.exp(0.5 * head[:, 3:]) * u)


def test_a_learned_posterior_spread_follows_the_gradient_of_recon_plus_weighted_generator_loss():
    """One SGD step moves every encoder weight, the log sigma² half of the head included, by -lr times
    the gradient of recon + λ·gen at z = mu + sigma·u, computed here independently."""
    model = _learned_aae(latent_dim=2)
    x = torch.rand(16, 1, 8, 8, generator=_gen())
    torch.manual_seed(0)
    head = model.encoder(x)
    z = head[:, :2] + torch.exp(0.5 * head[:, 2:]) * torch.randn(16, 2)
    expected, grads = _encoder_after_one_sgd_step(model, x, z, model.config.adversarial_weight)  # λ 0.82 for 8x8
    assert grads[-1][2:].abs().sum() > 0  # the spread half of the head does get a gradient
    _train_step_matches(model, x, expected)


def test_a_learned_posterior_refuses_a_fixed_spread_and_older_configs_stay_fixed():
    with pytest.raises(ConfigError, match="learned posterior"):
        default_config("aae", (1, 8, 8), learned_posterior=True, posterior_std=0.1)
    old = default_config("aae", (1, 8, 8), latent_dim=3).to_dict()
    del old["learned_posterior"]  # a checkpoint written before the field existed
    model = build_model(ModelConfig.from_dict(old))
    assert model.encoder(torch.rand(2, 1, 8, 8)).shape == (2, 3)


def test_optimizers_split_the_phases_between_the_networks():
    model = _aae()
    autoencoder, disc = model.make_optimizers(1e-3)
    ids = lambda opt: {id(p) for group in opt.param_groups for p in group["params"]}  # noqa: E731
    encoder, decoder = {id(p) for p in model.encoder.parameters()}, {id(p) for p in model.decoder.parameters()}
    assert ids(autoencoder) == encoder | decoder
    assert ids(disc) == {id(p) for p in model.discriminator.parameters()}


@pytest.mark.parametrize("posterior_std", [0.0, 0.5])
def test_autoencoder_step_follows_the_gradient_of_recon_plus_weighted_generator_loss(posterior_std):
    """With plain SGD the step is -lr times the gradient of recon + λ·gen at z = enc(x) + s·u, computed here independently.

    λ grows with the training progress: weight 10, growth 4, half-way through the run: λ = 10 + 0.5 · 30 = 25."""
    for base, growth, progress, weight in ((0.0, 1.0, 0.0, 0.0), (10.0, 1.0, 0.7, 10.0), (10.0, 4.0, 0.5, 25.0)):
        model = _aae(adversarial_weight=base, posterior_std=posterior_std, adversarial_growth=growth)
        model.set_training_progress(progress)
        x = torch.rand(16, 1, 8, 8, generator=_gen())
        torch.manual_seed(0)
        z = model.encoder(x) + posterior_std * torch.randn(16, 2)
        expected, _ = _encoder_after_one_sgd_step(model, x, z, weight)
        _train_step_matches(model, x, expected)


def _codes_after_training_from_a_shifted_start(adversarial_weight: float) -> tuple[torch.Tensor, dict]:
    from aeviewer.data.loader import load_split

    x_all = load_split("digits", "train").float_batch(slice(None))
    model = _aae(adversarial_weight=adversarial_weight)
    with torch.no_grad():
        model.encoder[-1].bias += 5.0  # codes start far from N(0, I)
    opts, g = model.make_optimizers(1e-3), _gen()
    for _ in range(300):
        x = x_all[torch.randint(0, len(x_all), (128,), generator=g)]
        terms = model.train_step(x, x, opts)
    return model.encode(x_all).detach(), terms


def test_adversarial_term_pulls_shifted_codes_onto_the_prior():
    from aeviewer.training.metrics import sliced_wasserstein

    def distance_to_prior(z: torch.Tensor) -> float:
        prior = torch.randn(z.shape, generator=_gen(1))
        return float(sliced_wasserstein(z, prior, generator=_gen(2)))

    z, terms = _codes_after_training_from_a_shifted_start(10.0)
    z_unregularised, _ = _codes_after_training_from_a_shifted_start(0.0)
    assert distance_to_prior(z) < 1.0 < 4.0 < distance_to_prior(z_unregularised)
    assert float(z.mean(0).abs().max()) < 1.0 and 0.3 < float(z.std(0).min()) and float(z.std(0).max()) < 2.0
    assert set(terms) == {"recon", "disc", "gen", "total"} and not any(t.requires_grad for t in terms.values())


def test_loss_reports_all_terms_with_total_recon_plus_gen():
    model = _aae()
    x = torch.rand(8, 1, 8, 8)
    terms = model.loss(x, x)
    assert set(terms) == {"recon", "disc", "gen", "total"}
    torch.testing.assert_close(terms["total"], terms["recon"] + model.config.adversarial_weight * terms["gen"])
