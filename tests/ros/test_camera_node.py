"""The camera node on a real ROS 2 graph, fed through pyrealsense2's software_device (no mocks).

The node runs as its own process with ``source=software``: a ``rs.software_device`` inside it receives
deterministic frames (``robot_rl.perception.software.synthetic_frame``) that carry their frame number
and timestamp in their first pixels, so this test rebuilds each expected image from what it received.
"""
from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus
from lifecycle_msgs.msg import Transition
from lifecycle_msgs.srv import ChangeState
from sensor_msgs.msg import CameraInfo, Image

from robot_rl.bringup.paths import find_executable
from robot_rl.calibration.camera_info import CameraIntrinsics, save_camera_info
from robot_rl.perception.software import (
    decode_synthetic,
    record_synthetic,
    synthetic_frame,
)
from robot_rl.ros import qos
from tests.ros_harness import NodeProcesses, RosProbe, wait_until

pytest.importorskip("pyrealsense2")
pytestmark = pytest.mark.ros

NS = "/robot_rl"
WRIST_FRAMES = 60  # the wrist camera sends two seconds of frames at 30 fps, then stops
RECORDED_FRAMES = 15


def overrides(*items: str) -> str:
    return " ".join(["cameras.devices.wrist.source=software", "cameras.devices.front.source=software", *items])


def test_frames_arrive_unchanged_and_a_stopped_camera_is_reported(
        node_processes: NodeProcesses, ros_probe: RosProbe, tmp_path: Path) -> None:
    calibration = tmp_path / "wrist.yaml"
    save_camera_info(CameraIntrinsics(640, 480, 612.5, 611.0, 321.0, 239.0, camera_name="wrist"), calibration)
    wrist_info = ros_probe.subscribe(CameraInfo, f"{NS}/camera/wrist/color/camera_info")
    front = ros_probe.subscribe(Image, f"{NS}/camera/front/color/image_raw")
    front_info = ros_probe.subscribe(CameraInfo, f"{NS}/camera/front/color/camera_info")
    diagnostics: list[tuple[float, DiagnosticArray]] = []
    ros_probe.node.create_subscription(DiagnosticArray, "/diagnostics",
                                       lambda m: diagnostics.append((time.time(), m)), qos.EVENTS)
    wrist: list[Image] = []
    received_at: list[float] = []

    def on_wrist(msg: Image) -> None:
        received_at.append(time.time())
        wrist.append(msg)

    ros_probe.node.create_subscription(Image, f"{NS}/camera/wrist/color/image_raw", on_wrist, qos.SENSOR)

    node_processes.start("camera", parameters={"autostart": False, "config": "robot", "overrides": overrides(
        f"cameras.devices.wrist.calibration={calibration}",
        f"cameras.devices.wrist.stop_after_frames={WRIST_FRAMES}",
        "cameras.devices.front.calibration=", "cameras.devices.front.width=424",
        "cameras.devices.front.height=240", "cameras.devices.front.fps=15",
        "cameras.devices.front.frame_id=front_cam_optical")})
    # Drive the lifecycle by hand so streaming starts only once this probe is matched (sensor QoS never
    # resends, so frames sent before discovery finished would be lost).
    transition(ros_probe, Transition.TRANSITION_CONFIGURE)
    wait_until(lambda: ros_probe.node.count_publishers(f"{NS}/camera/wrist/color/image_raw") == 1, 10.0,
               "the wrist image publisher")
    transition(ros_probe, Transition.TRANSITION_ACTIVATE)

    def error_after_last_frame() -> list[float]:
        last = received_at[-1] if received_at else float("inf")
        return [t for t, d in diagnostics for s in d.status
                if s.level == DiagnosticStatus.ERROR and "camera wrist" in s.message and t > last]

    wait_until(lambda: bool(error_after_last_frame()), 30.0, lambda: "an ERROR about the wrist camera on "
               f"/diagnostics after its last frame (wrist frames so far: {len(wrist)}; "
               f"log: {node_processes.log('camera')[-2000:]})")

    # Frames: unchanged pixels, encoding, size, frame id and the injected timestamp as header.stamp
    # (best-effort sensor QoS may drop frames on a loaded machine; every frame that arrives must be exact)
    assert len(wrist) >= 10, f"only {len(wrist)} of {WRIST_FRAMES} frames arrived"
    numbers = []
    for msg in wrist:
        assert (msg.encoding, msg.width, msg.height, msg.step) == ("rgb8", 640, 480, 640 * 3)
        assert msg.header.frame_id == "wrist_color_optical_frame"
        image = np.frombuffer(bytes(msg.data), np.uint8).reshape(480, 640, 3)
        n, timestamp_ms = decode_synthetic(image)
        np.testing.assert_array_equal(image, synthetic_frame(n, timestamp_ms, 640, 480))
        stamp_ns = msg.header.stamp.sec * 1_000_000_000 + msg.header.stamp.nanosec
        assert abs(stamp_ns - timestamp_ms * 1e6) < 1000, "header.stamp must be the capture timestamp"
        numbers.append(n)
    assert numbers == sorted(set(numbers)) and numbers[-1] < WRIST_FRAMES

    # camera_info: from the calibration file for wrist, from the device's intrinsics for front
    info = wrist_info[-1]
    assert list(info.k) == [612.5, 0.0, 321.0, 0.0, 611.0, 239.0, 0.0, 0.0, 1.0]
    assert (info.width, info.height, info.header.frame_id) == (640, 480, "wrist_color_optical_frame")
    image_stamps = {(m.header.stamp.sec, m.header.stamp.nanosec) for m in wrist}
    assert image_stamps & {(m.header.stamp.sec, m.header.stamp.nanosec) for m in wrist_info}, \
        "camera_info must carry the stamp of the image it belongs to"
    wait_until(lambda: len(front_info) > 0 and len(front) > 0, 5.0, "front camera frames")
    assert front[-1].header.frame_id == "front_cam_optical" and (front[-1].width, front[-1].height) == (424, 240)
    assert front_info[-1].k[0] == pytest.approx(0.95 * 424, rel=1e-5)  # software device's intrinsics

    # The stop: reported within 0.5 s of the last frame, while the front camera keeps streaming
    reported_after = error_after_last_frame()[0] - received_at[-1]
    print(f"wrist frames received: {len(wrist)} of {WRIST_FRAMES}; stop reported after {reported_after:.3f} s")
    assert reported_after < 0.5, f"stopped camera reported {reported_after:.3f} s after its last frame"
    front_count = len(front)
    wait_until(lambda: len(front) > front_count, 2.0, "more front frames after the wrist stopped")


