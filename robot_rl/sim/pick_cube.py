"""The simulated arm: gym-hil's MuJoCo Franka Panda (Robotiq 2F-85 gripper) and its pick-cube task.

A wrapper, not a fork: gym-hil builds the model and runs its operational-space controller
(``apply_action``: a mocap target the pinch point tracks, plus the gripper actuator); this class turns
``RobotCommand`` twists into that target, places the cube from its own seeded generator (gym-hil draws
from numpy's global one), renders the cameras headless and decides success.

Frames: the base frame is the Panda's ``link0`` (the world origin of the scene); the end effector is
the gripper's ``pinch`` site (the tool centre point between the fingertips, z along the fingers).
Time: ``time`` is a monotonic sim clock that advances by one control period per ``step`` and does not
restart at reset (MuJoCo's own ``data.time`` does).
Physics: MuJoCo steps of ``sim.physics_dt`` (5 ms; gym-hil ships 2 ms), each with one call of gym-hil's
controller, whose Python is most of a step's cost. Over the scripted pick the end effector and the cube
stay within 1 mm of their 2 ms paths and the grasp holds while the arm shakes the cube, for about
half the CPU time per control step or less (``benchmarks/bench_sim.py``).
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import gym_hil  # noqa: F401  (registers the gym_hil/* environments)
import gymnasium as gym
import mujoco
import numpy as np
import numpy.typing as npt
from gym_hil.mujoco_gym_env import MAX_GRIPPER_COMMAND, FrankaGymEnv, GymRenderingSpec

from robot_rl.config.schema import ConfigError, RobotConfig, SimConfig
from robot_rl.robot.interface import (
    RobotCommand,
    RobotInterface,
    RobotMovingError,
    RobotObservation,
)
from robot_rl.robot.transforms import (
    integrate_orientation,
    matrix_to_quat,
    wxyz_to_xyzw,
    xyzw_to_wxyz,
)
from robot_rl.sim.rendering import CameraIntrinsics, HeadlessRenderer

FloatArray = npt.NDArray[np.float64]
_ARM_JOINTS = tuple(f"joint{i}" for i in range(1, 8))
_GRIPPER_JOINT = "left_driver_joint"  # Robotiq driver joint: 0 open .. 0.8 rad closed


def physics_substeps(control_hz: float, physics_dt: float) -> int:
    """Physics steps per control period; the period must hold a whole number of them."""
    period = 1.0 / control_hz
    substeps = round(period / physics_dt)
    if substeps < 1 or abs(substeps * physics_dt - period) > 1e-9:
        raise ConfigError(f"robot.control_hz={control_hz} with sim.physics_dt={physics_dt}: the control period "
                          f"({period:.6g} s) is not a whole number of physics steps; set sim.physics_dt to "
                          f"{period:.6g} / N for a whole N (e.g. {period / max(1, math.ceil(period / physics_dt)):.6g})")
    return int(substeps)


class PickCubeSim(RobotInterface):
    """The simulated Panda behind the robot interface, with headless wrist and front cameras."""

    def __init__(self, sim: SimConfig, robot: RobotConfig, camera_names: Sequence[str] = ("wrist", "front"),
                 render: bool = True) -> None:
        if len(robot.joint_names) != len(_ARM_JOINTS):
            raise ConfigError(f"robot.joint_names has {len(robot.joint_names)} names; the simulated Panda "
                              f"has {len(_ARM_JOINTS)} arm joints")
        missing = [name for name in camera_names if name not in sim.cameras]
        if missing:
            raise ConfigError(f"cameras {missing} have no simulated camera: map them in sim.cameras "
                              f"(now {dict(sim.cameras)})")
        self.base_frame, self.ee_frame = robot.base_frame, robot.ee_frame
        self._cfg, self._robot_cfg = sim, robot
        substeps = physics_substeps(robot.control_hz, sim.physics_dt)
        # gym-hil floors control_dt / physics_dt; a part in 1e9 more keeps a whole multiple from flooring one short
        env = gym.make(sim.env_id, control_dt=substeps * sim.physics_dt * (1 + 1e-9), physics_dt=sim.physics_dt,
                       image_obs=False, render_spec=GymRenderingSpec(height=sim.image_size, width=sim.image_size),
                       disable_env_checker=True).unwrapped
        if not isinstance(env, FrankaGymEnv) or "block" not in [env.model.joint(i).name
                                                                for i in range(env.model.njnt)]:
            raise ConfigError(f"sim.env_id={sim.env_id!r} is not a gym-hil Panda task with a cube: "
                              "use gym_hil/PandaPickCubeBase-v0")
        env.close()  # gym-hil's own renderer (8x MSAA, shadows); ours replaces it
        self._env = env
        self._model: mujoco.MjModel = env.model
        self._data: mujoco.MjData = env.data
        model = self._model
        self._arm_qpos = np.array([model.jnt_qposadr[model.joint(j).id] for j in _ARM_JOINTS])
        self._arm_qvel = np.array([model.jnt_dofadr[model.joint(j).id] for j in _ARM_JOINTS])
        gripper = model.joint(_GRIPPER_JOINT)
        self._gripper_qpos = int(model.jnt_qposadr[gripper.id])
        self._gripper_qvel = int(model.jnt_dofadr[gripper.id])
        self._gripper_closed_q = float(model.jnt_range[gripper.id][1])
        self._gripper_actuator = model.actuator("fingers_actuator").id
        self._pinch = model.site("pinch").id
        self._base = model.body("link0").id
        self._block_qpos = int(model.jnt_qposadr[model.joint("block").id])
        self._block_half = float(model.geom("block").size[2])
        self._joint_names = (*robot.joint_names, robot.gripper_joint)
        self.control_dt = substeps * env.physics_dt
        self._renderer = (HeadlessRenderer.from_config(model, self._data, {n: sim.cameras[n] for n in camera_names},
                                                       sim) if render else None)
        self._rng = np.random.default_rng(sim.seed)
        self._time = 0.0
        self._command = RobotCommand.hold()
        self._gripper_target = 0.0  # fraction closed, 0..1
        self._cube_start_z = 0.0
        self.reset(force=True)

    # -- the robot interface ---------------------------------------------------------------------

    @property
    def time(self) -> float:
        """Sim time in seconds: control periods stepped since construction."""
        return self._time

    def observe(self) -> RobotObservation:
        data = self._data
        qpos = np.append(data.qpos[self._arm_qpos], data.qpos[self._gripper_qpos])
        qvel = np.append(data.qvel[self._arm_qvel], data.qvel[self._gripper_qvel])
        position, rotation = self.ee_pose()
        opening = 1.0 - float(data.qpos[self._gripper_qpos]) / self._gripper_closed_q
        return RobotObservation(stamp=self._time, joint_names=self._joint_names, joint_positions=qpos,
                                joint_velocities=qvel, ee_position=position,
                                ee_orientation=matrix_to_quat(rotation),
                                gripper_opening=float(np.clip(opening, 0.0, 1.0)))

    def command(self, command: RobotCommand) -> None:
        """Applied from the next ``step`` on, until the next command."""
        self._command = command
        if command.gripper is not None:
            self._gripper_target = (command.gripper + 1.0) / 2.0

    def step(self) -> RobotObservation:
        """Advance one control period under the current command."""
        command = self._command.in_base_frame(self.ee_pose()[1])
        base_rotation = self._data.xmat[self._base].reshape(3, 3)
        linear_world = base_rotation @ command.linear
        if np.any(command.angular):
            target = wxyz_to_xyzw(self._data.mocap_quat[0])
            target = integrate_orientation(target, base_rotation @ command.angular, self.control_dt)
            self._data.mocap_quat[0] = xyzw_to_wxyz(target)
        # gym-hil's gripper input is a change of the closing fraction; ask for exactly our target
        closing = float(self._data.ctrl[self._gripper_actuator]) / MAX_GRIPPER_COMMAND
        action = np.concatenate([linear_world * self.control_dt, np.zeros(3), [self._gripper_target - closing]])
        self._env.apply_action(action)
        self._time += self.control_dt
        return self.observe()

    def is_moving(self) -> bool:
        speed = float(np.max(np.abs(self._data.qvel[self._arm_qvel])))
        return speed > self._robot_cfg.reset_max_joint_speed

    def reset(self, force: bool = False, seed: int | None = None) -> RobotObservation:
        """Home the arm, open the gripper and place the cube at the next seeded random position."""
        if not force and self.is_moving():
            speed = float(np.max(np.abs(self._data.qvel[self._arm_qvel])))
            raise RobotMovingError(
                f"the arm is moving ({speed:.3f} rad/s > robot.reset_max_joint_speed="
                f"{self._robot_cfg.reset_max_joint_speed}): stop commanding it, wait for it to settle, "
                "then reset (or force the reset)")
        if seed is not None:
            self._rng = np.random.default_rng(seed)
        self._env.reset()  # gym-hil: mj_resetData, arm home, mocap at the pinch point, cube at (0.5, 0)
        xy = self._rng.uniform(self._cfg.cube_xy_min, self._cfg.cube_xy_max)
        self._data.qpos[self._block_qpos:self._block_qpos + 3] = (*xy, self._block_half)
        mujoco.mj_forward(self._model, self._data)
        self._cube_start_z = float(self.cube_position()[2])
        self._command = RobotCommand.hold()
        self._gripper_target = 0.0
        return self.observe()

    def place_cube(self, position: Sequence[float]) -> RobotObservation:
        """Put the cube at ``position`` (base frame, m; z = resting on the table when omitted or lower).

        For replaying a recorded episode from its initial state (``robot-rl sim2real``); call after ``reset``.
        """
        base_position, base_rotation = self._base_pose()
        xyz = np.asarray(list(position)[:3] + [self._block_half] * (3 - len(list(position)[:3])), dtype=np.float64)
        xyz[2] = max(float(xyz[2]), 0.0)
        world = base_rotation @ xyz + base_position
        world[2] = max(float(world[2]), self._block_half)
        self._data.qpos[self._block_qpos:self._block_qpos + 3] = world
        self._data.qvel[self._model.jnt_dofadr[self._model.joint("block").id]:][:6] = 0.0
        mujoco.mj_forward(self._model, self._data)
        self._cube_start_z = float(self.cube_position()[2])
        return self.observe()

    def success(self) -> bool:
        """The cube is held (near the pinch point) at least ``sim.success_lift_m`` above where it started."""
        cube = self.cube_position()
        lifted = cube[2] - self._cube_start_z > self._cfg.success_lift_m
        held = float(np.linalg.norm(cube - self.ee_pose()[0])) < self._cfg.success_grasp_m
        return bool(lifted and held)

    # -- simulation extras -----------------------------------------------------------------------

    def ee_pose(self) -> tuple[FloatArray, FloatArray]:
        """Pinch point position and 3x3 rotation (base <- ee), in the base frame."""
        base_position, base_rotation = self._base_pose()
        position = base_rotation.T @ (self._data.site_xpos[self._pinch] - base_position)
        rotation = base_rotation.T @ self._data.site_xmat[self._pinch].reshape(3, 3)
        return position, rotation

    def cube_position(self) -> FloatArray:
        """Cube centre in the base frame (ground truth)."""
        base_position, base_rotation = self._base_pose()
        world = self._data.qpos[self._block_qpos:self._block_qpos + 3]
        return np.asarray(base_rotation.T @ (world - base_position), dtype=np.float64)

    @property
    def camera_names(self) -> list[str]:
        return self._renderer.camera_names if self._renderer else []

    def render(self) -> dict[str, npt.NDArray[np.uint8]]:
        """Every camera's current view, (image_size, image_size, 3) uint8 RGB."""
        if self._renderer is None:
            raise RuntimeError("this PickCubeSim was built with render=False")
        return self._renderer.render_all()

    def intrinsics(self, name: str) -> CameraIntrinsics:
        if self._renderer is None:
            raise RuntimeError("this PickCubeSim was built with render=False")
        return self._renderer.intrinsics(name)

    def close(self) -> None:
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None
        self._env.close()

    def _base_pose(self) -> tuple[FloatArray, FloatArray]:
        return self._data.xpos[self._base].copy(), self._data.xmat[self._base].reshape(3, 3).copy()
