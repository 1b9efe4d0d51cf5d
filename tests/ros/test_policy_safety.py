"""policy_server + safety on a real ROS 2 graph: every tick answered, holds, clips, estop, hot-swapped weights."""
from __future__ import annotations

import json
import math
import os
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch
from diagnostic_msgs.msg import DiagnosticArray
from geometry_msgs.msg import PoseStamped, TwistStamped
from sensor_msgs.msg import Image, JointState
from std_msgs.msg import Bool, Float32, String

from robot_rl.config import load_config, to_object
from robot_rl.models.actor import Actor
from robot_rl.models.weights import WeightsInfo, save_weights
from robot_rl.ros import qos
from tests.ros_harness import NodeProcesses, RosProbe, wait_until

pytestmark = pytest.mark.ros

NS = "/robot_rl"
SETTINGS = to_object(load_config("sim"))
CAMERAS = SETTINGS.cameras.names
PERIOD = 1.0 / SETTINGS.robot.control_hz
BASE = SETTINGS.robot.base_frame
TO_SAFETY = [("command/request", "policy/action"), ("command/request_gripper", "policy/gripper")]
DOWN = (1.0, 0.0, 0.0, 0.0)  # tool z axis pointing down ([x, y, z, w]: pi about x)


def set_stamp(header: object, t: float) -> None:
    header.stamp.sec, header.stamp.nanosec = divmod(round(t * 1e9), 1_000_000_000)  # type: ignore[attr-defined]


def stamp_of(msg: object) -> float:
    stamp = msg.header.stamp  # type: ignore[attr-defined]
    return float(stamp.sec) + stamp.nanosec * 1e-9


class Sensors:
    """Publishes images (every camera, same stamp), robot/state and robot/ee_pose at 10 Hz on a thread."""

    def __init__(self, probe: RosProbe, position: tuple[float, float, float] = (0.45, 0.0, 0.2),
                 images: bool = True) -> None:
        self.image_pubs = {c: probe.publisher(Image, f"{NS}/camera/{c}/color/image_raw", qos.SENSOR)
                           for c in CAMERAS} if images else {}
        self.state_pub = probe.publisher(JointState, f"{NS}/robot/state", qos.SENSOR)
        self.pose_pub = probe.publisher(PoseStamped, f"{NS}/robot/ee_pose", qos.SENSOR)
        self.position = position
        self.stamps: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        pixels = np.random.default_rng(0).integers(0, 255, (120, 160, 3), dtype=np.uint8)
        self.image = Image(height=120, width=160, encoding="rgb8", step=160 * 3, data=pixels.tobytes())

    def __enter__(self) -> Sensors:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=2.0)

    def _run(self) -> None:
        next_t = time.monotonic()
        while not self._stop.is_set():
            now = time.time()
            joints = JointState(name=[*SETTINGS.robot.joint_names, SETTINGS.robot.gripper_joint],
                                position=[0.0] * (len(SETTINGS.robot.joint_names) + 1))
            set_stamp(joints.header, now)
            pose = PoseStamped()
            set_stamp(pose.header, now)
            pose.header.frame_id = BASE
            pose.pose.position.x, pose.pose.position.y, pose.pose.position.z = self.position
            o = pose.pose.orientation
            o.x, o.y, o.z, o.w = DOWN
            self.state_pub.publish(joints)
            self.pose_pub.publish(pose)
            for publisher in self.image_pubs.values():
                set_stamp(self.image.header, now)
                publisher.publish(self.image)
            if self.image_pubs:
                self.stamps.append(now)
            next_t += PERIOD
            self._stop.wait(max(0.0, next_t - time.monotonic()))


def diagnostics_values(arrays: list[DiagnosticArray], node: str) -> dict[str, str]:
    values: dict[str, str] = {}
    for array in arrays:
        for status in array.status:
            if status.name == node:
                values.update({kv.key: kv.value for kv in status.values})
    return values


def diagnostics_messages(arrays: list[DiagnosticArray], node: str) -> list[str]:
    return [s.message for a in arrays for s in a.status if s.name == node]


def twist_values(msg: TwistStamped) -> np.ndarray:
    t = msg.twist
    return np.array([t.linear.x, t.linear.y, t.linear.z, t.angular.x, t.angular.y, t.angular.z])