def test_a_recording_plays_through_the_node_onto_the_topics(
        node_processes: NodeProcesses, ros_probe: RosProbe, tmp_path: Path) -> None:
    recording = tmp_path / "wrist.db3"  # what rs-record / realsense-viewer write with SDK >= 2.56
    sent = dict(record_synthetic(recording, RECORDED_FRAMES, 640, 480, 30, serial="123456"))
    wrist = ros_probe.subscribe(Image, f"{NS}/camera/wrist/color/image_raw")
    info = ros_probe.subscribe(CameraInfo, f"{NS}/camera/wrist/color/camera_info")
    node_processes.start("camera", parameters={"autostart": False, "config": "robot", "overrides": overrides(
        "cameras.names=[wrist]", "cameras.devices.wrist.calibration=", "cameras.devices.wrist.source=recording",
        f"cameras.devices.wrist.recording={recording}")})
    transition(ros_probe, Transition.TRANSITION_CONFIGURE)
    wait_until(lambda: ros_probe.node.count_publishers(f"{NS}/camera/wrist/color/image_raw") == 1, 10.0,
               "the wrist image publisher")
    transition(ros_probe, Transition.TRANSITION_ACTIVATE)
    wait_until(lambda: len(wrist) >= RECORDED_FRAMES // 2, 10.0,
               lambda: f"recorded frames on the topic (got {len(wrist)}; log: {node_processes.log('camera')[-2000:]})")

    for msg in wrist:  # best-effort QoS may drop some on a loaded machine; each that arrives is exact
        assert (msg.encoding, msg.width, msg.height, msg.header.frame_id) == (
            "rgb8", 640, 480, "wrist_color_optical_frame")
        image = np.frombuffer(bytes(msg.data), np.uint8).reshape(480, 640, 3)
        n, timestamp_ms = decode_synthetic(image)
        assert sent[n] == timestamp_ms
        np.testing.assert_array_equal(image, synthetic_frame(n, timestamp_ms, 640, 480))
        stamp_ns = msg.header.stamp.sec * 1_000_000_000 + msg.header.stamp.nanosec
        assert abs(stamp_ns - timestamp_ms * 1e6) < 1000, "header.stamp must be the recorded capture time"
    assert info and info[-1].header.frame_id == "wrist_color_optical_frame"
    assert info[-1].k[0] == pytest.approx(0.95 * 640, rel=1e-5)  # the recorded device's intrinsics


def transition(probe: RosProbe, transition_id: int) -> None:
    response = probe.call(ChangeState, f"{NS}/camera/change_state",
                          ChangeState.Request(transition=Transition(id=transition_id)), timeout_s=20.0)
    assert response.success, f"lifecycle transition {transition_id} failed"


def run_camera(overrides_text: str) -> subprocess.CompletedProcess[str]:
    executable = find_executable("robot_rl", "camera")
    assert executable is not None, "pip install -e . to get the camera executable"
    return subprocess.run([str(executable), "--ros-args", "-p", "config:=robot", "-p", f"overrides:={overrides_text}"],
                          capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("override, message", [
    ("cameras.devices.wrist.source=realsense cameras.devices.wrist.serial=000000000042",
     "no RealSense camera with serial '000000000042'; connected: "),
    ("cameras.devices.wrist.width=333", "cannot stream color 333x480@30 rgb8; it supports: .*640x480@30 rgb8"),
])
def test_bad_camera_settings_stop_the_node_with_a_clear_error(override: str, message: str) -> None:
    result = run_camera(overrides("cameras.names=[wrist]", "cameras.devices.wrist.calibration=", override))
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert re.search(message, result.stderr), result.stderr
