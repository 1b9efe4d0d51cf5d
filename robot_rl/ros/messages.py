"""Conversions between ROS messages and the core's plain values, shared by every node."""
from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
from builtin_interfaces.msg import Time as TimeMsg
from geometry_msgs.msg import PoseStamped
from sensor_msgs.msg import JointState

from robot_rl.policy.state import policy_state
from robot_rl.ros.cdr import stamp_parts


def stamp_s(stamp: Any) -> float:
    """builtin_interfaces/Time -> seconds."""
    return float(stamp.sec) + float(stamp.nanosec) * 1e-9


def to_stamp(seconds: float) -> TimeMsg:
    """Seconds -> builtin_interfaces/Time, rounded to the nanosecond."""
    sec, nanosec = stamp_parts(seconds)
    return TimeMsg(sec=sec, nanosec=nanosec)


def joint_position(msg: JointState, name: str) -> float | None:
    """The position of joint ``name`` in a JointState, or None when the message does not carry it."""
    if name in msg.name and len(msg.position) == len(msg.name):
        return float(msg.position[list(msg.name).index(name)])
    return None


def pose_state(msg: PoseStamped, gripper_position: float) -> npt.NDArray[np.float32]:
    """The policy's state vector from the end-effector pose and the gripper (robot_rl.policy.state)."""
    p, q = msg.pose.position, msg.pose.orientation
    return policy_state([p.x, p.y, p.z], [q.x, q.y, q.z, q.w], gripper_position)
