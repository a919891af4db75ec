"""Trainer: epochs over an in-memory ImageSet with callbacks, pause/stop, NaN guard and seeding.

The loop is kept as lean as a hand-written PyTorch loop: no DataLoader, no per-step ``.item()`` on
an accelerator, no per-step weight copies. Loss terms are summed on the device and turned into
Python floats only every ``log_every`` batches (or ``log_seconds``), because ``.item()`` waits for
the device.

Reproducibility: the trainer seeds the global torch RNG (reparametrisation noise, dropout) and its
own generators for shuffling and input corruption at the start of ``run``. The initial weights are
drawn when the caller builds the model, so build it right after ``torch.manual_seed(seed)`` — or use
:func:`seeded_build` — to make the same seed give the same weights.
"""
from __future__ import annotations

import math
import os
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Literal

import torch

from aeviewer.data.imageset import ImageSet
from aeviewer.errors import ConfigError
from aeviewer.models.base import Autoencoder, cpu_state_dict
from aeviewer.models.config import ModelConfig
from aeviewer.models.vqvae import USAGE_KEYS, usage_text
from aeviewer.spec.vocabulary import DEVICE_SPECS, LR_SCHEDULES

if TYPE_CHECKING:
    from aeviewer.training.distributed import DistContext, GradientAverager


LR_DROP_AT = 0.9  # fraction of the run's steps after which "drop" lowers the rate
LR_DROP_FACTOR = 0.1
EPOCH_USAGE_ON = "this epoch's training batches"  # what a VQ-VAE's epoch statistics count the codes of


@dataclass
class TrainConfig:
    epochs: int = 10
    batch_size: int = 128
    lr: float = 1e-3
    seed: int = 0
    weight_decay: float = 0.0  # L2 penalty in every optimiser of the model (the AAE's discriminator's too)
    device: str = "auto"  # auto | cpu | cuda | cuda:N
    binarize: bool = False  # dynamic binarisation: each batch drawn afresh as x ~ Bernoulli(pixel)
    lr_schedule: str = "constant"  # constant | cosine: lr_t = lr · ½(1 + cos(π t / T)) over all T steps
    #                                | drop: lr, then lr · LR_DROP_FACTOR for the last (1 − LR_DROP_AT) of the steps
    start_at_mean: bool = False  # a fresh model: decoder output bias = logit(mean training image) before step 1
    log_every: int = 10  # batches between turning the loss terms into floats (each one syncs the device)
    log_seconds: float = 0.2  # ...or sooner when this much time has passed
    snapshot_seconds: float = 10.0  # refresh the last-good copy of the weights at most this often
    check_every_step: bool | None = None  # NaN check each batch; None: on the CPU only (free there, a stall on cuda)


@dataclass
class StepInfo:
    epoch: int  # 1-based
    epochs: int
    batch: int  # batches done in this epoch, 1-based
    n_batches: int
    global_step: int
    losses: dict[str, float]  # mean of each term over the batches since the previous refresh
    samples_per_s: float
    eta_s: float


@dataclass
class EpochInfo:
    epoch: int
    epochs: int
    losses: dict[str, float]  # mean over the epoch's images of each term
    stats: dict[str, float]  # model.epoch_stats()
    seconds: float
    samples_per_s: float


@dataclass
class TrainResult:
    status: Literal["finished", "stopped", "failed"]
    message: str
    epochs_done: int
    history: list[dict[str, float]] = field(default_factory=list)


def terms_text(losses: dict[str, float], stats: dict[str, float], codebook_size: int | None = None) -> str:
    """"recon 81.2  kl 3.41": an epoch's loss terms and statistics, as the CLI and the panel print them. With the
    ``codebook_size`` of a VQ-VAE, its code usage reads as a phrase that says it was counted on the epoch's
    training batches (the codebook view counts the test split: other figures)."""
    usage = codebook_size is not None and all(k in stats for k in USAGE_KEYS)
    text = "  ".join(f"{k} {v:.4g}" for k, v in {**losses, **stats}.items() if not (usage and k in USAGE_KEYS))
    return text + f"  · {usage_text(stats, codebook_size, EPOCH_USAGE_ON)}" if usage else text


