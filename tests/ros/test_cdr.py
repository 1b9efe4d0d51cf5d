"""Hand-serialized command messages have rclpy's layout and read back as the same messages."""
from __future__ import annotations

import math

import pytest
from geometry_msgs.msg import TwistStamped
from rclpy.serialization import deserialize_message, serialize_message
from std_msgs.msg import Float32

from robot_rl.ros.cdr import TwistStampedEncoder, encode_float32, stamp_parts


@pytest.mark.parametrize("frame_id", ["", "b", "base", "fr3_link0", "a_frame_id_of_17c"])  # every padding case
def test_twist_stamped_has_rclpy_s_layout_and_reads_back(frame_id: str) -> None:
    linear, angular = [0.1, -0.2, 0.3], [1.5, -2.5, 1e-9]
    data = TwistStampedEncoder(frame_id).encode(1_700_000_000.123456789, linear, angular)
    msg = TwistStamped()
    msg.header.stamp.sec, msg.header.stamp.nanosec = stamp_parts(1_700_000_000.123456789)
    msg.header.frame_id = frame_id
    msg.twist.linear.x, msg.twist.linear.y, msg.twist.linear.z = linear
    msg.twist.angular.x, msg.twist.angular.y, msg.twist.angular.z = angular
    expected = serialize_message(msg)
    assert len(data) == len(expected)  # the same fields at the same offsets; rclpy leaves padding bytes unset
    assert data[:4] == expected[:4] and data[-48:] == expected[-48:]
    back = deserialize_message(data, TwistStamped)
    assert back.header.frame_id == frame_id and back.header.stamp.sec == 1_700_000_000
    assert abs(back.header.stamp.nanosec - 123_456_789) <= 256  # float seconds carry ~0.2 us at this epoch
    assert [back.twist.angular.x, back.twist.angular.y, back.twist.angular.z] == angular


def test_stamp_parts_round_to_the_nanosecond_and_carry_into_seconds() -> None:
    assert stamp_parts(12.5) == (12, 500_000_000)
    assert stamp_parts(3.9999999999) == (4, 0)


@pytest.mark.parametrize("value", [-1.0, 0.0, 0.25, 1.0])
def test_float32_matches_rclpy(value: float) -> None:
    assert encode_float32(value) == serialize_message(Float32(data=value))
    assert math.isclose(deserialize_message(encode_float32(value), Float32).data, value)
