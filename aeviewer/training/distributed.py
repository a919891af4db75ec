"""Data-parallel training under torchrun: the process group, each rank's share of a batch, gradient averaging.

``torchrun --nproc-per-node N -m aeviewer train ...`` (or ``aeviewer train --nproc N``, which starts torchrun's
launcher itself) runs N copies of the same command; each finds its rank in the environment torchrun sets
(RANK, WORLD_SIZE, LOCAL_RANK) and joins one process group: gloo on the CPU, NCCL on CUDA.

Why the result equals one process's: every rank draws the same seeded permutation, and each global batch
(``--batch-size`` stays the global batch) is cut into contiguous shares, one per rank. Every loss term is a
mean over its batch, so the global batch's gradient is sum_r (n_r / N) grad_r: each rank scales its
gradients by n_r / N and one all-reduce sums them, just before each optimiser step (a step pre-hook, so that
a kind with two optimisers, the AAE, is averaged at each of its steps). This is what DistributedDataParallel
does, without its forward wrapper: our kinds' ``train_step`` calls the model's parts directly and the AAE
runs two backward passes per batch, which DDP's reducer does not expect. Random draws inside a step are made
for the whole batch and sliced (:class:`~aeviewer.models.base.BatchShare`), and the VQ-VAE all-reduces its EMA
statistics and takes its dead-code restarts from rank 0.
"""
from __future__ import annotations

import datetime
import os
import re
import signal
import sys
import time
from dataclasses import dataclass
from typing import Any, Sequence

import torch
import torch.distributed as dist

from aeviewer.errors import AeviewerError
from aeviewer.models.base import BatchShare

TIMEOUT = datetime.timedelta(minutes=5)  # a collective that waits longer than this: a rank is gone
TEST_KILL_ENV = "AEVIEWER_TEST_KILL_RANK"  # "RANK:EPOCH": that rank kills itself as it ends that epoch (tests)
LOST_RANK_GRACE_S = 5.0  # several of the launcher's 0.2 s polls: it sees the dead rank first and stops this one
LAUNCHED_ENV = "AEVIEWER_LAUNCHED"  # set by `aeviewer train --nproc`: its launcher reports a lost rank, not each rank


class RankLost(AeviewerError):
    """Another rank of the run is gone (killed, crashed, or its machine unreachable)."""


@dataclass(frozen=True)
class DistContext:
    rank: int
    world_size: int
    local_rank: int
    backend: str

    @property
    def is_main(self) -> bool:
        """Rank 0: the one that prints, evaluates, autosaves and writes the checkpoint."""
        return self.rank == 0

    def device(self) -> torch.device:
        return torch.device("cuda", self.local_rank) if self.backend == "nccl" else torch.device("cpu")

    def share_bounds(self, batch: int) -> tuple[int, int]:
        """[start, stop) of this rank's contiguous share of a global batch of ``batch`` images."""
        base, extra = divmod(batch, self.world_size)
        start = self.rank * base + min(self.rank, extra)
        return start, start + base + (1 if self.rank < extra else 0)

    def share(self, batch: int, labels: torch.Tensor | None) -> BatchShare:
        start, stop = self.share_bounds(batch)
        return BatchShare(start, stop, batch, labels, all_sum=_all_sum, from_first=_from_first)


def from_env(environ: dict[str, str] | None = None) -> DistContext | None:
    """The run's context when torchrun started this process with more than one rank, else None."""
    env = os.environ if environ is None else environ
    if "RANK" not in env or "WORLD_SIZE" not in env:
        return None
    world = int(env["WORLD_SIZE"])
    if world < 2:
        return None
    backend = "nccl" if torch.cuda.is_available() and env.get("AEVIEWER_BACKEND", "") != "gloo" else "gloo"
    return DistContext(int(env["RANK"]), world, int(env.get("LOCAL_RANK", env["RANK"])), backend)


