"""sim_robot as a real process on this run's DDS graph: the simulated arm driven through its topics."""
from __future__ import annotations

import math
import time

import numpy as np
import pytest
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus
from geometry_msgs.msg import PoseStamped, TwistStamped
from rosgraph_msgs.msg import Clock
from sensor_msgs.msg import CameraInfo, Image, JointState
from std_msgs.msg import Bool, Float32
from std_srvs.srv import Trigger

from robot_rl.ros import qos
from robot_rl.sim.scripted import ScriptedPick
from tests.ros_harness import NodeProcesses, RosProbe, wait_until

pytestmark = pytest.mark.ros
NS = "/robot_rl"
BASE, EE = "panda_link0", "panda_hand"


def _xyz(pose: PoseStamped) -> np.ndarray:
    p = pose.pose.position
    return np.array([p.x, p.y, p.z])


class Arm:
    """The test's side of the sim_robot topics."""

    def __init__(self, probe: RosProbe) -> None:
        self.probe = probe
        self.poses = probe.subscribe(PoseStamped, f"{NS}/robot/ee_pose")
        self.cubes = probe.subscribe(PoseStamped, f"{NS}/sim/cube_pose")
        self.gripper = probe.subscribe(JointState, f"{NS}/robot/gripper_state")
        self.success = probe.subscribe(Bool, f"{NS}/robot/success")
        self.diagnostics = probe.subscribe(DiagnosticArray, "/diagnostics", qos.EVENTS)
        self.twist_pub = probe.publisher(TwistStamped, f"{NS}/robot/command")
        self.gripper_pub = probe.publisher(Float32, f"{NS}/robot/gripper_command")

    def twist(self, linear: list[float], frame: str = BASE, angular: tuple[float, ...] = (0.0, 0.0, 0.0)) -> None:
        msg = TwistStamped()
        msg.header.frame_id = frame
        msg.header.stamp = self.probe.node.get_clock().now().to_msg()
        msg.twist.linear.x, msg.twist.linear.y, msg.twist.linear.z = linear
        msg.twist.angular.x, msg.twist.angular.y, msg.twist.angular.z = angular
        self.twist_pub.publish(msg)

    def drive(self, linear: list[float], seconds: float, frame: str = BASE) -> np.ndarray:
        """Stream a twist at 20 Hz for ``seconds``; return how far the end effector moved."""
        start = _xyz(self.poses[-1])
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.twist(linear, frame)
            time.sleep(0.05)
        time.sleep(0.3)  # let the last pose arrive
        return _xyz(self.poses[-1]) - start

    def drive_until(self, linear: list[float], direction: list[int], distance: float, frame: str = BASE,
                    timeout_s: float = 20.0) -> np.ndarray:
        """Stream a twist until the end effector moved ``distance`` along ``direction`` (however fast
        this machine steps the sim); return the displacement."""
        start = _xyz(self.poses[-1])
        deadline = time.monotonic() + timeout_s
        while float(np.dot(_xyz(self.poses[-1]) - start, direction)) < distance:
            assert time.monotonic() < deadline, f"moved only {_xyz(self.poses[-1]) - start} towards {direction}"
            self.twist(linear, frame)
            time.sleep(0.05)
        return _xyz(self.poses[-1]) - start

    def reset(self) -> Trigger.Response:
        return self.probe.call(Trigger, f"{NS}/robot/reset", Trigger.Request())

    def settle(self, timeout_s: float = 20.0) -> None:
        """Send nothing until the arm is at rest (the command timed out and the motion died down);
        waits on the arm, not on the clock, so a machine that steps the sim slowly still passes."""
        time.sleep(1.0)  # > command timeout: the arm holds
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            before = _xyz(self.poses[-1])
            time.sleep(0.3)
            if np.linalg.norm(_xyz(self.poses[-1]) - before) < 0.0005:
                return
        raise AssertionError(f"the arm did not come to rest within {timeout_s} s")


@pytest.fixture
def arm(node_processes: NodeProcesses, ros_probe: RosProbe) -> Arm:
    node_processes.start("sim_robot", parameters={"overrides": "sim.seed=4"})
    arm = Arm(ros_probe)
    wait_until(lambda: len(arm.poses) > 0 and len(arm.cubes) > 0, 60.0, "sim_robot's first ee_pose")
    return arm


