"""Tiny learner configurations: one 16x16 camera, small networks, so each update takes milliseconds."""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest
import torch

from robot_rl.config import load_config, to_object
from robot_rl.config.schema import RobotRLConfig

TINY = [
    "cameras.names=[front]", "cameras.policy_image_size=16",
    "policy.model.conv_channels=[8]", "policy.model.conv_strides=[2]", "policy.model.image_features=8",
    "policy.model.state_features=8", "policy.model.hidden_dims=[32]",
    "learner.critic_hidden_dims=[32]", "learner.gripper_hidden_dims=[32]", "learner.batch_size=16",
    "learner.augmentation_pad=2", "learner.device=cpu", "learner.log_every_updates=10",
    "robot.gripper_open_position=0.0", "robot.gripper_closed_position=1.0",
]


def tiny_overrides(run_dir: Path, extra: Sequence[str] = ()) -> list[str]:
    return [f"run_dir={run_dir}", *TINY, *extra]


def tiny_config(run_dir: Path, extra: Sequence[str] = ()) -> RobotRLConfig:
    return to_object(load_config("sim", tiny_overrides(run_dir, extra)))


@pytest.fixture(autouse=True)
def _one_thread() -> None:
    torch.set_num_threads(1)  # the CI machine has two cores shared by everything else
