"""Safety filter: every hold condition, every limit, NaN never forwarded, the gripper never dropped."""
from __future__ import annotations

import math

import numpy as np
import pytest

from robot_rl.robot.transforms import integrate_orientation, quat_to_matrix, rotation_vector_to_quat
from robot_rl.safety import Reason, SafetyFilter, SafetyLimits
from robot_rl.safety.filter import SafetyLimitsError, limit_tilt, limit_to_box

DT = 0.1
DOWN = np.array([1.0, 0.0, 0.0, 0.0])  # tool z axis pointing down
CENTER = np.array([0.45, 0.0, 0.2])


def limits(**overrides: object) -> SafetyLimits:
    values: dict[str, object] = dict(
        workspace_min=(0.25, -0.3, 0.0), workspace_max=(0.7, 0.3, 0.45), max_linear_speed=0.15,
        max_angular_speed=0.6, max_linear_accel=10.0, max_angular_accel=40.0, nominal_approach_axis=(0, 0, -1),
        max_tilt_rad=0.6, gripper_max_rate=4.0, command_timeout_s=0.25, observation_max_age_s=0.2,
        pose_timeout_s=0.25, period_s=DT)
    values.update(overrides)
    return SafetyLimits(**values)  # type: ignore[arg-type]


def ready(f: SafetyFilter, twist: list[float], now: float = 10.0, position: np.ndarray = CENTER,
          orientation: np.ndarray = DOWN) -> SafetyFilter:
    f.pose(position, orientation, stamp_s=now, now=now)
    f.request(twist, observation_stamp_s=now, now=now)
    return f


def test_a_command_inside_every_limit_passes_unchanged() -> None:
    d = ready(SafetyFilter(limits()), [0.05, -0.05, 0.02, 0.1, -0.1, 0.3]).step(10.05)
    np.testing.assert_array_equal(d.twist, [0.05, -0.05, 0.02, 0.1, -0.1, 0.3])
    assert d.reasons == () and not d.held


@pytest.mark.parametrize("reason,setup,now", [
    (Reason.NO_COMMAND, lambda f: f.pose(CENTER, DOWN, 10.0, 10.0), 10.0),
    (Reason.COMMAND_TIMEOUT, lambda f: ready(f, [0.1, 0, 0, 0, 0, 0]), 10.26),
    (Reason.STALE_OBSERVATION, lambda f: (f.pose(CENTER, DOWN, 10.0, 10.0),
                                          f.request([0.1, 0, 0, 0, 0, 0], 9.85, 10.0)), 10.06),
    (Reason.NONFINITE, lambda f: ready(f, [0.1, math.nan, 0, 0, 0, 0]), 10.0),
    (Reason.NONFINITE, lambda f: ready(f, [0.1, 0, 0, 0, 0, math.inf]), 10.0),
    (Reason.NONFINITE, lambda f: ready(f, [0.1, 0, 0]), 10.0),  # malformed length
    (Reason.WRONG_FRAME, lambda f: (f.pose(CENTER, DOWN, 10.0, 10.0),
                                    f.request([0.1, 0, 0, 0, 0, 0], 10.0, 10.0, frame_ok=False)), 10.0),
    (Reason.NO_POSE, lambda f: f.request([0.1, 0, 0, 0, 0, 0], 10.0, 10.0), 10.0),
    (Reason.NO_POSE, lambda f: (ready(f, [0.1, 0, 0, 0, 0, 0]), f.pose([math.nan, 0, 0], DOWN, 10, 10)), 10.0),
    (Reason.STALE_POSE, lambda f: (f.pose(CENTER, DOWN, 9.7, 9.7), f.request([0.1, 0, 0, 0, 0, 0], 10.0, 10.0)),
     10.0),
    (Reason.STALE_OBSERVATION, lambda f: (f.pose(CENTER, DOWN, 10.0, 10.0),
                                          f.request([0.1, 0, 0, 0, 0, 0], math.nan, 10.0)), 10.0),
])
def test_every_hold_condition_gives_zero_twist_with_its_reason(reason: Reason, setup: object, now: float) -> None:
    f = SafetyFilter(limits())
    setup(f)  # type: ignore[operator]
    d = f.step(now)
    assert d.held and reason in d.reasons
    np.testing.assert_array_equal(d.twist, np.zeros(6))


def test_nan_is_never_forwarded_even_after_a_good_command() -> None:
    f = ready(SafetyFilter(limits()), [0.1, 0, 0, 0, 0, 0])
    assert np.any(f.step(10.0).twist)
    f.request([math.nan] * 6, 10.05, 10.05)
    for t in np.arange(10.05, 10.5, DT):
        d = f.step(float(t))
        assert np.isfinite(d.twist).all() and not np.any(d.twist) and Reason.NONFINITE in d.reasons
    f.request([0.1, 0, 0, 0, 0, 0], 10.5, 10.5)
    f.pose(CENTER, DOWN, 10.5, 10.5)
    assert f.step(10.5).twist[0] == pytest.approx(0.1)