def resolve_device(spec: str) -> tuple[torch.device, str | None]:
    """``auto`` → cuda if present else cpu; ``cuda``/``cuda:N`` falls back to cpu with a warning."""
    spec = (spec or "auto").strip().lower()
    if spec == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu"), None
    if spec == "cpu":
        return torch.device("cpu"), None
    if spec == "cuda" or spec.startswith("cuda:"):
        try:
            device = torch.device(spec)
        except RuntimeError:
            raise ConfigError(f"unknown device {spec!r} (use {DEVICE_SPECS})") from None
        if not torch.cuda.is_available():
            return torch.device("cpu"), f"{spec} was asked for but CUDA is not available; using the CPU"
        if device.index is not None and device.index >= torch.cuda.device_count():
            n = torch.cuda.device_count()
            return torch.device("cpu"), f"{spec} was asked for but only {n} CUDA device(s) exist; using the CPU"
        return device, None
    raise ConfigError(f"unknown device {spec!r} (use {DEVICE_SPECS})")


BYTES_PER_TRAINED_WEIGHT = 16  # float32: the weight, its gradient and Adam's two moments


def memory_bytes(device: torch.device) -> int | None:
    """Total memory of ``device``: the GPU's, or the machine's RAM (None where the platform does not say)."""
    if device.type == "cuda":
        return torch.cuda.get_device_properties(device).total_memory
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # no sysconf (Windows) or no such name
        return None


def check_fits(config: ModelConfig, device: torch.device) -> None:
    """ConfigError, before anything is allocated, when training ``config`` cannot fit in ``device``'s memory.

    Counts only weights, gradients and Adam's moments (activations come on top), so it stops the plainly
    impossible (a width typed with a zero too many) with a sentence instead of an allocator's traceback.
    """
    from aeviewer.models import parameter_count

    n_weights = parameter_count(config)
    need, have = BYTES_PER_TRAINED_WEIGHT * n_weights, memory_bytes(device)
    if have is not None and need > have:
        where = "the GPU" if device.type == "cuda" else "this machine"
        raise ConfigError(f"training this model needs at least {need / 1e9:,.1f} GB ({n_weights:,} weights, each with "
                          f"its gradient and Adam's two moments) but {where} has {have / 1e9:,.1f} GB; "
                          "choose narrower or fewer layers")


def seeded_build(config: ModelConfig, seed: int) -> Autoencoder:
    """Build a model whose initial weights depend only on ``seed`` (for reproducible runs)."""
    from aeviewer.models import build_model

    torch.manual_seed(seed)
    return build_model(config)


class _WeightGuard:
    """Keeps a CPU copy of weights known to be good.

    A copy taken after step k is only *pending*: the weights it holds are proven finite once the
    loss of a later batch (computed with them) is finite, and only then does it become the good copy.
    """

    def __init__(self, model: torch.nn.Module, every_s: float) -> None:
        self.model, self.every_s = model, every_s
        self.good = cpu_state_dict(model)  # the caller's initial weights
        self.pending: dict[str, torch.Tensor] | None = None
        self.taken_at = time.perf_counter()

    def passed_check(self) -> None:
        """The losses so far are finite: promote the pending copy, maybe take a new one."""
        if self.pending is not None:
            self.good, self.pending = self.pending, None
        if time.perf_counter() - self.taken_at >= self.every_s:
            self.take_copy()

    def take_copy(self) -> None:
        self.pending, self.taken_at = cpu_state_dict(self.model), time.perf_counter()

    def restore(self) -> None:
        self.model.load_state_dict(self.good)


class _Failed(Exception):
    """A loss term became NaN/inf; carries the message for the TrainResult."""


