"""Replay groups to and from rosbag2 recordings of the graph's own topics (via ``rosbags``, no ROS needed).

Export writes each step as the messages the graph would have carried (images, ``robot/ee_pose`` and
the gripper joint in ``robot/state``, the executed ``robot/command``, proposals, intervention,
reward) plus ``episode/status`` around each episode, so ``ros2 bag play`` feeds any node and
``import`` rebuilds the steps. Import runs the same ``StepRecorder`` as the replay writer node on the
bag's clock, so a bag recorded live (``ros2 bag record``) imports exactly as the node would have
written it. Only the policy state layout (``robot_rl.policy.state``, 10 values) is supported.
"""
from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np
from rosbags.rosbag2 import Reader, Writer
from rosbags.typesys import Stores, get_typestore

from robot_rl.perception import CameraFrame, FrameBuffers, ObservationAssembler, StateHistory
from robot_rl.policy.state import STATE_DIM, policy_state
from robot_rl.replay.errors import ReplayError
from robot_rl.replay.follower import read_range
from robot_rl.replay.recorder import ACTION_NAMES, StepRecorder
from robot_rl.replay.schema import GroupInfo
from robot_rl.replay.store import episode_starts, open_group, open_root, read_episode_ends
from robot_rl.replay.writer import EpisodeWriter
from robot_rl.robot.transforms import matrix_to_quat

TYPESTORE = get_typestore(Stores.ROS2_KILTED)
T = TYPESTORE.types
NS = 1_000_000_000


