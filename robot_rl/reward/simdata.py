"""Recorded episodes of the simulated pick task, for training data, tests and benchmarks.

The scripted operator (``robot_rl.sim.scripted.ScriptedPick``) drives ``PickCubeSim`` and every step
goes through ``EpisodeWriter`` into a replay store, exactly as the graph would record it: images per
camera, the policy state vector, the executed action, and the sparse success reward from the
simulator's ground truth (1.0 on every step where the cube is lifted and held). Successful episodes
end (terminated) ``hold_steps`` after the first success; failed ones are one of:

* ``miss``: the pick aims 6 cm beside the cube, closes on air and lifts nothing (timeout);
* ``stall``: the arm approaches and then hovers above the cube until the time limit;
* ``drop``: the cube is grasped and lifted, then released before the lift counts as success.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

import robot_rl.sim  # noqa: F401  (headless OpenGL before MuJoCo loads)
from robot_rl.config import load_config, to_object
from robot_rl.perception.image import crop_resize
from robot_rl.policy.state import STATE_DIM, policy_state
from robot_rl.replay.recorder import ACTION_NAMES
from robot_rl.replay.schema import GroupInfo, Source
from robot_rl.replay.writer import EpisodeWriter, Step
from robot_rl.robot.interface import RobotCommand
from robot_rl.sim.pick_cube import PickCubeSim
from robot_rl.sim.scripted import Phase, ScriptedPick

FAILURES = ("miss", "stall", "drop")


def alternating_outcomes(n: int) -> list[str]:
    """Successes alternating with failures, the failures cycling through ``FAILURES``: as many negative
    episodes as positive ones (HIL-SERL records more negatives than positives for its classifier; a
    miss that lifts the empty gripper beside the cube and a drop are the ones that look most like success)."""
    return ["success" if i % 2 == 0 else FAILURES[(i // 2) % len(FAILURES)] for i in range(n)]


def _act(policy: ScriptedPick, sim: PickCubeSim, mode: str, offset: np.ndarray) -> RobotCommand:
    ee, cube = sim.observe().ee_position, sim.cube_position()
    if mode == "miss":
        cube = cube + offset
    if mode == "stall" and policy.phase is not Phase.APPROACH:
        return RobotCommand.hold(gripper=-1.0)
    command = policy.act(ee, cube)
    if mode == "drop" and policy.phase is Phase.LIFT and policy._lift_target is not None \
            and ee[2] > policy._lift_target[2] - policy.lift_m + 0.05:
        return RobotCommand(linear=command.linear, gripper=-1.0)
    return command


def record_pick_episodes(store: str | Path, outcomes: Sequence[str], *, group: str = "sim", seed: int = 0,
                         image_size: int = 64, render_size: int = 128, cameras: Sequence[str] = ("wrist", "front"),
                         max_steps: int = 60, hold_steps: int = 6, goal: str = "pick up the cube",
                         on_episode: Callable[[int, str, int], None] | None = None) -> list[bool]:
    """Record one episode per entry of ``outcomes`` (``success`` or one of ``FAILURES``); return the
    ground-truth success of each. Images render at ``render_size`` and are stored at ``image_size``
    with the policy server's ``crop_resize``."""
    cfg = to_object(load_config("sim", [f"sim.image_size={render_size}", f"sim.seed={seed}"]))
    sim = PickCubeSim(cfg.sim, cfg.robot, list(cameras))
    scale = [cfg.policy.max_linear_speed] * 3 + [cfg.policy.max_angular_speed] * 3 + [1.0]
    info = GroupInfo(camera_names=list(cameras), image_size=(image_size, image_size), state_dim=STATE_DIM,
                     action_dim=len(ACTION_NAMES), task="pick_cube", goal=goal, robot=cfg.robot.name,
                     control_hz=cfg.robot.control_hz, action_names=list(ACTION_NAMES), action_scale=scale)
    rng = np.random.default_rng(seed)
    results = []
    try:
        with EpisodeWriter(store, group, info, program="robot_rl.reward.simdata") as writer:
            for k, mode in enumerate(outcomes):
                if mode != "success" and mode not in FAILURES:
                    raise ValueError(f"outcome {mode!r}: use success or one of {FAILURES}")
                sim.reset(force=True)
                policy = ScriptedPick(sim.control_dt)
                angle = rng.uniform(0, 2 * np.pi)
                offset = np.array([0.06 * np.cos(angle), 0.06 * np.sin(angle), 0.0])
                writer.begin_episode()
                first_success: int | None = None
                for t in range(max_steps):
                    obs = sim.observe()
                    images = {c: crop_resize(v, image_size) for c, v in sim.render().items()}
                    success = sim.success()
                    command = _act(policy, sim, mode, offset)
                    action = np.concatenate([command.linear, command.angular, [command.gripper or 0.0]])
                    writer.append(Step(images=images, state=policy_state(obs.ee_position, obs.ee_orientation,
                                                                         obs.joint_positions[-1]),
                                       action=np.clip(action / np.asarray(scale), -1, 1), reward=float(success),
                                       source=Source.DEMO))
                    if success and first_success is None:
                        first_success = t
                    if first_success is not None and t - first_success >= hold_steps:
                        break
                    sim.command(command)
                    sim.step()
                done = first_success is not None
                writer.end_episode(terminated=done, truncated=not done)
                results.append(done)
                if on_episode is not None:
                    on_episode(k, mode, writer.episode_length)
    finally:
        sim.close()
    return results
