"""The robot behind one interface: observe, command a Cartesian twist plus gripper, reset, success.

The simulated arm (``robot_rl.sim``) implements it directly; hardware arms are reached through the
``robot_adapter`` node, which turns the same commands into MoveIt Servo or cartesian_controllers input.

Conventions (the same everywhere in robot_rl):

- positions in metres, angles in radians, velocities per second;
- quaternions in ROS order ``[x, y, z, w]``;
- a twist is ``[vx, vy, vz, wx, wy, wz]`` in either the base frame (``CommandFrame.BASE``) or the
  end-effector frame (``CommandFrame.EE``); angular velocity is about the frame's own axes;
- the gripper command is in ``[-1, 1]``: -1 fully open, +1 fully closed (a position target, not a
  speed); the observed ``gripper_opening`` is in ``[0, 1]``: 1 fully open.
"""
from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


class InvalidCommandError(ValueError):
    """A command the robot must not execute (the arm holds instead); the message says what to fix."""


class NonFiniteCommandError(InvalidCommandError):
    """A command with NaN or infinity in it."""


class UnknownFrameError(InvalidCommandError):
    """A twist expressed in a frame that is neither the robot's base frame nor its end-effector frame."""


class InvalidObservationError(ValueError):
    """A robot observation that is inconsistent (lengths differ, NaN, non-unit quaternion)."""


class RobotMovingError(RuntimeError):
    """Reset was asked for while the arm still moves; stop commanding it (or force the reset)."""


class CommandFrame(str, Enum):
    """The frame a twist is expressed in."""

    BASE = "base"
    EE = "ee"


def _vector3(name: str, value: Sequence[float] | FloatArray) -> FloatArray:
    array = np.asarray(value, dtype=np.float64).reshape(-1)
    if array.shape != (3,):
        raise InvalidCommandError(f"{name} needs 3 values [x, y, z], got {array.size}")
    if not np.all(np.isfinite(array)):
        raise NonFiniteCommandError(f"{name}={array.tolist()} contains NaN or infinity: send finite values")
    return array


@dataclass(frozen=True)
class RobotCommand:
    """One control tick's command: a Cartesian twist and (optionally) a gripper target."""

    linear: FloatArray = field(default_factory=lambda: np.zeros(3))  # m/s
    angular: FloatArray = field(default_factory=lambda: np.zeros(3))  # rad/s
    frame: CommandFrame = CommandFrame.BASE  # frame of linear and angular
    gripper: float | None = None  # target in [-1 open, +1 closed]; None keeps the current target

    def __post_init__(self) -> None:
        object.__setattr__(self, "linear", _vector3("linear velocity", self.linear))
        object.__setattr__(self, "angular", _vector3("angular velocity", self.angular))
        try:
            object.__setattr__(self, "frame", CommandFrame(self.frame))
        except ValueError:
            raise UnknownFrameError(f"command frame {self.frame!r}: use 'base' or 'ee'") from None
        if self.gripper is not None:
            gripper = float(self.gripper)
            if not math.isfinite(gripper):
                raise NonFiniteCommandError(f"gripper command {gripper} is not finite: send a value in [-1, 1]")
            if not -1.0 <= gripper <= 1.0:
                raise InvalidCommandError(f"gripper command {gripper}: use -1 (open) .. +1 (closed)")
            object.__setattr__(self, "gripper", gripper)

    @classmethod
    def hold(cls, gripper: float | None = None) -> RobotCommand:
        """Zero twist: the arm stays where it is."""
        return cls(gripper=gripper)

    @classmethod
    def from_frame_id(cls, frame_id: str, linear: Sequence[float] | FloatArray,
                      angular: Sequence[float] | FloatArray, *, base_frame: str, ee_frame: str,
                      gripper: float | None = None) -> RobotCommand:
        """A command from a stamped twist whose ``frame_id`` must name the base or the end-effector frame."""
        frame_id = frame_id.lstrip("/")
        if frame_id == base_frame:
            frame = CommandFrame.BASE
        elif frame_id == ee_frame:
            frame = CommandFrame.EE
        else:
            raise UnknownFrameError(
                f"twist in frame {frame_id!r}: set header.frame_id to the base frame {base_frame!r} "
                f"or the end-effector frame {ee_frame!r}")
        return cls(linear=np.asarray(linear), angular=np.asarray(angular), frame=frame, gripper=gripper)

    @property
    def twist(self) -> FloatArray:
        """``[vx, vy, vz, wx, wy, wz]`` in ``frame``."""
        return np.concatenate([self.linear, self.angular])

    def is_zero(self) -> bool:
        return not (np.any(self.linear) or np.any(self.angular))

    def in_base_frame(self, ee_rotation: FloatArray) -> RobotCommand:
        """The same motion expressed in the base frame, given the end effector's 3x3 rotation (base <- ee)."""
        if self.frame is CommandFrame.BASE:
            return self
        rotation = np.asarray(ee_rotation, dtype=np.float64).reshape(3, 3)
        return RobotCommand(linear=rotation @ self.linear, angular=rotation @ self.angular,
                            frame=CommandFrame.BASE, gripper=self.gripper)


