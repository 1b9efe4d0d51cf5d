"""Rigid transforms as 4x4 numpy matrices, and the conversions calibration needs.

Naming follows the frames: ``T_base_cam`` maps points in the camera frame into the base frame (the
camera's pose in the base frame), so ``T_a_c = T_a_b @ T_b_c``. Quaternions are ``[x, y, z, w]``
(ROS order, as geometry_msgs and easy_handeye2 store them).
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

Matrix = NDArray[np.float64]


def make_transform(rotation: ArrayLike, translation: ArrayLike) -> Matrix:
    """4x4 transform from a 3x3 rotation matrix (or a rotation vector of 3) and a translation."""
    rot = np.asarray(rotation, dtype=np.float64)
    if rot.shape in ((3,), (3, 1), (1, 3)):
        rot = rotvec_to_matrix(rot.reshape(3))
    transform = np.eye(4)
    transform[:3, :3] = rot
    transform[:3, 3] = np.asarray(translation, dtype=np.float64).reshape(3)
    return transform


def invert(transform: Matrix) -> Matrix:
    """Inverse of a rigid transform (no general matrix inverse: exact for rotations)."""
    out = np.eye(4)
    rot = transform[:3, :3]
    out[:3, :3] = rot.T
    out[:3, 3] = -rot.T @ transform[:3, 3]
    return out


def rotvec_to_matrix(rotvec: ArrayLike) -> Matrix:
    """Rodrigues: axis * angle (rad) to a rotation matrix."""
    vec = np.asarray(rotvec, dtype=np.float64).reshape(3)
    angle = float(np.linalg.norm(vec))
    if angle < 1e-12:
        return np.eye(3) + skew(vec)
    axis = vec / angle
    k = skew(axis)
    return np.eye(3) + np.sin(angle) * k + (1.0 - np.cos(angle)) * (k @ k)


def matrix_to_rotvec(rot: ArrayLike) -> NDArray[np.float64]:
    """Inverse of ``rotvec_to_matrix`` (angle in [0, pi]), stable near 0 and near pi."""
    quat = matrix_to_quaternion(rot)
    xyz, w = quat[:3], quat[3]
    if w < 0:
        xyz, w = -xyz, -w
    sin_half = float(np.linalg.norm(xyz))
    if sin_half < 1e-12:
        return 2.0 * xyz
    angle = 2.0 * np.arctan2(sin_half, w)
    return np.asarray(xyz / sin_half * angle, dtype=np.float64)


def skew(v: ArrayLike) -> Matrix:
    x, y, z = np.asarray(v, dtype=np.float64).reshape(3)
    return np.array([[0.0, -z, y], [z, 0.0, -x], [-y, x, 0.0]])


def quaternion_to_matrix(quat_xyzw: ArrayLike) -> Matrix:
    """Rotation matrix of a quaternion ``[x, y, z, w]`` (normalised first)."""
    q = np.asarray(quat_xyzw, dtype=np.float64).reshape(4)
    norm = float(np.linalg.norm(q))
    if norm < 1e-9:
        raise ValueError(f"quaternion {q.tolist()} has zero length")
    x, y, z, w = q / norm
    return np.array([
        [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
        [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
        [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
    ])


def matrix_to_quaternion(rot: ArrayLike) -> NDArray[np.float64]:
    """Quaternion ``[x, y, z, w]`` with w >= 0 of a rotation matrix (Shepperd's method)."""
    m = np.asarray(rot, dtype=np.float64)[:3, :3]
    trace = m[0, 0] + m[1, 1] + m[2, 2]
    if trace > 0:
        s = 2.0 * np.sqrt(trace + 1.0)
        q = [(m[2, 1] - m[1, 2]) / s, (m[0, 2] - m[2, 0]) / s, (m[1, 0] - m[0, 1]) / s, 0.25 * s]
    elif m[0, 0] > m[1, 1] and m[0, 0] > m[2, 2]:
        s = 2.0 * np.sqrt(1.0 + m[0, 0] - m[1, 1] - m[2, 2])
        q = [0.25 * s, (m[0, 1] + m[1, 0]) / s, (m[0, 2] + m[2, 0]) / s, (m[2, 1] - m[1, 2]) / s]
    elif m[1, 1] > m[2, 2]:
        s = 2.0 * np.sqrt(1.0 + m[1, 1] - m[0, 0] - m[2, 2])
        q = [(m[0, 1] + m[1, 0]) / s, 0.25 * s, (m[1, 2] + m[2, 1]) / s, (m[0, 2] - m[2, 0]) / s]
    else:
        s = 2.0 * np.sqrt(1.0 + m[2, 2] - m[0, 0] - m[1, 1])
        q = [(m[0, 2] + m[2, 0]) / s, (m[1, 2] + m[2, 1]) / s, 0.25 * s, (m[1, 0] - m[0, 1]) / s]
    out = np.asarray(q, dtype=np.float64)
    out /= np.linalg.norm(out)
    return -out if out[3] < 0 else out


def pose_to_transform(translation: ArrayLike, quat_xyzw: ArrayLike) -> Matrix:
    return make_transform(quaternion_to_matrix(quat_xyzw), translation)


def rotation_angle_deg(rot: ArrayLike) -> float:
    """Angle of a rotation matrix in degrees (0..180)."""
    m = np.asarray(rot, dtype=np.float64)[:3, :3]
    return float(np.degrees(np.linalg.norm(matrix_to_rotvec(m))))


def transform_difference(a: Matrix, b: Matrix) -> tuple[float, float]:
    """(translation distance in metres, rotation angle in degrees) between two poses."""
    delta = invert(a) @ b
    return float(np.linalg.norm(a[:3, 3] - b[:3, 3])), rotation_angle_deg(delta[:3, :3])


def nearest_rotation(m: ArrayLike) -> Matrix:
    """The rotation matrix closest (Frobenius) to a 3x3 matrix."""
    u, _, vt = np.linalg.svd(np.asarray(m, dtype=np.float64))
    rot = u @ vt
    if np.linalg.det(rot) < 0:
        rot = u @ np.diag([1.0, 1.0, -1.0]) @ vt
    return np.asarray(rot, dtype=np.float64)


def average_transforms(transforms: Sequence[Matrix]) -> Matrix:
    """Chordal mean: mean translation, nearest rotation to the mean rotation matrix."""
    stack = np.stack(transforms)
    return make_transform(nearest_rotation(stack[:, :3, :3].mean(axis=0)), stack[:, :3, 3].mean(axis=0))
