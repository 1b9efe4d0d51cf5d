"""Device health: a device that is unplugged, or reads only zeros while it should be moving, is unhealthy.

"Supposed to be active" means the operator has taken over: a SpaceMouse or gamepad that reads
exactly zero on every axis for ``zero_timeout_s`` while the human is in control is most likely dead
(another process holds it, a cable is loose, a wireless receiver lost its pairing), and HIL-SERL users
report exactly this failure as silent "no input". A device at rest while nobody intervenes reads zero
legitimately and is not flagged. The keyboard is exempt (``zero_check = False``): a terminal cannot
read zeros silently, and its loss (EOF / EIO) is seen as a disconnect.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Health:
    ok: bool
    reason: str = ""  # why not ok, for the operator and /diagnostics


HEALTHY = Health(True)


class HealthMonitor:
    def __init__(self, zero_timeout_s: float) -> None:
        if zero_timeout_s <= 0:
            raise ValueError(f"teleop.zero_timeout_s={zero_timeout_s}: must be > 0 seconds")
        self.zero_timeout_s = zero_timeout_s
        self._zero_since: float | None = None
        self.health = HEALTHY

    def update(self, now: float, connected: bool, error: str, raw_zero: bool, active: bool) -> Health:
        if not connected:
            self._zero_since = None
            self.health = Health(False, f"device disconnected: {error or 'no reason given'}")
            return self.health
        if not (active and raw_zero):
            self._zero_since = None
        elif self._zero_since is None:
            self._zero_since = now
        if self._zero_since is not None and now - self._zero_since >= self.zero_timeout_s:
            self.health = Health(False, f"device reads only zeros for {now - self._zero_since:.1f} s while the "
                                        "operator is in control: check the cable/receiver and that no other "
                                        "process (spacenavd, a browser) holds the device")
        else:
            self.health = HEALTHY
        return self.health
