"""Issue 6 on the simulated arm, without ROS: the scripted operator corrects a policy that drives away
from the cube (both actions recorded). Replaying a recorded session's demonstrations: tests/sim/test_modes.py."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import robot_rl.sim  # noqa: F401  (headless OpenGL before MuJoCo loads)
from robot_rl.config import load_config, to_object
from robot_rl.config.schema import RobotRLConfig
from robot_rl.replay import EpisodeWriter, Source
from robot_rl.replay.store import (
    array,
    episode_starts,
    open_group,
    open_root,
    read_episode_ends,
)
from robot_rl.sim.pick_cube import PickCubeSim
from robot_rl.sim.session import (
    SimSession,
    action_scale,
    group_info,
)
from robot_rl.teleop.scripted import CorrectingOperator

MAX_STEPS = 120


@pytest.fixture(scope="module")
def cfg() -> RobotRLConfig:
    return to_object(load_config("sim"))


def away_from_the_cube(images: object, state: np.ndarray) -> np.ndarray:
    """A failing policy: backs off and up, gripper open."""
    return np.array([-0.6, 0.0, 0.4, 0.0, 0.0, 0.0, -1.0], dtype=np.float32)


def record(cfg: RobotRLConfig, path: Path, seeds: list[int], demo_episodes: int) -> list[bool]:
    sim = PickCubeSim(cfg.sim, cfg.robot, cfg.cameras.names, render=False)
    scale = action_scale(cfg.policy.max_linear_speed, cfg.policy.max_angular_speed)
    operator = CorrectingOperator(sim.control_dt, max_speed=cfg.policy.max_linear_speed, demo_episodes=demo_episodes)
    outcomes = []
    try:
        with EpisodeWriter(path, "session", group_info(cfg.cameras.names, 16, scale, cfg.robot.control_hz)) as writer:
            session = SimSession(sim, scale, writer, image_size=16, render=False)
            for seed in seeds:
                outcomes.append(session.run_episode(away_from_the_cube, operator, MAX_STEPS, seed=seed).success)
    finally:
        sim.close()
    return outcomes


def read(path: Path) -> tuple[object, np.ndarray, np.ndarray]:
    group, _ = open_group(open_root(path), "session")
    ends = read_episode_ends(group)
    return group, episode_starts(ends), ends


def test_the_operator_corrects_a_policy_driving_away_and_both_actions_are_recorded(
        cfg: RobotRLConfig, tmp_path: Path) -> None:
    store = tmp_path / "replay.zarr"
    assert record(cfg, store, seeds=[3], demo_episodes=0) == [True], "corrected, the pick must succeed"
    group, _, ends = read(store)
    n = int(ends[-1])
    flags = np.asarray(array(group, "data/intervention")[:n])
    policy = np.asarray(array(group, "data/policy_action")[:n])
    human = np.asarray(array(group, "data/human_action")[:n])
    source = np.asarray(array(group, "data/source")[:n])
    executed = np.asarray(array(group, "data/action")[:n])
    assert flags.any() and not flags.all(), "the policy acts first; the operator takes over when it fails"
    assert not flags[:5].any(), "no takeover before the patience window has passed"
    assert np.isfinite(policy).all(), "the policy's proposal is recorded on every step, also while overridden"
    assert np.isfinite(human[flags]).all() and np.isnan(human[~flags]).all()
    np.testing.assert_allclose(executed[flags], human[flags])  # the human's command was executed
    np.testing.assert_allclose(executed[~flags], np.clip(policy[~flags], -1, 1))
    np.testing.assert_allclose(policy[flags][:, 0], -0.6)  # ...while the policy still wanted to back off
    assert set(source[flags]) == {Source.HUMAN} and set(source[~flags]) == {Source.POLICY}
    assert np.asarray(array(group, "data/reward")[:n])[-1] == 1.0


@pytest.mark.parametrize("cube_offset", [False, True])
def test_the_low_dimensional_state_ends_with_the_cube_in_the_base_frame_or_relative_to_the_gripper(
        cfg: RobotRLConfig, cube_offset: bool) -> None:
    sim = PickCubeSim(cfg.sim, cfg.robot, cfg.cameras.names, render=False)
    seen: list[np.ndarray] = []

    def policy(images: object, state: np.ndarray) -> np.ndarray:
        seen.append(state.copy())
        return np.array([0.5, 0.0, -0.3, 0.0, 0.0, 0.0, -1.0], dtype=np.float32)  # moves, never grasps

    try:
        scale = action_scale(cfg.policy.max_linear_speed, cfg.policy.max_angular_speed)
        session = SimSession(sim, scale, None, render=False, cube_in_state=True, cube_offset=cube_offset)
        session.run_episode(policy, None, 5, seed=0)
        cube = sim.cube_position()  # resting where it started (settling by ~0.1 mm): the policy never touched it
    finally:
        sim.close()
    assert len(seen) == 5
    for state in seen:  # the policy state starts with the end effector's position (robot_rl.policy.state)
        ee = state[:3]
        expected = cube - ee if cube_offset else cube
        np.testing.assert_allclose(state[-3:], expected, atol=1e-3)  # the two frames differ by tens of cm
    assert np.linalg.norm(seen[-1][:3] - seen[0][:3]) > 1e-3  # the arm moved, so the offset changed with it
