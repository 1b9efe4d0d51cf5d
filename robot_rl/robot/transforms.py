"""Rotation helpers in ROS conventions (quaternions ``[x, y, z, w]``), numpy only."""
from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


def quat_to_matrix(quat: npt.NDArray[np.floating] | Sequence[float]) -> FloatArray:
    """3x3 rotation matrix of a quaternion ``[x, y, z, w]`` (normalised first)."""
    return np.array(rotation_entries(quat)).reshape(3, 3)


def rotation_entries(quat: npt.NDArray[np.floating] | Sequence[float]) -> tuple[float, ...]:
    """The rotation matrix of a quaternion ``[x, y, z, w]`` as 9 Python floats, row by row (normalised first);
    all NaN for a quaternion with no direction (zero, NaN or inf), as numpy's arithmetic gave before.

    Python floats rather than numpy scalars: the policy server builds a state vector from it for every robot
    state it receives, and numpy scalar arithmetic made that ~2.5x slower (37 against 15 us a state).
    """
    qx, qy, qz, qw = (float(v) for v in np.asarray(quat).reshape(4))
    norm = math.sqrt(qx * qx + qy * qy + qz * qz + qw * qw)
    if not norm > 0.0:
        return (math.nan,) * 9
    x, y, z, w = qx / norm, qy / norm, qz / norm, qw / norm
    return (1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w),
            2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w),
            2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y))


def matrix_to_quat(matrix: FloatArray) -> FloatArray:
    """Quaternion ``[x, y, z, w]`` (with w >= 0) of a 3x3 rotation matrix."""
    m = np.asarray(matrix, dtype=np.float64).reshape(3, 3)
    trace = m[0, 0] + m[1, 1] + m[2, 2]
    if trace > 0:
        s = 2.0 * np.sqrt(trace + 1.0)
        q = np.array([(m[2, 1] - m[1, 2]) / s, (m[0, 2] - m[2, 0]) / s, (m[1, 0] - m[0, 1]) / s, 0.25 * s])
    elif m[0, 0] > m[1, 1] and m[0, 0] > m[2, 2]:
        s = 2.0 * np.sqrt(1.0 + m[0, 0] - m[1, 1] - m[2, 2])
        q = np.array([0.25 * s, (m[0, 1] + m[1, 0]) / s, (m[0, 2] + m[2, 0]) / s, (m[2, 1] - m[1, 2]) / s])
    elif m[1, 1] > m[2, 2]:
        s = 2.0 * np.sqrt(1.0 + m[1, 1] - m[0, 0] - m[2, 2])
        q = np.array([(m[0, 1] + m[1, 0]) / s, 0.25 * s, (m[1, 2] + m[2, 1]) / s, (m[0, 2] - m[2, 0]) / s])
    else:
        s = 2.0 * np.sqrt(1.0 + m[2, 2] - m[0, 0] - m[1, 1])
        q = np.array([(m[0, 2] + m[2, 0]) / s, (m[1, 2] + m[2, 1]) / s, 0.25 * s, (m[1, 0] - m[0, 1]) / s])
    q /= np.linalg.norm(q)
    return -q if q[3] < 0 else q


def quat_multiply(a: FloatArray, b: FloatArray) -> FloatArray:
    """Hamilton product ``a * b`` of two ``[x, y, z, w]`` quaternions (apply b, then a)."""
    ax, ay, az, aw = a
    bx, by, bz, bw = b
    return np.array([
        aw * bx + ax * bw + ay * bz - az * by,
        aw * by - ax * bz + ay * bw + az * bx,
        aw * bz + ax * by - ay * bx + az * bw,
        aw * bw - ax * bx - ay * by - az * bz,
    ])


def rotation_vector_to_quat(rotvec: FloatArray) -> FloatArray:
    """Quaternion ``[x, y, z, w]`` of a rotation vector (axis * angle, rad)."""
    rotvec = np.asarray(rotvec, dtype=np.float64)
    angle = float(np.linalg.norm(rotvec))
    if angle < 1e-12:
        return np.array([0.0, 0.0, 0.0, 1.0])
    axis = rotvec / angle
    return np.concatenate([axis * np.sin(angle / 2), [np.cos(angle / 2)]])


def integrate_orientation(quat: FloatArray, angular_velocity: FloatArray, dt: float) -> FloatArray:
    """Orientation after rotating for ``dt`` at a base-frame ``angular_velocity`` (rad/s)."""
    q = quat_multiply(rotation_vector_to_quat(np.asarray(angular_velocity) * dt), np.asarray(quat))
    return q / np.linalg.norm(q)


def wxyz_to_xyzw(quat: FloatArray) -> FloatArray:
    """MuJoCo's ``[w, x, y, z]`` to ROS's ``[x, y, z, w]``."""
    return np.asarray([quat[1], quat[2], quat[3], quat[0]], dtype=np.float64)


def xyzw_to_wxyz(quat: FloatArray) -> FloatArray:
    """ROS's ``[x, y, z, w]`` to MuJoCo's ``[w, x, y, z]``."""
    return np.asarray([quat[3], quat[0], quat[1], quat[2]], dtype=np.float64)
