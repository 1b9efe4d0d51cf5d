"""The proprioceptive state vector the policy sees (and the replay store should record).

Layout (``STATE_DIM`` = 10, float32):

    [0:3]  end-effector position in the base frame (m)
    [3:9]  end-effector orientation as the first two columns of its rotation matrix (the continuous
           6-D representation of Zhou et al. 2019; a quaternion flips sign and a gripper pointing down
           sits right on the flip)
    [9]    gripper joint position (driver units, e.g. rad; 0 = open)
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from robot_rl.robot.transforms import rotation_entries

STATE_DIM = 10


def policy_state(ee_position: Sequence[float] | npt.NDArray[np.floating],
                 ee_orientation_xyzw: Sequence[float] | npt.NDArray[np.floating],
                 gripper_position: float) -> npt.NDArray[np.float32]:
    """The state vector above from an ee pose (quaternion ``[x, y, z, w]``) and the gripper joint position."""
    r = rotation_entries(ee_orientation_xyzw)
    if not math.isfinite(sum(r)):
        raise ValueError(f"ee orientation {np.asarray(ee_orientation_xyzw).tolist()} is not a valid quaternion "
                         "[x, y, z, w]")
    px, py, pz = (float(v) for v in np.asarray(ee_position).reshape(3))
    return np.array([px, py, pz, r[0], r[3], r[6], r[1], r[4], r[7], float(gripper_position)], dtype=np.float32)