def kill(node_processes: NodeProcesses, supervisor: object) -> float:
    """SIGKILL a node (a crash, not a shutdown); the harness then no longer owns it. Returns the kill time."""
    process = supervisor.processes[0]  # type: ignore[attr-defined]
    killed_at = time.time()
    os.kill(process.popen.pid, signal.SIGKILL)
    process.popen.wait(timeout=5.0)
    node_processes.supervisors.remove(supervisor)  # type: ignore[arg-type]
    supervisor.shutdown(grace_s=0.1, term_s=0.1)  # type: ignore[attr-defined]
    return killed_at


def test_every_tick_gets_an_action_and_a_killed_policy_server_makes_safety_hold(
        node_processes: NodeProcesses, ros_probe: RosProbe, tmp_path: Path) -> None:
    # frame age 0.5 s: a 2-core CI machine can stall a process ~0.35 s; the test is about every tick answered
    overrides = (f"run_dir={tmp_path} policy.device=cpu safety.command_timeout_s={1.5 * PERIOD} "
                 "cameras.max_frame_age_s=0.5")
    policy = node_processes.start("policy_server", parameters={"overrides": overrides})
    node_processes.start("safety", parameters={"overrides": overrides}, remappings=TO_SAFETY)
    ros_probe.wait_for_nodes({f"{NS}/policy_server", f"{NS}/safety"}, timeout_s=30.0)
    # The probe keeps every message (EVENTS: reliable, depth 50): with the nodes' depth 1, a probe whose executor
    # fell ~0.2 s behind on a loaded machine kept only the newest action and two answered ticks looked unanswered.
    actions = ros_probe.subscribe(TwistStamped, f"{NS}/policy/action", qos.EVENTS)
    grippers = ros_probe.subscribe(Float32, f"{NS}/policy/gripper", qos.EVENTS)
    commands = ros_probe.subscribe(TwistStamped, f"{NS}/robot/command", qos.EVENTS)
    version = ros_probe.wait_for_message(String, f"{NS}/policy/weights_version", 30.0, qos.LATCHED)
    assert json.loads(version.data)["version"] == -1  # seeded initial weights: no learner yet

    with Sensors(ros_probe) as sensors:
        wait_until(lambda: len(actions) > 0, 30.0, "the first policy/action")
        first = len(sensors.stamps)
        time.sleep(30 * PERIOD)
        last = len(sensors.stamps) - 2  # the newest may still be in flight
        answered = [stamp_of(a) for a in actions]
        counts = [sum(abs(s - stamp) < 1e-6 for s in answered) for stamp in sensors.stamps[first:last]]
        # Never two actions for one observation. Frames travel best-effort, newest-only (qos.SENSOR): when a
        # 2-core CI machine stalls the node past a frame period, that frame is rightly dropped, not answered
        # late; seen once in ~5 fresh-clone runs, so one such tick is allowed, and only one.
        assert set(counts) <= {0, 1} and counts.count(0) <= 1, (str(counts), node_processes.log("policy_server")[-3000:])
        assert all(a.header.frame_id == BASE for a in actions)
        assert len(grippers) >= last - first and all(-1.0 <= g.data <= 1.0 for g in grippers)
        moving = [c for c in commands if np.any(twist_values(c))]
        assert moving, "safety never forwarded the policy's action"

        killed_at = kill(node_processes, policy)
        wait_until(lambda: any(stamp_of(c) > killed_at + 3 * PERIOD for c in commands), 5.0, "commands after kill")
    after = [c for c in commands if stamp_of(c) > killed_at]
    moving_after = [c for c in after if np.any(twist_values(c))]
    # Each command is executed for one period: at most 2 moving commands = the arm held within 2 periods.
    assert len(moving_after) <= 2, [stamp_of(c) - killed_at for c in moving_after]
    held = [c for c in after if not np.any(twist_values(c))]
    assert held and stamp_of(held[0]) - killed_at <= 2 * PERIOD + 0.5 * PERIOD + 0.05
    assert all(not np.any(twist_values(c)) for c in after if stamp_of(c) > stamp_of(held[0]))


