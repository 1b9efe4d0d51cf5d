"""Per-camera buffers of the newest frames, with the time each was captured and received.

Camera drivers deliver frames on their own threads; the control loop reads them on another. Each
buffer keeps only the last few frames (a robot acts on the present, and a long queue would only hide
latency), under a lock, so a reader never sees a half-written entry.

Two times per frame, both in seconds on the host's wall clock (the clock ROS stamps use):
``capture_time_s`` is when the sensor exposed the image (from the hardware timestamp), and
``receive_time_s`` is when the host got it. Their difference is the transport latency; the age of an
observation is measured from capture, because that is when the scene looked like the image.
"""
from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from robot_rl.perception.image import check_image


@dataclass(frozen=True)
class CameraFrame:
    """One color image (and optionally the depth aligned to it) from one camera."""

    camera: str  # camera name, as in cameras.names
    image: npt.NDArray[np.uint8]  # HxWx3 RGB
    capture_time_s: float  # host wall-clock time of exposure (from the hardware timestamp)
    receive_time_s: float  # host wall-clock time the frame reached us
    frame_number: int = -1  # the device's frame counter
    hardware_timestamp_ms: float = float("nan")  # the device's own timestamp, as reported
    timestamp_domain: str = ""  # hardware_clock | system_time | global_time
    depth: npt.NDArray[np.uint16] | None = None  # HxW depth aligned to ``image``, in depth_units
    depth_units_m: float = 0.001  # meters per depth unit
    metadata: dict[str, int] = field(default_factory=dict)  # per-frame metadata the device reported


class FrameBuffer:
    """The newest ``capacity`` frames of one camera, safe to write and read from different threads.

    ``expected_size`` (width, height) makes ``put`` reject frames of another size with ImageFormatError,
    so a misconfigured camera fails where it is plugged in, not inside the policy.
    """

    def __init__(self, camera: str, expected_size: tuple[int, int] | None = None, capacity: int = 4) -> None:
        if capacity < 1:
            raise ValueError(f"FrameBuffer capacity={capacity}: must be >= 1")
        self.camera = camera
        self.expected_size = expected_size
        self._frames: deque[CameraFrame] = deque(maxlen=capacity)
        self._lock = threading.Lock()
        self._count = 0

    def put(self, frame: CameraFrame) -> None:
        width, height = self.expected_size if self.expected_size else (None, None)
        check_image(frame.image, channels=3, dtype=np.uint8, width=width, height=height,
                    what=f"camera {self.camera!r} frame")
        with self._lock:
            self._frames.append(frame)
            self._count += 1

    def latest(self) -> CameraFrame | None:
        with self._lock:
            return self._frames[-1] if self._frames else None

    def newest_at(self, t: float) -> CameraFrame | None:
        """The newest frame captured at or before ``t`` (a tick may be assembled slightly after it happened)."""
        with self._lock:
            for frame in reversed(self._frames):
                if frame.capture_time_s <= t:
                    return frame
        return None

    @property
    def count(self) -> int:
        """Frames ever put (the buffer itself holds at most ``capacity``)."""
        with self._lock:
            return self._count

    def seconds_since_receive(self, now: float | None = None) -> float:
        """Wall time since the newest frame arrived; infinity before the first."""
        frame = self.latest()
        if frame is None:
            return float("inf")
        return (time.time() if now is None else now) - frame.receive_time_s


class FrameBuffers:
    """One FrameBuffer per camera name; the camera side puts, the control loop reads."""

    def __init__(self, cameras: Iterable[str], expected_size: dict[str, tuple[int, int]] | None = None,
                 capacity: int = 4) -> None:
        sizes = expected_size or {}
        self._buffers = {name: FrameBuffer(name, sizes.get(name), capacity) for name in cameras}
        if not self._buffers:
            raise ValueError("FrameBuffers needs at least one camera name")

    @property
    def cameras(self) -> list[str]:
        return list(self._buffers)

    def __getitem__(self, camera: str) -> FrameBuffer:
        try:
            return self._buffers[camera]
        except KeyError:
            raise KeyError(f"no camera {camera!r}; cameras are {self.cameras}") from None

    def put(self, frame: CameraFrame) -> None:
        self[frame.camera].put(frame)