class Trainer:
    """Train ``model`` on ``train_set``; ``run()`` returns a :class:`TrainResult`."""

    def __init__(
        self,
        model: Autoencoder,
        train_set: ImageSet,
        config: TrainConfig,
        *,
        on_step: Callable[[StepInfo], Any] | None = None,
        on_epoch: Callable[[EpochInfo], Any] | None = None,
        stop_event: threading.Event | None = None,
        pause_event: threading.Event | None = None,
        distributed: "DistContext | None" = None,
        first_epoch: int = 1,
    ) -> None:
        if config.epochs < 1 or config.batch_size < 1 or not config.lr > 0:
            raise ConfigError("epochs and batch size must be at least 1 and the learning rate positive")
        if len(train_set) == 0:
            raise ConfigError("the training set is empty")
        self.config = config
        self.device, self.device_warning = resolve_device(config.device)
        self.model = model.to(self.device)
        self.on_step, self.on_epoch = on_step, on_epoch
        self.stop_event = stop_event or threading.Event()
        self.pause_event = pause_event
        # uint8 images live on the training device (47 MB for MNIST), floats are made per batch; a memory-mapped
        # set (larger than --max-memory) stays where it is, its batches gathered from the mapping.
        where = self.device if train_set.budget is None else train_set.images.device
        self.data = ImageSet(train_set.images.to(where), train_set.labels.to(where), train_set.class_names,
                             train_set.name, budget=train_set.budget)
        self.noise = _noise_spec(model.config)
        self.history: list[dict[str, float]] = []
        self.dist = distributed  # None: one process; else this rank's place in a data-parallel run
        self.first_epoch = first_epoch  # > 1 when a run continues from a checkpoint of its earlier epochs
        self.global_step = 0
        self._paused_s = 0.0

    # -- public ---------------------------------------------------------------------------------
    def run(self) -> TrainResult:
        cfg = self.config
        torch.manual_seed(cfg.seed)  # reparametrisation noise and any other global-RNG draws
        self._shuffle_gen = torch.Generator().manual_seed(cfg.seed)
        self._noise_gen = torch.Generator(device=self.device).manual_seed(cfg.seed + 1)
        if cfg.start_at_mean:
            self.model.start_at_mean(self.data.mean_image().to(self.device))
        self._guard = _WeightGuard(self.model, cfg.snapshot_seconds)
        # Reading a CPU scalar stalls nothing; on an accelerator the check rides on the periodic refresh.
        self._check_each_step = cfg.check_every_step if cfg.check_every_step is not None else self.device.type == "cpu"
        if cfg.lr_schedule not in LR_SCHEDULES:
            raise ConfigError(f"unknown learning-rate schedule {cfg.lr_schedule!r} ({', '.join(LR_SCHEDULES)})")
        self.optimizers = self.model.make_optimizers(cfg.lr)
        self._averager = self._start_data_parallel()
        for group in (g for opt in self.optimizers for g in opt.param_groups):
            group["weight_decay"] = cfg.weight_decay  # the run's setting, for however many optimisers a kind has
        self._base_lrs = [[group["lr"] for group in opt.param_groups] for opt in self.optimizers]
        self._total_steps = cfg.epochs * math.ceil(len(self.data) / cfg.batch_size)
        self.model.train()
        self._paused_s = 0.0
        epochs_done = self.first_epoch - 1
        self._skip_epochs(epochs_done)
        try:
            for epoch in range(self.first_epoch, cfg.epochs + 1):
                if not self._run_epoch(epoch):
                    return TrainResult("stopped", f"stopped by request during epoch {epoch}", epochs_done,
                                       self.history)
                epochs_done = epoch
        except _Failed as failure:
            self._guard.restore()
            return TrainResult("failed", str(failure), epochs_done, self.history)
        finally:
            if self._averager is not None:
                self._averager.remove()
        return TrainResult("finished", f"finished {epochs_done} epochs", epochs_done, self.history)

    # -- one epoch ------------------------------------------------------------------------------
    def _run_epoch(self, epoch: int) -> bool:
        """Train one epoch; False when a stop was requested before it ended."""
        cfg, n = self.config, len(self.data)
        n_batches = math.ceil(n / cfg.batch_size)
        perm = torch.randperm(n, generator=self._shuffle_gen).to(self.data.images.device)
        self.model.on_epoch_start()
        self._guard.take_copy()  # a copy at each epoch start (good once a batch proves it)
        state = _EpochState(epoch, n_batches, time.perf_counter(), self._paused_s, cfg.log_every)
        for b in range(n_batches):
            if not self._wait_if_paused_then_go():
                return False
            idx = perm[b * cfg.batch_size:(b + 1) * cfg.batch_size]
            if self.dist is not None and len(idx) < self.dist.world_size:
                continue  # a last batch too small to give every rank an image: no rank trains on it
            state.add(*self._step(idx))
            self.global_step += 1
            if self._check_each_step or state.window_full:
                self._check_finite(state)
            if self.on_step is not None or not self._check_each_step:
                self._maybe_refresh(state, b + 1)
                if self.on_step is not None:
                    self.on_step(self._step_info(state, b + 1))
        self._check_finite(state, promote=False)  # the batches a periodic check has not seen yet
        self._finish_epoch(state)
        return True

    def _schedule_lr(self, progress: float) -> None:
        """Each optimizer's own rate times the schedule's factor at this step.

        cosine: ½(1 + cos(π t / T)), to zero over the run. drop: 1, then LR_DROP_FACTOR from LR_DROP_AT of the
        run on: a constant rate leaves the weights jittering around their optimum, and the Parzen score
        is steep in the samples' distance to the data (8-dim MNIST AAE: one decoder-only epoch at a tenth
        of the rate raised it from 328.9 to 333.2)."""
        if self.config.lr_schedule == "cosine":
            factor = 0.5 * (1.0 + math.cos(math.pi * progress))
        else:
            factor = LR_DROP_FACTOR if progress >= LR_DROP_AT else 1.0
        for opt, bases in zip(self.optimizers, self._base_lrs):
            for group, base in zip(opt.param_groups, bases):
                group["lr"] = base * factor

    def _step(self, idx: torch.Tensor) -> tuple[dict[str, torch.Tensor], int]:
        """One optimisation step on the batch ``idx`` (this rank's share of it in a data-parallel run); the loss
        terms, and how many images this process trained on."""
        progress = self.global_step / self._total_steps  # the fraction of the run done: sets lr and the AAE's λ
        if self.config.lr_schedule != "constant":
            self._schedule_lr(progress)
        self.model.set_training_progress(progress)
        mine = self._take_share(idx)
        x, x_input = self._inputs(idx, mine)
        labels = self.data.labels[idx[mine]].to(self.device)
        try:
            return self.model.train_step(x, x_input, self.optimizers, labels), len(labels)
        finally:
            self.model.batch_share = None  # evaluation outside a step draws for its own batch

    def _take_share(self, idx: torch.Tensor) -> slice:
        """This process's part of the batch: all of it, or a rank's contiguous share (set on the model)."""
        if self.dist is None:
            return slice(None)
        share = self.dist.share(len(idx), self.data.labels[idx])
        self.model.batch_share = share
        self._averager.fraction = (share.stop - share.start) / share.total
        return slice(share.start, share.stop)

    def _inputs(self, idx: torch.Tensor, mine: slice) -> tuple[torch.Tensor, torch.Tensor]:
        """The clean images of this process's share and its (binarised, corrupted) input. Random draws are made
        for the whole batch so that a rank draws what a single process draws for the same images."""
        whole = self.config.binarize or self.noise is not None
        x = self.data.float_batch(idx if whole else idx[mine], self.device)
        if self.config.binarize:
            x = torch.bernoulli(x, generator=self._noise_gen)
        x_input = x if self.noise is None else self._corrupt(x, self.noise, self._noise_gen)
        return (x[mine], x_input[mine]) if whole else (x, x_input)

    def _start_data_parallel(self) -> "GradientAverager | None":
        """Rank 0's weights everywhere, and gradients averaged over the ranks before each optimiser step."""
        if self.dist is None:
            return None
        from aeviewer.training.distributed import GradientAverager, broadcast_weights

        broadcast_weights(self.model)
        return GradientAverager(self.optimizers)

    def _skip_epochs(self, done: int) -> None:
        """A continued run draws the permutations of the epochs it skips, so that epoch k shuffles as it would have."""
        for _ in range(done):
            torch.randperm(len(self.data), generator=self._shuffle_gen)

    def _wait_if_paused_then_go(self) -> bool:
        """Block while paused (a stop still ends the wait); False when a stop was requested."""
        if self.pause_event is not None and self.pause_event.is_set():
            started = time.perf_counter()
            while self.pause_event.is_set() and not self.stop_event.is_set():
                self.stop_event.wait(0.02)
            self._paused_s += time.perf_counter() - started
        return not self.stop_event.is_set()

    # -- bookkeeping ----------------------------------------------------------------------------
    def _maybe_refresh(self, state: "_EpochState", batch: int) -> None:
        """Turn the running sums into floats every ``log_every`` batches or ``log_seconds``."""
        now = time.perf_counter()
        if batch - state.refreshed_batch < self.config.log_every and now - state.refreshed_at < self.config.log_seconds:
            return
        window = state.sums - state.sums_at_refresh
        count = state.samples - state.samples_at_refresh
        values = (window / max(count, 1)).tolist()  # the one sync in this window
        if not self._check_each_step:
            self._check_finite(state)
        state.losses = dict(zip(state.keys, values))
        state.sums_at_refresh, state.samples_at_refresh = state.sums.clone(), state.samples
        state.refreshed_batch, state.refreshed_at = batch, now

    def _check_finite(self, state: "_EpochState", promote: bool = True) -> None:
        """Fail with a message naming the first non-finite term of the batches not checked yet."""
        rows = state.unchecked()
        if len(rows) == 0:  # nothing new: proves nothing about a copy taken since the last check
            return
        if math.isfinite(float(rows.sum())):  # one read; nan/inf anywhere makes the sum non-finite
            state.mark_checked()
            if promote:
                self._guard.passed_check()
            return
        for offset, row in enumerate(rows.tolist()):  # the first bad batch, then its first bad part
            bad = [k for k, v in zip(state.keys, row) if not math.isfinite(v)]
            if bad:
                term = next((k for k in bad if k != "total"), bad[0])  # name the part, not the sum of parts
                batch = state.checked_batches + offset + 1
                raise _Failed(f"loss term '{term}' became {row[state.keys.index(term)]} at epoch {state.epoch}, "
                              f"batch {batch}; weights restored to the last good state")

    def _step_info(self, state: "_EpochState", batch: int) -> StepInfo:
        elapsed = max(time.perf_counter() - state.started - (self._paused_s - state.paused_at_start), 1e-9)
        rate = state.samples / elapsed
        done = (state.epoch - 1) * len(self.data) + state.samples
        remaining = self.config.epochs * len(self.data) - done
        return StepInfo(state.epoch, self.config.epochs, batch, state.n_batches, self.global_step,
                        state.losses, rate, remaining / max(rate, 1e-9))

    def _finish_epoch(self, state: "_EpochState") -> None:
        if self.dist is not None:  # the whole batch's sums: every rank reports what one process would
            from aeviewer.training.distributed import all_sum_

            counts = torch.tensor([float(state.samples)], dtype=torch.float64)
            state.samples = int(all_sum_(counts).item())
            all_sum_(state.sums)
        seconds = time.perf_counter() - state.started - (self._paused_s - state.paused_at_start)
        losses = dict(zip(state.keys, (state.sums / state.samples).tolist()))
        stats = {k: float(v) for k, v in self.model.epoch_stats().items()}
        info = EpochInfo(state.epoch, self.config.epochs, losses, stats, seconds, state.samples / max(seconds, 1e-9))
        self.history.append({"epoch": state.epoch, **losses, **stats, "seconds": seconds,
                             "samples_per_s": info.samples_per_s})
        if self.on_epoch is not None:
            self.on_epoch(info)

    @staticmethod
    def _corrupt(x: torch.Tensor, spec: Any, generator: torch.Generator) -> torch.Tensor:
        from aeviewer.data.noise import corrupt

        return corrupt(x, spec, generator)


