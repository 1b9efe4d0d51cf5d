"""The arithmetic that turns ``robot/command`` into the inputs of real ROS 2 arm stacks (no ROS here).

- MoveIt Servo takes twists (``geometry_msgs/TwistStamped`` on its delta-twist topic) in its planning
  frame or its end-effector frame, once switched to twist mode (``ServoCommandType.TWIST``).
  ``servo_twist`` names the frame Servo should read the twist in; Servo does the kinematics.
- FZI cartesian_controllers take a target pose (``target_frame``, a ``PoseStamped`` in the robot base
  link) that the arm is pulled towards. ``TargetFrameIntegrator`` integrates the commanded twist into
  that target and keeps it within a short lead of the measured pose, so a blocked arm does not wind
  the target up (and then leap when released) and a hold stops the arm within that lead.
- Grippers take a position goal (control_msgs ``GripperCommand`` / ``ParallelGripperCommand``).
  ``GripperMapper`` maps the command in [-1 open, +1 closed] onto the driver's positions and sends a
  new goal only when the target moves (an action goal per control tick would pre-empt itself).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from robot_rl.robot.interface import CommandFrame, RobotCommand
from robot_rl.robot.transforms import (
    integrate_orientation,
    quat_multiply,
    quat_to_matrix,
    rotation_vector_to_quat,
)

FloatArray = npt.NDArray[np.float64]

# moveit_msgs/srv/ServoCommandType: JOINT_JOG = 0, TWIST = 1, POSE = 2
SERVO_COMMAND_TYPE_TWIST = 1


@dataclass(frozen=True)
class FrameTwist:
    """A twist to publish: ``frame_id`` plus linear (m/s) and angular (rad/s) velocity."""

    frame_id: str
    linear: FloatArray
    angular: FloatArray


def servo_twist(command: RobotCommand, base_frame: str, ee_frame: str) -> FrameTwist:
    """MoveIt Servo input for ``command``: the same twist, labelled with the frame it is expressed in."""
    frame_id = base_frame if command.frame is CommandFrame.BASE else ee_frame
    return FrameTwist(frame_id=frame_id, linear=command.linear.copy(), angular=command.angular.copy())


def _quat_conjugate(quat: FloatArray) -> FloatArray:
    return np.array([-quat[0], -quat[1], -quat[2], quat[3]])


def _rotation_vector(quat: FloatArray) -> FloatArray:
    """Axis * angle (rad, in [0, pi]) of a unit quaternion ``[x, y, z, w]``."""
    q = quat if quat[3] >= 0 else -quat
    sin_half = float(np.linalg.norm(q[:3]))
    if sin_half < 1e-12:
        return np.zeros(3)
    angle = 2.0 * math.atan2(sin_half, float(q[3]))
    return np.asarray(q[:3] / sin_half * angle, dtype=np.float64)


class TargetFrameIntegrator:
    """Integrates base- or ee-frame twists into a cartesian_controllers target pose (base frame)."""

    def __init__(self, max_lead_m: float, max_lead_rad: float = 0.2) -> None:
        if max_lead_m <= 0 or max_lead_rad <= 0:
            raise ValueError("max_lead_m and max_lead_rad must be > 0")
        self.max_lead_m, self.max_lead_rad = max_lead_m, max_lead_rad
        self.position: FloatArray | None = None
        self.orientation: FloatArray | None = None  # [x, y, z, w]

    def reset(self, position: FloatArray, orientation: FloatArray) -> None:
        """Start from the measured pose (on startup, after a reset, after the controller restarts)."""
        self.position = np.asarray(position, dtype=np.float64).copy()
        self.orientation = np.asarray(orientation, dtype=np.float64) / np.linalg.norm(orientation)

    def update(self, command: RobotCommand, position: FloatArray, orientation: FloatArray,
               dt: float) -> tuple[FloatArray, FloatArray]:
        """The next target pose after ``dt`` seconds of ``command``, given the measured pose."""
        position = np.asarray(position, dtype=np.float64)
        orientation = np.asarray(orientation, dtype=np.float64)
        if self.position is None or self.orientation is None:
            self.reset(position, orientation)
        assert self.position is not None and self.orientation is not None
        base = command.in_base_frame(quat_to_matrix(orientation))
        target = self.position + base.linear * dt
        lead = target - position
        distance = float(np.linalg.norm(lead))
        if distance > self.max_lead_m:
            target = position + lead * (self.max_lead_m / distance)
        target_q = integrate_orientation(self.orientation, base.angular, dt)
        relative = _rotation_vector(quat_multiply(target_q, _quat_conjugate(orientation)))
        angle = float(np.linalg.norm(relative))
        if angle > self.max_lead_rad:
            target_q = quat_multiply(rotation_vector_to_quat(relative * (self.max_lead_rad / angle)), orientation)
        self.position, self.orientation = target, target_q / np.linalg.norm(target_q)
        return self.position.copy(), self.orientation.copy()


class GripperMapper:
    """Gripper command in [-1 open, +1 closed] -> driver position goal, sent only when it changes."""

    def __init__(self, open_position: float, closed_position: float, tolerance: float = 0.02) -> None:
        if open_position == closed_position:
            raise ValueError("gripper open and closed positions are equal: set robot.gripper_open_position "
                             "and robot.gripper_closed_position to the driver's two ends")
        self.open_position, self.closed_position = open_position, closed_position
        self.tolerance = tolerance * abs(closed_position - open_position)
        self._sent: float | None = None

    def position(self, command: float) -> float:
        fraction = (float(np.clip(command, -1.0, 1.0)) + 1.0) / 2.0
        return self.open_position + fraction * (self.closed_position - self.open_position)

    def goal(self, command: float | None) -> float | None:
        """The position to send for ``command``, or None when it matches the last goal sent."""
        if command is None:
            return None
        target = self.position(command)
        if self._sent is not None and abs(target - self._sent) <= self.tolerance:
            return None
        self._sent = target
        return target

    def forget(self) -> None:
        """The driver lost the goal (restart, action rejected): the next command is sent again."""
        self._sent = None
