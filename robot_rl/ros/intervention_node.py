"""intervention: the operator's device, the arbiter between policy and human, and the operator's actions.

| topic / service (relative) | type | QoS | |
|---|---|---|---|
| policy/action, policy/gripper (sub) | TwistStamped, Float32 | COMMAND | the policy's proposal |
| robot/ee_pose (sub) | PoseStamped | SENSOR | for scripted operators |
| robot/state (sub) | JointState | SENSOR | the gripper joint (last), for scripted operators |
| sim/cube_pose (sub) | PoseStamped | SENSOR | simulator ground truth, for the scripted correcting operator |
| episode/status (sub) | String | LATCHED_EVERY_CHANGE | the policy acts only while `running` |
| teleop/action, teleop/gripper (pub) | TwistStamped, Float32 | COMMAND | the human's command, while intervening |
| teleop/intervening (pub) | Bool | LATCHED | |
| teleop/demo (pub) | Bool | LATCHED | the operator demonstrates this whole episode (replay source=demo) |
| command/request, command/request_gripper (pub) | TwistStamped, Float32 | COMMAND | executed command, to safety |
| estop (pub) | Bool | LATCHED | operator e-stop / clear |
| episode/start, mark_success, mark_failure, reset (client) | Trigger | | operator buttons |

The policy's action is forwarded the moment it arrives (its stamp kept); the human's command and holds
are published by the control-rate timer. All decisions are in ``robot_rl.teleop.Arbiter``, which works
in action units ([-1, 1]): the policy's proposal (m/s, rad/s) is divided by ``policy.max_linear_speed``
and ``policy.max_angular_speed``, and every command this node publishes is multiplied back, so the
human's and the policy's twists share units on every topic and in the replay.

``teleop.mode`` (``robot_rl.teleop.protocol``): ``demo`` executes only the operator's commands and
announces every episode as a demonstration on teleop/demo; ``replay`` executes a recorded episode's
actions one per tick in place of the policy (the operator may take over; the replay keeps its time
meanwhile), then asks for episode/mark_failure if success has not ended the episode within
REPLAY_SETTLE_S; ``return_explore`` and ``guided`` let the policy act under correction (the
simulator starts return_explore episodes from the recorded state: ``sim_robot``).
"""
from __future__ import annotations

import time
from typing import Any

import numpy as np
from geometry_msgs.msg import PoseStamped, TwistStamped
from sensor_msgs.msg import JointState
from rclpy.lifecycle import State, TransitionCallbackReturn
from rclpy.publisher import Publisher
from rclpy.subscription import Subscription
from std_msgs.msg import Bool, Float32, String
from std_srvs.srv import Trigger

from robot_rl.ros import qos
from robot_rl.ros.diagnostics import ERROR, OK
from robot_rl.ros.node_base import RobotRLLifecycleNode, run_node
from robot_rl.teleop import Action, Arbiter, DeviceError, InputProcessor, TeleopDevice, TickResult
from robot_rl.teleop import make_device, make_input_processor
from robot_rl.teleop.protocol import ActionReplay, ProtocolError, SessionMode, load_source_episode, parse_mode

EPISODE_SERVICES = {Action.START: "episode/start", Action.SUCCESS: "episode/mark_success",
                    Action.FAILURE: "episode/mark_failure", Action.RESET: "episode/reset"}
SERVICE_WAIT_S = 3.0  # an operator request waits this long for its episode service to appear
REPLAY_SETTLE_S = 1.0  # after a replay's last action, success has this long to end the episode


def twist_vector(msg: TwistStamped) -> np.ndarray:
    lin, ang = msg.twist.linear, msg.twist.angular
    return np.array([lin.x, lin.y, lin.z, ang.x, ang.y, ang.z])


def twist_message(vector: np.ndarray, stamp: Any, frame_id: str) -> TwistStamped:
    msg = TwistStamped()
    msg.header.stamp, msg.header.frame_id = stamp, frame_id
    (msg.twist.linear.x, msg.twist.linear.y, msg.twist.linear.z,
     msg.twist.angular.x, msg.twist.angular.y, msg.twist.angular.z) = (float(v) for v in vector)
    return msg