class _EpochState:
    """Running sums of the loss terms, and the terms of the batches not yet checked, kept on the device."""

    def __init__(self, epoch: int, n_batches: int, started: float, paused_at_start: float, window: int) -> None:
        self.epoch, self.n_batches, self.started, self.paused_at_start = epoch, n_batches, started, paused_at_start
        self.window_size = max(1, window)
        self.keys: list[str] = []
        self.sums = torch.zeros(0)
        self.window = torch.zeros(0)  # (window, terms): one row per batch since the last finite check
        self.filled = 0
        self.checked_batches = 0
        self.samples = 0
        self.losses: dict[str, float] = {}
        self.sums_at_refresh = torch.zeros(0)
        self.samples_at_refresh = 0
        self.refreshed_batch, self.refreshed_at = 0, started

    def add(self, terms: dict[str, torch.Tensor], batch_size: int) -> None:
        if not self.keys:
            self.keys = list(terms)
            first = next(iter(terms.values()))
            self.sums = torch.zeros(len(self.keys), dtype=torch.float64, device=first.device)
            self.sums_at_refresh = self.sums.clone()
            self.window = torch.zeros(self.window_size, len(self.keys), dtype=first.dtype, device=first.device)
        row = self.window[self.filled]
        torch.stack([terms[k] for k in self.keys], out=row)
        self.sums.add_(row, alpha=batch_size)  # sum over images = batch mean × batch size
        self.filled += 1
        self.samples += batch_size

    @property
    def window_full(self) -> bool:
        return self.filled == self.window_size

    def unchecked(self) -> torch.Tensor:
        return self.window[:self.filled]

    def mark_checked(self) -> None:
        self.checked_batches += self.filled
        self.filled = 0


def _noise_spec(config: ModelConfig) -> Any:
    """The corruption for a denoising model (``config.noise`` != "none"), else None."""
    if not config.noise or config.noise == "none":
        return None
    from aeviewer.data.noise import NoiseSpec

    spec = NoiseSpec.parse(config.noise)
    return None if spec.is_identity else spec
