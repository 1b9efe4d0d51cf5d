"""RobotCommand / RobotObservation validation and the command buffer's staleness rule."""
from __future__ import annotations

import math

import numpy as np
import pytest

from robot_rl.robot.interface import (
    CommandBuffer,
    CommandFrame,
    InvalidCommandError,
    InvalidObservationError,
    NonFiniteCommandError,
    RobotCommand,
    RobotObservation,
    UnknownFrameError,
)


@pytest.mark.parametrize("linear, angular", [([math.nan, 0, 0], [0, 0, 0]), ([0, 0, 0], [0, math.inf, 0]),
                                             ([0, -math.inf, 0], [0, 0, 0])])
def test_non_finite_twist_is_rejected_with_a_clear_message(linear: list[float], angular: list[float]) -> None:
    with pytest.raises(NonFiniteCommandError, match="NaN or infinity"):
        RobotCommand(linear=np.array(linear), angular=np.array(angular))


def test_unknown_frame_names_both_accepted_frames() -> None:
    with pytest.raises(UnknownFrameError, match="'panda_link0'.*'panda_hand'"):
        RobotCommand.from_frame_id("camera_link", [0, 0, 0], [0, 0, 0], base_frame="panda_link0",
                                   ee_frame="panda_hand")
    with pytest.raises(UnknownFrameError):
        RobotCommand(frame="tool")  # type: ignore[arg-type]
    assert issubclass(UnknownFrameError, ValueError) and issubclass(NonFiniteCommandError, InvalidCommandError)


def test_frame_id_maps_to_base_or_ee() -> None:
    base = RobotCommand.from_frame_id("panda_link0", [1, 0, 0], [0, 0, 0], base_frame="panda_link0",
                                      ee_frame="panda_hand")
    ee = RobotCommand.from_frame_id("/panda_hand", [1, 0, 0], [0, 0, 0], base_frame="panda_link0",
                                    ee_frame="panda_hand")
    assert base.frame is CommandFrame.BASE and ee.frame is CommandFrame.EE


@pytest.mark.parametrize("gripper", [1.5, -1.01, math.nan])
def test_gripper_out_of_range_is_rejected(gripper: float) -> None:
    with pytest.raises(InvalidCommandError, match="gripper"):
        RobotCommand(gripper=gripper)


def test_wrong_twist_length_is_rejected() -> None:
    with pytest.raises(InvalidCommandError, match="3 values"):
        RobotCommand(linear=np.zeros(2))


def test_ee_twist_in_base_frame_is_rotated_by_the_ee_orientation() -> None:
    # ee rotated 180 deg about x (pointing down, as a gripper does): ee +z is base -z, ee +y is base -y
    rotation = np.diag([1.0, -1.0, -1.0])
    command = RobotCommand(linear=np.array([0.0, 0.1, 0.2]), angular=np.array([0.0, 0.0, 0.5]), frame=CommandFrame.EE)
    base = command.in_base_frame(rotation)
    np.testing.assert_allclose(base.linear, [0.0, -0.1, -0.2])
    np.testing.assert_allclose(base.angular, [0.0, 0.0, -0.5])
    assert base.frame is CommandFrame.BASE


def _observation(**overrides: object) -> RobotObservation:
    fields: dict[str, object] = dict(stamp=1.0, joint_names=("a", "b"), joint_positions=[0.0, 0.1],
                                     joint_velocities=[0.0, -0.2], ee_position=[0.4, 0.0, 0.3],
                                     ee_orientation=[1.0, 0.0, 0.0, 0.0], gripper_opening=1.0)
    fields.update(overrides)
    return RobotObservation(**fields)  # type: ignore[arg-type]


def test_observation_validates_lengths_finiteness_and_quaternion() -> None:
    assert _observation().max_joint_speed() == pytest.approx(0.2)
    with pytest.raises(InvalidObservationError, match="joint_positions"):
        _observation(joint_positions=[0.0])
    with pytest.raises(InvalidObservationError, match="NaN"):
        _observation(ee_position=[0.0, math.nan, 0.0])
    with pytest.raises(InvalidObservationError, match="unit quaternion"):
        _observation(ee_orientation=[0.0, 0.0, 0.0, 2.0])


def test_stale_command_reads_as_hold_but_gripper_target_persists() -> None:
    buffer = CommandBuffer(timeout_s=0.25)
    assert buffer.current(0.0).is_zero() and buffer.is_stale(0.0)
    buffer.put(RobotCommand(linear=np.array([0.1, 0.0, 0.0]), gripper=1.0), now=10.0)
    assert buffer.current(10.2).linear[0] == pytest.approx(0.1)
    held = buffer.current(10.3)
    assert held.is_zero() and held.gripper == 1.0
    buffer.set_gripper(-1.0)
    assert buffer.current(10.3).gripper == -1.0
    with pytest.raises(InvalidCommandError):
        buffer.set_gripper(2.0)
    buffer.clear()
    assert buffer.current(10.0).is_zero() and buffer.gripper is None