class Requests:
    """Sends command/request at 20 Hz (fresh stamps) with whatever twist ``self.twist`` holds."""

    def __init__(self, probe: RosProbe) -> None:
        self.pub = probe.publisher(TwistStamped, f"{NS}/command/request", qos.COMMAND)
        self.gripper_pub = probe.publisher(Float32, f"{NS}/command/request_gripper", qos.COMMAND)
        self.twist = np.zeros(6)
        self.gripper = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            msg = TwistStamped()
            set_stamp(msg.header, time.time())
            msg.header.frame_id = BASE
            v = [float(x) for x in self.twist]
            msg.twist.linear.x, msg.twist.linear.y, msg.twist.linear.z = v[:3]
            msg.twist.angular.x, msg.twist.angular.y, msg.twist.angular.z = v[3:]
            self.pub.publish(msg)
            self.gripper_pub.publish(Float32(data=self.gripper))

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2.0)


def settle(commands: list[TwistStamped], condition: Callable[[np.ndarray], bool], what: str,
           ticks: int = 4) -> list[np.ndarray]:
    """Wait for ``ticks`` consecutive robot/command messages that satisfy ``condition``; return them."""
    def ok() -> bool:
        recent = commands[-ticks:]
        return len(recent) == ticks and all(condition(twist_values(c)) for c in recent)
    wait_until(ok, 5.0, lambda: f"{what}; last: {[twist_values(c).round(4).tolist() for c in commands[-ticks:]]}")
    return [twist_values(c) for c in commands[-ticks:]]


def test_safety_clips_to_the_box_never_forwards_nan_and_holds_on_estop_until_cleared(
        node_processes: NodeProcesses, ros_probe: RosProbe, tmp_path: Path) -> None:
    s = SETTINGS.safety
    edge_x = s.workspace_max[0] - 0.002  # 2 mm inside the box's +x face
    node_processes.start("safety", parameters={"overrides": f"run_dir={tmp_path}"})
    ros_probe.wait_for_nodes({f"{NS}/safety"}, timeout_s=30.0)
    commands = ros_probe.subscribe(TwistStamped, f"{NS}/robot/command", qos.COMMAND)
    gripper = ros_probe.subscribe(Float32, f"{NS}/robot/gripper_command", qos.COMMAND)
    diagnostics = ros_probe.subscribe(DiagnosticArray, "/diagnostics", qos.EVENTS)
    estop = ros_probe.publisher(Bool, f"{NS}/estop", qos.LATCHED)
    requests = Requests(ros_probe)
    try:
        with Sensors(ros_probe, position=(edge_x, 0.0, 0.2), images=False):
            wait_until(lambda: len(commands) > 3, 20.0, "robot/command")
            # out of the box in +x, inside in y: x is clipped to what reaches the face in one period, y passes
            requests.twist = np.array([0.1, 0.05, 0.0, 0.0, 0.0, 0.0])
            recent = settle(commands, lambda v: abs(v[1] - 0.05) < 1e-9, "the y motion to pass")
            assert all(0.0 <= v[0] <= 0.002 / PERIOD + 1e-9 for v in recent), recent
            # motion back into the box is not clipped
            requests.twist = np.array([-0.05, 0.0, 0.0, 0.0, 0.0, 0.0])
            settle(commands, lambda v: abs(v[0] + 0.05) < 1e-9, "the -x motion to pass")

            requests.twist = np.array([0.05, float("nan"), 0.0, 0.0, 0.0, 0.0])
            settle(commands, lambda v: not np.any(v), "a hold on NaN")
            requests.twist = np.array([0.0, 0.05, 0.0, 0.0, 0.0, 0.0])
            settle(commands, lambda v: abs(v[1] - 0.05) < 1e-9, "motion after NaN")

            estop.publish(Bool(data=True))
            settle(commands, lambda v: not np.any(v), "a hold on estop")
            time.sleep(5 * PERIOD)  # requests keep coming: still held
            assert not np.any(twist_values(commands[-1]))
            estop.publish(Bool(data=False))
            settle(commands, lambda v: abs(v[1] - 0.05) < 1e-9, "motion after estop cleared")
    finally:
        requests.close()
    assert all(np.isfinite(twist_values(c)).all() for c in commands), "a non-finite command reached the arm"
    assert all(math.isfinite(g.data) for g in gripper)
    messages = " | ".join(diagnostics_messages(diagnostics, "robot_rl/safety"))
    for reason in ("clip: workspace", "hold: nonfinite", "hold: estop"):
        assert reason in messages, messages
    wait_until(lambda: "hold_estop" in diagnostics_values(diagnostics, "robot_rl/safety"), 3.0, "estop counter")


