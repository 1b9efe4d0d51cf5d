"""Command arithmetic for MoveIt Servo, FZI cartesian_controllers and gripper actions (no ROS needed)."""
from __future__ import annotations

import numpy as np
import pytest

from robot_rl.robot.adapters import GripperMapper, TargetFrameIntegrator, servo_twist
from robot_rl.robot.interface import CommandFrame, RobotCommand
from robot_rl.robot.transforms import matrix_to_quat, quat_multiply, quat_to_matrix, rotation_vector_to_quat

DOWN = matrix_to_quat(np.diag([1.0, -1.0, -1.0]))  # gripper pointing down: 180 deg about x


def test_servo_twist_keeps_the_twist_and_names_its_frame() -> None:
    base = servo_twist(RobotCommand(linear=np.array([0.1, 0, 0])), "panda_link0", "panda_hand")
    ee = servo_twist(RobotCommand(angular=np.array([0, 0, 0.3]), frame=CommandFrame.EE), "panda_link0", "panda_hand")
    assert base.frame_id == "panda_link0" and base.linear.tolist() == [0.1, 0, 0]
    assert ee.frame_id == "panda_hand" and ee.angular.tolist() == [0, 0, 0.3]


def test_quaternion_helpers_round_trip() -> None:
    rng = np.random.default_rng(0)
    for _ in range(20):
        q = rng.normal(size=4)
        q /= np.linalg.norm(q)
        q = q if q[3] >= 0 else -q
        np.testing.assert_allclose(matrix_to_quat(quat_to_matrix(q)), q, atol=1e-9)
    a, b = rotation_vector_to_quat(np.array([0.3, 0, 0])), rotation_vector_to_quat(np.array([0.2, 0, 0]))
    np.testing.assert_allclose(quat_multiply(a, b), rotation_vector_to_quat(np.array([0.5, 0, 0])), atol=1e-12)


def test_target_integrates_base_twist_from_the_measured_pose() -> None:
    integrator = TargetFrameIntegrator(max_lead_m=0.05)
    pose = (np.array([0.4, 0.0, 0.3]), DOWN)
    target, orientation = integrator.update(RobotCommand(linear=np.array([0.1, 0.0, 0.0])), *pose, dt=0.1)
    np.testing.assert_allclose(target, [0.41, 0.0, 0.3])
    np.testing.assert_allclose(orientation, DOWN)
    target, _ = integrator.update(RobotCommand(linear=np.array([0.1, 0.0, 0.0])), *pose, dt=0.1)
    np.testing.assert_allclose(target, [0.42, 0.0, 0.3])  # integrates from the target, not the measurement


def test_ee_frame_twist_is_integrated_in_base_axes() -> None:
    integrator = TargetFrameIntegrator(max_lead_m=0.05)
    command = RobotCommand(linear=np.array([0.0, 0.0, 0.1]), frame=CommandFrame.EE)  # along the fingers
    target, _ = integrator.update(command, np.array([0.4, 0.0, 0.3]), DOWN, dt=0.1)
    np.testing.assert_allclose(target, [0.4, 0.0, 0.29])  # fingers point down: ee +z is base -z


def test_target_never_leads_the_measured_pose_by_more_than_the_limit() -> None:
    integrator = TargetFrameIntegrator(max_lead_m=0.03, max_lead_rad=0.1)
    blocked = (np.array([0.4, 0.0, 0.3]), DOWN)  # the arm does not move (blocked)
    for _ in range(50):
        target, orientation = integrator.update(
            RobotCommand(linear=np.array([0.0, 0.0, -0.2]), angular=np.array([0.0, 0.0, 1.0])), *blocked, dt=0.1)
    assert np.linalg.norm(target - blocked[0]) == pytest.approx(0.03)
    relative = quat_multiply(orientation, np.array([-DOWN[0], -DOWN[1], -DOWN[2], DOWN[3]]))
    assert 2 * np.arccos(min(1.0, abs(relative[3]))) == pytest.approx(0.1, abs=1e-6)


def test_hold_keeps_the_target() -> None:
    integrator = TargetFrameIntegrator(max_lead_m=0.05)
    pose = (np.array([0.4, 0.0, 0.3]), DOWN)
    first, _ = integrator.update(RobotCommand(linear=np.array([0.1, 0, 0])), *pose, dt=0.1)
    held, _ = integrator.update(RobotCommand.hold(), *pose, dt=0.1)
    np.testing.assert_allclose(held, first)


def test_gripper_maps_commands_onto_driver_positions_and_sends_only_changes() -> None:
    mapper = GripperMapper(open_position=0.0, closed_position=0.8)
    assert mapper.position(-1.0) == 0.0 and mapper.position(1.0) == pytest.approx(0.8)
    assert mapper.position(0.0) == pytest.approx(0.4)
    assert mapper.goal(None) is None
    assert mapper.goal(1.0) == pytest.approx(0.8)
    assert mapper.goal(1.0) is None and mapper.goal(0.99) is None  # same target: no new action goal
    assert mapper.goal(-1.0) == 0.0
    mapper.forget()
    assert mapper.goal(-1.0) == 0.0
    inverted = GripperMapper(open_position=0.04, closed_position=0.0)  # Panda hand: metres apart, 0 closed
    assert inverted.position(1.0) == 0.0 and inverted.position(-1.0) == pytest.approx(0.04)
    with pytest.raises(ValueError, match="open and closed"):
        GripperMapper(0.1, 0.1)
