"""Data-parallel training with ``torch.distributed``: one learner process per device, under torchrun.

    torchrun --nproc_per_node=4 -m robot_rl.learn.cli --config sim learner.device=cuda

Each rank samples its own batches (its own seed), computes its gradients, and before every optimizer
step the gradients are averaged across ranks with one flat ``all_reduce`` per optimizer; since every
rank starts from rank 0's parameters (``broadcast_parameters``) and applies the same averaged
gradients with the same optimizer, the parameters stay identical without DDP's module wrapper (which
does not fit the three optimizers and shared encoder of SAC). Rank 0 alone writes weights,
checkpoints and logs. The backend is gloo on CPU and nccl on CUDA.
"""
from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn


@dataclass(frozen=True)
class DistInfo:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1


def launched_by_torchrun() -> bool:
    return "RANK" in os.environ and "WORLD_SIZE" in os.environ


def init_distributed(device: torch.device) -> DistInfo:
    """Join the process group torchrun set up (env://); a plain process is rank 0 of 1."""
    if not launched_by_torchrun() or int(os.environ["WORLD_SIZE"]) <= 1:
        return DistInfo()
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
    return DistInfo(rank=dist.get_rank(), world_size=dist.get_world_size(),
                    local_rank=int(os.environ.get("LOCAL_RANK", "0")))


def resolve_device(name: str, local_rank: int = 0) -> torch.device:
    """``auto`` -> ``cuda:<local_rank>`` when CUDA is there, else CPU; ``cuda`` under torchrun -> this rank's GPU."""
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda":
        name = f"cuda:{local_rank}"
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"learner.device={name!r} but CUDA is not available here: use learner.device=cpu")
    return device


def all_reduce_mean(tensors: Iterable[torch.Tensor], info: DistInfo) -> None:
    """Average ``tensors`` in place across ranks with one flat all-reduce."""
    tensors = list(tensors)
    if not info.enabled or not tensors:
        return
    flat = torch.cat([t.reshape(-1) for t in tensors])
    dist.all_reduce(flat, op=dist.ReduceOp.SUM)
    flat /= info.world_size
    offset = 0
    for t in tensors:
        t.copy_(flat[offset:offset + t.numel()].view_as(t))
        offset += t.numel()


def broadcast_parameters(module: nn.Module, info: DistInfo) -> None:
    """Copy rank 0's parameters and buffers to every rank."""
    if not info.enabled:
        return
    with torch.no_grad():
        for tensor in [*module.parameters(), *module.buffers()]:
            dist.broadcast(tensor.data, src=0)


def broadcast_ints(values: list[int], info: DistInfo, device: torch.device) -> list[int]:
    """Rank 0's integers on every rank (e.g. how many updates to run this round)."""
    if not info.enabled:
        return values
    tensor = torch.tensor(values, dtype=torch.int64, device=device)
    dist.broadcast(tensor, src=0)
    return [int(v) for v in tensor.tolist()]


def any_rank(flag: bool, info: DistInfo, device: torch.device) -> bool:
    """True on every rank when ``flag`` is true on any rank (e.g. a stop request that reached one rank)."""
    if not info.enabled:
        return flag
    tensor = torch.tensor([int(flag)], dtype=torch.int64, device=device)
    dist.all_reduce(tensor, op=dist.ReduceOp.MAX)
    return bool(tensor.item())


def barrier(info: DistInfo) -> None:
    if info.enabled:
        dist.barrier()


def shutdown(info: DistInfo) -> None:
    if info.enabled and dist.is_initialized():
        dist.destroy_process_group()
