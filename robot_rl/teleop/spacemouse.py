"""3Dconnexion SpaceMouse through raw HID reports (``hidapi``), no driver or spacenavd needed.

HID input report layout (first byte is the report ID; values are signed 16-bit little endian):

    ID 1, 7 bytes    01 | x lo x hi | y lo y hi | z lo z hi                  translation
    ID 1, 13 bytes   01 | x | y | z | rx | ry | rz                           newer devices (SpaceMouse
                                                                             Wireless, Compact 2nd gen)
    ID 2, 7 bytes    02 | rx lo rx hi | ry lo ry hi | rz lo rz hi            rotation (older devices)
    ID 3             03 | button bits, little endian (bit 0 = left, bit 1 = right, ...)

Device axes: x to the right, y towards the operator, z down (pushing the cap down is +z), rotations
about those axes (right-handed). Full deflection reads about +-350 counts. A device at rest sends no
reports, so the last values are kept until the next report.

Default mapping to the base frame, for an operator standing behind the robot facing its +x:
base x = -device y (push away = forward), base y = -device x, base z = -device z (pull up = up), and
the same for rotations. Left button (0): hold to intervene; right button (1): toggle the gripper.
"""
from __future__ import annotations

import struct
from typing import Any

import numpy as np

from robot_rl.teleop.device import Action, DeviceError, DeviceReading, TeleopDevice, disconnected

VENDOR_3DCONNEXION = 0x256F  # every product of this vendor is a 3D mouse
VENDOR_LOGITECH = 0x046D  # older 3Dconnexion devices; only these product IDs
LOGITECH_3D_MICE = {0xC603, 0xC605, 0xC606, 0xC621, 0xC623, 0xC625, 0xC626, 0xC627, 0xC628, 0xC629, 0xC62B}
FULL_SCALE = 350.0


class SpaceMouseState:
    """Axes and buttons decoded from a stream of HID reports."""

    def __init__(self, full_scale: float = FULL_SCALE) -> None:
        if full_scale <= 0:
            raise ValueError(f"teleop.spacemouse_full_scale={full_scale}: must be > 0 counts")
        self.full_scale = full_scale
        self.counts = np.zeros(6)  # raw counts x y z rx ry rz
        self.buttons = 0  # bit mask

    def decode(self, report: bytes) -> None:
        """Apply one HID input report; unknown report IDs (battery, LEDs) are ignored."""
        if not report:
            return
        report_id = report[0]
        if report_id == 1 and len(report) >= 7:
            self.counts[0:3] = struct.unpack_from("<3h", report, 1)
            if len(report) >= 13:
                self.counts[3:6] = struct.unpack_from("<3h", report, 7)
        elif report_id == 2 and len(report) >= 7:
            self.counts[3:6] = struct.unpack_from("<3h", report, 1)
        elif report_id == 3 and len(report) >= 2:
            self.buttons = int.from_bytes(report[1:], "little")

    @property
    def axes(self) -> np.ndarray:
        return np.clip(self.counts / self.full_scale, -1.0, 1.0)

    @property
    def held(self) -> frozenset[str]:
        return frozenset(str(bit) for bit in range(self.buttons.bit_length()) if self.buttons >> bit & 1)


def is_space_mouse(vendor_id: int, product_id: int) -> bool:
    return vendor_id == VENDOR_3DCONNEXION or (vendor_id == VENDOR_LOGITECH and product_id in LOGITECH_3D_MICE)


class SpaceMouseDevice(TeleopDevice):
    name = "spacemouse"
    default_axis_map = (1, 0, 2, 4, 3, 5)
    default_axis_sign = (-1.0,) * 6
    default_buttons = {"0": Action.INTERVENE, "1": Action.GRIPPER_TOGGLE}

    def __init__(self, path: str = "", full_scale: float = FULL_SCALE) -> None:
        self.path = path  # hidraw path from hid.enumerate() ("" = the first 3D mouse found)
        self.state = SpaceMouseState(full_scale)
        self._hid: Any = None
        self._error = ""

    def open(self) -> None:
        try:
            import hid
        except ImportError as err:
            raise DeviceError(f"the SpaceMouse needs hidapi: pip install hidapi ({err})") from None
        found = [d for d in hid.enumerate() if is_space_mouse(d["vendor_id"], d["product_id"])]
        paths = [d["path"] for d in found]
        if self.path:
            paths = [p for p in paths if p.decode(errors="replace") == self.path] or [self.path.encode()]
        if not paths:
            raise DeviceError("no 3Dconnexion SpaceMouse found: plug it in, and give this user read access to "
                              "its /dev/hidraw* (a udev rule with MODE=\"0666\" for vendor 256f/046d)")
        device = hid.device()
        try:
            device.open_path(paths[0])
            device.set_nonblocking(1)
        except OSError as err:
            raise DeviceError(f"cannot open SpaceMouse {paths[0]!r}: {err}; check the permissions of "
                              "/dev/hidraw* and that spacenavd does not hold it") from None
        self._hid, self._error = device, ""

    def read(self, now: float) -> DeviceReading:
        if self._hid is None:
            return disconnected(6, self._error or "not open")
        try:
            for _ in range(256):  # drain what arrived since the last tick; the device sends ~60 reports/s
                report = self._hid.read(64)
                if not report:
                    break
                self.state.decode(bytes(report))
        except OSError as err:
            self._error = f"HID read failed ({err}): unplugged?"
            self.close()
            return disconnected(6, self._error)
        return DeviceReading(axes=self.state.axes, buttons=self.state.held)

    def close(self) -> None:
        if self._hid is not None:
            self._hid.close()
            self._hid = None

    def help(self) -> str:
        return ("SpaceMouse: push/twist the cap to move; hold the LEFT button to take over, "
                "RIGHT button toggles the gripper")
