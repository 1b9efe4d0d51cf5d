"""Checkpoints: a round trip restores everything an update depends on; damage is reported, not loaded."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from robot_rl.learn.batch import to_torch
from robot_rl.learn.checkpoint import (CheckpointError, latest_checkpoint, list_checkpoints, load_checkpoint,
                                       save_checkpoint)
from robot_rl.learn.sac import SAC
from robot_rl.learn.synthetic import SyntheticSampler
from tests.learn.conftest import tiny_config


def build(tmp_path: Path, seed: int) -> SAC:
    config = tiny_config(tmp_path)
    torch.manual_seed(seed)
    return SAC(config.learner, config.policy.model, config.cameras.names, 16)


def batch(seed: int = 1):  # type: ignore[no-untyped-def]
    return to_torch(SyntheticSampler(["front"], 16, 10, {"a": 8}, seed=seed).sample(16), torch.device("cpu"))


def test_round_trip_restores_networks_optimizers_and_temperature(tmp_path: Path) -> None:
    sac = build(tmp_path, seed=0)
    for _ in range(3):
        sac.update(batch(), update_actor=True)
    state = {"updates": 3, "replay_position": {"store/robot_a": 120}}
    path = save_checkpoint(tmp_path / "ckpt", sac, state, updates=3)
    assert path.name == "ckpt-000000003" and json.loads((path / "state.json").read_text())["state"] == state

    other = build(tmp_path, seed=1)  # different initial weights
    assert load_checkpoint(path, other) == state
    for name, net in sac.networks().items():
        for key, value in net.state_dict().items():
            assert torch.equal(value, other.networks()[name].state_dict()[key]), f"{name}.{key}"
    assert torch.equal(sac.log_alpha, other.log_alpha)
    # the next update is the same in both (same optimizer moments and step counts, same random draws)
    fixed = batch(seed=5)
    torch.manual_seed(9)
    a = sac.update(fixed, update_actor=True)
    torch.manual_seed(9)
    b = other.update(fixed, update_actor=True)
    assert float(a["losses/qf_loss"]) == float(b["losses/qf_loss"])
    assert all(torch.equal(p, q) for p, q in zip(sac.parameters(), other.parameters()))


def test_keeps_the_newest_and_ignores_half_written_directories(tmp_path: Path) -> None:
    sac = build(tmp_path, seed=0)
    for updates in (10, 20, 30):
        save_checkpoint(tmp_path, sac, {"updates": updates}, updates=updates, keep=2)
    (tmp_path / ".tmp-killed").mkdir()  # what a learner killed mid-write leaves
    assert [p.name for p in list_checkpoints(tmp_path)] == ["ckpt-000000020", "ckpt-000000030"]
    assert latest_checkpoint(tmp_path) == tmp_path / "ckpt-000000030"


@pytest.mark.parametrize("damage", ["flip_tensor_byte", "truncate_state", "drop_tensors"])
def test_damaged_checkpoint_raises_a_clear_error(tmp_path: Path, damage: str) -> None:
    sac = build(tmp_path, seed=0)
    path = save_checkpoint(tmp_path, sac, {"updates": 0}, updates=0)
    tensors, state = path / "tensors.safetensors", path / "state.json"
    if damage == "flip_tensor_byte":
        data = bytearray(tensors.read_bytes())
        data[-10] ^= 0xFF
        tensors.write_bytes(bytes(data))
    elif damage == "truncate_state":
        state.write_text(state.read_text()[:50])
    else:
        tensors.unlink()
    with pytest.raises(CheckpointError, match=r"ckpt-000000000.*(delete|move)"):
        load_checkpoint(path, build(tmp_path, seed=1))


def test_checkpoint_from_another_architecture_is_refused(tmp_path: Path) -> None:
    path = save_checkpoint(tmp_path / "c", build(tmp_path, seed=0), {"updates": 0}, updates=0)
    config = tiny_config(tmp_path, ["learner.critic_hidden_dims=[8]"])
    other = SAC(config.learner, config.policy.model, config.cameras.names, 16)
    with pytest.raises(CheckpointError, match="does not fit"):
        load_checkpoint(path, other)
