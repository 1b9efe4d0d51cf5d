"""A RealSense camera made of pyrealsense2's ``software_device``: frames injected through the real SDK.

Tests and benchmarks need a camera without hardware, and a mock would test nothing the robot runs.
``SoftwareCamera`` builds a ``rs.software_device`` that offers the stream profiles of a D435 (so a
wrong size or rate fails exactly as on hardware) and accepts frames through ``software_sensor.on_video_frame``;
``RealSenseCamera`` then streams from it like from a USB camera.

``SyntheticFeeder`` drives one at a fixed rate with a deterministic pattern that carries its own
frame number and timestamp in the first pixels, so a test in another process that receives an image
can rebuild exactly what was sent (``synthetic_frame``) and check the stamp, with no side channel.
With ``stop_after_frames`` it goes silent, which is how a camera that stops is simulated.
"""
from __future__ import annotations

import functools
import struct
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from robot_rl.perception.realsense import StreamProfile, rs_module

# What a D435's RGB and stereo modules offer (librealsense reports these for a D435 on USB 3).
D435_COLOR_SIZES = [(1920, 1080), (1280, 720), (960, 540), (848, 480), (640, 480), (640, 360), (424, 240),
                    (320, 240), (320, 180)]
D435_DEPTH_SIZES = [(1280, 720), (848, 480), (640, 480), (640, 360), (480, 270), (424, 240)]
D435_RATES = [6, 15, 30]

MAGIC = b"RRL1"
_HEADER = struct.Struct("<4sId")  # magic, frame number, timestamp in ms


def synthetic_frame(frame_number: int, timestamp_ms: float, width: int, height: int) -> npt.NDArray[np.uint8]:
    """The deterministic RGB test image for one frame: a moving gradient, with a header in row 0."""
    if width * 3 < _HEADER.size:
        raise ValueError(f"synthetic frames need width >= {(_HEADER.size + 2) // 3}, got {width}")
    image = _gradient(width, height) + np.uint8((3 * frame_number) % 256)  # wraps mod 256, as uint8 does
    header = np.frombuffer(_HEADER.pack(MAGIC, frame_number & 0xFFFFFFFF, timestamp_ms), dtype=np.uint8)
    image.reshape(-1)[: header.size] = header
    return image


@functools.lru_cache(maxsize=8)
def _gradient(width: int, height: int) -> npt.NDArray[np.uint8]:
    y, x = np.mgrid[0:height, 0:width]
    return (np.stack([x, 2 * y, x + y], axis=-1) % 256).astype(np.uint8)


def synthetic_depth(frame_number: int, width: int, height: int) -> npt.NDArray[np.uint16]:
    """The deterministic depth test image: a plane at 0.5 m + 1 mm per frame (in 1 mm units)."""
    return np.full((height, width), 500 + frame_number % 1000, dtype=np.uint16)


def decode_synthetic(image: npt.NDArray[np.uint8]) -> tuple[int, float]:
    """(frame number, timestamp ms) of an image made by ``synthetic_frame``; ValueError if it is not one."""
    raw = np.ascontiguousarray(image).reshape(-1)[: _HEADER.size].tobytes()
    magic, number, timestamp_ms = _HEADER.unpack(raw)
    if magic != MAGIC:
        raise ValueError("not a synthetic test frame (header missing)")
    return int(number), float(timestamp_ms)


def _intrinsics(rs: Any, width: int, height: int) -> Any:
    intrinsics = rs.intrinsics()
    intrinsics.width, intrinsics.height = width, height
    intrinsics.fx = intrinsics.fy = 0.95 * width  # about a D435's 69 degree horizontal field of view
    intrinsics.ppx, intrinsics.ppy = (width - 1) / 2.0, (height - 1) / 2.0
    intrinsics.model = rs.distortion.none
    intrinsics.coeffs = [0.0] * 5
    return intrinsics


