"""replay_writer: every step of the graph, written once to the Zarr replay store.

| topic (relative) | type | QoS | |
|---|---|---|---|
| camera/<name>/color/image_raw (sub) | sensor_msgs/Image rgb8 | SENSOR | one per cameras.names; crop+resize to policy_image_size |
| robot/state, robot/ee_pose (sub) | JointState, PoseStamped | SENSOR | state vector: robot_rl.policy.state |
| robot/command, robot/gripper_command (sub) | TwistStamped, Float32 | COMMAND | the executed action |
| policy/action, policy/gripper (sub) | TwistStamped, Float32 | COMMAND | the policy's proposal |
| teleop/action, teleop/gripper (sub) | TwistStamped, Float32 | COMMAND | the operator's action |
| teleop/intervening (sub) | std_msgs/Bool | LATCHED | |
| teleop/demo (sub) | std_msgs/Bool | LATCHED | the operator demonstrates the whole episode: source=demo |
| sim/cube_pose (sub) | PoseStamped | SENSOR | simulator only: the cube position at an episode's start goes into its metadata |
| reward, success (sub) | Float32, Bool | EVENTS | |
| episode/status (sub) | std_msgs/String | LATCHED_EVERY_CHANGE | running opens, success/failure/timeout commit, resetting aborts |

Store and group come from ``replay.path`` / ``replay.group``; the ``demo`` parameter marks every step
as a demonstration. ``teleop.mode`` tags the session's episodes: demo marks every step a
demonstration, replay tags the steps nobody took over source=replay, and every episode's metadata
carries ``mode`` (and ``source``: the recorded episode replay and return_explore start from).
Step assembly and episode logic live in ``robot_rl.replay.recorder``; commits run on a background
thread so compression never delays the control-rate timer. On SIGINT/SIGTERM the writer stops recording
steps, still takes for ``IN_FLIGHT_S`` what was on its way (an episode end commits), then finishes the
pending commit; an episode without an end is dropped.
"""
from __future__ import annotations

from functools import partial
from typing import Any

from geometry_msgs.msg import PoseStamped, TwistStamped
from std_msgs.msg import Bool, Float32, String

from robot_rl.perception import CameraFrame, FrameBuffers, ObservationAssembler
from robot_rl.policy.state import STATE_DIM
from robot_rl.replay import EpisodeWriter, GroupInfo, ReplayError
from robot_rl.replay.recorder import ACTION_NAMES, StepRecorder
from robot_rl.ros import qos
from robot_rl.ros.diagnostics import ERROR, OK, WARN
from robot_rl.ros.image_cdr import WireImage, subscribe_images
from robot_rl.ros.node_base import IN_FLIGHT_S, RobotRLNode, run_node
from robot_rl.ros.robot_state_input import RobotStateInput
from robot_rl.teleop.protocol import SessionMode, autonomous_source, parse_mode


