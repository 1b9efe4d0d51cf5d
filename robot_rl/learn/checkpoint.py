"""Learner checkpoints: safetensors for every tensor, JSON for everything else, written atomically.

Layout (one directory per checkpoint, named by the number of critic updates done)::

    <checkpoint_dir>/ckpt-000012345/
        tensors.safetensors   networks (net/<name>/<key>), log_alpha, optimizer tensors (optim/<name>/<i>/<key>)
        state.json            format, sha256 of tensors.safetensors, counters and replay position,
                              optimizer hyper-parameters and non-tensor state, the learner config

A checkpoint is written into a hidden temporary directory next to the others, each file flushed
and fsynced, and then renamed into place (atomic on POSIX file systems): a learner killed while
writing leaves a ``.tmp-*`` directory that is ignored and cleaned up, never a half checkpoint under
a real name. Loading verifies the sha256 and every tensor name and shape, and raises
``CheckpointError`` with the fix in the message. Nothing is pickled: torch optimizer state dicts mix
tensors (Adam's moments, its step count) with plain values (learning rates, betas), and each part
goes where it belongs.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load as load_bytes
from safetensors.torch import save as save_bytes

from robot_rl.learn.sac import SAC

FORMAT = 1
TENSORS, STATE = "tensors.safetensors", "state.json"
_NAME = re.compile(r"^ckpt-(\d+)$")


class CheckpointError(RuntimeError):
    """A checkpoint that cannot be resumed from; the message names the directory and the fix."""


def checkpoint_name(updates: int) -> str:
    return f"ckpt-{updates:09d}"


def list_checkpoints(directory: str | Path) -> list[Path]:
    """Complete checkpoint directories (renamed into place), oldest first."""
    directory = Path(directory)
    if not directory.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in directory.iterdir() if p.is_dir() and (m := _NAME.match(p.name))]
    return [p for _, p in sorted(found)]


def latest_checkpoint(directory: str | Path) -> Path | None:
    found = list_checkpoints(directory)
    return found[-1] if found else None


def _fsync_write(path: Path, data: bytes) -> None:
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def _optimizer_parts(name: str, optimizer: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    state_dict = optimizer.state_dict()
    tensors: dict[str, torch.Tensor] = {}
    plain: dict[str, dict[str, Any]] = {}
    for index, entry in state_dict["state"].items():
        for key, value in entry.items():
            if isinstance(value, torch.Tensor):
                tensors[f"optim/{name}/{index}/{key}"] = value
            else:
                plain.setdefault(str(index), {})[key] = value
    return tensors, {"param_groups": state_dict["param_groups"], "state": plain}


def save_checkpoint(directory: str | Path, sac: SAC, state: dict[str, Any], updates: int, keep: int = 2) -> Path:
    """Write ``ckpt-<updates>`` atomically (``state``: JSON-able counters); keep the newest ``keep``."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    tensors: dict[str, torch.Tensor] = {"log_alpha": sac.log_alpha.detach()}
    for name, module in sac.networks().items():
        tensors.update({f"net/{name}/{k}": v for k, v in module.state_dict().items()})
    optimizers: dict[str, Any] = {}
    for name, optimizer in sac.optimizers.items():
        optim_tensors, optimizers[name] = _optimizer_parts(name, optimizer)
        tensors.update(optim_tensors)
    data = save_bytes({k: v.detach().to("cpu").contiguous().clone() for k, v in tensors.items()})
    document = {"format": FORMAT, "sha256": hashlib.sha256(data).hexdigest(), "updates": updates,
                "state": state, "optimizers": optimizers}
    final = directory / checkpoint_name(updates)
    tmp = Path(tempfile.mkdtemp(dir=directory, prefix=".tmp-"))
    try:
        _fsync_write(tmp / TENSORS, data)
        _fsync_write(tmp / STATE, json.dumps(document, indent=1).encode())
        if final.exists():  # same update count written twice (no updates in between): replace it
            shutil.rmtree(final)
        os.replace(tmp, final)
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)  # the rename itself reaches the disk
        finally:
            os.close(fd)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    for old in list_checkpoints(directory)[:-keep]:
        shutil.rmtree(old, ignore_errors=True)
    for stale in directory.glob(".tmp-*"):  # left by a learner killed mid-write
        if stale != tmp:
            shutil.rmtree(stale, ignore_errors=True)
    return final


def read_checkpoint(path: str | Path) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    """The verified JSON document and tensors of one checkpoint directory."""
    path = Path(path)
    fix = (f"delete {path} to resume from the checkpoint before it, or move the whole checkpoint directory "
           "away to start training from scratch")
    try:
        document = json.loads((path / STATE).read_text())
        data = (path / TENSORS).read_bytes()
    except (OSError, ValueError) as err:
        raise CheckpointError(f"checkpoint {path} is unreadable ({err}): {fix}") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise CheckpointError(f"checkpoint {path} has format {document.get('format') if isinstance(document, dict) else None!r}, "
                              f"this learner reads format {FORMAT}: {fix}")
    digest = hashlib.sha256(data).hexdigest()
    if digest != document.get("sha256"):
        raise CheckpointError(f"checkpoint {path} is damaged: {TENSORS} has sha256 {digest[:12]}.., "
                              f"{STATE} records {str(document.get('sha256'))[:12]}..: {fix}")
    try:
        tensors = load_bytes(data)
    except Exception as err:  # safetensors raises its own error types
        raise CheckpointError(f"checkpoint {path}: {TENSORS} does not parse ({err}): {fix}") from None
    return document, tensors


def load_checkpoint(path: str | Path, sac: SAC) -> dict[str, Any]:
    """Restore ``sac`` (networks, temperature, optimizers) from ``path``; return the saved ``state``."""
    document, tensors = read_checkpoint(path)
    fix = ("the checkpoint was written with another learner/model configuration: start with the same "
           "configuration, or move the checkpoint directory away to start from scratch")
    try:
        with torch.no_grad():
            sac.log_alpha.copy_(tensors["log_alpha"])
            for name, module in sac.networks().items():
                prefix = f"net/{name}/"
                module.load_state_dict({k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)},
                                       strict=True)
        for name, optimizer in sac.optimizers.items():
            saved = document["optimizers"][name]
            state: dict[int, dict[str, Any]] = {}
            for key, value in tensors.items():
                if key.startswith(f"optim/{name}/"):
                    _, _, index, field = key.split("/", 3)
                    state.setdefault(int(index), {})[field] = value
            for index, plain in saved["state"].items():
                state.setdefault(int(index), {}).update(plain)
            groups = saved["param_groups"]
            for group, current in zip(groups, optimizer.param_groups):  # JSON turned tuples into lists
                for key, value in current.items():
                    if isinstance(value, tuple) and key in group:
                        group[key] = tuple(group[key])
            optimizer.load_state_dict({"state": state, "param_groups": groups})
    except (KeyError, RuntimeError, ValueError) as err:
        raise CheckpointError(f"checkpoint {path} does not fit this learner ({str(err).splitlines()[0]}): {fix}") from None
    return dict(document["state"])
