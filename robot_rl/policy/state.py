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


STATE_DIM = 10


def policy_state(ee_position: Sequence[float] | npt.NDArray[np.floating],
                 ee_orientation_xyzw: Sequence[float] | npt.NDArray[np.floating],
                 gripper_position: float) -> npt.NDArray[np.float32]:
    """The state vector above from an ee pose (quaternion ``[x, y, z, w]``) and the gripper joint position.

    Plain float arithmetic, one array at the end: the policy server runs this for every robot state it
    receives, and the numpy version (``quat_to_matrix`` and concatenations) took ~50 us a call.
    """
    px, py, pz = (float(v) for v in np.asarray(ee_position).reshape(3))
    qx, qy, qz, qw = (float(v) for v in np.asarray(ee_orientation_xyzw).reshape(4))
    norm = math.sqrt(qx * qx + qy * qy + qz * qz + qw * qw)
    if not math.isfinite(norm) or norm < 1e-6:
        raise ValueError(f"ee orientation {[qx, qy, qz, qw]} is not a valid quaternion [x, y, z, w]")
    x, y, z, w = qx / norm, qy / norm, qz / norm, qw / norm
    # the first two columns of the rotation matrix (robot_rl.robot.transforms.quat_to_matrix)
    return np.array([px, py, pz,
                     1 - 2 * (y * y + z * z), 2 * (x * y + z * w), 2 * (x * z - y * w),
                     2 * (x * y - z * w), 1 - 2 * (x * x + z * z), 2 * (y * z + x * w),
                     float(gripper_position)], dtype=np.float32)
