"""Reward model files: ``<dir>/<kind>-<n>.safetensors`` plus a JSON sidecar, never pickle.

The sidecar (``<same name>.json``) records the format, the kind (``classifier`` or ``progress``), the
version string (``<kind>-<n>-<first 8 hex of the weights' sha256>``: unique, and the name relabelled
rewards are stored under), the architecture the network is rebuilt from, the calibrated threshold,
the cached goal embeddings, what it was trained on and its held-out metrics. Both files are written to
a temporary name and renamed into place, weights first, so a sidecar always has complete weights.

Loading refuses, with a ``ModelFileError`` that says what to do: a missing file, a damaged one (sha256),
a model of another kind than asked for, and weights that do not fit the recorded architecture.
"""
from __future__ import annotations

import hashlib
import json
import re
import time
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load as load_bytes
from safetensors.torch import save as save_bytes
from torch import nn

from robot_rl.atomic import atomic_write
from robot_rl.reward.interface import ModelFileError
from robot_rl.reward.networks import build

FORMAT = 1
KINDS = {"classifier": "success classifier", "progress": "progress critic"}


def sidecar_of(path: str | Path) -> Path:
    return Path(path).with_suffix(".json")


def next_number(directory: Path, kind: str) -> int:
    pattern = re.compile(rf"^{kind}-(\d+)\.safetensors$")
    numbers = [int(m.group(1)) for p in directory.glob(f"{kind}-*.safetensors") if (m := pattern.match(p.name))]
    return max(numbers, default=0) + 1


def save_model(net: nn.Module, directory: str | Path, meta: dict[str, Any]) -> Path:
    """Write the next numbered model file of ``net.arch['kind']`` in ``directory``; return its path."""
    arch: dict[str, Any] = dict(getattr(net, "arch"))
    kind = str(arch["kind"])
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    number = next_number(directory, kind)
    tensors = {k: v.detach().to("cpu").contiguous() for k, v in net.state_dict().items()}
    data = save_bytes(tensors, metadata={"kind": kind})
    digest = hashlib.sha256(data).hexdigest()
    path = directory / f"{kind}-{number}.safetensors"
    atomic_write(path, data)
    sidecar = {"format": FORMAT, "kind": kind, "version": f"{kind}-{number}-{digest[:8]}", "sha256": digest,
               "architecture": arch, "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"), **meta}
    atomic_write(sidecar_of(path), json.dumps(sidecar, indent=1).encode())
    return path


def load_model(path: str | Path, kind: str | None = None) -> tuple[nn.Module, dict[str, Any]]:
    """Rebuild the network recorded in ``path``'s sidecar and load its weights; return (net, sidecar)."""
    path = Path(path).expanduser()
    if path.suffix != ".safetensors":
        raise ModelFileError(f"reward model {path}: give the .safetensors file written by robot-rl reward train-*"
                             " (pickled checkpoints are never loaded)")
    try:
        data = path.read_bytes()
        meta = json.loads(sidecar_of(path).read_text())
    except OSError as err:
        raise ModelFileError(f"reward model {path}: cannot read it or its sidecar {sidecar_of(path).name} "
                             f"({err.strerror}); train one with robot-rl reward train-classifier | train-progress") from None
    except ValueError as err:
        raise ModelFileError(f"reward model {path}: sidecar {sidecar_of(path).name} is not JSON ({err})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT or meta.get("kind") not in KINDS:
        raise ModelFileError(f"reward model {path}: the sidecar is not a robot_rl reward model (format "
                             f"{meta.get('format') if isinstance(meta, dict) else '?'}); is this a policy or "
                             "learner checkpoint?")
    if kind is not None and meta["kind"] != kind:
        raise ModelFileError(f"reward model {path} is a {KINDS[meta['kind']]}, but a {KINDS.get(kind, kind)} was "
                             f"asked for; set reward.kind={meta['kind']} or point at a {kind} model")
    if hashlib.sha256(data).hexdigest() != meta.get("sha256"):
        raise ModelFileError(f"reward model {path}: its sha256 differs from the sidecar's; the file is damaged or "
                             "still being copied")
    try:
        tensors = load_bytes(data)
    except Exception as err:  # safetensors raises its own error types
        raise ModelFileError(f"reward model {path} is not a safetensors file: {err}") from None
    arch = meta.get("architecture")
    if not isinstance(arch, dict) or arch.get("kind") != meta["kind"]:
        raise ModelFileError(f"reward model {path}: the sidecar records no usable architecture")
    try:
        net = build(arch)
    except (KeyError, TypeError, ValueError) as err:
        raise ModelFileError(f"reward model {path}: architecture {arch} cannot be built ({err}); it was written "
                             "by another robot_rl version") from None
    expected = net.state_dict()
    missing, unexpected = sorted(set(expected) - set(tensors)), sorted(set(tensors) - set(expected))
    wrong = [f"{k} {tuple(tensors[k].shape)} != {tuple(expected[k].shape)}"
             for k in sorted(set(expected) & set(tensors)) if tensors[k].shape != expected[k].shape]
    if missing or unexpected or wrong:
        raise ModelFileError(f"reward model {path} holds weights of another architecture than its sidecar "
                             f"records: missing {missing[:3]}, unexpected {unexpected[:3]}, wrong shape {wrong[:3]}; "
                             "retrain it, or restore the matching .json")
    bad = [k for k, t in tensors.items() if t.is_floating_point() and not bool(torch.isfinite(t).all())]
    if bad:
        raise ModelFileError(f"reward model {path} holds NaN or inf in {bad[:3]}: training diverged; retrain it")
    net.load_state_dict(tensors)
    net.eval()
    return net, meta
