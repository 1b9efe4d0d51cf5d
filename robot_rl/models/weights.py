"""Versioned actor weights: safetensors files with a JSON sidecar, written atomically, verified on load.

The learner writes ``<dir>/actor-<version>.safetensors`` and ``<dir>/actor-<version>.json`` (sha256 of
the weights file, the model architecture, the version) and announces them on ``policy/weights`` as
``{"version": int, "path": str, "sha256": str}``. Each file is written to a temporary name in the same
directory and renamed into place (atomic on POSIX file systems, NFS included), weights before sidecar,
so a reader that finds the sidecar finds complete weights.

Loading checks, in order: the file exists; its sha256 matches the announcement and the sidecar
(``WeightsChecksumError``: a damaged or half-copied file); it parses (``WeightsFormatError``); its
architecture, tensor names and shapes match the running actor, and every value is finite
(``WeightsMismatchError``). Nothing is ever unpickled.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load as load_bytes
from safetensors.torch import save as save_bytes
from torch import nn

from robot_rl.atomic import atomic_write

FORMAT = 1  # sidecar format version
_NAME = re.compile(r"^actor-(\d+)\.safetensors$")


class WeightsError(Exception):
    """Weights that cannot be used; the weights in use stay."""


class WeightsNotFoundError(WeightsError):
    """The announced file (or its sidecar) does not exist or cannot be read."""


class WeightsChecksumError(WeightsError):
    """The file's sha256 differs from the announcement or the sidecar: damaged or incompletely copied."""


class WeightsFormatError(WeightsError):
    """The file or the announcement is not what this module writes."""


class WeightsMismatchError(WeightsError):
    """The weights were made for another architecture (cameras, image size, layers) or hold NaN/inf."""


@dataclass(frozen=True)
class WeightsInfo:
    """One weights version: what the learner announces and the policy server loads."""

    version: int
    path: str
    sha256: str

    def to_json(self) -> str:
        return json.dumps({"version": self.version, "path": self.path, "sha256": self.sha256})

    @classmethod
    def from_json(cls, text: str) -> WeightsInfo:
        try:
            data = json.loads(text)
            info = cls(version=int(data["version"]), path=str(data["path"]), sha256=str(data["sha256"]))
        except (ValueError, KeyError, TypeError) as err:
            raise WeightsFormatError(f"weights announcement {text[:200]!r} is not "
                                     '{"version": int, "path": str, "sha256": str}: ' + str(err)) from None
        if info.version < 0 or not re.fullmatch(r"[0-9a-f]{64}", info.sha256):
            raise WeightsFormatError(f"weights announcement {text[:200]!r}: version must be >= 0 and sha256 "
                                     "64 lowercase hex digits")
        return info


@dataclass(frozen=True)
class LoadedWeights:
    info: WeightsInfo
    tensors: dict[str, torch.Tensor]  # on the CPU; copy into a model with ``apply_weights``


def weights_path(directory: str | Path, version: int) -> Path:
    return Path(directory) / f"actor-{version}.safetensors"


def sidecar_path(path: str | Path) -> Path:
    return Path(path).with_suffix(".json")


def _architecture(model: nn.Module) -> dict[str, Any]:
    describe = getattr(model, "architecture", None)
    return dict(describe()) if callable(describe) else {}


def save_weights(model: nn.Module, directory: str | Path, version: int) -> WeightsInfo:
    """Write ``actor-<version>.safetensors`` plus its sidecar atomically; return the announcement."""
    if version < 0:
        raise ValueError(f"weights version {version}: use a non-negative integer")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().to("cpu").contiguous() for k, v in model.state_dict().items()}
    data = save_bytes(tensors, metadata={"version": str(version)})
    digest = hashlib.sha256(data).hexdigest()
    path = weights_path(directory, version)
    atomic_write(path, data)
    sidecar = {"format": FORMAT, "version": version, "sha256": digest, "architecture": _architecture(model)}
    atomic_write(sidecar_path(path), json.dumps(sidecar, indent=1).encode())
    return WeightsInfo(version=version, path=str(path), sha256=digest)