def test_estop_holds_until_cleared_even_with_fresh_commands() -> None:
    f = SafetyFilter(limits())
    f.set_estop(True)
    for i in range(5):
        now = 10.0 + i * DT
        d = ready(f, [0.1, 0, 0, 0, 0, 0], now=now).step(now)
        assert d.held and Reason.ESTOP in d.reasons and not np.any(d.twist)
    f.set_estop(False)
    assert ready(f, [0.1, 0, 0, 0, 0, 0], now=11.0).step(11.0).twist[0] == pytest.approx(0.1)
    assert f.counts["estop"] == 5


def test_per_axis_velocity_limits() -> None:
    d = ready(SafetyFilter(limits()), [0.5, -0.5, 0.1, 2.0, -2.0, 0.1]).step(10.0)
    np.testing.assert_allclose(d.twist, [0.15, -0.15, 0.1, 0.6, -0.6, 0.1])
    assert d.reasons == (Reason.VELOCITY,)


def test_per_step_acceleration_limits_ramp_up_and_down() -> None:
    f = SafetyFilter(limits(max_linear_accel=0.5, max_angular_accel=2.0))  # 0.05 m/s, 0.2 rad/s per step
    seen = []
    for i in range(4):
        now = 10.0 + i * DT
        seen.append(ready(f, [0.15, 0, 0, 0, 0, 0.6], now=now).step(now))
    np.testing.assert_allclose([d.twist[0] for d in seen], [0.05, 0.1, 0.15, 0.15])
    np.testing.assert_allclose([d.twist[5] for d in seen], [0.2, 0.4, 0.6, 0.6])
    assert Reason.ACCELERATION in seen[0].reasons and Reason.ACCELERATION not in seen[-1].reasons
    d = ready(f, [-0.15, 0, 0, 0, 0, 0], now=10.4).step(10.4)
    assert d.twist[0] == pytest.approx(0.1)  # direction reversal is ramped too


def test_hold_is_immediate_and_motion_ramps_again_after_it() -> None:
    f = SafetyFilter(limits(max_linear_accel=0.5))
    for i in range(3):
        ready(f, [0.15, 0, 0, 0, 0, 0], now=10.0 + i * DT).step(10.0 + i * DT)
    assert not np.any(f.step(11.0).twist)  # timeout: stop at once, no deceleration ramp
    assert ready(f, [0.15, 0, 0, 0, 0, 0], now=11.1).step(11.1).twist[0] == pytest.approx(0.05)


@pytest.mark.parametrize("axis", [0, 1, 2])
@pytest.mark.parametrize("side", [-1, 1])
def test_workspace_box_clips_the_predicted_position_on_every_face(axis: int, side: int) -> None:
    lim = limits()
    lo, hi = np.array(lim.workspace_min), np.array(lim.workspace_max)
    position = CENTER.copy()
    position[axis] = (hi if side > 0 else lo)[axis] - side * 0.004  # 4 mm inside the face
    twist = [0.0] * 6
    twist[axis] = side * 0.15
    d = ready(SafetyFilter(lim), twist, position=position).step(10.0)
    predicted = position + d.twist[:3] * DT
    assert lo[axis] - 1e-12 <= predicted[axis] <= hi[axis] + 1e-12
    assert abs(d.twist[axis]) == pytest.approx(0.04) and Reason.WORKSPACE in d.reasons


def test_outside_the_box_only_motion_back_passes_and_nothing_is_pushed() -> None:
    outside = np.array([0.8, 0.0, 0.2])  # 10 cm beyond +x
    d = ready(SafetyFilter(limits()), [0.1, 0.05, 0, 0, 0, 0], position=outside).step(10.0)
    np.testing.assert_allclose(d.twist[:3], [0.0, 0.05, 0.0])
    d = ready(SafetyFilter(limits()), [-0.1, 0, 0, 0, 0, 0], position=outside).step(10.0)
    assert d.twist[0] == pytest.approx(-0.1) and Reason.WORKSPACE not in d.reasons
    d = ready(SafetyFilter(limits()), [0, 0, 0, 0, 0, 0], position=outside).step(10.0)
    assert not np.any(d.twist)  # the bounds never command motion that was not requested


def test_box_holds_over_many_steps_of_pushing_outward() -> None:
    rng = np.random.default_rng(0)
    lim = limits()
    f = SafetyFilter(lim)
    position, now = CENTER.copy(), 10.0
    for _ in range(400):
        twist = rng.uniform(-0.3, 0.3, 6)
        d = ready(f, list(twist), now=now, position=position).step(now)
        position = position + d.twist[:3] * DT
        now += DT
        assert np.all(position >= np.array(lim.workspace_min) - 1e-9)
        assert np.all(position <= np.array(lim.workspace_max) + 1e-9)


