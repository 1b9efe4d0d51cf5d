"""Intel RealSense cameras through pyrealsense2: open by serial, stream color (+ aligned depth), stamp frames.

One ``RealSenseCamera`` drives one ``rs.device``: a camera on USB, a recording being played back, or a
``rs.software_device`` (the SDK's own injectable device, used by the tests and the benchmark). All three
run the same code from profile selection to the frame callback, so what the tests check is what runs on
the robot. pyrealsense2 is imported on first use, so this module loads on machines without it.

Lifecycle (matching the camera node's): ``open`` claims the sensors with the chosen profiles,
``start`` streams into the frame callback, ``stop`` stops streaming, ``close`` releases the sensors.
"""
from __future__ import annotations

import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from robot_rl.perception.align import align_depth_to_color
from robot_rl.perception.camera_info import CameraIntrinsics
from robot_rl.perception.frames import CameraFrame
from robot_rl.perception.timestamps import ClockMapper

FrameCallback = Callable[[CameraFrame], None]

METADATA = ("frame_counter", "frame_timestamp", "sensor_timestamp", "time_of_arrival", "backend_timestamp")


class RealSenseError(RuntimeError):
    """The RealSense SDK or a device failed."""


class UnknownSerialError(RealSenseError, ValueError):
    """No connected camera has the configured serial number; the message lists the ones that are connected."""


class UnsupportedProfileError(RealSenseError, ValueError):
    """The camera cannot stream the configured size/rate/format; the message lists what it can."""


def rs_module() -> Any:
    """pyrealsense2, imported on first use with an error that says how to get it."""
    try:
        import pyrealsense2 as rs
    except ImportError as err:
        raise RealSenseError(
            f"pyrealsense2 is not importable ({err}): pip install pyrealsense2, and on Debian/Ubuntu "
            "apt-get install libusb-1.0-0 (scripts/install.sh does both)") from None
    return rs


@dataclass(frozen=True, order=True)
class StreamProfile:
    width: int
    height: int
    fps: int
    format: str  # rgb8, z16, ...

    def __str__(self) -> str:
        return f"{self.width}x{self.height}@{self.fps} {self.format}"


def device_serial(device: Any) -> str:
    rs = rs_module()
    return str(device.get_info(rs.camera_info.serial_number)) if device.supports(rs.camera_info.serial_number) else ""


def connected_devices() -> list[Any]:
    """The RealSense devices on this machine's USB right now."""
    rs = rs_module()
    return list(rs.context().query_devices())


def find_device(devices: Sequence[Any], serial: str) -> Any:
    """The device with ``serial`` among ``devices``; UnknownSerialError lists the serials there are."""
    for device in devices:
        if device_serial(device) == serial:
            return device
    serials = [device_serial(d) for d in devices]
    found = ", ".join(serials) if serials else "none"
    raise UnknownSerialError(
        f"no RealSense camera with serial {serial!r}; connected: {found}. Fix cameras.devices.<name>.serial "
        "(`rs-enumerate-devices -s` lists serials) or check the USB cable")


def open_recording(path: str | Path, real_time: bool = True) -> Any:
    """A playback device for a RealSense recording (.db3; a legacy ROS1 .bag is converted to .db3 first)."""
    rs = rs_module()
    path = Path(path)
    if not path.is_file():
        raise RealSenseError(f"recording {path} not found")
    context = rs.context()
    if path.suffix == ".bag":  # the SDK (>= 2.56) plays and records only rosbag2 .db3
        converted = Path(tempfile.mkdtemp(prefix="robot_rl_rs_")) / (path.stem + ".db3")
        try:
            context.convert_bag_to_db3(str(path), str(converted))
        except RuntimeError as err:
            raise RealSenseError(f"cannot convert {path} to .db3 for playback ({err}): is it a RealSense "
                                 "recording (rs-record, realsense-viewer)? Set cameras.devices.<name>.recording "
                                 "to a RealSense .bag or .db3") from None
        path = converted
    try:
        device = context.load_device(str(path))
    except RuntimeError as err:
        raise RealSenseError(f"cannot play {path}: {err}") from None
    device.as_playback().set_real_time(real_time)
    return device


def _profiles(sensor: Any, stream: Any) -> list[tuple[StreamProfile, Any]]:
    found = []
    for profile in sensor.get_stream_profiles():
        if profile.stream_type() == stream and profile.is_video_stream_profile():
            video = profile.as_video_stream_profile()
            key = StreamProfile(video.width(), video.height(), profile.fps(), str(profile.format()).split(".")[-1])
            found.append((key, video))
    return found


def _sensor_with(device: Any, stream: Any) -> Any | None:
    for sensor in device.query_sensors():
        if _profiles(sensor, stream):
            return sensor
    return None


def _choose(device: Any, stream: Any, wanted: StreamProfile, what: str) -> tuple[Any, Any]:
    sensor = _sensor_with(device, stream)
    serial = device_serial(device)
    if sensor is None:
        raise UnsupportedProfileError(f"camera {serial!r} has no {what} stream")
    offered = _profiles(sensor, stream)
    for key, profile in offered:
        if key == wanted:
            return sensor, profile
    supported = ", ".join(str(k) for k in sorted(set(k for k, _ in offered)))
    raise UnsupportedProfileError(
        f"camera {serial!r} cannot stream {what} {wanted}; it supports: {supported}. "
        "Set cameras.devices.<name>.width/height/fps to one of these")


