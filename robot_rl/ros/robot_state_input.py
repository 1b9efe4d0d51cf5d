"""The robot's state as the policy sees it, fed from ``robot/state`` and ``robot/ee_pose``.

The policy server, the replay writer and the reward node all assemble observations from the same state
vector (``robot_rl.policy.state``): the end-effector pose from ``robot/ee_pose`` plus the gripper position,
which only ``robot/state`` carries. This class owns those two subscriptions and the ``StateHistory``.
"""
from __future__ import annotations

from geometry_msgs.msg import PoseStamped
from rclpy.node import Node
from rclpy.subscription import Subscription
from sensor_msgs.msg import JointState

from robot_rl.perception import StateHistory
from robot_rl.policy.state import STATE_DIM
from robot_rl.ros import qos
from robot_rl.ros.messages import joint_position, pose_state, stamp_s


class RobotStateInput:
    """Subscribes ``robot/state`` and ``robot/ee_pose`` on ``node`` and keeps their state vectors in ``states``."""

    def __init__(self, node: Node, gripper_joint: str) -> None:
        self.node, self.gripper_joint = node, gripper_joint
        self.states = StateHistory(STATE_DIM)
        self.gripper_position: float | None = None  # no state vector until the gripper has been seen
        self.subscriptions: list[Subscription] = [
            node.create_subscription(JointState, "robot/state", self.on_joint_state, qos.SENSOR),
            node.create_subscription(PoseStamped, "robot/ee_pose", self.on_ee_pose, qos.SENSOR)]

    def on_joint_state(self, msg: JointState) -> None:
        position = joint_position(msg, self.gripper_joint)
        if position is not None:
            self.gripper_position = position
        else:
            self.node.get_logger().warning(f"robot/state has no position for robot.gripper_joint="
                                           f"{self.gripper_joint!r}", throttle_duration_sec=10.0)

    def on_ee_pose(self, msg: PoseStamped) -> None:
        if self.gripper_position is None:
            return  # observations report the robot state as stale until the gripper arrives
        try:
            self.states.put(stamp_s(msg.header.stamp), pose_state(msg, self.gripper_position))
        except ValueError as err:
            self.node.get_logger().error(f"robot state rejected: {err}", throttle_duration_sec=5.0)

    def destroy(self) -> None:
        for subscription in self.subscriptions:
            self.node.destroy_subscription(subscription)
        self.subscriptions = []