def coded_actor(version: int) -> tuple[Actor, float]:
    """An actor whose deterministic twist x is a code unique to ``version`` (whatever it sees)."""
    code = -0.9 + 0.035 * version  # 51 -> 0.885: distinct from every other version
    actor = Actor(SETTINGS.policy.model, CAMERAS, SETTINGS.cameras.policy_image_size)
    with torch.no_grad():
        actor.mean.weight.zero_()
        actor.mean.bias.zero_()
        actor.mean.bias[0] = math.atanh(code)
    return actor, code


def test_fifty_weight_swaps_at_10hz_never_miss_a_tick_and_a_corrupt_file_is_rejected(
        node_processes: NodeProcesses, ros_probe: RosProbe, tmp_path: Path) -> None:
    weights_dir = tmp_path / "learner"  # announced by path: not the server's own policy.weights_dir
    overrides = f"run_dir={tmp_path} policy.device=cpu"
    node_processes.start("policy_server", parameters={"overrides": overrides})
    ros_probe.wait_for_nodes({f"{NS}/policy_server"}, timeout_s=30.0)
    announce = ros_probe.publisher(String, f"{NS}/policy/weights", qos.LATCHED)
    actions = ros_probe.subscribe(TwistStamped, f"{NS}/policy/action", qos.EVENTS)  # every action (see above)
    versions = ros_probe.subscribe(String, f"{NS}/policy/weights_version", qos.LATCHED)
    diagnostics = ros_probe.subscribe(DiagnosticArray, "/diagnostics", qos.EVENTS)
    received_at: dict[float, float] = {}
    ros_probe.node.create_subscription(TwistStamped, f"{NS}/policy/action",
                                       lambda m: received_at.setdefault(stamp_of(m), time.time()), qos.COMMAND)
    codes = {}
    infos = []
    for v in range(1, 51):  # written up front: the learner's disk work is not what is measured
        actor, codes[v] = coded_actor(v)
        infos.append(save_weights(actor, weights_dir, v))
    with Sensors(ros_probe) as sensors:
        wait_until(lambda: len(actions) > 0, 30.0, "the first policy/action")
        first = len(sensors.stamps)
        for info in infos[:25]:
            announce.publish(String(data=info.to_json()))
            time.sleep(PERIOD)
        wait_until(lambda: any(json.loads(m.data)["version"] == 25 for m in versions), 5.0, "v25 in use")
        # corrupt: v51 announced with the sha256 of its intact bytes, then damaged on disk
        bad, bad_code = coded_actor(51)
        bad_info = save_weights(bad, weights_dir, 51)
        data = bytearray(Path(bad_info.path).read_bytes())
        data[-8:] = b"\xff" * 8
        Path(bad_info.path).write_bytes(bytes(data))
        announce.publish(String(data=bad_info.to_json()))
        time.sleep(5 * PERIOD)
        for info in infos[25:]:
            announce.publish(String(data=info.to_json()))
            time.sleep(PERIOD)
        wait_until(lambda: any(json.loads(m.data)["version"] == 50 for m in versions), 5.0, "v50 in use")
        time.sleep(3 * PERIOD)
        last = len(sensors.stamps) - 2
    scale = SETTINGS.policy.max_linear_speed
    decoded = []
    for action in actions:
        x = action.twist.linear.x / scale
        matches = [v for v, code in codes.items() if abs(x - code) < 1e-4]
        assert abs(x - bad_code) > 1e-4, "an action came from the corrupted weights"
        decoded.append(matches[0] if len(matches) == 1 else None)
    coded = [v for v in decoded if v is not None]
    assert len(coded) > 40 and coded == sorted(coded), "versions went backwards or mixed"
    assert set(coded) >= {25, 50}
    unexplained = [d for d in decoded[decoded.index(coded[0]):] if d is None]
    assert not unexplained, "an action after the first swap matches no single weights version"
    answered = {stamp_of(a) for a in actions}
    missed = [t for t in sensors.stamps[first:last] if not any(abs(t - s) < 1e-6 for s in answered)]
    assert not missed, f"{len(missed)} ticks got no action"
    wait_until(lambda: "loads_rejected" in diagnostics_values(diagnostics, "robot_rl/policy_server"), 3.0,
               "policy_server diagnostics values")
    values = diagnostics_values(diagnostics, "robot_rl/policy_server")
    # The deadline is the node's own: observation stamp -> action published within one control period.
    # The probe's receive times add this test process's own scheduling (it also publishes the images),
    # so they get a looser bound.
    late = sorted(received_at[s] - s for s in received_at if received_at[s] - s > 2 * PERIOD)
    assert not late, f"actions received later than two control periods: {late}; node: {values}"
    assert int(values["loads_rejected"]) >= 1 and "sha256" in values["last_load_error"], values
    assert int(values["deadline_misses"]) == 0, values
    assert any("rejected weights v51" in m for m in diagnostics_messages(diagnostics, "robot_rl/policy_server"))
    assert WeightsInfo.from_json(versions[-1].data).version == 50