class InterventionNode(RobotRLLifecycleNode):
    def __init__(self) -> None:
        super().__init__("intervention", hardware_id="teleop")
        self.device: TeleopDevice | None = None
        self.processor: InputProcessor | None = None
        self.arbiter: Arbiter | None = None
        self.timer: Any = None
        self.entities: list[Any] = []  # publishers, subscriptions, clients made in on_configure
        self.intervening: bool | None = None
        self.demonstrating: bool | None = None  # last value published on teleop/demo
        self.status_key: tuple[bool, str] | None = None
        self.pending_calls: list[tuple[Action, float]] = []  # operator requests waiting for their service
        self.mode = SessionMode.GUIDED
        self.replay: ActionReplay | None = None  # mode=replay: the recorded actions
        self.replay_ended_ticks = 0  # ticks since the replay's last action, in a running episode
        self.status = ""

    def on_configure(self, state: State) -> TransitionCallbackReturn:
        teleop, frame, policy = self.settings.teleop, self.settings.robot.base_frame, self.settings.policy
        self.frame_id = frame
        self.scale = np.array([policy.max_linear_speed] * 3 + [policy.max_angular_speed] * 3)
        device = make_device(teleop, self.settings.robot.control_hz, policy.max_linear_speed, policy.max_angular_speed)
        try:
            self.mode = parse_mode(teleop.mode)
            if self.mode is SessionMode.RETURN_EXPLORE and self.settings.robot.driver != "sim":
                raise ProtocolError("return_explore brings the simulator back to a recorded state; a real arm "
                                    "cannot be yet: use robot.driver=sim, or mode=guided after resetting the scene")
            if self.mode is SessionMode.REPLAY:
                episode = load_source_episode(teleop.source_path, teleop.source_group, teleop.source_episode)
                episode.check_scale([*self.scale, 1.0])
                self.replay = ActionReplay(episode.actions)
                self.get_logger().info(f"replaying episode {episode.index} of {episode.location}::{episode.group} "
                                       f"({len(episode)} steps)")
            device.open()
        except ProtocolError as err:
            return self.refuse(f"teleop.mode={teleop.mode}: {err}")
        except (DeviceError, ValueError) as err:
            self.get_logger().error(f"teleop device: {err}")
            self.diagnostics.report(ERROR, f"teleop device: {err}", device=teleop.device)
            return TransitionCallbackReturn.FAILURE
        self.get_logger().info(f"teleop device {teleop.device}:\n{device.help()}")
        self.device, self.processor = device, make_input_processor(device, teleop)
        self.arbiter = Arbiter(takeover="hold" if device.forces_hold else teleop.takeover,
                               handback_rate=teleop.handback_rate, control_hz=self.settings.robot.control_hz,
                               zero_timeout_s=teleop.zero_timeout_s, gated=True,
                               autonomous=self.mode is not SessionMode.DEMO,
                               ramp_on_resume=self.mode is not SessionMode.REPLAY)
        pub = self.create_publisher
        self.human_pub = pub(TwistStamped, "teleop/action", qos.COMMAND)
        self.human_gripper_pub = pub(Float32, "teleop/gripper", qos.COMMAND)
        self.intervening_pub = pub(Bool, "teleop/intervening", qos.LATCHED)
        self.demo_pub = pub(Bool, "teleop/demo", qos.LATCHED)
        self.command_pub = pub(TwistStamped, "command/request", qos.COMMAND)
        self.command_gripper_pub = pub(Float32, "command/request_gripper", qos.COMMAND)
        self.estop_pub = pub(Bool, "estop", qos.LATCHED)
        self.episode_clients: dict[Action, Any] = {
            action: self.create_client(Trigger, name) for action, name in EPISODE_SERVICES.items()}
        sub = self.create_subscription
        self.entities = [self.human_pub, self.human_gripper_pub, self.intervening_pub, self.demo_pub, self.command_pub,
                         self.command_gripper_pub, self.estop_pub, *self.episode_clients.values(),
                         sub(TwistStamped, "policy/action", self.on_policy_action, qos.COMMAND),
                         sub(Float32, "policy/gripper", self.on_policy_gripper, qos.COMMAND),
                         sub(PoseStamped, "robot/ee_pose", self.on_ee_pose, qos.SENSOR),
                         sub(JointState, "robot/state", self.on_robot_state, qos.SENSOR),
                         sub(PoseStamped, "sim/cube_pose", self.on_cube_pose, qos.SENSOR),
                         sub(String, "episode/status", self.on_episode_status, qos.LATCHED_EVERY_CHANGE)]
        self.publish_intervening(False)
        self.demonstrating = None
        self.publish_demo(self.device_demonstrates())
        return TransitionCallbackReturn.SUCCESS

    def on_activate(self, state: State) -> TransitionCallbackReturn:
        self.timer = self.create_timer(1.0 / self.settings.robot.control_hz, self.tick)
        return TransitionCallbackReturn.SUCCESS

    def on_deactivate(self, state: State) -> TransitionCallbackReturn:
        if self.timer is not None:
            self.destroy_timer(self.timer)
            self.timer = None
        self.publish_intervening(False)
        return TransitionCallbackReturn.SUCCESS

    def on_cleanup(self, state: State) -> TransitionCallbackReturn:
        if self.device is not None:
            self.device.close()
        for entity in self.entities:
            if isinstance(entity, Publisher):
                self.destroy_publisher(entity)
            elif isinstance(entity, Subscription):
                self.destroy_subscription(entity)
            else:
                self.destroy_client(entity)
        self.device = self.processor = self.arbiter = self.replay = None
        self.entities, self.intervening = [], None
        return TransitionCallbackReturn.SUCCESS

    def on_shutdown(self, state: State) -> TransitionCallbackReturn:
        self.on_deactivate(state)
        return self.on_cleanup(state)

    def destroy_node(self) -> None:
        if self.device is not None:
            self.device.close()  # gives the operator's terminal back its settings, also on Ctrl-C
        super().destroy_node()

    def tick(self) -> None:
        assert self.device is not None and self.processor is not None and self.arbiter is not None
        now = time.monotonic()
        result = self.arbiter.tick(now, self.processor.process(self.device.read(now)))
        stamp = self.get_clock().now().to_msg()
        self.publish_intervening(result.intervening)
        self.publish_demo(self.device_demonstrates())
        if result.human_twist is not None:
            self.human_pub.publish(twist_message(result.human_twist * self.scale, stamp, self.frame_id))
            self.human_gripper_pub.publish(Float32(data=float(result.human_gripper or 0.0)))
        if result.twist is not None:
            self.command_pub.publish(twist_message(result.twist * self.scale, stamp, self.frame_id))
        if result.gripper is not None:
            self.command_gripper_pub.publish(Float32(data=float(result.gripper)))
        if self.replay is not None and self.status == "running":
            self.replay_tick(stamp)
        for action in result.pressed:
            self.on_operator_action(action)
        self.call_pending()
        self.report(result)

    def device_demonstrates(self) -> bool:
        """Whole episodes are demonstrations: a demo session, or a scripted operator that says so."""
        return self.mode is SessionMode.DEMO or bool(getattr(self.device, "demonstrating", False))

    def replay_tick(self, stamp: Any) -> None:
        """mode=replay: the next recorded action stands in for the policy's; end the episode when they run out."""
        assert self.replay is not None and self.arbiter is not None
        if self.replay.done:
            self.replay_ended_ticks += 1
            if self.replay_ended_ticks == int(REPLAY_SETTLE_S * self.settings.robot.control_hz):
                self.get_logger().info("replay finished without success: marking the episode a failure")
                self.on_operator_action(Action.FAILURE)
        action = self.replay.next()
        executed = self.arbiter.on_policy_twist(action[:6].astype(np.float64))
        gripper = self.arbiter.on_policy_gripper(float(action[6]))
        if executed is not None:
            self.command_pub.publish(twist_message(executed * self.scale, stamp, self.frame_id))
        if gripper is not None:
            self.command_gripper_pub.publish(Float32(data=gripper))

    def on_policy_action(self, msg: TwistStamped) -> None:
        if self.timer is None or self.arbiter is None or self.device is None:
            return  # not active: nothing is forwarded
        proposal = twist_vector(msg)
        self.device.observe(policy_twist=proposal)
        if self.replay is not None:
            return  # the recorded actions drive (replay_tick)
        executed = self.arbiter.on_policy_twist(proposal / self.scale)
        if executed is not None:
            self.command_pub.publish(twist_message(executed * self.scale, msg.header.stamp,
                                                   msg.header.frame_id or self.frame_id))

    def on_policy_gripper(self, msg: Float32) -> None:
        if self.timer is None or self.arbiter is None or self.device is None:
            return
        self.device.observe(policy_gripper=float(msg.data))
        if self.replay is not None:
            return
        executed = self.arbiter.on_policy_gripper(float(msg.data))
        if executed is not None:
            self.command_gripper_pub.publish(Float32(data=executed))

    def on_ee_pose(self, msg: PoseStamped) -> None:
        if self.device is not None:
            p = msg.pose.position
            self.device.observe(ee_position=np.array([p.x, p.y, p.z]))

    def on_robot_state(self, msg: JointState) -> None:
        if self.device is not None and len(msg.position):
            self.device.observe(gripper_position=float(msg.position[-1]))  # the gripper joint comes last

    def on_cube_pose(self, msg: PoseStamped) -> None:
        if self.device is not None:
            p = msg.pose.position
            self.device.observe(cube_position=np.array([p.x, p.y, p.z]))

    def on_episode_status(self, msg: String) -> None:
        if msg.data == "running" and self.status != "running" and self.replay is not None:
            self.replay.restart()
            self.replay_ended_ticks = 0
        self.status = msg.data
        if self.arbiter is not None:
            self.arbiter.gated = msg.data != "running"
        if self.device is not None:
            self.device.observe(episode_status=msg.data)

    def on_operator_action(self, action: Action) -> None:
        self.get_logger().info(f"operator: {action.value}")
        if action in (Action.ESTOP, Action.ESTOP_CLEAR):
            self.estop_pub.publish(Bool(data=action is Action.ESTOP))
        elif action in self.episode_clients:
            self.pending_calls.append((action, time.monotonic() + SERVICE_WAIT_S))
            self.call_pending()

    def call_pending(self) -> None:
        """Call the episode services the operator asked for, waiting up to SERVICE_WAIT_S for each to appear."""
        waiting = []
        for action, deadline in self.pending_calls:
            client = self.episode_clients[action]
            if client.service_is_ready():
                client.call_async(Trigger.Request()).add_done_callback(self.on_episode_answer)
            elif time.monotonic() > deadline:
                self.get_logger().error(f"{EPISODE_SERVICES[action]} is not offered: is the episode node running?")
            else:
                waiting.append((action, deadline))
        self.pending_calls = waiting

    def on_episode_answer(self, future: Any) -> None:
        response = future.result()
        if response is not None and not response.success:
            self.get_logger().warning(f"episode service refused: {response.message}")

    def publish_intervening(self, intervening: bool) -> None:
        if self.device is not None and intervening != self.intervening:
            self.intervening = intervening
            self.intervening_pub.publish(Bool(data=intervening))

    def publish_demo(self, demonstrating: bool) -> None:
        if self.device is not None and demonstrating != self.demonstrating:
            self.demonstrating = demonstrating
            self.demo_pub.publish(Bool(data=demonstrating))

    def report(self, result: TickResult) -> None:
        assert self.arbiter is not None
        values = dict(mode=result.mode, session_mode=self.mode.value, intervening=result.intervening,
                      paused=result.paused, estop=result.estop, interventions=self.arbiter.interventions,
                      device=self.settings.teleop.device, healthy=result.health.ok)
        key = (result.health.ok, result.mode)
        if key != self.status_key:
            self.status_key = key
            if result.health.ok:
                self.diagnostics.report(OK, f"teleop healthy, {result.mode} in control", **values)
            else:
                self.get_logger().error(f"teleop unhealthy: {result.health.reason}")
                self.diagnostics.report(ERROR, f"teleop unhealthy: {result.health.reason}", **values)
        else:
            self.diagnostics.set_values(**values)


def main(args: list[str] | None = None) -> None:
    raise SystemExit(run_node(InterventionNode, args))


if __name__ == "__main__":
    main()
