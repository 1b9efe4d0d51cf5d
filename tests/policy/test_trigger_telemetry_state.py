"""Frame-set trigger, latency telemetry and the policy state vector."""
from __future__ import annotations

import math

import numpy as np
import pytest

from robot_rl.policy import STATE_DIM, FrameSetTrigger, LatencyStats, policy_state
from robot_rl.robot.transforms import quat_to_matrix


def test_trigger_waits_for_every_camera_and_acts_once_per_set() -> None:
    trigger = FrameSetTrigger(["wrist", "front"], rate_hz=10.0)
    assert not trigger.on_frame("wrist", 1.0, 1.001)
    assert trigger.on_frame("front", 1.0, 1.002)
    trigger.mark_tick(1.002)
    assert not trigger.on_frame("front", 1.0, 1.003)  # the same frame again: nothing new
    assert not trigger.on_frame("wrist", 1.1, 1.101)
    assert trigger.on_frame("front", 1.1, 1.102)
    with pytest.raises(KeyError):
        trigger.on_frame("side", 1.0, 1.0)


def test_trigger_absorbs_jitter_but_holds_the_average_rate() -> None:
    trigger = FrameSetTrigger(["cam"], rate_hz=10.0)
    ticks = 0
    arrivals = [0.0, 0.115, 0.2, 0.3, 0.41, 0.5]  # one late frame, then on time: all answered at 10 Hz
    for t in arrivals:
        if trigger.on_frame("cam", t, t):
            trigger.mark_tick(t)
            ticks += 1
    assert ticks == len(arrivals)
    fast = FrameSetTrigger(["cam"], rate_hz=10.0)
    ticks = 0
    for i in range(300):  # a 30 fps camera for 10 s
        t = i / 30
        if fast.on_frame("cam", t, t):
            fast.mark_tick(t)
            ticks += 1
    assert 99 <= ticks <= 102


def test_trigger_due_catches_a_set_that_found_no_token() -> None:
    trigger = FrameSetTrigger(["cam"], rate_hz=10.0, burst=1.0)
    assert trigger.on_frame("cam", 0.0, 0.0)
    trigger.mark_tick(0.0)
    assert not trigger.on_frame("cam", 0.05, 0.05)
    assert trigger.due(0.1)


def test_latency_stats_percentiles_and_flat_keys() -> None:
    stats = LatencyStats(window=1000)
    for i in range(100):
        stats.record("end_to_end", (i + 1) / 1000)
        stats.record("inference", 0.002)
    p50, p99, peak = stats.percentiles_ms("end_to_end")
    assert p50 == pytest.approx(50.5) and p99 == pytest.approx(99.01) and peak == pytest.approx(100)
    summary = stats.summary()
    assert summary["latency_ms_p50"] == pytest.approx(50.5) and summary["latency_ms_inference_p99"] == pytest.approx(2)
    assert math.isnan(summary["latency_ms_publish_p50"]) and stats.count == 100
    with pytest.raises(KeyError):
        stats.record("nope", 1.0)


def test_policy_state_layout() -> None:
    down = policy_state([0.4, 0.1, 0.2], [1.0, 0.0, 0.0, 0.0], 0.3)  # pi about x
    assert down.shape == (STATE_DIM,) and down.dtype == np.float32
    np.testing.assert_allclose(down, [0.4, 0.1, 0.2, 1, 0, 0, 0, -1, 0, 0.3], atol=1e-6)
    flipped = policy_state([0.4, 0.1, 0.2], [-1.0, 0.0, 0.0, -0.0], 0.3)  # same rotation, other sign
    np.testing.assert_allclose(down, flipped, atol=1e-6)
    with pytest.raises(ValueError, match="quaternion"):
        policy_state([0, 0, 0], [0, 0, 0, 0], 0.0)


def rotate(quat_xyzw: np.ndarray, vector: list[float]) -> np.ndarray:
    """``vector`` rotated by the unit quaternion as q v q* (Hamilton products): a reference independent of
    robot_rl.robot.transforms."""
    def product(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        (ax, ay, az, aw), (bx, by, bz, bw) = a, b
        return np.array([aw * bx + ax * bw + ay * bz - az * by, aw * by - ax * bz + ay * bw + az * bx,
                         aw * bz + ax * by - ay * bx + az * bw, aw * bw - ax * bx - ay * by - az * bz])
    q = quat_xyzw / np.linalg.norm(quat_xyzw)
    conjugate = q * np.array([-1.0, -1.0, -1.0, 1.0])
    return product(product(q, np.array([*vector, 0.0])), conjugate)[:3]


def test_policy_state_matches_the_rotation_matrix_of_random_poses() -> None:
    rng = np.random.default_rng(0)
    for _ in range(50):
        quat = rng.normal(size=4) * rng.uniform(0.1, 10.0)  # any scale: normalised first
        position, gripper = rng.normal(size=3), float(rng.uniform(0.0, 0.08))
        rotation = quat_to_matrix(quat)
        np.testing.assert_allclose(rotation[:, 0], rotate(quat, [1.0, 0.0, 0.0]), atol=1e-12)
        np.testing.assert_allclose(rotation[:, 1], rotate(quat, [0.0, 1.0, 0.0]), atol=1e-12)
        expected = np.concatenate([position, rotation[:, 0], rotation[:, 1], [gripper]]).astype(np.float32)
        np.testing.assert_allclose(policy_state(position, quat, gripper), expected, atol=1e-6)