def _stamp(t: float) -> Any:
    ns = int(round(t * NS))
    return T["builtin_interfaces/msg/Time"](sec=ns // NS, nanosec=ns % NS)


def _header(t: float, frame: str = "") -> Any:
    return T["std_msgs/msg/Header"](stamp=_stamp(t), frame_id=frame)


def _twist(t: float, v: np.ndarray) -> Any:
    vec = T["geometry_msgs/msg/Vector3"]
    twist = T["geometry_msgs/msg/Twist"](linear=vec(*map(float, v[:3])), angular=vec(*map(float, v[3:6])))
    return T["geometry_msgs/msg/TwistStamped"](header=_header(t), twist=twist)


def export_rosbag2(location: str, group: str, out: str | os.PathLike[str], *, namespace: str = "/robot_rl",
                   gripper_joint: str = "robotiq_85_left_knuckle_joint", episodes: Iterable[int] | None = None,
                   on_episode: Callable[[], None] | None = None) -> int:
    """Write the committed episodes of ``location::group`` as a rosbag2 folder; returns episodes written."""
    root = open_root(location, "r")
    zgroup, info = open_group(root, group)
    if info.state_dim != STATE_DIM or info.action_dim != len(ACTION_NAMES):
        raise ReplayError(f"{location}::{group}: rosbag2 export needs the policy state ({STATE_DIM} values) and "
                          f"7-D twist+gripper actions; this group has {info.state_dim} and {info.action_dim}")
    if Path(out).exists():
        raise ReplayError(f"{out} exists: rosbag2 export writes a new folder; remove it or choose another path")
    ends = read_episode_ends(zgroup)
    starts = episode_starts(ends)
    chosen = list(range(len(ends))) if episodes is None else list(episodes)
    scale = np.asarray(info.action_scale or [1.0] * info.action_dim, dtype=np.float64)
    period = 1.0 / info.control_hz
    keys = [f"data/images/{c}" for c in info.camera_names] + [
        "data/state", "data/action", "data/policy_action", "data/human_action", "data/reward",
        "data/intervention", "data/terminated", "data/truncated", "data/capture_time"]
    topics = {f"camera/{c}/color/image_raw": "sensor_msgs/msg/Image" for c in info.camera_names}
    topics.update({"robot/ee_pose": "geometry_msgs/msg/PoseStamped", "robot/state": "sensor_msgs/msg/JointState",
                   "robot/command": "geometry_msgs/msg/TwistStamped", "robot/gripper_command": "std_msgs/msg/Float32",
                   "policy/action": "geometry_msgs/msg/TwistStamped", "policy/gripper": "std_msgs/msg/Float32",
                   "teleop/action": "geometry_msgs/msg/TwistStamped", "teleop/gripper": "std_msgs/msg/Float32",
                   "teleop/intervening": "std_msgs/msg/Bool", "reward": "std_msgs/msg/Float32",
                   "episode/status": "std_msgs/msg/String"})
    with Writer(Path(out), version=9) as writer:
        conns = {name: writer.add_connection(f"{namespace.rstrip('/')}/{name}", msgtype, typestore=TYPESTORE)
                 for name, msgtype in topics.items()}

        def put(name: str, t: float, msg: Any) -> None:
            writer.write(conns[name], int(round(t * NS)), TYPESTORE.serialize_cdr(msg, topics[name]))

        clock = 0.0
        for e in chosen:
            a, b = int(starts[e]), int(ends[e])
            d = read_range(zgroup, keys, a, b)
            times: Any = d["data/capture_time"].astype(np.float64)
            if not np.all(np.isfinite(times)) or np.any(np.diff(times) <= 0):
                times = np.arange(b - a) * period
            times = times - times[0] + max(clock, float(times[0]) if np.isfinite(times[0]) else 0.0) + period
            put("episode/status", times[0] - 0.5 * period, T["std_msgs/msg/String"](data="running"))
            for i, t in enumerate(times):
                for c in info.camera_names:
                    img = d[f"data/images/{c}"][i]
                    put(f"camera/{c}/color/image_raw", t, T["sensor_msgs/msg/Image"](
                        header=_header(t, f"{c}_color_optical_frame"), height=img.shape[0], width=img.shape[1],
                        encoding="rgb8", is_bigendian=0, step=img.shape[1] * 3, data=img.reshape(-1)))
                s = d["data/state"][i].astype(np.float64)
                rotation = np.stack([s[3:6], s[6:9], np.cross(s[3:6], s[6:9])], axis=1)
                q = matrix_to_quat(rotation)
                pose = T["geometry_msgs/msg/Pose"](position=T["geometry_msgs/msg/Point"](*map(float, s[:3])),
                                                   orientation=T["geometry_msgs/msg/Quaternion"](*map(float, q)))
                put("robot/state", t, T["sensor_msgs/msg/JointState"](
                    header=_header(t), name=[gripper_joint], position=np.array([s[9]]), velocity=np.array([]),
                    effort=np.array([])))
                put("robot/ee_pose", t, T["geometry_msgs/msg/PoseStamped"](header=_header(t), pose=pose))
                put("teleop/intervening", t, T["std_msgs/msg/Bool"](data=bool(d["data/intervention"][i])))
                for key, twist_topic, grip_topic in (("data/policy_action", "policy/action", "policy/gripper"),
                                                     ("data/human_action", "teleop/action", "teleop/gripper"),
                                                     ("data/action", "robot/command", "robot/gripper_command")):
                    act = d[key][i].astype(np.float64)
                    if np.all(np.isfinite(act)):
                        put(twist_topic, t, _twist(t, act[:6] * scale[:6]))
                        put(grip_topic, t, T["std_msgs/msg/Float32"](data=float(act[6])))
                put("reward", t, T["std_msgs/msg/Float32"](data=float(d["data/reward"][i])))
            end = "timeout" if d["data/truncated"][-1] else (
                "success" if d["data/terminated"][-1] and d["data/reward"][-1] > 0 else "failure")
            if not (d["data/truncated"][-1] or d["data/terminated"][-1]):
                end = "timeout"
            put("episode/status", times[-1] + 0.5 * period, T["std_msgs/msg/String"](data=end))
            put("episode/status", times[-1] + 0.9 * period, T["std_msgs/msg/String"](data="resetting"))
            clock = float(times[-1]) + period
            if on_episode is not None:
                on_episode()
    return len(chosen)


def import_rosbag2(bag: str | os.PathLike[str], location: str, group: str, info: GroupInfo, *,
                   namespace: str = "/robot_rl", gripper_joint: str = "robotiq_85_left_knuckle_joint",
                   max_age_s: float | None = None) -> int:
    """Replay a rosbag2 recording through ``StepRecorder`` into ``location::group``; returns episodes."""
    if not Path(bag).exists():
        raise ReplayError(f"{bag}: no rosbag2 recording here; pass the bag folder")
    prefix = namespace.rstrip("/") + "/"
    period = 1.0 / info.control_hz
    max_age = max_age_s if max_age_s is not None else 1.5 * period
    cams = info.camera_names
    frames, states = FrameBuffers(cams), StateHistory(STATE_DIM)
    assembler = ObservationAssembler(frames, states, cams, max_age, info.image_size[0])
    scale = info.action_scale or [1.0] * info.action_dim
    gripper: list[float] = []
    with EpisodeWriter(location, group, info, program="robot-rl replay import") as writer, Reader(Path(bag)) as reader:
        recorder = StepRecorder(writer, assembler, scale, max_age)
        next_tick = math.inf
        for conn, stamp_ns, raw in reader.messages():
            now = stamp_ns / NS
            while next_tick <= now:
                recorder.tick(next_tick)
                next_tick += period
            if not conn.topic.startswith(prefix):
                continue
            name = conn.topic[len(prefix):]
            msg: Any = TYPESTORE.deserialize_cdr(raw, conn.msgtype)
            if name.startswith("camera/") and name.endswith("/color/image_raw"):
                camera = name.split("/")[1]
                if camera in cams and msg.encoding == "rgb8":
                    img: Any = np.asarray(msg.data, np.uint8).reshape(msg.height, msg.step)[:, : msg.width * 3]
                    stamp = msg.header.stamp.sec + msg.header.stamp.nanosec / NS
                    frames.put(CameraFrame(camera, img.reshape(msg.height, msg.width, 3), stamp, now))
            elif name == "robot/state" and gripper_joint in msg.name:
                gripper[:] = [float(msg.position[list(msg.name).index(gripper_joint)])]
            elif name == "robot/ee_pose" and gripper:
                p, q = msg.pose.position, msg.pose.orientation
                states.put(msg.header.stamp.sec + msg.header.stamp.nanosec / NS,
                           policy_state([p.x, p.y, p.z], [q.x, q.y, q.z, q.w], gripper[0]))
            elif name in ("robot/command", "policy/action", "teleop/action"):
                which = {"robot/command": "command", "policy/action": "policy", "teleop/action": "human"}[name]
                lin, ang = msg.twist.linear, msg.twist.angular
                recorder.set_twist(which, [lin.x, lin.y, lin.z], [ang.x, ang.y, ang.z], now)
            elif name in ("robot/gripper_command", "policy/gripper", "teleop/gripper"):
                grip = {"robot/gripper_command": "command", "policy/gripper": "policy", "teleop/gripper": "human"}
                recorder.set_gripper(grip[name], msg.data)
            elif name == "teleop/intervening":
                recorder.set_intervening(msg.data)
            elif name == "reward":
                recorder.set_reward(msg.data)
            elif name == "episode/status":
                if recorder.set_status(msg.data) == "begin":
                    next_tick = now + 0.75 * period
        writer.abort()
        return int(recorder.counts["episodes"])
