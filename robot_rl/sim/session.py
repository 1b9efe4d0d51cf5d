"""The main job's loop in one process, without ROS: simulated arm, policy, scripted operator, replay store.

For tests, the learning benchmark and ``robot-rl sim2real``: each control tick observes the arm (and
renders the cameras when asked), asks the policy for an action (action units, [-1, 1]), lets the
operator rule (``robot_rl.teleop.scripted.CorrectingOperator``) take over, executes the chosen action
and records the step exactly as the replay writer does (observation, executed action, the policy's
and the operator's proposals, the reward that followed, intervention flag, source). Episodes end on
the simulator's success (terminated) or after ``max_steps`` (truncated), and carry the metadata
``sim2real`` replays from (``initial_cube_position``, ``seed``, ``outcome``).

Differences from the ROS graph, on purpose: no transport latency, no hand-back ramp and no safety
filter (the executed action is clipped to [-1, 1] only), so an episode is a pure function of the seed,
the policy and the operator: what the determinism test of a recorded session relies on.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from robot_rl.policy.state import STATE_DIM, policy_state
from robot_rl.replay import EpisodeWriter, GroupInfo, Source, Step
from robot_rl.replay.recorder import ACTION_NAMES
from robot_rl.robot.interface import RobotCommand, RobotObservation
from robot_rl.sim.pick_cube import PickCubeSim

PICK_STATE_DIM = STATE_DIM + 3  # with ``cube_in_state``: the policy state, then the cube position (m, base frame)
Images = Mapping[str, npt.NDArray[np.uint8]]
# images ({} when not rendering), state -> 7 action units [vx vy vz wx wy wz gripper]
PolicyFn = Callable[[Images, npt.NDArray[np.float32]], npt.NDArray[np.float32]]
OperatorFn = Callable[[Mapping[str, Any], float], Any]  # a teleop Rule: returns a ScriptedCommand or None
StartFn = Callable[[PickCubeSim], RobotObservation]  # brings the simulator to an episode's first state


@dataclass
class EpisodeOutcome:
    success: bool
    steps: int
    intervention_steps: int
    demo: bool
    cube_position: list[float]
    ee_trajectory: npt.NDArray[np.float64] = field(repr=False, default_factory=lambda: np.zeros((0, 3)))


def action_scale(max_linear_speed: float, max_angular_speed: float) -> npt.NDArray[np.float32]:
    """Action units -> SI (m/s, rad/s, gripper as is): what the replay writer stores as ``action_scale``."""
    return np.array([max_linear_speed] * 3 + [max_angular_speed] * 3 + [1.0], dtype=np.float32)


def group_info(cameras: Sequence[str], image_size: int, scale: Sequence[float], control_hz: float,
               task: str = "pick_cube", goal: str = "pick up the cube", robot: str = "panda_sim",
               state_dim: int = STATE_DIM) -> GroupInfo:
    """The replay group description the replay writer would write for this configuration."""
    return GroupInfo(camera_names=list(cameras), image_size=(image_size, image_size), state_dim=state_dim,
                     action_dim=len(ACTION_NAMES), task=task, goal=goal, robot=robot, control_hz=control_hz,
                     action_names=list(ACTION_NAMES), action_scale=[float(s) for s in scale])


def observation_state(observation: RobotObservation) -> npt.NDArray[np.float32]:
    """The policy's state vector from the simulator's observation (gripper joint = last joint position)."""
    return policy_state(observation.ee_position, observation.ee_orientation,
                        float(observation.joint_positions[-1]))


def command_from_action(action: npt.NDArray[np.floating], scale: npt.NDArray[np.float32]) -> RobotCommand:
    """Action units (base-frame twist + absolute gripper) -> the command the simulator executes."""
    si = np.clip(np.asarray(action, dtype=np.float64), -1.0, 1.0) * scale
    return RobotCommand(linear=si[:3], angular=si[3:6], gripper=float(si[6]))


class SimSession:
    """Runs and records episodes on one ``PickCubeSim``; ``run_episode`` once per episode."""

    def __init__(self, sim: PickCubeSim, scale: npt.NDArray[np.float32], writer: EpisodeWriter | None = None,
                 image_size: int = 128, render: bool = True, cube_in_state: bool = False,
                 cube_offset: bool = False) -> None:
        self.sim, self.scale, self.writer = sim, np.asarray(scale, dtype=np.float32), writer
        self.render, self.image_size = render, image_size
        # the low-dimensional configuration: the simulator's cube position stands in for the cameras;
        # cube_offset gives it relative to the end effector (cube - ee) instead of in the base frame
        self.cube_in_state = cube_in_state
        self.cube_offset = cube_offset
        cameras = writer.info.camera_names if writer is not None else sim.camera_names
        self._blank = {c: np.zeros((image_size, image_size, 3), np.uint8) for c in cameras}
        self.episodes = 0

    def images(self) -> dict[str, npt.NDArray[np.uint8]]:
        if not self.render:
            return dict(self._blank)
        frames = self.sim.render()
        return {name: _fit(frames[name], self.image_size) for name in self._blank}

    def run_episode(self, policy: PolicyFn | None, operator: OperatorFn | None, max_steps: int,
                    seed: int | None = None, demo: bool = False, start: StartFn | None = None,
                    source: Source = Source.POLICY, metadata: Mapping[str, Any] | None = None) -> EpisodeOutcome:
        """One episode from a reset (``seed`` reseeds the cube placement); recorded when a writer was given.

        ``policy=None`` holds still unless the operator drives; ``demo`` (or an operator that says it is
        ``demonstrating`` this episode) records every step as source=demo. ``start`` replaces the reset
        (``robot_rl.sim.modes``: a recorded episode's start or one of its states); ``source`` tags the
        steps the operator did not drive (``Source.REPLAY``: ``policy`` replays recorded actions, which
        are then not recorded as a policy's proposal); ``metadata`` is added to the episode's.
        """
        sim = self.sim
        observation = start(sim) if start is not None else sim.reset(force=True, seed=seed)
        cube = [float(v) for v in sim.cube_position()]
        if operator is not None:
            operator({"episode_status": "idle"}, 0.0)  # between episodes: the operator sees the next one start
            demo = demo or bool(getattr(operator, "demonstrating", False))
        rule_obs: dict[str, Any] = {"episode_status": "running"}
        if self.writer is not None:
            self.writer.begin_episode()
        intervention_steps, success, trajectory = 0, False, []
        steps = 0
        for steps in range(1, max_steps + 1):
            state = observation_state(observation)
            if self.cube_in_state:
                cube_state = sim.cube_position() - (observation.ee_position if self.cube_offset else 0.0)
                state = np.concatenate([state, cube_state]).astype(np.float32)
            images = self.images()
            trajectory.append(observation.ee_position.copy())
            proposal = (np.asarray(policy(images, state), dtype=np.float32) if policy is not None
                        else np.zeros(7, dtype=np.float32))
            rule_obs.update(ee_position=observation.ee_position, cube_position=sim.cube_position(),
                            gripper_position=float(observation.joint_positions[-1]),
                            policy_twist=proposal[:6] * self.scale[:6])
            command = operator(rule_obs, steps * sim.control_dt) if operator is not None else None
            human: npt.NDArray[np.float32] | None = None
            if command is not None:
                gripper = command.gripper if command.gripper is not None else float(proposal[6])
                human = np.append(np.asarray(command.twist, dtype=np.float32) / self.scale[:6], gripper)
                human = np.clip(human, -1.0, 1.0).astype(np.float32)
            executed = human if human is not None else np.clip(proposal, -1.0, 1.0)
            sim.command(command_from_action(executed, self.scale))
            observation = sim.step()
            success = sim.success()
            intervention_steps += int(human is not None)
            if self.writer is not None:
                tag = Source.DEMO if demo else (Source.HUMAN if human is not None else source)
                proposed = policy is not None and source is not Source.REPLAY
                self.writer.append(Step(images=images, state=state, action=executed, reward=float(success),
                                        source=tag, intervention=human is not None,
                                        policy_action=proposal if proposed else None,
                                        human_action=human, capture_time=sim.time - sim.control_dt,
                                        receive_time=sim.time))
            if success:
                break
        if self.writer is not None:
            self.writer.end_episode(terminated=success, truncated=not success, metadata={
                "initial_cube_position": cube, "seed": seed, "outcome": "success" if success else "timeout",
                "demo": demo, **(metadata or {})})
        self.episodes += 1
        return EpisodeOutcome(success=success, steps=steps, intervention_steps=intervention_steps, demo=demo,
                              cube_position=cube, ee_trajectory=np.array(trajectory))


def _fit(image: npt.NDArray[np.uint8], size: int) -> npt.NDArray[np.uint8]:
    if image.shape[:2] == (size, size):
        return image
    from robot_rl.perception.image import crop_resize

    return np.asarray(crop_resize(image, size), dtype=np.uint8)