class SoftwareCamera:
    """A ``rs.software_device`` with a D435's color (and, with ``depth``, stereo) sensor and profiles."""

    def __init__(self, serial: str, depth: bool = False, name: str = "robot_rl software camera") -> None:
        rs = self._rs = rs_module()
        self.serial = serial
        self.device = rs.software_device()
        self.device.register_info(rs.camera_info.name, name)
        self.device.register_info(rs.camera_info.serial_number, serial)
        self._color = self.device.add_sensor("RGB Camera")
        self._profiles: dict[StreamProfile, Any] = {}
        uid = 0
        for width, height in D435_COLOR_SIZES:
            for fps in D435_RATES:
                uid += 1
                self._add(self._color, rs.stream.color, rs.format.rgb8, 3, width, height, fps, uid, "rgb8")
        self._depth: Any | None = None
        if depth:
            self._depth = self.device.add_sensor("Stereo Module")
            self._depth.add_read_only_option(rs.option.depth_units, 0.001)
            for width, height in D435_DEPTH_SIZES:
                for fps in D435_RATES:
                    uid += 1
                    self._add(self._depth, rs.stream.depth, rs.format.z16, 2, width, height, fps, uid, "z16")
            identity = rs.extrinsics()
            identity.rotation = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0]
            identity.translation = [0.0, 0.0, 0.0]
            for key, profile in self._profiles.items():
                if key.format == "z16":
                    for other_key, other in self._profiles.items():
                        if other_key.format == "rgb8":
                            profile.register_extrinsics_to(other, identity)
        self._lock = threading.Lock()

    def _add(self, sensor: Any, stream: Any, fmt: Any, bpp: int, width: int, height: int, fps: int, uid: int,
             fmt_name: str) -> None:
        rs = self._rs
        video = rs.video_stream()
        video.type, video.index, video.uid = stream, 0, uid
        video.width, video.height, video.fps, video.bpp, video.fmt = width, height, fps, bpp, fmt
        video.intrinsics = _intrinsics(rs, width, height)
        default = (width, height, fps) == (640, 480, 30)
        self._profiles[StreamProfile(width, height, fps, fmt_name)] = sensor.add_video_stream(video, default)

    def push(self, image: npt.NDArray[np.uint8], fps: int, frame_number: int, timestamp_ms: float,
             domain: str = "global_time", depth: npt.NDArray[np.uint16] | None = None) -> None:
        """Inject one frame (and the depth of the same instant, sent first) into the device."""
        height, width = image.shape[:2]
        if depth is not None and self._depth is not None:
            self._inject(self._depth, depth, StreamProfile(width, height, fps, "z16"), 2, frame_number,
                         timestamp_ms, domain)
        self._inject(self._color, image, StreamProfile(width, height, fps, "rgb8"), 3, frame_number,
                     timestamp_ms, domain)

    def _inject(self, sensor: Any, pixels: np.ndarray, key: StreamProfile, bpp: int, frame_number: int,
                timestamp_ms: float, domain: str) -> None:
        rs = self._rs
        profile = self._profiles.get(key)
        if profile is None:
            raise ValueError(f"software camera {self.serial!r} has no {key} profile")
        frame = rs.software_video_frame()
        frame.pixels = np.ascontiguousarray(pixels)
        frame.stride, frame.bpp = key.width * bpp, bpp
        frame.timestamp, frame.domain = timestamp_ms, getattr(rs.timestamp_domain, domain)
        frame.frame_number = frame_number
        frame.profile = profile.as_video_stream_profile()
        with self._lock:
            sensor.set_metadata(rs.frame_metadata_value.frame_counter, frame_number)
            sensor.set_metadata(rs.frame_metadata_value.frame_timestamp, int(timestamp_ms * 1000))
            sensor.on_video_frame(frame)


class SyntheticFeeder:
    """Pushes ``synthetic_frame`` images into a SoftwareCamera at ``fps`` on its own thread.

    Timestamps are the host wall clock in ms, in the ``global_time`` domain (what a D400 reports), so the
    stamp a subscriber sees must equal the one encoded in the image. ``stop_after_frames`` > 0 makes it
    stop sending after that many frames, like a camera whose cable was pulled.
    """

    def __init__(self, camera: SoftwareCamera, width: int, height: int, fps: int, stop_after_frames: int = 0,
                 depth: bool = False) -> None:
        self.camera = camera
        self.width, self.height, self.fps = width, height, fps
        self.stop_after_frames = stop_after_frames
        self.depth = depth
        self.frames_sent = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=f"feeder-{self.camera.serial}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2.0)
            self._thread = None

    def _run(self) -> None:
        period = 1.0 / self.fps
        next_time = time.monotonic()
        while not self._stop.is_set():
            if self.stop_after_frames and self.frames_sent >= self.stop_after_frames:
                return
            n = self.frames_sent
            timestamp_ms = time.time() * 1000.0
            image = synthetic_frame(n, timestamp_ms, self.width, self.height)
            depth = synthetic_depth(n, self.width, self.height) if self.depth else None
            self.camera.push(image, self.fps, n, timestamp_ms, "global_time", depth)
            self.frames_sent += 1
            next_time += period
            self._stop.wait(max(0.0, next_time - time.monotonic()))


def record_synthetic(path: str | Path, count: int, width: int, height: int, fps: int, serial: str = "555",
                     first_timestamp_ms: float = 1_790_000_000_000.0) -> list[tuple[int, float]]:
    """Record ``count`` synthetic frames from a SoftwareCamera into a RealSense recording at ``path``.

    Through the SDK's own ``rs.recorder``, so playback reads what the SDK writes. The SDK records only
    rosbag2 ``.db3`` (it refuses a ``.bag`` name: "Output file must have .db3 extension"). Returns the
    (frame number, timestamp in ms) of each frame; ``synthetic_frame`` rebuilds its image.
    """
    rs = rs_module()
    camera = SoftwareCamera(serial)
    recorder = rs.recorder(str(path), camera.device)
    sensor = next(s for s in recorder.query_sensors() if s.get_info(rs.camera_info.name) == "RGB Camera")
    profile = next(p for p in sensor.get_stream_profiles() if p.fps() == fps
                   and (p.as_video_stream_profile().width(), p.as_video_stream_profile().height()) == (width, height))
    sensor.open(profile)
    sensor.start(lambda frame: None)
    sent = []
    for n in range(count):
        timestamp_ms = first_timestamp_ms + n * 1000.0 / fps
        camera.push(synthetic_frame(n, timestamp_ms, width, height), fps, n, timestamp_ms)
        sent.append((n, timestamp_ms))
        time.sleep(1.0 / fps)
    sensor.stop()
    sensor.close()
    del sensor, recorder, profile  # the SDK finishes the file when the recorder is destroyed
    return sent