class ReplayWriterNode(RobotRLNode):
    def __init__(self) -> None:
        super().__init__("replay_writer", hardware_id="replay")
        s = self.settings
        mode = parse_mode(s.teleop.mode)
        self.demo = bool(self.declare_parameter("demo", False).value) or mode is SessionMode.DEMO
        session: dict[str, Any] = {"mode": mode.value}
        if mode.needs_source:
            session["source"] = {"path": s.teleop.source_path, "group": s.teleop.source_group,
                                 "episode": s.teleop.source_episode, "step": s.teleop.return_step}
        cameras = list(s.cameras.names)
        size = s.cameras.policy_image_size
        scale = [s.policy.max_linear_speed] * 3 + [s.policy.max_angular_speed] * 3 + [1.0]
        info = GroupInfo(camera_names=cameras, image_size=(size, size), state_dim=STATE_DIM,
                         action_dim=len(ACTION_NAMES), task=s.replay.task, goal=s.replay.goal, robot=s.robot.name,
                         control_hz=s.robot.control_hz,
                         calibration={c: s.cameras.devices[c].calibration for c in cameras if c in s.cameras.devices},
                         action_names=list(ACTION_NAMES), action_scale=scale)
        self.writer = EpisodeWriter(s.replay.path, s.replay.group, info, program="replay_writer", background=True)
        self.frames = FrameBuffers(cameras)
        self.robot = RobotStateInput(self, s.robot.gripper_joint)
        assembler = ObservationAssembler(self.frames, self.robot.states, cameras, s.cameras.max_frame_age_s, size)
        self.recorder = StepRecorder(self.writer, assembler, scale, s.cameras.max_frame_age_s, demo=self.demo,
                                     source=autonomous_source(mode), metadata=session)
        sub = self.create_subscription
        twist = {"robot/command": "command", "policy/action": "policy", "teleop/action": "human"}
        grip = {"robot/gripper_command": "command", "policy/gripper": "policy", "teleop/gripper": "human"}
        self.subs = [
            *[subscribe_images(self, f"camera/{c}/color/image_raw", partial(self.on_image, c), qos.SENSOR,
                               partial(self.on_bad_image, c)) for c in cameras],
            *[sub(TwistStamped, t, lambda m, w=w: self.on_twist(w, m), qos.COMMAND) for t, w in twist.items()],
            *[sub(Float32, t, lambda m, w=w: self.recorder.set_gripper(w, m.data), qos.COMMAND) for t, w in grip.items()],
            sub(Bool, "teleop/intervening", lambda m: self.recorder.set_intervening(m.data), qos.LATCHED),
            sub(Bool, "teleop/demo", lambda m: self.recorder.set_demo(m.data), qos.LATCHED),
            sub(PoseStamped, "sim/cube_pose", self.on_cube_pose, qos.SENSOR),
            sub(Float32, "reward", lambda m: self.recorder.set_reward(m.data), qos.EVENTS),
            sub(Bool, "success", self.on_success, qos.EVENTS),
            sub(String, "episode/status", self.on_status, qos.LATCHED_EVERY_CHANGE),
        ]
        self.timer = self.create_timer(1.0 / s.robot.control_hz, self.on_tick)
        self.diagnostics.report(OK, f"writing {s.replay.path}::{s.replay.group}",
                                committed_episodes=self.writer.num_episodes, committed_steps=self.writer.num_steps)

    def now_s(self) -> float:
        return self.get_clock().now().nanoseconds * 1e-9

    def on_image(self, camera: str, msg: WireImage) -> None:
        try:
            self.frames.put(CameraFrame(camera, msg.rgb(), msg.stamp_s, self.now_s()))
        except ValueError as err:
            self.on_bad_image(camera, err)

    def on_bad_image(self, camera: str, err: ValueError) -> None:
        self.recorder.counts["bad_images"] += 1
        self.get_logger().error(f"camera {camera}: {err}", throttle_duration_sec=5.0)

    def on_cube_pose(self, msg: PoseStamped) -> None:
        p = msg.pose.position
        self.recorder.set_context("cube_position", [p.x, p.y, p.z])

    def on_twist(self, which: str, msg: TwistStamped) -> None:
        lin, ang = msg.twist.linear, msg.twist.angular
        self.recorder.set_twist(which, [lin.x, lin.y, lin.z], [ang.x, ang.y, ang.z], self.now_s())

    def on_success(self, msg: Bool) -> None:
        self.recorder.counts["success_msgs" if msg.data else "failure_msgs"] += 1

    def on_status(self, msg: String) -> None:
        try:
            event = self.recorder.set_status(msg.data)
        except ReplayError as err:
            self.diagnostics.report(ERROR, f"commit failed: {err}")
            return
        if event:
            self.get_logger().info(f"episode/status {msg.data}: {event}")

    def on_tick(self) -> None:
        try:
            outcome = self.recorder.tick(self.now_s())
        except (ReplayError, OSError) as err:
            self.diagnostics.report(ERROR, f"replay write failed: {err}")
            return
        counts = self.recorder.counts
        values = dict(counts, committed_episodes=self.writer.num_episodes, committed_steps=self.writer.num_steps,
                      episode_steps=self.writer.episode_length, status=self.recorder.status,
                      late_steps=counts["late_observation"] + counts["late_action"])
        if outcome.startswith("late"):
            self.diagnostics.report(WARN, f"step dropped: {outcome.replace('_', ' ')}", **values)
        elif outcome == "recorded" and self.writer.episode_length == 1:
            self.diagnostics.report(OK, f"recording episode {self.writer.num_episodes}", **values)
        else:
            self.diagnostics.set_values(**values)

    def destroy_node(self) -> None:
        self.writer.close()  # finishes a pending commit; an open episode is dropped, never half-written
        super().destroy_node()


def main(args: list[str] | None = None) -> int:
    return run_node(ReplayWriterNode, args, drain_s=IN_FLIGHT_S)


if __name__ == "__main__":
    raise SystemExit(main())
