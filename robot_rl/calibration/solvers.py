"""Hand-eye solvers in numpy, one per OpenCV method, for OpenCV builds whose Python bindings lack them.

OpenCV 5.0.0 ships ``calibrateHandEye`` / ``calibrateRobotWorldHandEye`` in C++ but not in its Python
bindings (opencv/opencv#29565, fixed by #29584); ``handeye.py`` calls OpenCV when it has them and
these otherwise. Each solver follows its paper:

- ``AX = XB`` (A: robot motion, B: camera motion between two samples; X: the hand-eye transform):
  Tsai & Lenz 1989 (modified Rodrigues parameters), Park & Martin 1994 (rotation logarithms,
  orthogonal Procrustes), Horaud & Dornaika 1995 (unit quaternions), Andreff et al. 1999 (Kronecker
  products, one linear system), Daniilidis 1999 (dual quaternions, SVD).
- ``AX = ZB`` (A: board in camera, B: robot pose; X and Z solved together): Shah 2013 (Kronecker
  rotation then translation), Li et al. 2010 (one Kronecker system for rotation and translation).
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from numpy.typing import NDArray

from robot_rl.calibration.transforms import (
    Matrix,
    make_transform,
    matrix_to_quaternion,
    matrix_to_rotvec,
    nearest_rotation,
    skew,
)

Vec = NDArray[np.float64]


def motion_pairs(h: Sequence[Matrix], c: Sequence[Matrix]) -> tuple[list[Matrix], list[Matrix]]:
    """Relative motions A_ij = h_j^-1 h_i and B_ij = c_j c_i^-1 over all pairs i < j.

    With h_i the effector pose in the base (eye-in-hand) and c_i the board pose in the camera,
    ``h_i X c_i`` is the same for every i, hence ``A_ij X = X B_ij``.
    """
    a_list, b_list = [], []
    for i in range(len(h)):
        for j in range(i + 1, len(h)):
            a_list.append(np.linalg.inv(h[j]) @ h[i])
            b_list.append(c[j] @ np.linalg.inv(c[i]))
    return a_list, b_list


def _translation_ls(a_list: Sequence[Matrix], b_list: Sequence[Matrix], rot_x: Matrix) -> Vec:
    """Least squares for t_X in (R_A - I) t_X = R_X t_B - t_A."""
    lhs = np.vstack([a[:3, :3] - np.eye(3) for a in a_list])
    rhs = np.concatenate([rot_x @ b[:3, 3] - a[:3, 3] for a, b in zip(a_list, b_list)])
    return np.asarray(np.linalg.lstsq(lhs, rhs, rcond=None)[0], dtype=np.float64)


def _modified_rodrigues(rot: Matrix) -> Vec:
    rotvec = matrix_to_rotvec(rot)
    angle = float(np.linalg.norm(rotvec))
    if angle < 1e-12:
        return np.zeros(3)
    return np.asarray(2.0 * np.sin(angle / 2.0) * rotvec / angle, dtype=np.float64)


def tsai(a_list: Sequence[Matrix], b_list: Sequence[Matrix]) -> Matrix:
    lhs, rhs = [], []
    for a, b in zip(a_list, b_list):
        pa, pb = _modified_rodrigues(a[:3, :3]), _modified_rodrigues(b[:3, :3])
        lhs.append(skew(pa + pb))
        rhs.append(pb - pa)
    p_prime = np.linalg.lstsq(np.vstack(lhs), np.concatenate(rhs), rcond=None)[0]
    p = 2.0 * p_prime / np.sqrt(1.0 + p_prime @ p_prime)
    norm2 = float(p @ p)
    rot = (1.0 - norm2 / 2.0) * np.eye(3) + 0.5 * (np.outer(p, p) + np.sqrt(max(4.0 - norm2, 0.0)) * skew(p))
    rot = nearest_rotation(rot)
    return make_transform(rot, _translation_ls(a_list, b_list, rot))


def park(a_list: Sequence[Matrix], b_list: Sequence[Matrix]) -> Matrix:
    # alpha_i = R_X beta_i for the rotation logarithms; Park & Martin's (M^T M)^-1/2 M^T is the
    # orthogonal Procrustes solution, computed here by SVD (same answer, stable when M is near-singular).
    m = np.zeros((3, 3))
    for a, b in zip(a_list, b_list):
        m += np.outer(matrix_to_rotvec(a[:3, :3]), matrix_to_rotvec(b[:3, :3]))
    rot = nearest_rotation(m)
    return make_transform(rot, _translation_ls(a_list, b_list, rot))


def _quat_wxyz(rot: Matrix) -> Vec:
    q = matrix_to_quaternion(rot)
    return np.array([q[3], q[0], q[1], q[2]])


def _left(q: Vec) -> Matrix:
    w, x, y, z = q
    return np.array([[w, -x, -y, -z], [x, w, -z, y], [y, z, w, -x], [z, -y, x, w]])


def _right(q: Vec) -> Matrix:
    w, x, y, z = q
    return np.array([[w, -x, -y, -z], [x, w, z, -y], [y, -z, w, x], [z, y, -x, w]])


def _quat_to_matrix_wxyz(q: Vec) -> Matrix:
    w, x, y, z = q / np.linalg.norm(q)
    return np.array([
        [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
        [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
        [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
    ])


def horaud(a_list: Sequence[Matrix], b_list: Sequence[Matrix]) -> Matrix:
    # q_A q_X = q_X q_B  ->  (L(q_A) - R(q_B)) q_X = 0; q_X is the smallest right singular vector.
    stack = np.vstack([_left(_quat_wxyz(a[:3, :3])) - _right(_quat_wxyz(b[:3, :3])) for a, b in zip(a_list, b_list)])
    q = np.linalg.svd(stack)[2][-1]
    rot = _quat_to_matrix_wxyz(q)
    return make_transform(rot, _translation_ls(a_list, b_list, rot))


def andreff(a_list: Sequence[Matrix], b_list: Sequence[Matrix]) -> Matrix:
    # [I9 - R_B (x) R_A, 0; t_B^T (x) I3, I3 - R_A] [vec R_X; t_X] = [0; t_A]  (column-major vec)
    rows, rhs = [], []
    for a, b in zip(a_list, b_list):
        ra, ta, rb, tb = a[:3, :3], a[:3, 3], b[:3, :3], b[:3, 3]
        rows.append(np.hstack([np.eye(9) - np.kron(rb, ra), np.zeros((9, 3))]))
        rhs.append(np.zeros(9))
        rows.append(np.hstack([np.kron(tb.reshape(1, 3), np.eye(3)), np.eye(3) - ra]))
        rhs.append(ta)
    sol = np.linalg.lstsq(np.vstack(rows), np.concatenate(rhs), rcond=None)[0]
    rot = nearest_rotation(sol[:9].reshape(3, 3, order="F"))
    return make_transform(rot, _translation_ls(a_list, b_list, rot))


def _qmul(p: Vec, q: Vec) -> Vec:
    return np.asarray(_left(p) @ q, dtype=np.float64)


def daniilidis(a_list: Sequence[Matrix], b_list: Sequence[Matrix]) -> Matrix:
    blocks = []
    for a, b in zip(a_list, b_list):
        qa, qb = _quat_wxyz(a[:3, :3]), _quat_wxyz(b[:3, :3])
        da = 0.5 * _qmul(np.r_[0.0, a[:3, 3]], qa)
        db = 0.5 * _qmul(np.r_[0.0, b[:3, 3]], qb)
        av, bv, dav, dbv = qa[1:], qb[1:], da[1:], db[1:]
        top = np.hstack([(av - bv).reshape(3, 1), skew(av + bv), np.zeros((3, 4))])
        bottom = np.hstack([(dav - dbv).reshape(3, 1), skew(dav + dbv), (av - bv).reshape(3, 1), skew(av + bv)])
        blocks.append(np.vstack([top, bottom]))
    vt = np.linalg.svd(np.vstack(blocks))[2]
    u1, v1, u2, v2 = vt[-2, :4], vt[-2, 4:], vt[-1, :4], vt[-1, 4:]
    # q = l1 (u1) + l2 (u2) must be a unit quaternion whose dual part is orthogonal to it.
    coeffs = [u1 @ v1, u1 @ v2 + u2 @ v1, u2 @ v2]
    roots = np.roots(coeffs) if abs(coeffs[0]) > 1e-12 else np.array([-coeffs[2] / coeffs[1]])
    best, best_val = 0.0, -np.inf
    for s in np.real(roots[np.isreal(roots)]):
        val = s * s * (u1 @ u1) + 2 * s * (u1 @ u2) + u2 @ u2
        if val > best_val:
            best, best_val = float(s), float(val)
    l2 = 1.0 / np.sqrt(best_val)
    l1 = best * l2
    q, dq = l1 * u1 + l2 * u2, l1 * v1 + l2 * v2
    t = 2.0 * _qmul(dq, np.r_[q[0], -q[1:]])[1:]
    return make_transform(_quat_to_matrix_wxyz(q), t)


def _orthonormal_scaled(m: Matrix) -> tuple[Matrix, float]:
    """Rotation nearest to a rotation known up to scale (and sign), and that scale."""
    if np.linalg.det(m) < 0:
        m = -m
    scale = float(np.cbrt(np.linalg.det(m)))
    return nearest_rotation(m / scale), scale


def shah(a_list: Sequence[Matrix], b_list: Sequence[Matrix]) -> tuple[Matrix, Matrix]:
    """AX = ZB: returns (X, Z)."""
    k = np.vstack([np.hstack([np.kron(np.eye(3), a[:3, :3]), -np.kron(b[:3, :3].T, np.eye(3))])
                   for a, b in zip(a_list, b_list)])
    null = np.linalg.svd(k)[2][-1]
    rx, _ = _orthonormal_scaled(null[:9].reshape(3, 3, order="F"))
    rz, _ = _orthonormal_scaled(null[9:].reshape(3, 3, order="F"))
    tx, tz = _robot_world_translation(a_list, b_list, rx, rz)
    return make_transform(rx, tx), make_transform(rz, tz)


def li(a_list: Sequence[Matrix], b_list: Sequence[Matrix]) -> tuple[Matrix, Matrix]:
    """AX = ZB in one linear system for both rotations and translations: returns (X, Z)."""
    rows, rhs = [], []
    for a, b in zip(a_list, b_list):
        ra, ta, rb, tb = a[:3, :3], a[:3, 3], b[:3, :3], b[:3, 3]
        rows.append(np.hstack([np.kron(np.eye(3), ra), -np.kron(rb.T, np.eye(3)), np.zeros((9, 6))]))
        rhs.append(np.zeros(9))
        rows.append(np.hstack([np.zeros((3, 9)), np.kron(tb.reshape(1, 3), np.eye(3)), -ra, np.eye(3)]))
        rhs.append(ta)
    sol = np.linalg.lstsq(np.vstack(rows), np.concatenate(rhs), rcond=None)[0]
    rx = nearest_rotation(sol[:9].reshape(3, 3, order="F"))
    rz = nearest_rotation(sol[9:18].reshape(3, 3, order="F"))
    tx, tz = _robot_world_translation(a_list, b_list, rx, rz)
    return make_transform(rx, tx), make_transform(rz, tz)


def _robot_world_translation(a_list: Sequence[Matrix], b_list: Sequence[Matrix], rx: Matrix,
                             rz: Matrix) -> tuple[Vec, Vec]:
    # R_A t_X + t_A = R_Z t_B + t_Z  ->  [R_A, -I] [t_X; t_Z] = R_Z t_B - t_A
    lhs = np.vstack([np.hstack([a[:3, :3], -np.eye(3)]) for a in a_list])
    rhs = np.concatenate([rz @ b[:3, 3] - a[:3, 3] for a, b in zip(a_list, b_list)])
    sol = np.linalg.lstsq(lhs, rhs, rcond=None)[0]
    return np.asarray(sol[:3]), np.asarray(sol[3:])


AX_XB: dict[str, Callable[[Sequence[Matrix], Sequence[Matrix]], Matrix]] = {
    "tsai": tsai, "park": park, "horaud": horaud, "andreff": andreff, "daniilidis": daniilidis,
}
AX_ZB: dict[str, Callable[[Sequence[Matrix], Sequence[Matrix]], tuple[Matrix, Matrix]]] = {
    "shah": shah, "li": li,
}
