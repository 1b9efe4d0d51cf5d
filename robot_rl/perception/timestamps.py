"""Map a camera's own frame timestamps to the host wall clock that ROS stamps and the control loop use.

RealSense reports each frame's timestamp in milliseconds in one of three domains:

- ``global_time``: the device clock already translated to host time by librealsense (the default on
  D400 cameras): the exposure time on the host clock, used as is;
- ``system_time``: the host time the frame arrived (no hardware timestamp available), used as is;
- ``hardware_clock``: the device's own clock since power-on. It is mapped with an offset: the
  smallest (receive time - device time) over the last ``window`` frames, i.e. the frame that
  travelled fastest, which is the best estimate of the clock offset plus the minimum transport delay.
  The window lets the estimate follow the slow drift between the two crystals; a jump of more than
  ``reset_s`` (device reset, counter wrap) starts a new estimate.
"""
from __future__ import annotations

from collections import deque

SECONDS_PER_MS = 1e-3
HOST_DOMAINS = ("global_time", "system_time")


class ClockMapper:
    """Per camera: frame timestamp (ms, domain) + host receive time (s) -> host capture time (s)."""

    def __init__(self, window: int = 100, reset_s: float = 1.0) -> None:
        self._candidates: deque[float] = deque(maxlen=window)
        self._reset_s = reset_s

    def to_host_s(self, timestamp_ms: float, domain: str, receive_time_s: float) -> float:
        if domain in HOST_DOMAINS:
            return timestamp_ms * SECONDS_PER_MS
        if domain != "hardware_clock":
            raise ValueError(f"unknown timestamp domain {domain!r}: expected hardware_clock, system_time or "
                             "global_time")
        candidate = receive_time_s - timestamp_ms * SECONDS_PER_MS
        if self._candidates and abs(candidate - self._candidates[-1]) > self._reset_s:
            self._candidates.clear()
        self._candidates.append(candidate)
        return timestamp_ms * SECONDS_PER_MS + min(self._candidates)