def lifecycle_node(tmp_path: Path, overrides: str) -> object:
    import rclpy

    from robot_rl.ros.policy_server_node import PolicyServerNode
    rclpy.init(args=["--ros-args", "-p", "autostart:=false", "-p", f"overrides:=run_dir={tmp_path} {overrides}"])
    return PolicyServerNode()


def test_policy_server_lifecycle_allocates_on_configure_and_frees_on_cleanup(tmp_path: Path) -> None:
    import rclpy
    from rclpy.lifecycle import TransitionCallbackReturn as Result

    node = lifecycle_node(tmp_path, "policy.device=cpu policy.warmup_steps=1")
    try:
        assert node.runner is None  # type: ignore[attr-defined]
        assert node.trigger_configure() == Result.SUCCESS  # type: ignore[attr-defined]
        assert node.runner is not None and node.timer is None  # type: ignore[attr-defined]
        assert node.trigger_activate() == Result.SUCCESS  # type: ignore[attr-defined]
        assert node.timer is not None and node.acting  # type: ignore[attr-defined]
        assert node.trigger_deactivate() == Result.SUCCESS  # type: ignore[attr-defined]
        assert node.timer is None and not node.acting  # type: ignore[attr-defined]
        assert node.trigger_cleanup() == Result.SUCCESS  # type: ignore[attr-defined]
        assert node.runner is None and node.entities == []  # type: ignore[attr-defined]
    finally:
        node.destroy_node()  # type: ignore[attr-defined]
        rclpy.try_shutdown()


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_policy_server_configure_fails_cleanly_on_a_missing_device(tmp_path: Path) -> None:
    import rclpy
    from rclpy.lifecycle import TransitionCallbackReturn as Result

    node = lifecycle_node(tmp_path, "policy.device=cuda")
    try:
        assert node.trigger_configure() == Result.FAILURE  # type: ignore[attr-defined]
        assert node.runner is None  # type: ignore[attr-defined]
    finally:
        node.destroy_node()  # type: ignore[attr-defined]
        rclpy.try_shutdown()


def test_a_state_only_policy_server_subscribes_to_no_camera_and_acts_on_the_robot_state(tmp_path: Path) -> None:
    import rclpy
    from rclpy.lifecycle import TransitionCallbackReturn as Result

    from robot_rl.policy import STATE_DIM

    node = lifecycle_node(tmp_path, "policy.device=cpu policy.warmup_steps=1 policy.model.use_images=false")
    try:
        assert node.trigger_configure() == Result.SUCCESS  # type: ignore[attr-defined]
        assert node.runner.cameras == []  # type: ignore[attr-defined]
        topics = [s.topic_name for s in node.subscriptions]  # type: ignore[attr-defined]
        assert not any("camera/" in t for t in topics) and any(t.endswith("robot/ee_pose") for t in topics)
        assert node.trigger_activate() == Result.SUCCESS  # type: ignore[attr-defined]
        node.robot.states.put(node.now_s(), np.zeros(STATE_DIM, np.float32))  # type: ignore[attr-defined]
        node.on_timer()  # type: ignore[attr-defined]
        assert node.counts["ticks"] == 1 and node.counts["stale_ticks"] == 0  # type: ignore[attr-defined]
    finally:
        node.destroy_node()  # type: ignore[attr-defined]
        rclpy.try_shutdown()
