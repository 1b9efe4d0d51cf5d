"""3Dconnexion SpaceMouse through raw HID reports (``hidapi``), no driver or spacenavd needed.

HID input report layout (first byte is the report ID; values are signed 16-bit little endian):

    ID 1, 7 bytes    01 | x lo x hi | y lo y hi | z lo z hi                  translation
    ID 1, 13 bytes   01 | x | y | z | rx | ry | rz                           newer devices (SpaceMouse
                                                                             Wireless, Compact 2nd gen)
    ID 2, 7 bytes    02 | rx lo rx hi | ry lo ry hi | rz lo rz hi            rotation (older devices)
    ID 3             03 | button bits, little endian (bit 0 = left, bit 1 = right, ...)

Buttons are named by their bit in report 3 ("0", "12", ...), the same on every model, so
``teleop.button_map`` keys are bits. Where a model puts its keys differs (``MODELS``, by USB product
id): two-button mice (Compact, Wireless and its receiver, SpaceNavigator) use bits 0 and 1; the Pro
family (SpaceMouse Pro, Pro Wireless cabled, through its receiver or Bluetooth) puts its keys 1-4 on
bits 12-15, Esc/Alt/Shift/Ctrl on 22-25 and Menu/Fit on 0/1; the Enterprise sends a longer report 3
(its keys 1-10 on bits 12-21, 11 and 12 on bits 76 and 77, Tab and Space as far as bits 174/175); the
Universal Receiver pairs either kind, so its defaults cover both. A wireless receiver enumerates
several HID interfaces; the multi-axis controller (usage page 1, usage 8) is the one that moves.

Device axes: x to the right, y towards the operator, z down (pushing the cap down is +z), rotations
about those axes (right-handed). Full deflection reads about +-350 counts. A device at rest sends no
reports, so the last values are kept until the next report.

Default mapping to the base frame, for an operator standing behind the robot facing its +x:
base x = -device y (push away = forward), base y = -device x, base z = -device z (pull up = up), and
the same for rotations. Two-button models: hold the left button to intervene, the right toggles the
gripper. Pro and Enterprise: hold key 1 to intervene, key 2 toggles the gripper, 3 marks success, 4
failure, Menu starts an episode, Fit resets, Esc is the e-stop.
"""
from __future__ import annotations

import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from robot_rl.teleop.device import Action, DeviceError, DeviceReading, TeleopDevice, disconnected

VENDOR_3DCONNEXION = 0x256F  # every product of this vendor is a 3D mouse
VENDOR_LOGITECH = 0x046D  # older 3Dconnexion devices; only these product IDs
LOGITECH_3D_MICE = {0xC603, 0xC605, 0xC606, 0xC621, 0xC623, 0xC625, 0xC626, 0xC627, 0xC628, 0xC629, 0xC62B}
FULL_SCALE = 350.0
MULTI_AXIS_USAGE = (0x01, 0x08)  # HID usage page and usage of a multi-axis controller


@dataclass(frozen=True)
class SpaceMouseModel:
    name: str
    labels: Mapping[int, str]  # report-3 bit -> what is printed on the key
    default_buttons: Mapping[str, Action] = field(default_factory=dict)  # bit (as a string) -> action

    def label(self, bit: str) -> str:
        return self.labels.get(int(bit), f"bit {bit}") if bit.isdigit() else bit


_TWO_BUTTONS = {"0": Action.INTERVENE, "1": Action.GRIPPER_TOGGLE}
_PRO_BUTTONS = {"12": Action.INTERVENE, "13": Action.GRIPPER_TOGGLE, "14": Action.SUCCESS, "15": Action.FAILURE,
                "0": Action.START, "1": Action.RESET, "22": Action.ESTOP}
_PRO_LABELS = {0: "Menu", 1: "Fit", 2: "Top", 4: "Right", 5: "Front", 8: "Rotation", 12: "1", 13: "2", 14: "3",
               15: "4", 22: "Esc", 23: "Alt", 24: "Shift", 25: "Ctrl", 26: "Lock"}
