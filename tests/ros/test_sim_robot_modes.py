"""sim_robot in a return_explore session: robot/reset brings the simulated arm to a recorded episode's state."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from geometry_msgs.msg import PoseStamped
from std_srvs.srv import Trigger

import robot_rl.sim  # noqa: F401  (headless OpenGL before MuJoCo loads)
from robot_rl.config import load_config, to_object
from robot_rl.replay import EpisodeWriter
from robot_rl.sim.modes import ModeSession
from robot_rl.sim.pick_cube import PickCubeSim
from robot_rl.sim.session import SimSession, action_scale, group_info
from robot_rl.teleop.protocol import load_source_episode
from robot_rl.teleop.scripted import CorrectingOperator
from tests.ros_harness import NodeProcesses, RosProbe, wait_until

pytestmark = pytest.mark.ros
NS = "/robot_rl"
STEP = 15  # before the grasp: the cube still stands where the episode began


def record_demo(store: Path) -> None:
    cfg = to_object(load_config("sim"))
    sim = PickCubeSim(cfg.sim, cfg.robot, cfg.cameras.names, render=False)
    scale = action_scale(cfg.policy.max_linear_speed, cfg.policy.max_angular_speed)
    try:
        with EpisodeWriter(store, "operator", group_info(cfg.cameras.names, 16, scale, cfg.robot.control_hz)) as w:
            operator = CorrectingOperator(sim.control_dt, max_speed=cfg.policy.max_linear_speed, demo_episodes=1)
            ModeSession(SimSession(sim, scale, w, image_size=16, render=False), "demo").run_episode(
                None, operator, 80, seed=31)
    finally:
        sim.close()


def position(pose: PoseStamped) -> np.ndarray:
    p = pose.pose.position
    return np.array([p.x, p.y, p.z])


def test_reset_returns_the_arm_to_the_recorded_state(
        node_processes: NodeProcesses, ros_probe: RosProbe, tmp_path: Path) -> None:
    store = tmp_path / "demos.zarr"
    record_demo(store)
    episode = load_source_episode(str(store))
    target, home = episode.states[STEP, :3], episode.states[0, :3]
    assert np.linalg.norm(target - home) > 0.03, "the recorded arm moved away from home by then"
    overrides = f"teleop.mode=return_explore teleop.source_path={store} teleop.return_step={STEP}"
    node_processes.start("sim_robot", parameters={"overrides": overrides})
    poses = ros_probe.subscribe(PoseStamped, f"{NS}/robot/ee_pose")
    cubes = ros_probe.subscribe(PoseStamped, f"{NS}/sim/cube_pose")
    wait_until(lambda: len(poses) > 0, 60.0,
               lambda: f"sim_robot's first ee_pose; log:\n{node_processes.log('sim_robot')}")
    answer = ros_probe.call(Trigger, f"{NS}/robot/reset", Trigger.Request(), timeout_s=15.0)
    assert answer.success, answer.message
    seen = len(poses)
    wait_until(lambda: len(poses) > seen + 3, 10.0, "ee_pose after the reset")
    assert np.linalg.norm(position(poses[-1]) - target) < 0.01, (position(poses[-1]), target)
    np.testing.assert_allclose(position(cubes[-1]), episode.initial_cube_position, atol=2e-3)