def init(ctx: DistContext) -> None:
    """Join the process group torchrun's environment describes (MASTER_ADDR/PORT)."""
    if not dist.is_initialized():
        if ctx.backend == "nccl":
            torch.cuda.set_device(ctx.local_rank)
        dist.init_process_group(ctx.backend, rank=ctx.rank, world_size=ctx.world_size, timeout=TIMEOUT)


def close(wait_for_others: bool = False) -> None:
    """Leave the process group; ``wait_for_others`` (a run that ended well on every rank) meets them first: a rank
    that tore gloo down while a peer was still writing its checkpoint aborted the peer ("terminate called without
    an active exception", SIGABRT; seen once in a loaded full test run)."""
    if dist.is_initialized():
        if wait_for_others:
            dist.barrier()
        dist.destroy_process_group()


def _all_sum(tensor: torch.Tensor) -> None:
    dist.all_reduce(tensor, op=dist.ReduceOp.SUM)


def _from_first(tensor: torch.Tensor) -> None:
    dist.broadcast(tensor, src=0)


def broadcast_weights(model: torch.nn.Module) -> None:
    """Every rank starts from rank 0's weights and buffers (as DDP does when it wraps a model)."""
    for tensor in model.state_dict().values():
        dist.broadcast(tensor, src=0)


class GradientAverager:
    """Before each optimiser step: grad <- sum over ranks of (n_rank / N) grad_rank, in one all-reduce."""

    def __init__(self, optimizers: Sequence[torch.optim.Optimizer]) -> None:
        self.fraction = 1.0  # this rank's images / the global batch's, set per batch
        self.handles = [opt.register_step_pre_hook(self._hook) for opt in optimizers]

    def _hook(self, optimizer: torch.optim.Optimizer, args: Any, kwargs: Any) -> None:
        grads = [p.grad for group in optimizer.param_groups for p in group["params"] if p.grad is not None]
        if not grads:
            return
        flat = torch.cat([g.reshape(-1) for g in grads]).mul_(self.fraction)
        dist.all_reduce(flat, op=dist.ReduceOp.SUM)
        offset = 0
        for g in grads:
            g.copy_(flat[offset:offset + g.numel()].view_as(g))
            offset += g.numel()

    def remove(self) -> None:
        for handle in self.handles:
            handle.remove()


def all_sum_(tensor: torch.Tensor) -> torch.Tensor:
    """In-place sum over ranks of ``tensor`` (moved to the backend's device and back when needed)."""
    on = tensor.to(_collective_device())
    dist.all_reduce(on, op=dist.ReduceOp.SUM)
    tensor.copy_(on)
    return tensor


def _collective_device() -> torch.device:
    return torch.device("cuda", torch.cuda.current_device()) if dist.get_backend() == "nccl" else torch.device("cpu")


def maybe_die_for_test(ctx: DistContext, epoch: int) -> None:
    """The killed-rank test's hook: ``AEVIEWER_TEST_KILL_RANK=1:2`` kills rank 1 as it ends epoch 2."""
    wanted = os.environ.get(TEST_KILL_ENV, "")
    if wanted == f"{ctx.rank}:{epoch}":
        os.kill(os.getpid(), signal.SIGKILL)


# -- launching torchrun from `aeviewer train --nproc N` --------------------------------------------
def launch(argv: Sequence[str], nproc: int) -> int:
    """Run ``aeviewer <argv>`` as ``nproc`` ranks on this machine through torchrun's own launcher.

    A rank that dies ends the run: torchrun stops the others, and this prints one line naming the rank and
    the cause (its exit code or signal)."""
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.launcher.api import LaunchConfig, elastic_launch

    os.environ.setdefault("OMP_NUM_THREADS", "1")  # as torchrun sets it, without its warning
    os.environ[LAUNCHED_ENV] = "1"
    _quiet_launcher_logs()
    config = LaunchConfig(min_nodes=1, max_nodes=1, nproc_per_node=nproc, run_id=f"aeviewer-{os.getpid()}",
                          rdzv_backend="c10d", rdzv_endpoint="localhost:0", max_restarts=0, monitor_interval=0.2)
    try:
        elastic_launch(config, entrypoint=sys.executable)("-m", "aeviewer", *argv)
    except ChildFailedError as failed:
        rank, failure = failed.get_first_failure()
        print(f"aeviewer: error: rank {rank} of {nproc} {failure_cause(failure.exitcode, failure.message)}; "
              "the last epoch's checkpoint is kept (continue with --resume)", file=sys.stderr)
        return 1
    return 0