TWO_BUTTON = SpaceMouseModel("SpaceMouse", {0: "left", 1: "right"}, _TWO_BUTTONS)
PRO = SpaceMouseModel("SpaceMouse Pro", _PRO_LABELS, _PRO_BUTTONS)
ENTERPRISE = SpaceMouseModel("SpaceMouse Enterprise", {
    **_PRO_LABELS, **{bit: str(bit - 11) for bit in range(12, 22)}, 76: "11", 77: "12", 10: "ISO", 35: "Enter",
    36: "Delete", 102: "V1", 103: "V2", 104: "V3", 174: "Tab", 175: "Space"}, _PRO_BUTTONS)
UNIVERSAL_RECEIVER = SpaceMouseModel("3Dconnexion Universal Receiver", {
    **_PRO_LABELS, 0: "left / Menu", 1: "right / Fit"}, {**_PRO_BUTTONS, **_TWO_BUTTONS})
MODELS: dict[tuple[int, int], SpaceMouseModel] = {
    **{(VENDOR_LOGITECH, p): TWO_BUTTON for p in (0xC626, 0xC628)},  # SpaceNavigator (for Notebooks)
    (VENDOR_LOGITECH, 0xC62B): PRO,
    # SpaceMouse Wireless cabled, its receiver, the newer Wireless, Compact, SpaceMouse USB
    **{(VENDOR_3DCONNEXION, p): TWO_BUTTON for p in (0xC62E, 0xC62F, 0xC63A, 0xC635, 0xC641)},
    # SpaceMouse Pro Wireless: cabled, through its receiver, over Bluetooth
    **{(VENDOR_3DCONNEXION, p): PRO for p in (0xC631, 0xC632, 0xC638)},
    (VENDOR_3DCONNEXION, 0xC633): ENTERPRISE,
    (VENDOR_3DCONNEXION, 0xC652): UNIVERSAL_RECEIVER,
}


def model_for(vendor_id: int, product_id: int) -> SpaceMouseModel:
    """The model's key layout; other 3D mice number their keys from bit 0 like the two-button ones."""
    return MODELS.get((vendor_id, product_id), TWO_BUTTON)


def choose_interface(devices: Sequence[Mapping[str, Any]], path: str = "") -> Mapping[str, Any] | None:
    """The HID interface to read among ``hid.enumerate()``'s: ``path`` if given, else the first 3D mouse's
    multi-axis controller interface (a receiver's other interfaces never send motion)."""
    mice = [d for d in devices if is_space_mouse(d["vendor_id"], d["product_id"])]
    if path:
        return next((d for d in mice if d["path"].decode(errors="replace") == path), None)
    mice.sort(key=lambda d: (d.get("usage_page"), d.get("usage")) != MULTI_AXIS_USAGE)
    return mice[0] if mice else None


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
        self.model = TWO_BUTTON  # set from the USB product id on open
        self.default_buttons = dict(self.model.default_buttons)
        self._hid: Any = None
        self._error = ""

    def open(self) -> None:
        try:
            import hid
        except ImportError as err:
            raise DeviceError(f"the SpaceMouse needs hidapi: pip install hidapi ({err})") from None
        found = choose_interface(hid.enumerate(), self.path)
        if found is None and not self.path:
            raise DeviceError("no 3Dconnexion SpaceMouse found: plug it in, and give this user read access to "
                              "its /dev/hidraw* (a udev rule with MODE=\"0666\" for vendor 256f/046d)")
        path = found["path"] if found is not None else self.path.encode()
        device = hid.device()
        try:
            device.open_path(path)
            device.set_nonblocking(1)
        except OSError as err:
            raise DeviceError(f"cannot open SpaceMouse {path!r}: {err}; check the permissions of "
                              "/dev/hidraw* and that spacenavd does not hold it") from None
        self.model = model_for(found["vendor_id"], found["product_id"]) if found is not None else TWO_BUTTON
        self.default_buttons = dict(self.model.default_buttons)
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
        keys = ", ".join(f"{self.model.label(bit)}: {action.value}" for bit, action in self.default_buttons.items())
        return f"{self.model.name}: push/twist the cap to move; {keys} (hold the intervene key to take over)"