@dataclass(frozen=True)
class RobotObservation:
    """What the robot reports about itself at one instant."""

    stamp: float  # s, on the robot's clock (sim time in simulation)
    joint_names: tuple[str, ...]  # arm joints, base to tip, then the gripper joint
    joint_positions: FloatArray  # rad
    joint_velocities: FloatArray  # rad/s
    ee_position: FloatArray  # m, base frame
    ee_orientation: FloatArray  # quaternion [x, y, z, w], base frame
    gripper_opening: float  # 0 closed .. 1 fully open

    def __post_init__(self) -> None:
        names = tuple(self.joint_names)
        object.__setattr__(self, "joint_names", names)
        for attr, size in (("joint_positions", len(names)), ("joint_velocities", len(names)),
                           ("ee_position", 3), ("ee_orientation", 4)):
            array = np.asarray(getattr(self, attr), dtype=np.float64).reshape(-1)
            if array.size != size:
                raise InvalidObservationError(f"{attr} has {array.size} values, expected {size}")
            if not np.all(np.isfinite(array)):
                raise InvalidObservationError(f"{attr}={array.tolist()} contains NaN or infinity")
            object.__setattr__(self, attr, array)
        if abs(float(np.linalg.norm(self.ee_orientation)) - 1.0) > 1e-3:
            raise InvalidObservationError(f"ee_orientation {self.ee_orientation.tolist()} is not a unit quaternion")
        if not (math.isfinite(self.stamp) and 0.0 <= self.gripper_opening <= 1.0):
            raise InvalidObservationError(
                f"stamp={self.stamp}, gripper_opening={self.gripper_opening}: need a finite stamp and 0..1")

    def max_joint_speed(self, joints: int | None = None) -> float:
        """Largest absolute joint velocity among the first ``joints`` joints (all when None)."""
        velocities = self.joint_velocities[:joints]
        return float(np.max(np.abs(velocities))) if velocities.size else 0.0


class RobotInterface(ABC):
    """A robot arm with a gripper that takes Cartesian twist commands."""

    base_frame: str
    ee_frame: str

    @abstractmethod
    def observe(self) -> RobotObservation:
        """The current joint state, end-effector pose and gripper opening."""

    @abstractmethod
    def command(self, command: RobotCommand) -> None:
        """Move with ``command`` until the next command (a simulator applies it on its next step)."""

    @abstractmethod
    def reset(self, force: bool = False) -> RobotObservation:
        """Return to the start of an episode.

        Raises ``RobotMovingError`` while the arm moves faster than the robot's threshold, unless
        ``force`` (a reset is a large motion: never start one on top of another).
        """

    def success(self) -> bool | None:
        """Ground-truth task success where the robot can know it (simulation); None elsewhere."""
        return None


class CommandBuffer:
    """The newest command and when it arrived; a command older than ``timeout_s`` reads as hold.

    The gripper target is a position, so it persists when twist commands stop: a stale command never
    opens a closed gripper (and never drops what it holds).
    """

    def __init__(self, timeout_s: float) -> None:
        if timeout_s <= 0:
            raise ValueError(f"command timeout {timeout_s} s: use a positive timeout")
        self.timeout_s = timeout_s
        self._command: RobotCommand | None = None
        self._received = -math.inf
        self.gripper: float | None = None

    def put(self, command: RobotCommand, now: float) -> None:
        self._command, self._received = command, now
        if command.gripper is not None:
            self.gripper = command.gripper

    def set_gripper(self, target: float) -> None:
        """A separate gripper target (``robot/gripper_command``), validated like a command's."""
        self.gripper = RobotCommand(gripper=target).gripper

    def is_stale(self, now: float) -> bool:
        return self._command is None or now - self._received > self.timeout_s

    def current(self, now: float) -> RobotCommand:
        """The command to execute at ``now``: the newest one, or hold when there is none or it is stale."""
        if self._command is None or self.is_stale(now):
            return RobotCommand.hold(gripper=self.gripper)
        return RobotCommand(linear=self._command.linear, angular=self._command.angular,
                            frame=self._command.frame, gripper=self.gripper)

    def clear(self) -> None:
        """Forget the twist and the gripper target (after a reset, which opens the gripper)."""
        self._command, self._received, self.gripper = None, -math.inf, None
