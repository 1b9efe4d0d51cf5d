"""robot_adapter: ``robot/command`` and ``robot/gripper_command`` to a real arm's ROS 2 stack.

robot.driver selects the arm input:
- ``moveit_servo`` (default for hardware): on start, switches Servo to twist mode
  (``robot.servo_command_type_service``, moveit_msgs/srv/ServoCommandType) and then publishes a
  geometry_msgs/TwistStamped on ``robot.servo_twist_topic`` every control tick;
- ``cartesian_controllers``: integrates the twist into a geometry_msgs/PoseStamped target on
  ``robot.cartesian_target_topic`` (FZI cartesian_motion/compliance controller ``target_frame``),
  starting from and staying near the measured pose on ``robot/ee_pose``.
The gripper goes to the control_msgs action ``robot.gripper_action`` (GripperCommand or
ParallelGripperCommand). A command older than ``safety.command_timeout_s`` becomes a zero twist.

moveit_msgs and control_msgs come from the robot's ROS workspace, not from pip: they are imported
when first needed, and their absence is reported on /diagnostics (ERROR) with the fix.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from geometry_msgs.msg import PoseStamped, TwistStamped
from rclpy.action import ActionClient
from std_msgs.msg import Float32

from robot_rl.robot.adapters import (
    SERVO_COMMAND_TYPE_TWIST,
    GripperMapper,
    TargetFrameIntegrator,
    servo_twist,
)
from robot_rl.robot.interface import CommandBuffer, InvalidCommandError, RobotCommand
from robot_rl.ros import qos
from robot_rl.ros.diagnostics import ERROR, OK, WARN
from robot_rl.ros.node_base import RobotRLNode, run_node


class RobotAdapterNode(RobotRLNode):
    def __init__(self) -> None:
        super().__init__("robot_adapter")
        r = self.settings.robot
        self.robot = r
        self.dt = 1.0 / r.control_hz
        self.commands = CommandBuffer(self.settings.safety.command_timeout_s)
        self.gripper = GripperMapper(r.gripper_open_position, r.gripper_closed_position)
        self.integrator = TargetFrameIntegrator(r.cartesian_max_lead_m)
        self.pose: tuple[np.ndarray, np.ndarray] | None = None
        self.gripper_action_type: Any = None
        self.faults: list[str] = []
        self.create_subscription(TwistStamped, "robot/command", self.on_command, qos.COMMAND)
        self.create_subscription(Float32, "robot/gripper_command", self.on_gripper, qos.COMMAND)
        self.create_subscription(PoseStamped, "robot/ee_pose", self.on_pose, qos.SENSOR)
        if r.driver == "cartesian_controllers":
            self.out = self.create_publisher(PoseStamped, r.cartesian_target_topic, qos.COMMAND)
        else:
            self.out = self.create_publisher(TwistStamped, r.servo_twist_topic, qos.COMMAND)
            self.switch_servo_to_twist()
        self.gripper_client = self.make_gripper_client()
        self.timer = self.create_timer(self.dt, self.on_tick)
        if not self.faults:  # an ERROR from the setup above stays visible
            self.diagnostics.report(OK, f"forwarding robot/command to {r.driver}")

    # -- lazily imported interfaces of the arm stack ------------------------------------------

    def switch_servo_to_twist(self) -> None:
        try:
            from moveit_msgs.srv import ServoCommandType
        except ImportError:
            self.fail("moveit_msgs is not installed: source the ROS 2 workspace with MoveIt "
                      "(MoveIt Servo stays in its current command mode)")
            return
        client: Any = self.create_client(ServoCommandType, self.robot.servo_command_type_service)
        if not client.wait_for_service(timeout_sec=5.0):
            self.fail(f"{self.robot.servo_command_type_service} not available: is servo_node running?")
            return
        client.call_async(ServoCommandType.Request(command_type=SERVO_COMMAND_TYPE_TWIST)).add_done_callback(
            self.on_servo_mode)

    def on_servo_mode(self, future: Any) -> None:
        self.get_logger().info(f"MoveIt Servo switched to twist mode: {future.result()}")

    def make_gripper_client(self) -> ActionClient | None:
        if not self.robot.gripper_action:
            return None
        try:
            from control_msgs.action import GripperCommand, ParallelGripperCommand
        except ImportError:
            self.fail("control_msgs is not installed: source the ROS 2 workspace with ros2_control "
                      "(the gripper is not driven)")
            return None
        action = GripperCommand if self.robot.gripper_action_type == "gripper_command" else ParallelGripperCommand
        self.gripper_action_type = action
        return ActionClient(self, action, self.robot.gripper_action)

    def send_gripper(self, position: float) -> None:
        if self.gripper_client is None or not self.gripper_client.server_is_ready():
            self.gripper.forget()
            return
        goal: Any = self.gripper_action_type.Goal()
        if self.robot.gripper_action_type == "gripper_command":
            goal.command.position, goal.command.max_effort = position, self.robot.gripper_max_effort
        else:
            goal.command.name = [self.robot.gripper_joint]
            goal.command.position = [position]
            goal.command.effort = [self.robot.gripper_max_effort]
        self.gripper_client.send_goal_async(goal)

    def fail(self, message: str) -> None:
        """Report a missing interface; every fault so far stays in the status, the newest does not hide older ones."""
        self.faults.append(message)
        self.get_logger().error(message)
        self.diagnostics.report(ERROR, "; ".join(self.faults))

    # -- inputs and the control tick -----------------------------------------------------------

    def now(self) -> float:
        return self.get_clock().now().nanoseconds * 1e-9

    def on_command(self, msg: TwistStamped) -> None:
        t = msg.twist
        try:
            command = RobotCommand.from_frame_id(
                msg.header.frame_id, [t.linear.x, t.linear.y, t.linear.z], [t.angular.x, t.angular.y, t.angular.z],
                base_frame=self.robot.base_frame, ee_frame=self.robot.ee_frame)
        except InvalidCommandError as err:
            self.get_logger().error(f"rejected robot/command: {err}")
            self.diagnostics.report(WARN, f"rejected command: {err}")
            return
        self.commands.put(command, self.now())

    def on_gripper(self, msg: Float32) -> None:
        try:
            self.commands.set_gripper(msg.data)
        except InvalidCommandError as err:
            self.get_logger().error(f"rejected robot/gripper_command: {err}")
            self.diagnostics.report(WARN, f"rejected gripper command: {err}")

    def on_pose(self, msg: PoseStamped) -> None:
        p, o = msg.pose.position, msg.pose.orientation
        self.pose = (np.array([p.x, p.y, p.z]), np.array([o.x, o.y, o.z, o.w]))

    def on_tick(self) -> None:
        command = self.commands.current(self.now())
        stamp = self.get_clock().now().to_msg()
        if self.robot.driver == "cartesian_controllers":
            if self.pose is None:
                return  # no measured pose yet: nothing safe to aim at
            position, orientation = self.integrator.update(command, *self.pose, self.dt)
            target = PoseStamped()
            target.header.stamp, target.header.frame_id = stamp, self.robot.base_frame
            target.pose.position.x, target.pose.position.y, target.pose.position.z = position.tolist()
            o = target.pose.orientation
            o.x, o.y, o.z, o.w = orientation.tolist()
            self.out.publish(target)
        else:
            twist = servo_twist(command, self.robot.base_frame, self.robot.ee_frame)
            msg = TwistStamped()
            msg.header.stamp, msg.header.frame_id = stamp, twist.frame_id
            msg.twist.linear.x, msg.twist.linear.y, msg.twist.linear.z = twist.linear.tolist()
            msg.twist.angular.x, msg.twist.angular.y, msg.twist.angular.z = twist.angular.tolist()
            self.out.publish(msg)
        gripper_goal = self.gripper.goal(command.gripper)
        if gripper_goal is not None:
            self.send_gripper(gripper_goal)


def main(args: list[str] | None = None) -> int:
    return run_node(RobotAdapterNode, args)


if __name__ == "__main__":
    raise SystemExit(main())
