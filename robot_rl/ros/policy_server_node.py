"""policy_server: the latest observation in, the actor's action out, weights hot-swapped from the learner.

| topic (relative) | type | QoS | |
|---|---|---|---|
| camera/<name>/color/image_raw (sub) | sensor_msgs/Image rgb8 | SENSOR | one per cameras.names |
| robot/state, robot/ee_pose (sub) | JointState, PoseStamped | SENSOR | state vector: robot_rl.policy.state |
| policy/weights (sub) | std_msgs/String JSON {version, path, sha256} | LATCHED | from the learner |
| policy/action (pub) | TwistStamped, base frame, m/s and rad/s | COMMAND | stamp = the observation's capture time |
| policy/gripper (pub) | std_msgs/Float32 in [-1 open, +1 closed] | COMMAND | |
| policy/weights_version (pub) | std_msgs/String JSON {version, path, sha256} | LATCHED | version -1 = seeded init |

Lifecycle: configure builds and warms the actor on ``policy.device`` (newest weights in
``policy.weights_dir`` if any); activate starts acting; deactivate stops; cleanup frees. With
``policy.trigger=frames`` a tick runs when every camera has a new frame (at most ``robot.control_hz``),
with ``timer`` on a control-rate timer. A state-only policy (``policy.model.use_images=false``)
subscribes to no camera and always acts on the timer, with the newest robot state. Per-stage latency (p50/p99/max, ms) is in the /diagnostics values.

Latency (``benchmarks/bench_policy_latency.py``; what was measured and kept):

- each frame is cropped and resized in its own callback, so a tick waits for the last camera's resize
  only, and the 900 KB message is released at once;
- glibc keeps freed frame buffers for reuse (``robot_rl.ros.process_memory``, every node) and the objects
  alive after configure are frozen out of the garbage collector (``robot_rl.policy.process``): a full
  collection of them took ~95 ms, at a moment no one picks; ``gc_full_collections`` and
  ``gc_pause_ms_max`` are on /diagnostics;
- deterministic actions run through a TorchScript trace of the actor (``robot_rl.policy.traced``);
- frames arrive as raw CDR bytes read with numpy (``robot_rl.ros.image_cdr``); that mostly saves the
  publishers' CPU (building and serializing a 640x480 ``Image`` in rclpy ~1 ms, ``encode_image``
  0.14 ms); here the node's CPU a tick and the end-to-end p50 stayed within run-to-run noise.
- on CUDA (measured on one H100 host, 16 cores): the observation is uploaded through pinned buffers and
  device tensors allocated once (a fresh ``pin_memory()`` a tick had a 14 ms p99), the deterministic
  actor replays as a CUDA graph (``policy.cuda_graphs``; inference p50 1.47 -> 0.17 ms), and
  ``policy.cpu_threads`` caps torch's and OpenCV's pools on every device (uncapped, the node used
  138 ms of CPU per 100 ms tick; capped, 6.9-7.5 ms). Publish -> action p50 7.5 -> 4.6-5.1 ms; the p99
  (~22 ms) is the receive stage's tail, the same with 320x240 frames.
- the actor normalises pixels in one multiply-add (``robot_rl.models.encoders``): node inference p50
  3.9-4.2 -> 3.2-3.3 ms on the 2-core CPU;
- this node's publishers and subscriptions have no rclpy default event handlers (``create_subscription``
  below): an executor pass 0.53 -> 0.17 ms, node CPU 13.2-14.1 -> 12.3 ms a tick; the latency windows are
  summarised in one percentile call (``robot_rl.policy.telemetry``, 2.5 -> 0.75 ms on the executor a second).
  Publish -> action over 1000 ticks on the 2-core VM: p50 13.1-13.3 -> 11.6 ms, p99 17.2 ms.
- the node spins on ``robot_rl.ros.lean_executor.LeanExecutor`` (subscriptions and timers called straight
  from the wait, no task or guard trigger per callback), frames are halved by exact 2x2 averages before a
  bilinear step (``crop_resize``, 0.46 -> 0.33-0.39 ms a frame), the action and gripper go out as
  hand-packed CDR (``robot_rl.ros.cdr``, publish stage 0.43 -> 0.27 ms) and the state vector is built in
  plain floats (``robot_rl.robot.transforms.rotation_entries``: the pose callback 52 -> 17 us). Interleaved 1000-tick runs on the 2-core VM:
  before 11.0-12.2 ms p50 (node CPU 10.7-11.5 ms a tick), after 9.2-10.1 ms (8.2-8.8 ms a tick).

Where a tick goes now on the 2-core CPU (median of 300 ticks on a quiet VM, ms after the stamp, from
timestamps in the callbacks and after the executor's wait; that run's p50 was 8.4 ms): the bench has
handed both frames to DDS at 1.9; the executor's wait returns at 2.3 (its thread does not get a core
while the bench publishes and Fast DDS's receive thread copies the frames; an earlier strace showed it
woken 0.3 ms after the first publish); robot state callbacks 2.5-2.7; the first frame's callback 3.6 and
the second's 4.4 (each: taking the 900 KB message from rclpy ~0.45-0.55, two memory-bound copies, and its
crop and resize ~0.35); inference 4.9-7.5; the action published at 7.7.

Measured and not kept: rclpy's EventsExecutor (with rclpy 9.1.2 this node served no callbacks and spun
a core; re-tested with a bare node: the same, and it ignored SIGTERM), ``torch.export`` (slower than
eager), ``torch.compile`` (115 s to compile on a busy 2-core CPU for ~0.6 ms a tick over the trace),
``RMW_FASTRTPS_PUBLICATION_MODE=ASYNCHRONOUS`` and a larger shared-memory ``maxMessageSize`` (no change);
Fast DDS with SHM only, UDP only or its default transports instead of LARGE_DATA (one-way delivery of two
frames within noise of each other); encoding each camera's
frame in its own callback as it arrives (the second frame was already waiting behind the first one's
encoding: p50 13.1 ms against 11.6); two torch threads (no faster at this model size); rclpy's
MultiThreadedExecutor (2 threads, image callbacks in a reentrant group, a lock around the tick) so the
second frame is taken while the first is resized (interleaved runs of 300 ticks: p50 18.4 and 33.7 ms
against 13.7 and 15.5, node CPU 23-26 against 14.5 ms a tick); the two cameras' encoders in parallel,
forked in the trace (``torch.jit.fork``) or on a worker thread (4.06 and 4.28 ms against 4.15 and 3.98: on
this VM two threads of convolutions take as long as one after the other, and two torch threads took 8.6
ms); oneDNN's prepacked weights (``torch.jit.optimize_for_inference`` on a frozen trace: 2.5 against 3.8
ms back to back, but 4.1 against 4.1 ms called every 100 ms, and freezing would need a retrace per weights
swap); the node at nice -10 or alone on one core, its DDS threads at nice +5 under the executor's thread, and
glibc's thresholds in the publishing process (no change in any); the first frames' crop and resize on a
worker thread while the executor takes the last frame (assemble stage 0.6 -> 1.1 ms: waiting for the
worker's result cost more than the overlap saved); the two cameras' conv backbones as one grouped
convolution per layer (stacked inputs, weights concatenated on each call so hot swaps still apply: the same
outputs, but the actor's cold act stayed at 3.3-3.7 ms, although two bare conv stacks with grouped weights
held as parameters had gone 2.9-3.2 -> 2.2-2.5 ms). What a tick cost on the 2-core CPU before the
LeanExecutor (py-spy over 200 quiet ticks, this process): inference ~30% of the node's CPU, the rclpy
executor's wait-set building and message takes ~38% (the wait included), crop and resize ~10%. Inference runs
cold: the same traced actor takes 2.05 ms when called back to back and 3.5-4.0 ms when called every
10-100 ms, sleeping or busy in between (measured in one process, one thread); the tick pays the cold figure.
"""
from __future__ import annotations

