"""safety: the only publisher of the arm's command; every command passes ``robot_rl.safety.SafetyFilter``.

| topic (relative) | type | QoS | |
|---|---|---|---|
| command/request (sub) | TwistStamped, base frame | COMMAND | stamp = the observation the command answers |
| command/request_gripper (sub) | std_msgs/Float32 [-1 open, +1 closed] | COMMAND | |
| robot/ee_pose (sub) | PoseStamped, base frame | SENSOR | for the workspace box and the tilt limit |
| estop (sub) | std_msgs/Bool | LATCHED | true holds the arm until a false arrives |
| robot/command (pub) | TwistStamped, base frame | COMMAND | at robot.control_hz; zero twist = hold |
| robot/gripper_command (pub) | std_msgs/Float32 | COMMAND | at robot.control_hz, once a target exists |

Each hold or clip is reported on /diagnostics (WARN, the reasons in the message) and counted in the
values (``hold_<reason>``/``clip_<reason>``: ticks it applied).
"""
from __future__ import annotations


from geometry_msgs.msg import PoseStamped, TwistStamped
from std_msgs.msg import Bool, Float32

from robot_rl.ros import qos
from robot_rl.ros.diagnostics import OK, WARN
from robot_rl.ros.messages import stamp_s
from robot_rl.ros.node_base import RobotRLNode, run_node
from robot_rl.safety import HOLD_REASONS, Decision, Reason, SafetyFilter, SafetyLimits


class SafetyNode(RobotRLNode):
    def __init__(self) -> None:
        super().__init__("safety", hardware_id="safety")
        s = self.settings
        self.period_s = 1.0 / s.robot.control_hz
        self.filter = SafetyFilter(SafetyLimits(
            workspace_min=tuple(s.safety.workspace_min), workspace_max=tuple(s.safety.workspace_max),  # type: ignore[arg-type]
            max_linear_speed=s.safety.max_linear_speed, max_angular_speed=s.safety.max_angular_speed,
            max_linear_accel=s.safety.max_linear_accel, max_angular_accel=s.safety.max_angular_accel,
            nominal_approach_axis=tuple(s.safety.nominal_approach_axis),  # type: ignore[arg-type]
            max_tilt_rad=s.safety.max_tilt_rad, gripper_max_rate=s.safety.gripper_max_rate,
            command_timeout_s=s.safety.command_timeout_s, observation_max_age_s=s.cameras.max_frame_age_s,
            pose_timeout_s=s.safety.pose_timeout_s, period_s=self.period_s))
        self.base_frame = s.robot.base_frame
        self.command_pub = self.create_publisher(TwistStamped, "robot/command", qos.COMMAND)
        self.gripper_pub = self.create_publisher(Float32, "robot/gripper_command", qos.COMMAND)
        self.create_subscription(TwistStamped, "command/request", self.on_request, qos.COMMAND)
        self.create_subscription(Float32, "command/request_gripper", self.on_request_gripper, qos.COMMAND)
        self.create_subscription(PoseStamped, "robot/ee_pose", self.on_pose, qos.SENSOR)
        self.create_subscription(Bool, "estop", self.on_estop, qos.LATCHED)
        self.timer = self.create_timer(self.period_s, self.on_timer)
        self.last_reasons: tuple[Reason, ...] | None = None

    def now_s(self) -> float:
        return self.get_clock().now().nanoseconds * 1e-9

    def on_request(self, msg: TwistStamped) -> None:
        t = msg.twist
        self.filter.request([t.linear.x, t.linear.y, t.linear.z, t.angular.x, t.angular.y, t.angular.z],
                            observation_stamp_s=stamp_s(msg.header.stamp), now=self.now_s(),
                            frame_ok=msg.header.frame_id.lstrip("/") == self.base_frame)

    def on_request_gripper(self, msg: Float32) -> None:
        self.filter.request_gripper(float(msg.data))

    def on_pose(self, msg: PoseStamped) -> None:
        p, q = msg.pose.position, msg.pose.orientation
        self.filter.pose([p.x, p.y, p.z], [q.x, q.y, q.z, q.w], stamp_s(msg.header.stamp), self.now_s())

    def on_estop(self, msg: Bool) -> None:
        if bool(msg.data) != self.filter.estop:
            self.get_logger().warning("estop SET: holding the arm" if msg.data else "estop cleared")
        self.filter.set_estop(bool(msg.data))

    def on_timer(self) -> None:
        now = self.get_clock().now()
        decision = self.filter.step(now.nanoseconds * 1e-9)
        command = TwistStamped()
        command.header.stamp = now.to_msg()
        command.header.frame_id = self.base_frame
        v = decision.twist
        command.twist.linear.x, command.twist.linear.y, command.twist.linear.z = (float(x) for x in v[:3])
        command.twist.angular.x, command.twist.angular.y, command.twist.angular.z = (float(x) for x in v[3:])
        self.command_pub.publish(command)
        if decision.gripper is not None:
            self.gripper_pub.publish(Float32(data=float(decision.gripper)))
        self.report(decision)

    def report(self, decision: Decision) -> None:
        counts = {("hold_" if Reason(r) in HOLD_REASONS else "clip_") + r: n for r, n in self.filter.counts.items()}
        self.diagnostics.set_values(estop=self.filter.estop, **counts)
        if decision.reasons == self.last_reasons:
            return
        self.last_reasons = decision.reasons
        holds = [r.value for r in decision.reasons if r in HOLD_REASONS]
        clips = [r.value for r in decision.reasons if r not in HOLD_REASONS]
        if not decision.reasons:
            self.diagnostics.report(OK, "forwarding")
            return
        message = "; ".join(part for part in (f"hold: {', '.join(holds)}" if holds else "",
                                              f"clip: {', '.join(clips)}" if clips else "") if part)
        self.diagnostics.report(WARN, message)
        if holds:
            self.get_logger().warning(message, throttle_duration_sec=2.0)


def main(args: list[str] | None = None) -> int:
    return run_node(SafetyNode, args)


if __name__ == "__main__":
    raise SystemExit(main())


