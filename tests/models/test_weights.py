"""Weights hand-off: atomic safetensors + sidecar, checksum, architecture and shape checks, no pickle."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from robot_rl.config.schema import ModelConfig
from robot_rl.models.actor import Actor
from robot_rl.models.weights import (
    WeightsChecksumError,
    WeightsFormatError,
    WeightsInfo,
    WeightsMismatchError,
    WeightsNotFoundError,
    apply_weights,
    latest_weights,
    load_weights,
    save_weights,
    sidecar_path,
)

CAMERAS = ["wrist", "front"]


def actor(seed: int = 0, **config: object) -> Actor:
    torch.manual_seed(seed)
    return Actor(ModelConfig(**config), CAMERAS, 32)  # type: ignore[arg-type]


def test_round_trip_restores_every_tensor(tmp_path: Path) -> None:
    source, target = actor(0), actor(1)
    info = save_weights(source, tmp_path, 7)
    assert Path(info.path).name == "actor-7.safetensors" and sidecar_path(info.path).exists()
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    apply_weights(target, load_weights(info, target))
    for (k, a), b in zip(source.state_dict().items(), target.state_dict().values()):
        assert torch.equal(a, b), k
    assert WeightsInfo.from_json(info.to_json()) == info
    assert json.loads(sidecar_path(info.path).read_text())["architecture"] == source.architecture()


def test_latest_weights_skips_versions_without_a_sidecar(tmp_path: Path) -> None:
    assert latest_weights(tmp_path) is None
    save_weights(actor(), tmp_path, 2)
    newest = save_weights(actor(), tmp_path, 10)
    assert latest_weights(tmp_path) == newest
    (tmp_path / "actor-11.safetensors").write_bytes(b"half-written")  # no sidecar yet
    assert latest_weights(tmp_path) == newest


def test_corrupt_file_is_a_checksum_error(tmp_path: Path) -> None:
    info = save_weights(actor(), tmp_path, 1)
    data = bytearray(Path(info.path).read_bytes())
    data[len(data) // 2] ^= 0xFF
    Path(info.path).write_bytes(bytes(data))
    with pytest.raises(WeightsChecksumError, match="sha256"):
        load_weights(info, actor())


def test_truncated_file_with_matching_sums_is_a_format_error(tmp_path: Path) -> None:
    info = save_weights(actor(), tmp_path, 1)
    truncated = Path(info.path).read_bytes()[:100]
    Path(info.path).write_bytes(truncated)
    import hashlib
    digest = hashlib.sha256(truncated).hexdigest()
    sidecar = json.loads(sidecar_path(info.path).read_text())
    sidecar["sha256"] = digest
    sidecar_path(info.path).write_text(json.dumps(sidecar))
    with pytest.raises(WeightsFormatError):
        load_weights(WeightsInfo(1, info.path, digest), actor())


def test_other_architecture_is_a_mismatch(tmp_path: Path) -> None:
    info = save_weights(actor(hidden_dims=[64]), tmp_path, 1)
    with pytest.raises(WeightsMismatchError, match="trained for"):
        load_weights(info, actor())
    other_cameras = Actor(ModelConfig(), ["wrist"], 32)
    info = save_weights(other_cameras, tmp_path, 2)
    with pytest.raises(WeightsMismatchError):
        load_weights(info, actor())


def test_nan_weights_are_rejected(tmp_path: Path) -> None:
    source = actor()
    with torch.no_grad():
        source.mean.weight[0, 0] = float("nan")
    with pytest.raises(WeightsMismatchError, match="NaN"):
        load_weights(save_weights(source, tmp_path, 3), actor())


def test_missing_file_and_bad_announcements(tmp_path: Path) -> None:
    with pytest.raises(WeightsNotFoundError):
        load_weights(WeightsInfo(1, str(tmp_path / "actor-1.safetensors"), "0" * 64), actor())
    for text in ("not json", '{"version": 1}', '{"version": -1, "path": "x", "sha256": "' + "0" * 64 + '"}',
                 '{"version": 1, "path": "x", "sha256": "abc"}'):
        with pytest.raises(WeightsFormatError):
            WeightsInfo.from_json(text)


def test_weights_files_hold_no_pickle(tmp_path: Path) -> None:
    info = save_weights(actor(), tmp_path, 1)
    header_len = int.from_bytes(Path(info.path).read_bytes()[:8], "little")
    header = json.loads(Path(info.path).read_bytes()[8:8 + header_len])
    assert header["__metadata__"] == {"version": "1"}
    assert b"\x80\x04" not in Path(info.path).read_bytes()[:16]  # a pickle protocol header would start the file