def failure_cause(exitcode: int, message: Any = "") -> str:
    """"was killed by SIGKILL" or "exited with status 1": why a rank ended."""
    if exitcode < 0:
        try:
            return f"was killed by {signal.Signals(-exitcode).name}"
        except ValueError:
            return f"was killed by signal {-exitcode}"
    text = message.get("message", "") if isinstance(message, dict) else str(message or "")
    return f"exited with status {exitcode}" + (f" ({text.splitlines()[0][:200]})" if text.strip() else "")


def _quiet_launcher_logs() -> None:
    """torchrun's agent logs its rendezvous and a multi-line failure report; the one line above says it."""
    import logging

    for name in ("torch.distributed.elastic", "torch.distributed.launcher"):
        logging.getLogger(name).setLevel(logging.CRITICAL)


# -- the train command's side of a run ----------------------------------------------------------------
def distributed_env() -> DistContext | None:
    """This process's context under torchrun (more than one rank), else None."""
    return from_env()


def join_run(ctx: DistContext) -> torch.device:
    """Join the process group; the device this rank trains on."""
    init(ctx)
    return ctx.device()


def run_owner(ctx: DistContext | None) -> dict[str, Any]:
    """Whose run, where, on how many ranks: recorded in the checkpoint (the follow view says whose run it is)."""
    import getpass
    import socket

    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a container)
        user = ""
    return {"world_size": 1 if ctx is None else ctx.world_size, "host": socket.gethostname(), "user": user}


def run_ranked(trainer: Any, ctx: DistContext | None) -> Any:
    """``trainer.run()``; under torchrun a lost rank (a collective that fails) ends this rank with one line."""
    if ctx is None:
        return trainer.run()
    try:
        result = trainer.run()
    except RuntimeError as err:  # gloo/NCCL: connection closed, timeout
        if os.environ.get(LAUNCHED_ENV):
            _leave_to_the_launcher()
        close()
        first = re.sub(r"^\[[^]]*\]\s*", "", str(err).strip()).splitlines()[0][:160] if str(err).strip() else ""
        raise RankLost(f"rank {ctx.rank} of {ctx.world_size} lost the other ranks ({first})") from None
    except BaseException:
        close()
        raise
    close(wait_for_others=True)
    return result


def _leave_to_the_launcher() -> None:
    """A rank that lost its peers under `aeviewer train --nproc` waits for the launcher to stop it, then exits.

    The launcher names the rank whose failure it saw first; a survivor that exited at once was seen in the same
    poll as the rank that died and was named instead, and one that left the broken process group first was
    aborted by gloo (SIGABRT; once in CI). So it neither exits early nor touches the group."""
    time.sleep(LOST_RANK_GRACE_S)
    sys.stderr.flush()
    os._exit(1)


def resumed(path: str, epochs: int) -> tuple[Any, list[dict[str, Any]]]:
    """The model and history of a run's checkpoint, to continue it up to ``epochs`` (Adam's moments start afresh:
    a checkpoint holds the weights only)."""
    from aeviewer.training.checkpoint import load_checkpoint

    ckpt = load_checkpoint(path)
    done = len(ckpt.history)
    if done >= epochs:
        raise AeviewerError(f"{path}: has {done} epochs already; pass --epochs above {done} to continue it")
    ckpt.model.train()
    return ckpt.model, ckpt.history


def without_option(argv: Sequence[str], name: str) -> list[str]:
    """``argv`` less ``name VALUE`` / ``name=VALUE`` (the launcher's own option, which the ranks must not see)."""
    out, skip = [], False
    for word in argv:
        if skip:
            skip = False
        elif word == name:
            skip = True
        elif not word.startswith(name + "="):
            out.append(word)
    return out
