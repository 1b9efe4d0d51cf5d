"""Depth aligned to color: identity geometry is a no-op; a shifted color camera shifts the depth."""
from __future__ import annotations

import numpy as np

from robot_rl.perception.align import align_depth_to_color
from robot_rl.perception.camera_info import CameraIntrinsics

INTR = CameraIntrinsics(64, 48, 50.0, 50.0, 31.5, 23.5)


def test_identity_geometry_returns_the_same_depth() -> None:
    depth = np.random.default_rng(0).integers(300, 3000, (48, 64)).astype(np.uint16)
    depth[5, 5] = 0  # no data stays no data
    np.testing.assert_array_equal(align_depth_to_color(depth, INTR, INTR, np.eye(3), [0, 0, 0], 0.001), depth)


def test_translation_shifts_by_the_disparity() -> None:
    depth = np.zeros((48, 64), np.uint16)
    depth[20:28, 20:28] = 1000  # a square 1 m away
    # color camera 2 cm to the left of depth: points appear 50 px/m * 0.02 m / 1 m = 1 px further right
    out = align_depth_to_color(depth, INTR, INTR, np.eye(3), [0.02, 0.0, 0.0], 0.001)
    expected = np.zeros_like(depth)
    expected[20:28, 21:29] = 1000
    np.testing.assert_array_equal(out, expected)


def test_nearest_depth_wins_where_points_collide() -> None:
    depth = np.zeros((48, 64), np.uint16)
    depth[10, 10] = 2000
    depth[10, 11] = 1000  # nearer, and lands on the same color pixel after the shift below
    out = align_depth_to_color(depth, INTR, INTR, np.eye(3), [-0.02, 0.0, 0.0], 0.001)
    assert out[10, 10] == 1000
