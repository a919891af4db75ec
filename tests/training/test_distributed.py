"""Data-parallel training: two gloo ranks end one epoch with one process's weights, for every kind."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

import distributed_worker
from aeviewer.training.distributed import DistContext, failure_cause, from_env

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rank_env(rank: int, world: int, port: int) -> dict[str, str]:
    """What torchrun sets for each worker, plus the path to our modules."""
    return {**os.environ, "RANK": str(rank), "WORLD_SIZE": str(world), "LOCAL_RANK": str(rank),
            "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port), "OMP_NUM_THREADS": "1",
            "AEVIEWER_BACKEND": "gloo", "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "tests" / "training")])}


def relative_error(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a.double() - b.double()).norm() / b.double().norm().clamp_min(1e-12))


def test_shares_of_a_batch_cover_it_in_order():
    ranks = [DistContext(r, 3, r, "gloo").share_bounds(31) for r in range(3)]
    assert ranks == [(0, 11), (11, 21), (21, 31)]


def test_torchrun_environment_is_detected():
    assert from_env({}) is None
    assert from_env({"RANK": "0", "WORLD_SIZE": "1"}) is None
    ctx = from_env({"RANK": "1", "WORLD_SIZE": "2", "LOCAL_RANK": "1", "AEVIEWER_BACKEND": "gloo"})
    assert ctx == DistContext(1, 2, 1, "gloo") and not ctx.is_main


def test_a_rank_failure_reads_as_its_cause():
    assert failure_cause(-9) == "was killed by SIGKILL"
    assert failure_cause(1, {"message": "RuntimeError: boom\nmore"}) == "exited with status 1 (RuntimeError: boom)"


@pytest.mark.slow  # about 15 s on an idle 2-core machine: two rank processes and the same runs here
def test_two_gloo_ranks_end_with_one_process_weights_for_every_kind(tmp_path):
    torch.set_num_threads(1)
    single, ranks = tmp_path / "single", tmp_path / "ranks"
    single.mkdir()
    ranks.mkdir()
    port = free_port()
    worker = str(REPO / "tests" / "training" / "distributed_worker.py")
    procs = [subprocess.Popen([sys.executable, worker, str(ranks)], env=rank_env(r, 2, port),
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for r in range(2)]
    distributed_worker.train_all(single, None)  # meanwhile, the same in this process
    for proc in procs:
        out, _ = proc.communicate(timeout=240)
        assert proc.returncode == 0, out
    for kind, binarize in distributed_worker.RUNS:
        name = distributed_worker.run_name(kind, binarize)
        one, two = load_file(single / f"{name}.safetensors"), load_file(ranks / f"{name}.safetensors")
        assert one.keys() == two.keys()
        for tensor in one:
            if one[tensor].is_floating_point():
                assert relative_error(two[tensor], one[tensor]) <= 1e-4, (name, tensor)
            else:
                assert torch.equal(two[tensor], one[tensor]), (name, tensor)


def aeviewer_train(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "aeviewer", "train", "--dataset", "digits", "--model", "ae",
                           "--no-eval", *args], env={**os.environ, "PYTHONPATH": str(REPO), **(env or {})},
                          capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_a_killed_rank_ends_the_run_in_one_line_and_resume_continues_it(tmp_path):
    from aeviewer.training.checkpoint import load_checkpoint

    out = tmp_path / "run.safetensors"
    killed = aeviewer_train("--epochs", "3", "--nproc", "2", "--out", str(out),
                            env={"AEVIEWER_TEST_KILL_RANK": "1:1", "OMP_NUM_THREADS": "1"})
    assert killed.returncode == 1
    errors = [line for line in killed.stderr.splitlines() if line.strip()]
    assert errors == ["aeviewer: error: rank 1 of 2 was killed by SIGKILL; the last epoch's checkpoint is kept "
                      "(continue with --resume)"], killed.stderr
    first = load_checkpoint(out)
    assert len(first.history) == 1 and first.extra["world_size"] == 2
    resumed = aeviewer_train("--epochs", "3", "--resume", str(out), env={"OMP_NUM_THREADS": "1"})
    assert resumed.returncode == 0, resumed.stderr
    assert "epoch 2/3" in resumed.stdout and "epoch 1/3" not in resumed.stdout
    assert [h["epoch"] for h in load_checkpoint(out).history] == [1, 2, 3]
