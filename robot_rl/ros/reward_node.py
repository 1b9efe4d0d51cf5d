"""reward: scores the observation stream and publishes `reward` and `success`; success ends the episode.

| topic (relative) | type | QoS | |
|---|---|---|---|
| camera/<name>/color/image_raw (sub) | sensor_msgs/Image rgb8 | SENSOR | assembled as the policy server does |
| robot/state, robot/ee_pose (sub) | JointState, PoseStamped | SENSOR | state vector: robot_rl.policy.state |
| robot/success (sub) | std_msgs/Bool | SENSOR | reward.kind=sim_success: the simulator's ground truth |
| episode/status (sub) | std_msgs/String | LATCHED_EVERY_CHANGE | running = a new episode (the critic's anchor resets) |
| reward (pub) | std_msgs/Float32 | EVENTS | one per scored tick |
| success (pub) | std_msgs/Bool | EVENTS | debounced; the episode node ends a running episode on True |

`reward`/`success` are published RELIABLE (EVENTS): the episode node subscribes best-effort (SENSOR)
and the replay writer reliable (EVENTS), and a reliable publisher matches both. The node scores at
``robot.control_hz``; when the model is slower the timer lags and /diagnostics reports the rate the
model affords (``rate_hz``, ``inference_ms``, WARN below 90 % of the control rate). All scoring logic
is in ``robot_rl.reward.stream``.
"""
from __future__ import annotations

import time
from functools import partial

from std_msgs.msg import Bool, Float32, String

from robot_rl.perception import CameraFrame, FrameBuffers, ObservationAssembler
from robot_rl.config import ConfigError
from robot_rl.reward.interface import Observation, RewardError
from robot_rl.reward.stream import RewardStream, make_reward_model
from robot_rl.ros import qos
from robot_rl.ros.diagnostics import ERROR, OK, WARN
from robot_rl.ros.image_cdr import WireImage, subscribe_images
from robot_rl.ros.node_base import RobotRLNode, run_node
from robot_rl.ros.robot_state_input import RobotStateInput


class RewardNode(RobotRLNode):
    def __init__(self) -> None:
        super().__init__("reward", hardware_id="reward")
        s = self.settings
        self.kind = s.reward.kind
        cameras = list(s.cameras.names)
        try:
            model = make_reward_model(s.reward, camera=cameras[-1])
            self.stream = RewardStream(s.reward, model)
        except RewardError as err:  # a config mistake (no model file, empty goal): one line from run_node
            raise ConfigError(str(err)) from None
        self.frames = FrameBuffers(cameras)
        self.robot = RobotStateInput(self, s.robot.gripper_joint)
        self.assembler = ObservationAssembler(self.frames, self.robot.states, cameras, s.cameras.max_frame_age_s,
                                              s.cameras.policy_image_size)
        self.ground_truth: tuple[bool, float] | None = None
        self.reward_pub = self.create_publisher(Float32, "reward", qos.EVENTS)
        self.success_pub = self.create_publisher(Bool, "success", qos.EVENTS)
        sub = self.create_subscription
        if self.kind == "sim_success":
            sub(Bool, "robot/success", self.on_ground_truth, qos.SENSOR)
        else:
            for c in cameras:
                subscribe_images(self, f"camera/{c}/color/image_raw", partial(self.on_image, c), qos.SENSOR)
        sub(String, "episode/status", self.on_status, qos.LATCHED_EVERY_CHANGE)
        self.period = 1.0 / s.robot.control_hz
        self.ticks: list[float] = []
        self.inference_s = 0.0
        self.skipped = 0
        self.slow = False
        self.timer = self.create_timer(self.period, self.on_tick)
        self.diagnostics.report(OK, f"scoring with {self.kind} {getattr(model, 'version', '')}".strip(),
                                threshold=round(self.stream.threshold, 4))

    def now_s(self) -> float:
        return self.get_clock().now().nanoseconds * 1e-9

    def on_image(self, camera: str, msg: WireImage) -> None:
        try:
            self.frames.put(CameraFrame(camera, msg.rgb(), msg.stamp_s, self.now_s()))
        except ValueError as err:
            self.get_logger().error(f"camera {camera}: {err}", throttle_duration_sec=5.0)

    def on_ground_truth(self, msg: Bool) -> None:
        self.ground_truth = (bool(msg.data), self.now_s())

    def on_status(self, msg: String) -> None:
        if msg.data.strip().lower() == "running":
            self.stream.reset()

    def on_tick(self) -> None:
        now = self.now_s()
        start = time.perf_counter()
        if self.kind == "sim_success":
            if self.ground_truth is None or now - self.ground_truth[1] > self.settings.cameras.max_frame_age_s:
                self.skipped += 1
                return
            out = self.stream.tick_ground_truth(self.ground_truth[0])
        else:
            observation = self.assembler.assemble(now)
            if observation.stale:
                self.skipped += 1
                return
            try:
                out = self.stream.tick(Observation(observation.images, observation.state))  # type: ignore[union-attr]
            except RewardError as err:
                self.diagnostics.report(ERROR, str(err))
                return
        self.inference_s = 0.9 * self.inference_s + 0.1 * (time.perf_counter() - start) if self.ticks else \
            time.perf_counter() - start
        self.reward_pub.publish(Float32(data=float(out.reward)))
        self.success_pub.publish(Bool(data=bool(out.success)))
        self.report(now, out.score, out.success)

    def report(self, now: float, score: float, success: bool) -> None:
        self.ticks = [t for t in self.ticks if now - t < 2.0] + [now]
        rate = (len(self.ticks) - 1) / max(self.ticks[-1] - self.ticks[0], 1e-6) if len(self.ticks) > 2 else 0.0
        values = dict(rate_hz=round(rate, 2), inference_ms=round(self.inference_s * 1e3, 2), score=round(score, 4),
                      success=success, skipped_ticks=self.skipped, control_hz=self.settings.robot.control_hz)
        slow = len(self.ticks) > 5 and rate < 0.9 * self.settings.robot.control_hz
        if slow != self.slow:
            self.slow = slow
            message = (f"scoring at {rate:.1f} Hz, below the control rate (the rate the model affords here)" if slow
                       else f"scoring at the control rate with {self.kind}")
            self.diagnostics.report(WARN if slow else OK, message, **values)
        else:
            self.diagnostics.set_values(**values)


def main(args: list[str] | None = None) -> int:
    return run_node(RewardNode, args)


if __name__ == "__main__":
    raise SystemExit(main())
