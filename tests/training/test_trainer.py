"""Trainer: stop, pause, NaN guard, seeding, callbacks, device resolution."""
from __future__ import annotations

import math
import threading
import time

import pytest
import torch
from torch import nn

from aeviewer.data.imageset import ImageSet
from aeviewer.errors import ConfigError
from aeviewer.models.base import Autoencoder
from aeviewer.models.config import ModelConfig
from aeviewer.training.trainer import EpochInfo, StepInfo, TrainConfig, Trainer, resolve_device


class TinyAE(Autoencoder):
    """An 8x8 linear autoencoder with a "recon" and a "kl"-like term; can be told to go NaN at a step."""

    def __init__(self, config: ModelConfig, nan_at_call: int | None = None) -> None:
        super().__init__(config)
        d = 1 * 8 * 8
        self.enc = nn.Linear(d, config.latent_dim)
        self.dec = nn.Linear(config.latent_dim, d)
        self.nan_at_call = nan_at_call
        self.calls = 0
        self.epochs_started = 0
        self.progress: list[float] = []

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.enc(x.flatten(1))

    def decode_logits(self, z: torch.Tensor) -> torch.Tensor:
        return self.dec(z).view(-1, 1, 8, 8)

    def loss(self, x, x_input, labels=None):
        self.calls += 1
        z = self.encode(x_input)
        z = z + 0.1 * torch.randn_like(z)  # global-RNG noise, as in a VAE
        recon = (torch.sigmoid(self.decode_logits(z)) - x).square().flatten(1).sum(1).mean()
        kl = 0.01 * z.square().sum(1).mean()
        if self.calls == self.nan_at_call:
            kl = kl * float("nan")
        return {"recon": recon, "kl": kl, "total": recon + kl}

    def on_epoch_start(self) -> None:
        self.epochs_started += 1

    def set_training_progress(self, fraction: float) -> None:
        self.progress.append(fraction)

    def epoch_stats(self) -> dict[str, float]:
        return {"epochs_started": float(self.epochs_started)}


def tiny_set(n: int = 200, seed: int = 0) -> ImageSet:
    g = torch.Generator().manual_seed(seed)
    images = torch.randint(0, 256, (n, 1, 8, 8), generator=g, dtype=torch.uint8)
    return ImageSet(images, torch.arange(n) % 10, tuple(str(i) for i in range(10)), "tiny")


def tiny_model(seed: int = 0, **kw) -> TinyAE:
    torch.manual_seed(seed)
    return TinyAE(ModelConfig(image_shape=(1, 8, 8), latent_dim=3), **kw)


def cfg(**kw) -> TrainConfig:
    base = dict(epochs=2, batch_size=16, lr=1e-2, seed=0, device="cpu")
    base.update(kw)
    return TrainConfig(**base)


