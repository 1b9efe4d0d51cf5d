"""The proprioceptive state vector the policy sees (and the replay store should record).

Layout (``STATE_DIM`` = 10, float32):

    [0:3]  end-effector position in the base frame (m)
    [3:9]  end-effector orientation as the first two columns of its rotation matrix (the continuous
           6-D representation of Zhou et al. 2019; a quaternion flips sign and a gripper pointing down
           sits right on the flip)
    [9]    gripper joint position (driver units, e.g. rad; 0 = open)
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from robot_rl.robot.transforms import quat_to_matrix

STATE_DIM = 10


def policy_state(ee_position: Sequence[float] | npt.NDArray[np.floating],
                 ee_orientation_xyzw: Sequence[float] | npt.NDArray[np.floating],
                 gripper_position: float) -> npt.NDArray[np.float32]:
    """The state vector above from an ee pose (quaternion ``[x, y, z, w]``) and the gripper joint position."""
    position = np.asarray(ee_position, dtype=np.float64).reshape(3)
    quat = np.asarray(ee_orientation_xyzw, dtype=np.float64).reshape(4)
    if not np.isfinite(quat).all() or np.linalg.norm(quat) < 1e-6:
        raise ValueError(f"ee orientation {quat.tolist()} is not a valid quaternion [x, y, z, w]")
    rotation = quat_to_matrix(quat)
    return np.concatenate([position, rotation[:, 0], rotation[:, 1], [gripper_position]]).astype(np.float32)