def to_intrinsics(profile: Any, name: str = "") -> CameraIntrinsics:
    i = profile.get_intrinsics()
    return CameraIntrinsics(width=i.width, height=i.height, fx=i.fx, fy=i.fy, cx=i.ppx, cy=i.ppy,
                            distortion_model="plumb_bob", distortion=[float(c) for c in i.coeffs],
                            camera_name=name)


class RealSenseCamera:
    """One RealSense device streaming RGB color (and optionally depth aligned to it) into ``on_frame``.

    ``on_frame`` runs on the SDK's thread; keep it short (copy into a buffer, publish).
    """

    def __init__(self, name: str, device: Any, width: int, height: int, fps: int, on_frame: FrameCallback,
                 depth: bool = False) -> None:
        rs = rs_module()
        self.name = name
        self.device = device
        self.serial = device_serial(device)
        self.fps = fps
        self._on_frame = on_frame
        self._clock = ClockMapper()
        self._color_sensor, self._color_profile = _choose(
            device, rs.stream.color, StreamProfile(width, height, fps, "rgb8"), "color")
        self.intrinsics = to_intrinsics(self._color_profile, name)
        self._depth_sensor: Any | None = None
        self._depth_profile: Any | None = None
        self._latest_depth: tuple[float, np.ndarray] | None = None
        if depth:
            self._depth_sensor, self._depth_profile = _choose(
                device, rs.stream.depth, StreamProfile(width, height, fps, "z16"), "depth")
            self.depth_intrinsics = to_intrinsics(self._depth_profile, name)
            ext = self._depth_profile.get_extrinsics_to(self._color_profile)
            self._depth_to_color = (list(ext.rotation), list(ext.translation))
            self.depth_units_m = float(self._depth_sensor.as_depth_sensor().get_depth_scale())
        self._lock = threading.Lock()
        self._opened = False
        self._streaming = False
        self._started_at = float("nan")
        self._last_receive = float("nan")
        self.frames_received = 0

    @property
    def is_playback(self) -> bool:
        return bool(self.device.is_playback())

    def playback_ended(self) -> bool:
        """True once a recording has played to its end (its frames stop for that reason, not a fault)."""
        rs = rs_module()
        return self.is_playback and self.device.as_playback().current_status() == rs.playback_status.stopped

    def open(self) -> None:
        self._color_sensor.open(self._color_profile)
        if self._depth_sensor is not None:
            self._depth_sensor.open(self._depth_profile)
        self._opened = True

    def start(self) -> None:
        if not self._opened:
            self.open()
        self._started_at = time.time()
        if self._depth_sensor is not None:
            self._depth_sensor.start(self._on_depth)
        self._color_sensor.start(self._on_color)
        self._streaming = True

    def stop(self) -> None:
        if self._streaming:
            self._streaming = False
            self._color_sensor.stop()
            if self._depth_sensor is not None:
                self._depth_sensor.stop()

    def close(self) -> None:
        self.stop()
        if self._opened:
            self._opened = False
            self._color_sensor.close()
            if self._depth_sensor is not None:
                self._depth_sensor.close()

    def seconds_since_last_frame(self, now: float | None = None) -> float:
        """Since the newest color frame arrived (or since ``start`` if none has); 0 when not streaming."""
        if not self._streaming:
            return 0.0
        now = time.time() if now is None else now
        with self._lock:
            last = self._last_receive if self.frames_received else self._started_at
        return now - last

    def _on_depth(self, frame: Any) -> None:
        data = np.array(frame.as_video_frame().get_data(), dtype=np.uint16, copy=True)
        with self._lock:
            self._latest_depth = (float(frame.get_timestamp()), data)

    def _on_color(self, frame: Any) -> None:
        receive = time.time()
        video = frame.as_video_frame()
        image = np.array(video.get_data(), dtype=np.uint8, copy=True)
        timestamp_ms = float(frame.get_timestamp())
        domain = str(frame.get_frame_timestamp_domain()).split(".")[-1]
        metadata = {}
        rs = rs_module()
        for key in METADATA:
            value = getattr(rs.frame_metadata_value, key)
            if frame.supports_frame_metadata(value):
                metadata[key] = int(frame.get_frame_metadata(value))
        depth = self._aligned_depth(timestamp_ms)
        with self._lock:
            capture = self._clock.to_host_s(timestamp_ms, domain, receive)
            self._last_receive = receive
            self.frames_received += 1
        self._on_frame(CameraFrame(
            camera=self.name, image=image, capture_time_s=capture, receive_time_s=receive,
            frame_number=int(frame.get_frame_number()), hardware_timestamp_ms=timestamp_ms,
            timestamp_domain=domain, depth=depth,
            depth_units_m=getattr(self, "depth_units_m", 0.001), metadata=metadata))

    def _aligned_depth(self, color_timestamp_ms: float) -> np.ndarray | None:
        """The newest depth frame aligned to color, if captured within one frame period of the color.

        Depth and color arrive on different SDK threads in either order, so the pair is the newest depth
        seen when the color arrives: at worst one frame older than the color, never a stale one.
        """
        if self._depth_sensor is None:
            return None
        with self._lock:
            latest = self._latest_depth
        if latest is None or abs(latest[0] - color_timestamp_ms) > 1000.0 / self.fps:
            return None
        rotation, translation = self._depth_to_color
        return align_depth_to_color(latest[1], self.depth_intrinsics, self.intrinsics, rotation, translation,
                                    self.depth_units_m)
