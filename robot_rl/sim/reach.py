"""A state-only reach task on the simulated Panda: move the pinch point to a random target.

Built on ``PickCubeSim`` with rendering off (no camera is created), for learner tests that must fit
CI: the pick task needs ~50 control steps and a grasp per episode, reach ~10 steps. The cube stays on
the table and plays no part.

- Target: drawn per episode from the episode seed, uniformly in a box around the home pinch point
  (``TARGET_LOW``..``TARGET_HIGH`` offsets, metres, base frame).
- State (``REACH_STATE_DIM`` = 13): the policy state of ``robot_rl.policy.state`` (ee position, 6-D
  rotation, gripper joint) followed by the target position. ``policy.model.state_dim`` must be 13.
- Action: the 7-D policy action; its linear part times ``max_linear_speed`` is the commanded
  velocity. The angular part and the gripper are ignored (the arm holds its orientation), so the
  task is 3-D in a 7-D action space.
- Reward (dense): ``-distance / 0.1 m`` per step; the episode terminates with success once the pinch
  point is within ``success_m`` of the target, and is truncated after ``max_steps``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from robot_rl.config.schema import RobotConfig, SimConfig
from robot_rl.policy.state import policy_state
from robot_rl.robot.interface import RobotCommand
from robot_rl.sim.pick_cube import PickCubeSim

REACH_STATE_DIM = 13
TARGET_LOW = np.array([-0.08, -0.08, -0.04])  # m, offsets from the home pinch point
TARGET_HIGH = np.array([0.08, 0.08, 0.06])

FloatArray = npt.NDArray[np.float32]


@dataclass(frozen=True)
class ReachStep:
    state: FloatArray  # the observation after the step
    reward: float
    terminated: bool  # reached the target
    truncated: bool  # ran out of steps


class ReachTask:
    """``reset(seed) -> state``; ``step(action) -> ReachStep``; ``scripted(state) -> action`` (a demonstrator)."""

    def __init__(self, sim: SimConfig, robot: RobotConfig, max_linear_speed: float = 0.2, max_steps: int = 25,
                 success_m: float = 0.02) -> None:
        self.sim = PickCubeSim(sim, robot, camera_names=(), render=False)
        self.max_linear_speed, self.max_steps, self.success_m = max_linear_speed, max_steps, success_m
        self.home = self.sim.ee_pose()[0].copy()
        self.target = self.home.copy()
        self.steps = 0

    def observe(self) -> FloatArray:
        obs = self.sim.observe()
        gripper = float(obs.joint_positions[-1])
        return np.concatenate([policy_state(obs.ee_position, obs.ee_orientation, gripper),
                               self.target]).astype(np.float32)

    def distance(self) -> float:
        return float(np.linalg.norm(self.sim.ee_pose()[0] - self.target))

    def reset(self, seed: int) -> FloatArray:
        self.sim.reset(force=True, seed=seed)
        rng = np.random.default_rng([seed, 1])  # the target's own stream, independent of the cube's
        self.target = self.home + rng.uniform(TARGET_LOW, TARGET_HIGH)
        self.steps = 0
        return self.observe()

    def step(self, action: npt.ArrayLike) -> ReachStep:
        linear = np.clip(np.asarray(action, dtype=np.float64)[:3], -1.0, 1.0) * self.max_linear_speed
        self.sim.command(RobotCommand(linear=linear, gripper=-1.0))
        self.sim.step()
        self.steps += 1
        distance = self.distance()
        terminated = distance < self.success_m
        return ReachStep(state=self.observe(), reward=-distance / 0.1, terminated=terminated,
                         truncated=not terminated and self.steps >= self.max_steps)

    def scripted(self, state: FloatArray, gain: float = 0.8, noise: float = 0.0,
                 rng: np.random.Generator | None = None) -> FloatArray:
        """A proportional demonstrator: close ``gain`` of the error per step, at most full speed per axis;
        optional Gaussian noise on the arm dimensions."""
        action = np.zeros(7, dtype=np.float32)
        error = state[10:13] - state[0:3]
        action[:3] = np.clip(gain * error / (self.max_linear_speed * self.sim.control_dt), -1.0, 1.0)
        if noise > 0 and rng is not None:
            action[:6] += rng.normal(0.0, noise, 6).astype(np.float32)
        action[6] = -1.0
        return np.clip(action, -1.0, 1.0)

    def close(self) -> None:
        self.sim.close()