def latest_weights(directory: str | Path) -> WeightsInfo | None:
    """The highest version in ``directory`` that has its sidecar (i.e. was completely written), or None."""
    directory = Path(directory)
    if not directory.is_dir():
        return None
    versions = sorted((int(m.group(1)), p) for p in directory.iterdir() if (m := _NAME.match(p.name)))
    for version, path in reversed(versions):
        try:
            sidecar = json.loads(sidecar_path(path).read_text())
            return WeightsInfo(version=version, path=str(path), sha256=str(sidecar["sha256"]))
        except (OSError, ValueError, KeyError):
            continue
    return None


def load_weights(info: WeightsInfo, model: nn.Module) -> LoadedWeights:
    """Read and verify ``info`` against ``model`` (which is not modified); raise a WeightsError subclass."""
    path = Path(info.path)
    try:
        data = path.read_bytes()
        sidecar_text = sidecar_path(path).read_text()
    except OSError as err:
        raise WeightsNotFoundError(f"weights v{info.version}: cannot read {path} or its sidecar: {err}") from None
    digest = hashlib.sha256(data).hexdigest()
    if digest != info.sha256:
        raise WeightsChecksumError(f"weights v{info.version} at {path}: sha256 {digest[:12]}.. differs from the "
                                   f"announced {info.sha256[:12]}..; the file is damaged or still being copied")
    try:
        sidecar = json.loads(sidecar_text)
        if sidecar.get("format") != FORMAT:
            raise ValueError(f"sidecar format {sidecar.get('format')!r}, expected {FORMAT}")
    except ValueError as err:
        raise WeightsFormatError(f"weights v{info.version}: sidecar {sidecar_path(path)} unreadable: {err}") from None
    if sidecar.get("sha256") != digest:
        raise WeightsChecksumError(f"weights v{info.version}: sidecar {sidecar_path(path)} records another sha256")
    expected_arch = _architecture(model)
    if sidecar.get("architecture") != expected_arch:
        raise WeightsMismatchError(f"weights v{info.version} were trained for {sidecar.get('architecture')}, "
                                   f"the running policy is {expected_arch}; restart the policy server with the "
                                   "learner's policy.model, cameras.names and policy_image_size")
    try:
        tensors = load_bytes(data)
    except Exception as err:  # safetensors raises its own error types
        raise WeightsFormatError(f"weights v{info.version} at {path} is not a safetensors file: {err}") from None
    check_compatible(tensors, model, f"weights v{info.version}")
    return LoadedWeights(info=info, tensors=tensors)


def check_compatible(tensors: dict[str, torch.Tensor], model: nn.Module, what: str) -> None:
    """Raise WeightsMismatchError unless ``tensors`` has exactly the model's names, shapes and finite values."""
    expected = model.state_dict()
    missing, unexpected = sorted(set(expected) - set(tensors)), sorted(set(tensors) - set(expected))
    wrong = [f"{k} {tuple(tensors[k].shape)} != {tuple(expected[k].shape)}"
             for k in sorted(set(expected) & set(tensors))
             if tensors[k].shape != expected[k].shape or tensors[k].dtype != expected[k].dtype]
    if missing or unexpected or wrong:
        raise WeightsMismatchError(f"{what} do not fit the actor: missing {missing[:5]}, unexpected "
                                   f"{unexpected[:5]}, wrong shape/dtype {wrong[:5]}")
    bad = [k for k, t in tensors.items() if t.is_floating_point() and not bool(torch.isfinite(t).all())]
    if bad:
        raise WeightsMismatchError(f"{what} hold NaN or inf in {bad[:5]}; the learner diverged, keep the old weights")


def apply_weights(model: nn.Module, loaded: LoadedWeights) -> None:
    """Copy verified tensors into ``model`` (on its device)."""
    with torch.no_grad():
        model.load_state_dict(loaded.tensors, strict=True)


def file_sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