def test_sim_robot_moves_grips_resets_and_picks_through_topics(arm: Arm, ros_probe: RosProbe) -> None:
    # cameras: images and camera_info as the camera node would publish them
    for name in ("wrist", "front"):
        image = ros_probe.wait_for_message(Image, f"{NS}/camera/{name}/color/image_raw", timeout_s=10.0)
        info = ros_probe.wait_for_message(CameraInfo, f"{NS}/camera/{name}/color/camera_info", timeout_s=10.0)
        assert (image.encoding, image.width, image.height, image.step) == ("rgb8", 128, 128, 384)
        assert len(image.data) == 128 * 128 * 3 and image.header.frame_id == f"{name}_color_optical_frame"
        assert info.header.frame_id == image.header.frame_id and info.k[0] > 0 and info.k[2] == 63.5
    state = ros_probe.wait_for_message(JointState, f"{NS}/robot/state")
    assert state.name[:7] == [f"panda_joint{i}" for i in range(1, 8)] and len(state.position) == 8
    assert arm.poses[-1].header.frame_id == BASE

    # commands move the end effector in the commanded direction (base frame, then ee frame); the
    # speed depends on how fast this machine steps the sim, the direction does not
    for linear, frame, direction in (([0.1, 0.0, 0.0], BASE, [1, 0, 0]), ([0.0, -0.1, 0.0], BASE, [0, -1, 0]),
                                     ([0.0, 0.0, 0.1], EE, [0, 0, -1])):  # ee z runs along the fingers: down
        arm.settle()
        moved = arm.drive_until(linear, direction, 0.03, frame)
        along = float(np.dot(moved, direction))
        assert np.linalg.norm(moved - along * np.array(direction)) < 0.3 * along, (frame, moved)

    # a NaN or wrong-frame command is rejected: the arm holds and diagnostics warn
    arm.settle()
    held = arm.drive([math.nan, 0.0, 0.0], 0.5)
    held += arm.drive([0.1, 0.0, 0.0], 0.5, frame="camera_link")
    assert np.linalg.norm(held) < 0.005, held
    wait_until(lambda: any(s.level == DiagnosticStatus.WARN and "rejected command" in s.message
                           for d in arm.diagnostics for s in d.status), 5.0, "a WARN about the rejected command")

    # the gripper closes
    arm.gripper_pub.publish(Float32(data=1.0))
    wait_until(lambda: arm.gripper[-1].position[0] < 0.1, 5.0, "the gripper to close")

    # reset while moving is refused; at rest it homes the arm and moves the cube
    arm.drive_until([0.0, 0.15, 0.0], [0, 1, 0], 0.01)
    arm.twist([0.0, 0.15, 0.0])
    refused = arm.reset()
    assert not refused.success and "moving" in refused.message
    arm.settle()
    cube_before = _xyz(arm.cubes[-1])
    response = arm.reset()
    assert response.success, response.message
    wait_until(lambda: bool(np.linalg.norm(_xyz(arm.cubes[-1]) - cube_before) > 0.005), 5.0, "the cube to move")
    wait_until(lambda: arm.gripper[-1].position[0] > 0.9, 5.0, "the gripper to open on reset")

    # a scripted pick through the topics succeeds
    policy = ScriptedPick(control_dt=0.1)
    deadline = time.monotonic() + 40.0
    while not arm.success[-1].data:
        assert time.monotonic() < deadline, f"no success; phase {policy.phase}"
        command = policy.act(_xyz(arm.poses[-1]), _xyz(arm.cubes[-1]))
        arm.twist(command.linear.tolist())
        arm.gripper_pub.publish(Float32(data=float(command.gripper or -1.0)))
        time.sleep(0.1)


def test_as_fast_as_possible_publishes_sim_time_on_clock(node_processes: NodeProcesses,
                                                         ros_probe: RosProbe) -> None:
    node_processes.start("sim_robot", parameters={"overrides": "sim.realtime=false"})
    clocks = ros_probe.subscribe(Clock, "/clock")
    images = ros_probe.subscribe(Image, f"{NS}/camera/front/color/image_raw")
    wait_until(lambda: len(clocks) >= 5 and len(images) >= 3, 60.0, "/clock and images")
    seconds = [c.clock.sec + c.clock.nanosec * 1e-9 for c in clocks]
    assert all(b > a for a, b in zip(seconds, seconds[1:])), "sim time must increase"
    assert np.allclose(np.diff(seconds)[:3], 0.1), "one control period per step"
    stamp = images[-1].header.stamp
    image_time = stamp.sec + stamp.nanosec * 1e-9
    assert 0 < image_time < 1000, "images are stamped in sim time (from 0), not wall time"
    assert image_time * 10 == pytest.approx(round(image_time * 10), abs=1e-6), "stamped at a step"