import time
from functools import partial
from typing import Any

import cv2
import numpy as np
from geometry_msgs.msg import TwistStamped
from rclpy.event_handler import PublisherEventCallbacks, SubscriptionEventCallbacks
from rclpy.lifecycle import State, TransitionCallbackReturn
from rclpy.publisher import Publisher
from std_msgs.msg import Float32, String

from robot_rl.models.weights import WeightsError, WeightsInfo, latest_weights
from robot_rl.perception import CameraFrame, FrameBuffers, ImageFormatError, ObservationAssembler
from robot_rl.perception.image import crop_resize
from robot_rl.policy import FrameSetTrigger, LatencyStats
from robot_rl.policy.process import GcPauses, freeze_startup_objects
from robot_rl.policy.runner import DeviceError, PolicyRunner, describe_device
from robot_rl.ros import qos
from robot_rl.ros.cdr import TwistStampedEncoder, encode_float32
from robot_rl.ros.diagnostics import ERROR, OK, WARN
from robot_rl.ros.image_cdr import WireImage, subscribe_images
from robot_rl.ros.lean_executor import LeanExecutor
from robot_rl.ros.node_base import RobotRLLifecycleNode, run_node
from robot_rl.ros.robot_state_input import RobotStateInput

STATS_PERIOD_S = 1.0