def weights(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def test_finishes_and_reports_every_epoch_with_all_terms_and_model_stats():
    epochs: list[EpochInfo] = []
    steps: list[StepInfo] = []
    model = tiny_model()
    result = Trainer(model, tiny_set(), cfg(epochs=3), on_step=steps.append, on_epoch=epochs.append).run()
    assert result.status == "finished" and result.epochs_done == 3
    assert [e.epoch for e in epochs] == [1, 2, 3]
    assert set(epochs[0].losses) == {"recon", "kl", "total"}
    assert epochs[2].stats == {"epochs_started": 3.0}
    assert epochs[0].samples_per_s > 0 and epochs[0].seconds > 0
    assert len(steps) == 3 * 13  # ceil(200 / 16) batches per epoch, the last one partial
    assert steps[-1].global_step == 39 and steps[-1].batch == 13 and steps[-1].n_batches == 13
    assert set(steps[-1].losses) == {"recon", "kl", "total"}
    assert steps[-1].eta_s == pytest.approx(0.0, abs=1e-6) and steps[0].eta_s > 0
    assert [h["epoch"] for h in result.history] == [1, 2, 3]
    assert result.history[0]["total"] == epochs[0].losses["total"]
    assert model.progress == [step / 39 for step in range(39)]  # before each step: the fraction of the run done


def test_epoch_losses_are_the_mean_over_images_of_each_term():
    model = tiny_model()
    epochs: list[EpochInfo] = []
    Trainer(model, tiny_set(), cfg(epochs=1, lr=1e-12), on_epoch=epochs.append).run()
    # With a negligible learning rate the epoch mean equals the loss of the whole set at the end.
    torch.manual_seed(0)
    x = tiny_set().float_batch(slice(None))
    with torch.no_grad():
        recon = model.loss(x, x)["recon"]
    assert epochs[0].losses["recon"] == pytest.approx(float(recon), rel=0.01)
    losses = epochs[0].losses
    assert losses["total"] == pytest.approx(losses["recon"] + losses["kl"], rel=1e-5)


def test_losses_reach_the_step_callback_every_few_batches_and_shrink():
    seen: list[dict[str, float]] = []
    Trainer(tiny_model(), tiny_set(), cfg(epochs=5, log_every=5, log_seconds=1e9),
            on_step=lambda s: seen.append(s.losses)).run()
    assert seen[0] == {}  # nothing is read back from the device before the first refresh
    assert seen[4] and seen[4] is seen[8]  # refreshed at batch 5, carried until batch 10
    assert seen[-1]["total"] < seen[4]["total"]


def test_stop_takes_effect_within_one_batch():
    stop = threading.Event()
    model = tiny_model()
    k = 7

    def on_step(info: StepInfo) -> None:
        if info.global_step == k:
            stop.set()

    result = Trainer(model, tiny_set(), cfg(), on_step=on_step, stop_event=stop).run()
    assert result.status == "stopped"
    assert model.calls == k  # exactly k batches ran


def test_pause_then_resume():
    pause, stop = threading.Event(), threading.Event()
    model = tiny_model()
    calls_while_paused: list[int] = []

    def on_step(info: StepInfo) -> None:
        if info.global_step == 3:
            pause.set()

    def resume_later() -> None:
        time.sleep(0.3)
        calls_while_paused.append(model.calls)
        pause.clear()

    thread = threading.Thread(target=resume_later)
    thread.start()
    result = Trainer(model, tiny_set(), cfg(), on_step=on_step, pause_event=pause, stop_event=stop).run()
    thread.join()
    assert calls_while_paused == [3]  # held at batch 3 while paused
    assert result.status == "finished" and model.calls == 2 * 13


def test_stop_is_honoured_while_paused():
    pause, stop = threading.Event(), threading.Event()
    pause.set()
    threading.Timer(0.1, stop.set).start()
    model = tiny_model()
    started = time.perf_counter()
    result = Trainer(model, tiny_set(), cfg(), pause_event=pause, stop_event=stop).run()
    assert result.status == "stopped" and model.calls == 0
    assert time.perf_counter() - started < 2.0


def test_nan_loss_restores_last_good_weights_and_names_the_term():
    k = 13 + 9  # epoch 2, batch 9
    model = tiny_model(nan_at_call=k)
    result = Trainer(model, tiny_set(), cfg(epochs=3, snapshot_seconds=0.0)).run()
    assert result.status == "failed" and result.epochs_done == 1
    assert result.message == ("loss term 'kl' became nan at epoch 2, batch 9; "
                              "weights restored to the last good state")
    assert "\n" not in result.message
    assert all(torch.isfinite(v).all() for v in model.state_dict().values())
    # The restored weights are those after batch k-2: the last ones a finite loss (batch k-1's) vouched for.
    ref, stop = tiny_model(), threading.Event()
    Trainer(ref, tiny_set(), cfg(epochs=3), stop_event=stop,
            on_step=lambda s: stop.set() if s.global_step == k - 2 else None).run()
    for name, value in ref.state_dict().items():
        assert torch.equal(model.state_dict()[name], value), name


def test_nan_found_by_the_periodic_check_as_on_an_accelerator():
    model = tiny_model(nan_at_call=13 + 5)
    result = Trainer(model, tiny_set(), cfg(epochs=3, check_every_step=False, log_every=4, log_seconds=1e9)).run()
    assert result.status == "failed"
    # Found at the check after batch 8, but the message names the batch and term that went bad first.
    assert result.message.startswith("loss term 'kl' became nan at epoch 2, batch 5;")
    assert all(torch.isfinite(v).all() for v in model.state_dict().values())


def test_nan_in_the_last_batches_is_caught_at_the_end_of_the_epoch():
    model = tiny_model(nan_at_call=13)  # the last batch of epoch 1, after the last periodic check
    result = Trainer(model, tiny_set(), cfg(epochs=2, check_every_step=False, log_every=5, log_seconds=1e9)).run()
    assert result.status == "failed" and result.epochs_done == 0
    assert "'kl' became nan at epoch 1, batch 13;" in result.message
    assert all(torch.isfinite(v).all() for v in model.state_dict().values())


def test_nan_with_slow_snapshots_falls_back_to_the_epoch_start_copy():
    model = tiny_model(nan_at_call=13 + 5)
    epoch_end: dict[str, torch.Tensor] = {}
    result = Trainer(model, tiny_set(), cfg(epochs=3, snapshot_seconds=1e9),
                     on_epoch=lambda e: epoch_end.update(weights(model))).run()
    assert result.status == "failed"
    for name, value in epoch_end.items():
        assert torch.equal(model.state_dict()[name], value), name


def test_same_seed_gives_same_weights():
    runs = []
    for _ in range(2):
        model = tiny_model(seed=5)
        Trainer(model, tiny_set(), cfg(seed=3)).run()
        runs.append(weights(model))
    other = tiny_model(seed=5)
    Trainer(other, tiny_set(), cfg(seed=4)).run()
    assert all(torch.equal(runs[0][k], runs[1][k]) for k in runs[0])
    assert not all(torch.equal(runs[0][k], weights(other)[k]) for k in runs[0])


def test_denoising_model_trains_on_corrupted_input_against_the_clean_target():
    pytest.importorskip("aeviewer.data.noise")
    seen: list[tuple[torch.Tensor, torch.Tensor]] = []

    class Spy(TinyAE):
        def train_step(self, x, x_input, optimizers, labels=None):
            seen.append((x, x_input))
            return super().train_step(x, x_input, optimizers, labels)

    torch.manual_seed(0)
    model = Spy(ModelConfig(image_shape=(1, 8, 8), latent_dim=3, noise="gaussian:0.5"))
    Trainer(model, tiny_set(), cfg(epochs=1)).run()
    x, x_input = seen[0]
    assert not torch.equal(x, x_input)
    assert x_input.min() >= 0 and x_input.max() <= 1
    assert (x_input - x).std() > 0.2  # sigma 0.5 before clipping


def test_clean_model_gets_the_clean_batch_as_input():
    seen = []

    class Spy(TinyAE):
        def train_step(self, x, x_input, optimizers, labels=None):
            seen.append(x is x_input and labels is not None and labels.shape == (x.shape[0],))
            return super().train_step(x, x_input, optimizers, labels)

    torch.manual_seed(0)
    Trainer(Spy(ModelConfig(image_shape=(1, 8, 8), latent_dim=3)), tiny_set(), cfg(epochs=1)).run()
    assert seen and all(seen)


def test_resolve_device():
    assert resolve_device("cpu") == (torch.device("cpu"), None)
    auto, warning = resolve_device("auto")
    assert warning is None and auto.type == ("cuda" if torch.cuda.is_available() else "cpu")
    if not torch.cuda.is_available():
        for spec in ("cuda", "cuda:1"):
            device, warning = resolve_device(spec)
            assert device == torch.device("cpu") and "CUDA is not available" in warning
    with pytest.raises(ConfigError, match="unknown device"):
        resolve_device("tpu")
    with pytest.raises(ConfigError, match="unknown device"):
        resolve_device("cuda:x")


def test_bad_settings_are_refused_with_a_config_error():
    with pytest.raises(ConfigError):
        Trainer(tiny_model(), tiny_set(), cfg(epochs=0))
    with pytest.raises(ConfigError):
        Trainer(tiny_model(), tiny_set(0), cfg())


@pytest.mark.parametrize("kind", ["vae", "dae", "aae", "vqvae"])
def test_same_seed_gives_same_weights_for_real_models(kind):
    from aeviewer.models import default_config
    from aeviewer.training.trainer import seeded_build

    config = default_config(kind, image_shape=(1, 8, 8), hidden=(16,), latent_dim=2, codebook_size=8, code_dim=4,
                            channels=(4, 4))
    runs = []
    for _ in range(2):
        model = seeded_build(config, seed=1)
        result = Trainer(model, tiny_set(64), cfg(epochs=1, seed=2)).run()
        assert result.status == "finished", result.message
        runs.append(weights(model))
    assert all(torch.equal(runs[0][k], runs[1][k]) for k in runs[0])
    assert any(not torch.equal(runs[0][k], weights(seeded_build(config, seed=1))[k]) for k in runs[0])  # it trained


def test_binarize_draws_fresh_binary_batches_each_epoch():
    seen: list[torch.Tensor] = []

    class Spy(TinyAE):
        def train_step(self, x, x_input, optimizers, labels=None):
            seen.append(x.clone())
            return super().train_step(x, x_input, optimizers, labels)

    torch.manual_seed(0)
    data = tiny_set(n=16)
    Trainer(Spy(ModelConfig(image_shape=(1, 8, 8), latent_dim=3)), data, cfg(epochs=2, batch_size=16, binarize=True)).run()
    first, second = seen
    assert set(first.unique().tolist()) <= {0.0, 1.0}
    assert not torch.equal(first, second)  # a new Bernoulli draw each time the image is seen
    # E[x] = pixel value: the binary batch averages to the grey level it was drawn from
    assert abs(first.mean().item() - data.images.float().div(255).mean().item()) < 0.05


def test_cosine_schedule_decays_every_optimizer_from_its_rate_to_zero():
    rates: list[float] = []

    class Spy(TinyAE):
        def train_step(self, x, x_input, optimizers, labels=None):
            rates.append(optimizers[0].param_groups[0]["lr"])
            return super().train_step(x, x_input, optimizers, labels)

    torch.manual_seed(0)
    model = Spy(ModelConfig(image_shape=(1, 8, 8), latent_dim=3))
    Trainer(model, tiny_set(n=64), cfg(epochs=2, batch_size=16, lr=0.01, lr_schedule="cosine")).run()
    steps = len(rates)  # 2 epochs x 4 batches
    assert steps == 8
    for t, rate in enumerate(rates):  # lr_t = lr * (1 + cos(pi t / T)) / 2
        assert rate == pytest.approx(0.01 * 0.5 * (1 + math.cos(math.pi * t / steps)))


def test_drop_schedule_keeps_the_rate_then_lowers_it_tenfold_for_the_last_tenth():
    rates: list[tuple[float, float]] = []

    class Spy(TinyAE):
        def make_optimizers(self, lr):  # two optimizers with different rates: each is scaled from its own
            return [torch.optim.SGD(self.enc.parameters(), lr=lr), torch.optim.SGD(self.dec.parameters(), lr=lr / 2)]

        def train_step(self, x, x_input, optimizers, labels=None):
            rates.append((optimizers[0].param_groups[0]["lr"], optimizers[1].param_groups[0]["lr"]))
            return super().train_step(x, x_input, optimizers[:1], labels)

    torch.manual_seed(0)
    model = Spy(ModelConfig(image_shape=(1, 8, 8), latent_dim=3))
    Trainer(model, tiny_set(n=80), cfg(epochs=4, batch_size=16, lr=0.01, lr_schedule="drop")).run()
    assert len(rates) == 20  # 4 epochs x 5 batches; steps 18 and 19 are the last tenth
    assert rates[:18] == [(0.01, 0.005)] * 18
    assert rates[18:] == [pytest.approx((0.001, 0.0005))] * 2


def test_unknown_schedule_is_refused():
    with pytest.raises(ConfigError, match="schedule"):
        Trainer(tiny_model(), tiny_set(), cfg(lr_schedule="sawtooth")).run()


def test_memory_and_the_size_check():
    from aeviewer.models import default_config, parameter_count
    from aeviewer.training.trainer import BYTES_PER_TRAINED_WEIGHT, check_fits, memory_bytes

    cpu = torch.device("cpu")
    have = memory_bytes(cpu)
    assert have is not None and have > 2**28  # Linux says; more than 256 MB on any machine that runs the tests
    check_fits(default_config("ae"), cpu)  # one million weights: fits anywhere
    width = int((have / BYTES_PER_TRAINED_WEIGHT) ** 0.5) + 1  # one square hidden layer just over the memory
    big = default_config("ae", hidden=(width, width))
    assert BYTES_PER_TRAINED_WEIGHT * parameter_count(big) > have
    with pytest.raises(ConfigError, match="narrower"):
        check_fits(big, cpu)


def test_on_a_gpu_the_size_check_reads_the_gpus_memory(monkeypatch):
    from types import SimpleNamespace

    from aeviewer.models import default_config
    from aeviewer.training.trainer import check_fits, memory_bytes

    monkeypatch.setattr(torch.cuda, "get_device_properties", lambda device: SimpleNamespace(total_memory=10**6))
    gpu = torch.device("cuda:0")
    assert memory_bytes(gpu) == 10**6
    with pytest.raises(ConfigError, match="but the GPU has 0.0 GB"):
        check_fits(default_config("ae"), gpu)  # 16 MB to train on a 1 MB GPU


def test_weight_decay_reaches_every_optimiser_and_shrinks_the_weights():
    from aeviewer.models import build_model, default_config

    def trained(weight_decay: float) -> Trainer:
        torch.manual_seed(0)
        model = build_model(default_config("aae", (1, 8, 8), hidden=(16,), disc_hidden=(8,), latent_dim=2))
        trainer = Trainer(model, tiny_set(n=64), cfg(epochs=3, batch_size=16, lr=0.01, weight_decay=weight_decay))
        assert trainer.run().status == "finished"
        return trainer

    plain, decayed = trained(0.0), trained(0.5)
    assert len(decayed.optimizers) == 2  # the autoencoder's and the discriminator's
    assert all(g["weight_decay"] == 0.5 for opt in decayed.optimizers for g in opt.param_groups)

    def norm(module: nn.Module) -> float:
        return float(sum(p.detach().pow(2).sum() for p in module.parameters()))

    assert norm(decayed.model.encoder) < 0.9 * norm(plain.model.encoder)
    assert norm(decayed.model.discriminator) < 0.9 * norm(plain.model.discriminator)
