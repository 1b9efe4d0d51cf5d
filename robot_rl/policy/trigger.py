"""When the policy acts: as soon as every camera has delivered a frame newer than the last tick's.

A fixed timer adds up to one control period of waiting between a frame's arrival and the action
(the best-effort loops of HIL-SERL and LeRobot). Acting on the arrival of a complete frame set
removes that wait; the control rate still bounds how often the policy acts, as a token bucket:
tokens accrue at ``rate_hz`` up to ``burst`` and each tick spends one. Frames that arrive a little late
and then on time (scheduling jitter) are all answered, while faster cameras (30 fps at a 10 Hz control
rate) still give ``rate_hz`` ticks on average. A set that finds no token waits; ``due`` re-checks it
from a timer.
"""
from __future__ import annotations

from collections.abc import Iterable


class FrameSetTrigger:
    """Tracks per-camera newest capture times; says when a new complete frame set may be acted on."""

    def __init__(self, cameras: Iterable[str], rate_hz: float, burst: float = 1.5) -> None:
        self.cameras = list(cameras)
        if not self.cameras:
            raise ValueError("FrameSetTrigger needs at least one camera")
        if rate_hz <= 0 or burst < 1.0:
            raise ValueError(f"rate_hz={rate_hz}, burst={burst}: need rate_hz > 0 and burst >= 1")
        self.rate_hz = rate_hz
        self.burst = burst
        self._newest: dict[str, float] = {}
        self._used: dict[str, float] = {}
        self._tokens = burst
        self._tokens_at: float | None = None

    def on_frame(self, camera: str, capture_time_s: float, now: float) -> bool:
        """Record a frame; True when a tick should run now."""
        if camera not in self.cameras:
            raise KeyError(f"no camera {camera!r}; cameras are {self.cameras}")
        self._newest[camera] = max(capture_time_s, self._newest.get(camera, float("-inf")))
        return self.due(now)

    def complete(self) -> bool:
        """Every camera has a frame newer than the one the last tick used."""
        return all(c in self._newest and self._newest[c] > self._used.get(c, float("-inf")) for c in self.cameras)

    def tokens(self, now: float) -> float:
        if self._tokens_at is None:
            return self._tokens
        return min(self.burst, self._tokens + (now - self._tokens_at) * self.rate_hz)

    def due(self, now: float) -> bool:
        return self.complete() and self.tokens(now) >= 1.0

    def mark_tick(self, now: float) -> None:
        """The tick ran with the newest frames: they are used, and it spent a token."""
        self._used = dict(self._newest)
        self._tokens, self._tokens_at = self.tokens(now) - 1.0, now
