"""Live capture for ``robot-rl calibrate``: board images (and effector poses) from a running ROS 2 graph.

The operator moves the board or the robot, presses Enter to take a sample and types ``q`` to finish.
Samples land in a folder in exactly the layout the folder-based commands read (images plus
``poses.yaml``), so a capture can be re-solved later with other options.
"""
from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import rclpy
import yaml
from geometry_msgs.msg import PoseStamped
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from rclpy.qos import qos_profile_sensor_data
from sensor_msgs.msg import Image

_CHANNELS = {"mono8": 1, "rgb8": 3, "bgr8": 3, "rgba8": 4, "bgra8": 4}


def image_to_bgr(msg: Image) -> np.ndarray:
    """sensor_msgs/Image (8-bit encodings) to a BGR or gray numpy image."""
    channels = _CHANNELS.get(msg.encoding)
    if channels is None:
        raise ValueError(f"image encoding {msg.encoding!r} not supported for calibration: use one of {list(_CHANNELS)}")
    rows = np.frombuffer(bytes(msg.data), dtype=np.uint8).reshape(msg.height, msg.step)
    image = rows[:, : msg.width * channels].reshape(msg.height, msg.width, channels)
    conversions = {"rgb8": cv2.COLOR_RGB2BGR, "rgba8": cv2.COLOR_RGBA2BGR, "bgra8": cv2.COLOR_BGRA2BGR}
    if msg.encoding in conversions:
        return np.asarray(cv2.cvtColor(image, conversions[msg.encoding]))
    return image[..., 0] if channels == 1 else image


class CaptureNode(Node):
    """Keeps the newest image and effector pose; the CLI thread takes them on Enter."""

    def __init__(self, image_topic: str | None, pose_topic: str | None) -> None:
        super().__init__("robot_rl_calibration_capture")
        self._lock = threading.Lock()
        self._image: Image | None = None
        self._pose: PoseStamped | None = None
        if image_topic:
            self.create_subscription(Image, image_topic, self._on_image, qos_profile_sensor_data)
        if pose_topic:
            self.create_subscription(PoseStamped, pose_topic, self._on_pose, 10)

    def _on_image(self, msg: Image) -> None:
        with self._lock:
            self._image = msg

    def _on_pose(self, msg: PoseStamped) -> None:
        with self._lock:
            self._pose = msg

    def latest(self) -> tuple[Image | None, PoseStamped | None]:
        with self._lock:
            return self._image, self._pose


def _session(image_topic: str | None, pose_topic: str | None, take: Any) -> int:
    """Spin a CaptureNode in the background; call ``take(image, pose)`` on each Enter until 'q'."""
    rclpy.init()
    node = CaptureNode(image_topic, pose_topic)
    executor = SingleThreadedExecutor()
    executor.add_node(node)
    thread = threading.Thread(target=executor.spin, daemon=True)
    thread.start()
    count = 0
    try:
        while True:
            answer = input(f"[{count} taken] Enter = take a sample, q = finish: ").strip().lower()
            if answer == "q":
                break
            image, pose = node.latest()
            if (image_topic and image is None) or (pose_topic and pose is None):
                print(f"nothing received yet on {image_topic if image is None else pose_topic}; is it publishing?")
                continue
            take(image, pose)
            count += 1
    finally:
        executor.shutdown()
        node.destroy_node()
        rclpy.try_shutdown()
    return count


def _pose_doc(msg: PoseStamped) -> dict[str, list[float]]:
    p, q = msg.pose.position, msg.pose.orientation
    return {"translation": [p.x, p.y, p.z], "rotation": [q.x, q.y, q.z, q.w]}


def capture_images(image_topic: str, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)

    def take(image: Image, _: Any) -> None:
        path = folder / f"{len(list(folder.glob('*.png'))):03d}.png"
        cv2.imwrite(str(path), image_to_bgr(image))
        print(f"saved {path}")

    _session(image_topic, None, take)
    return folder


def capture_samples(image_topic: str, pose_topic: str, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    samples: list[dict[str, Any]] = []

    def take(image: Image, pose: PoseStamped) -> None:
        name = f"{len(samples):03d}.png"
        cv2.imwrite(str(folder / name), image_to_bgr(image))
        samples.append({"image": name, "robot": _pose_doc(pose)})
        (folder / "poses.yaml").write_text(yaml.safe_dump({"samples": samples}, sort_keys=False))
        print(f"saved {folder / name} with the pose from {pose_topic}")

    _session(image_topic, pose_topic, take)
    return folder


def capture_positions(pose_topic: str) -> list[list[float]]:
    points: list[list[float]] = []

    def take(_: Any, pose: PoseStamped) -> None:
        points.append(_pose_doc(pose)["translation"])
        print(f"taught {np.round(points[-1], 4).tolist()}")

    _session(None, pose_topic, take)
    return points
