"""robot_adapter as a real process: robot/command becomes MoveIt Servo twists or a cartesian_controllers
target, and missing arm-stack interfaces (moveit_msgs, control_msgs: not pip-installable) are reported."""
from __future__ import annotations

import time

import pytest
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus
from geometry_msgs.msg import PoseStamped, TwistStamped

from robot_rl.ros import qos
from tests.ros_harness import NodeProcesses, RosProbe, wait_until

pytestmark = pytest.mark.ros
NS = "/robot_rl"


def _command(probe: RosProbe, frame: str, x: float) -> TwistStamped:
    msg = TwistStamped()
    msg.header.frame_id = frame
    msg.twist.linear.x = x
    return msg


def test_servo_twists_and_missing_interfaces_reported(node_processes: NodeProcesses, ros_probe: RosProbe) -> None:
    diagnostics = ros_probe.subscribe(DiagnosticArray, "/diagnostics", qos.EVENTS)
    out = ros_probe.subscribe(TwistStamped, "/servo_node/delta_twist_cmds", qos.COMMAND)
    node_processes.start("robot_adapter", parameters={"overrides": "robot.driver=moveit_servo"})
    command = ros_probe.publisher(TwistStamped, f"{NS}/robot/command")
    wait_until(lambda: len(out) > 0, 60.0, "a twist on /servo_node/delta_twist_cmds")
    wait_until(lambda: any(s.level == DiagnosticStatus.ERROR and "moveit_msgs" in s.message
                           for d in diagnostics for s in d.status), 20.0, "an ERROR naming moveit_msgs")
    deadline = time.monotonic() + 10.0
    while not any(m.twist.linear.x == 0.1 and m.header.frame_id == "panda_hand" for m in out):
        assert time.monotonic() < deadline, "robot/command never reached Servo"
        command.publish(_command(ros_probe, "panda_hand", 0.1))
        time.sleep(0.05)
    time.sleep(0.6)  # > command timeout: Servo gets zero twists again
    assert out[-1].twist.linear.x == 0.0


def test_cartesian_target_follows_the_twist_from_the_measured_pose(node_processes: NodeProcesses,
                                                                   ros_probe: RosProbe) -> None:
    targets = ros_probe.subscribe(PoseStamped, "/cartesian_motion_controller/target_frame", qos.COMMAND)
    node_processes.start("robot_adapter", parameters={"overrides": "robot.driver=cartesian_controllers"})
    pose_pub = ros_probe.publisher(PoseStamped, f"{NS}/robot/ee_pose", qos.SENSOR)
    command = ros_probe.publisher(TwistStamped, f"{NS}/robot/command")
    measured = PoseStamped()
    measured.header.frame_id = "panda_link0"
    measured.pose.position.x, measured.pose.position.z, measured.pose.orientation.w = 0.4, 0.3, 1.0
    deadline = time.monotonic() + 30.0
    while not any(t.pose.position.x > 0.41 for t in targets):
        assert time.monotonic() < deadline, f"target never moved +x: {targets[-1:]}"
        pose_pub.publish(measured)
        command.publish(_command(ros_probe, "panda_link0", 0.1))
        time.sleep(0.05)
    assert all(t.header.frame_id == "panda_link0" for t in targets)
    assert max(t.pose.position.x for t in targets) <= 0.4 + 0.03 + 1e-9  # never leads by more than the limit