class PolicyServerNode(RobotRLLifecycleNode):
    def __init__(self) -> None:
        super().__init__("policy_server", hardware_id="policy")
        self.runner: PolicyRunner | None = None
        self.entities: list[Any] = []
        self.timer: Any = None
        self.stats_timer: Any = None
        self.acting = False
        self.published_version: int | None = None
        self.counts = {"ticks": 0, "stale_ticks": 0, "nonfinite_actions": 0, "deadline_misses": 0}
        self.status = (OK, "")
        self.gc_pauses: GcPauses | None = None
        self.device_label = ""
        p = self.settings.policy
        self.twist_encoder = TwistStampedEncoder(self.settings.robot.base_frame)
        self.twist_scale = np.array([p.max_linear_speed] * 3 + [p.max_angular_speed] * 3)

    # rclpy gives every publisher and subscription default event handlers (incompatible QoS, incompatible type),
    # each a waitable that the executor puts back into its wait set on every wake-up: in a lifecycle node with
    # this node's publishers, subscriptions and timers, a pass of rclpy's SingleThreadedExecutor took 0.53 ms
    # with them and 0.17 ms without (2-core CPU), and a tick waits for one or two passes. The peers (camera,
    # sim and safety nodes, rclcpp drivers) keep theirs, and a QoS mismatch is reported by both ends, so it
    # still reaches the log.
    def create_subscription(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("event_callbacks", SubscriptionEventCallbacks(use_default_callbacks=False))
        return super().create_subscription(*args, **kwargs)

    def create_publisher(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("event_callbacks", PublisherEventCallbacks(use_default_callbacks=False))
        return super().create_publisher(*args, **kwargs)

    # --- lifecycle ---------------------------------------------------------------------------------

    def on_configure(self, state: State) -> TransitionCallbackReturn:
        s = self.settings
        cameras, period = list(s.cameras.names), 1.0 / s.robot.control_hz
        try:
            self.runner = PolicyRunner(s.policy.model, cameras, s.cameras.policy_image_size, s.policy.device,
                                       s.policy.deterministic, s.policy.seed, s.policy.cpu_threads,
                                       s.policy.cuda_graphs)
            cv2.setNumThreads(s.policy.cpu_threads)  # process-wide, for the per-frame crop and resize
            newest = latest_weights(s.policy.weights_dir)
            if newest is not None:
                self.runner.load_now(newest)
            warm_s = self.runner.warmup(s.policy.warmup_steps)
        except (DeviceError, WeightsError, ValueError) as err:
            self.get_logger().error(f"configure failed: {err}")
            self.release()
            return TransitionCallbackReturn.FAILURE
        self.device_label = describe_device(self.runner.device)  # once: /diagnostics repeats it every second
        graph = ", CUDA graph" if self.runner.graphed else ""
        self.get_logger().info(f"actor on {self.device_label}{graph}, "
                               f"weights v{self.runner.weights.version}, "
                               f"warm tick {warm_s * 1000:.1f} ms")
        self.frames = FrameBuffers(cameras)
        cameras = self.runner.cameras  # [] for a state-only policy: no frames to wait for
        self.on_frames = s.policy.trigger == "frames" and bool(cameras)
        self.robot = RobotStateInput(self, s.robot.gripper_joint)
        self.assembler = ObservationAssembler(self.frames, self.robot.states, cameras, s.cameras.max_frame_age_s,
                                              s.cameras.policy_image_size)
        self.trigger = FrameSetTrigger(cameras or list(s.cameras.names), rate_hz=s.robot.control_hz)
        self.latency = LatencyStats()
        self.latency.summary()  # numpy's first percentile call in a process takes ~20 ms: here, not in the loop
        self.deadline_s = period
        pub, sub = self.create_publisher, self.create_subscription
        self.action_pub = pub(TwistStamped, "policy/action", qos.COMMAND)
        self.gripper_pub = pub(Float32, "policy/gripper", qos.COMMAND)
        self.version_pub = pub(String, "policy/weights_version", qos.LATCHED)
        self.entities = [self.action_pub, self.gripper_pub, self.version_pub,
                         *self.robot.subscriptions,
                         sub(String, "policy/weights", self.on_weights, qos.LATCHED),
                         *[subscribe_images(self, f"camera/{c}/color/image_raw",
                                            partial(self.on_image, c), qos.SENSOR)
                           for c in cameras]]
        self.stats_timer = self.create_timer(STATS_PERIOD_S, self.report_stats)
        self.publish_version()
        freeze_startup_objects()  # after the actors exist: no full collection ever scans them in a tick again
        self.gc_pauses = GcPauses()
        return TransitionCallbackReturn.SUCCESS

    def on_activate(self, state: State) -> TransitionCallbackReturn:
        self.timer = self.create_timer(1.0 / self.settings.robot.control_hz, self.on_timer)
        self.acting = True
        return TransitionCallbackReturn.SUCCESS

    def on_deactivate(self, state: State) -> TransitionCallbackReturn:
        self.acting = False
        if self.timer is not None:
            self.destroy_timer(self.timer)
            self.timer = None
        return TransitionCallbackReturn.SUCCESS

    def on_cleanup(self, state: State) -> TransitionCallbackReturn:
        self.release()
        return TransitionCallbackReturn.SUCCESS

    on_shutdown = on_cleanup

    def release(self) -> None:
        self.acting = False
        for entity in self.entities:
            if isinstance(entity, Publisher):
                self.destroy_publisher(entity)
            else:
                self.destroy_subscription(entity)
        self.entities = []
        for timer in (self.timer, self.stats_timer):
            if timer is not None:
                self.destroy_timer(timer)
        self.timer = self.stats_timer = None
        if self.runner is not None:
            self.runner.close()
            self.runner = None
        if self.gc_pauses is not None:
            self.gc_pauses.close()
            self.gc_pauses = None

    def destroy_node(self) -> None:
        self.release()
        super().destroy_node()

    # --- inputs ------------------------------------------------------------------------------------

    def now_s(self) -> float:
        return self.get_clock().now().nanoseconds * 1e-9

    def on_image(self, camera: str, msg: WireImage) -> None:
        start, now = time.perf_counter(), self.now_s()
        try:
            # cropped and resized as it arrives: a tick then waits for the last camera's resize only, and the
            # 900 KB message is released at once (the assembler passes an image of the policy's size through)
            image = crop_resize(msg.rgb(), self.settings.cameras.policy_image_size)
            frame = CameraFrame(camera, image, msg.stamp_s, now)
            self.frames.put(frame)
        except (ImageFormatError, ValueError) as err:
            self.get_logger().error(f"camera {camera}: {err}", throttle_duration_sec=5.0)
            return
        if self.acting and self.on_frames and self.trigger.on_frame(camera, frame.capture_time_s, now):
            self.tick(now, start)

    def on_weights(self, msg: String) -> None:
        assert self.runner is not None  # subscriptions exist only between configure and cleanup
        try:
            self.runner.request(WeightsInfo.from_json(msg.data))
        except WeightsError as err:
            self.set_status(WARN, str(err))

    # --- the tick ----------------------------------------------------------------------------------

    def on_timer(self) -> None:
        start, now = time.perf_counter(), self.now_s()
        if not self.on_frames or self.trigger.due(now):
            self.tick(now, start)

    def tick(self, now: float, start: float) -> None:
        """Act on the newest observation; ``start`` is when the callback that triggered it began (perf_counter)."""
        assert self.runner is not None
        observation = self.assembler.assemble(now)
        if observation.stale:
            self.counts["stale_ticks"] += 1
            self.set_status(WARN, observation.describe())  # type: ignore[union-attr]
            self.get_logger().warning(observation.describe(), throttle_duration_sec=5.0)  # type: ignore[union-attr]
            return
        self.trigger.mark_tick(now)
        assembled = time.perf_counter()
        action = self.runner.act(observation.images, observation.state)  # type: ignore[union-attr]
        self.counts["ticks"] += 1
        if not action.finite:
            self.counts["nonfinite_actions"] += 1
            self.set_status(ERROR, f"weights v{action.version} produced a non-finite action; not published")
            return
        frames = observation.frames.values()  # type: ignore[union-attr]
        # the observation's capture time: its oldest frame, or the robot state's time when state-only
        obs_stamp = min((f.capture_time_s for f in frames), default=observation.state_time_s)  # type: ignore[union-attr]
        published = time.perf_counter()
        self.publish_action(obs_stamp, action.twist, action.gripper)
        done = time.perf_counter()
        end_to_end = (now - obs_stamp) + (done - start)
        received = max((f.receive_time_s for f in frames), default=obs_stamp)
        for stage, seconds in (("receive", received - obs_stamp),
                               ("assemble", assembled - start), ("preprocess", action.preprocess_s),
                               ("inference", action.inference_s), ("publish", done - published),
                               ("end_to_end", end_to_end)):
            self.latency.record(stage, seconds)
        if end_to_end > self.deadline_s:
            self.counts["deadline_misses"] += 1
        if action.version != self.published_version:
            self.publish_version()
        if self.status[0] != OK:
            self.set_status(OK, "acting")

    def publish_action(self, obs_stamp: float, twist: np.ndarray, gripper: float) -> None:
        # serialized here (robot_rl.ros.cdr): building the messages in Python and converting them took ~0.41 ms
        scaled = (twist * self.twist_scale).tolist()
        self.action_pub.publish(self.twist_encoder.encode(obs_stamp, scaled[:3], scaled[3:]))
        self.gripper_pub.publish(encode_float32(float(gripper)))

    def publish_version(self) -> None:
        assert self.runner is not None
        info = self.runner.weights
        self.version_pub.publish(String(data=info.to_json()))
        self.published_version = info.version

    # --- diagnostics -------------------------------------------------------------------------------

    def set_status(self, level: bytes, message: str) -> None:
        if (level, message) != self.status:
            self.status = (level, message)
            self.diagnostics.report(level, message)

    def report_stats(self) -> None:
        if self.runner is None:
            return
        for message in self.runner.drain_messages():
            self.get_logger().info(message)
            if message.startswith("rejected"):
                self.set_status(WARN, message)
        st = self.runner.status()
        values = {k: round(v, 3) for k, v in self.latency.summary().items() if np.isfinite(v)}
        if self.gc_pauses is not None:
            values["gc_full_collections"] = self.gc_pauses.collections[2]
            values["gc_pause_ms_max"] = round(self.gc_pauses.max_pause_s * 1000.0, 3)
        self.diagnostics.set_values(weights_version=st.version, loads_ok=st.loads_ok, loads_rejected=st.loads_rejected,
                                    last_load_error=st.last_error, device=self.device_label,
                                    cuda_graph=self.runner.graphed, **self.counts, **values)


def main(args: list[str] | None = None) -> int:
    return run_node(PolicyServerNode, args, executor_factory=LeanExecutor)


if __name__ == "__main__":
    raise SystemExit(main())