def test_tilt_limit_blocks_rotation_that_tilts_further_but_passes_yaw_and_return() -> None:
    tilted = rotation_vector_to_quat(np.array([0.0, 0.58, 0.0]))  # 0.58 rad about y, from identity...
    start = integrate_orientation(DOWN, np.array([0.0, 0.58, 0.0]), 1.0)  # ...applied to the down pose
    assert tilted is not None
    f = SafetyFilter(limits())
    d = ready(f, [0, 0, 0, 0, 0.6, 0], orientation=start).step(10.0)  # would tilt to 0.64 rad
    after = quat_to_matrix(integrate_orientation(start, d.twist[3:], DT))[:, 2]
    assert math.acos(np.clip(after @ [0, 0, -1], -1, 1)) <= 0.6 + 1e-3
    assert Reason.ORIENTATION in d.reasons
    d = ready(SafetyFilter(limits()), [0, 0, 0, 0, -0.6, 0], orientation=start).step(10.0)
    assert d.twist[4] == pytest.approx(-0.6) and Reason.ORIENTATION not in d.reasons
    axis = quat_to_matrix(start)[:, 2]  # spinning about the tool axis never tilts it
    d = ready(SafetyFilter(limits()), [0, 0, 0, *(0.5 * axis)], orientation=start).step(10.0)
    np.testing.assert_allclose(d.twist[3:], 0.5 * axis, atol=1e-9)


def test_tilt_limit_holds_over_many_random_rotations() -> None:
    rng = np.random.default_rng(1)
    f, q, now = SafetyFilter(limits()), DOWN.copy(), 10.0
    worst = 0.0
    for _ in range(400):
        d = ready(f, [0, 0, 0, *rng.uniform(-0.6, 0.6, 3)], now=now, orientation=q).step(now)
        q = integrate_orientation(q, d.twist[3:], DT)
        now += DT
        worst = max(worst, math.acos(np.clip(quat_to_matrix(q)[:, 2] @ [0, 0, -1], -1, 1)))
    assert worst <= 0.6 + 0.01  # first-order prediction: within 10 mrad of the limit


def test_limit_helpers_at_edges() -> None:
    np.testing.assert_allclose(limit_to_box(np.array([1.0, -1.0, 0.0]), np.array([0.5, 0.5, 0.5]),
                                            np.zeros(3), np.ones(3), 0.1), [1.0, -1.0, 0.0])
    w = np.array([0.3, 0.2, 0.1])
    np.testing.assert_allclose(limit_tilt(w, np.array([0, 0, -1.0]), np.array([0, 0, -1.0]), 4.0, 0.1), w)
    at_nominal = limit_tilt(np.array([1.0, 0, 0]), np.array([0, 0, -1.0]), np.array([0, 0, -1.0]), 0.05, 0.1)
    assert np.linalg.norm(at_nominal) == pytest.approx(0.5)  # 0.05 rad in one 0.1 s period


def test_gripper_is_rate_limited_clamped_and_frozen_on_hold() -> None:
    f = ready(SafetyFilter(limits()), [0, 0, 0, 0, 0, 0])
    f.request_gripper(-1.0)
    assert f.step(10.0).gripper == -1.0  # first target: passed as is
    f.request_gripper(1.0)
    outputs = []
    for i in range(1, 7):
        now = 10.0 + i * DT
        ready(f, [0, 0, 0, 0, 0, 0], now=now)
        outputs.append(f.step(now))
    np.testing.assert_allclose([d.gripper for d in outputs], [-0.6, -0.2, 0.2, 0.6, 1.0, 1.0])
    assert Reason.GRIPPER_RATE in outputs[0].reasons
    f.request_gripper(-1.0)
    f.set_estop(True)
    assert f.step(10.7).gripper == 1.0  # a hold never opens the gripper
    f.set_estop(False)
    f.request_gripper(1.0)
    f.request_gripper(math.nan)  # ignored: the last finite target (1.0) stays
    d = ready(f, [0, 0, 0, 0, 0, 0], now=10.8).step(10.8)
    assert d.gripper == 1.0 and Reason.NONFINITE_GRIPPER in d.reasons
    f.request_gripper(3.0)
    d = ready(f, [0, 0, 0, 0, 0, 0], now=10.9).step(10.9)
    assert Reason.GRIPPER_RANGE in d.reasons and d.gripper == 1.0


def test_no_gripper_command_before_a_target_exists() -> None:
    assert ready(SafetyFilter(limits()), [0.0] * 6).step(10.0).gripper is None


def test_limits_errors_name_the_fix() -> None:
    with pytest.raises(SafetyLimitsError, match="min below its max"):
        limits(workspace_min=(1.0, 0.0, 0.0), workspace_max=(0.5, 1.0, 1.0))
    with pytest.raises(SafetyLimitsError, match="max_linear_speed"):
        limits(max_linear_speed=0.0)
    with pytest.raises(SafetyLimitsError, match="period_s"):
        limits(period_s=math.nan)
    with pytest.raises(SafetyLimitsError, match="nominal_approach_axis"):
        limits(nominal_approach_axis=(0.0, 0.0, 0.0))
