"""Two data-parallel learner processes (torchrun, gloo) keep identical parameters through updates."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from robot_rl.learn.distributed import DistInfo, all_reduce_mean

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_two_gloo_ranks_stay_identical_after_updates(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
         str(ROOT / "tests/learn/ddp_worker.py"), str(tmp_path)],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=150)
    assert result.returncode == 0, result.stderr[-3000:]
    assert (tmp_path / "rank0.updates").read_text() == (tmp_path / "rank1.updates").read_text() == "30"
    rank0, rank1 = load_file(str(tmp_path / "rank0.safetensors")), load_file(str(tmp_path / "rank1.safetensors"))
    initial0, initial1 = load_file(str(tmp_path / "initial0.safetensors")), load_file(str(tmp_path / "initial1.safetensors"))
    assert rank0.keys() == rank1.keys()
    assert all(torch.equal(initial0[k], initial1[k]) for k in initial0)  # rank 0's init broadcast
    assert all(torch.equal(rank0[k], rank1[k]) for k in rank0), [k for k in rank0 if not torch.equal(rank0[k], rank1[k])]
    assert sum(not torch.equal(rank0[k], initial0[k]) for k in rank0) > len(rank0) // 2  # they did train
    assert (tmp_path / "run" / "learner" / "checkpoints").is_dir()  # rank 0 writes checkpoints


def test_all_reduce_is_a_no_op_in_one_process() -> None:
    grads = [torch.ones(3), torch.full((2, 2), 2.0)]
    all_reduce_mean(grads, DistInfo())
    assert grads[0].tolist() == [1.0, 1.0, 1.0]
