"""SpaceMouse HID reports (recorded byte strings) decode into the right twists and buttons."""
from __future__ import annotations

import struct
import sys

import numpy as np
import pytest

from robot_rl.teleop import Action, DeviceError, make_processor
from robot_rl.teleop.device import DeviceReading, Reconnecting
from robot_rl.teleop.spacemouse import (
    ENTERPRISE,
    PRO,
    TWO_BUTTON,
    UNIVERSAL_RECEIVER,
    SpaceMouseDevice,
    SpaceMouseState,
    choose_interface,
    is_space_mouse,
    model_for,
)

# Reports as a SpaceNavigator sends them (report ID, then little-endian int16 values).
PUSH_AWAY = bytes.fromhex("01 0000 a2fe 0000")  # translation: y = -350 (cap pushed away from the operator)
LIFT = bytes.fromhex("01 0000 0000 51ff")  # translation: z = -175 (cap pulled up)
TWIST_CCW = bytes.fromhex("02 0000 0000 a2fe")  # rotation: rz = -350 (cap turned counter-clockwise)
LEFT_BUTTON = bytes.fromhex("03 01 00")
BOTH_BUTTONS = bytes.fromhex("03 03 00")
RELEASED = bytes.fromhex("03 00 00")


def test_translation_rotation_and_button_reports_decode_to_counts() -> None:
    state = SpaceMouseState()
    state.decode(bytes([1]) + struct.pack("<3h", 100, -200, 350))
    state.decode(bytes([2]) + struct.pack("<3h", -35, 0, 700))
    np.testing.assert_allclose(state.axes, [100 / 350, -200 / 350, 1.0, -0.1, 0.0, 1.0])  # clipped at 1
    state.decode(BOTH_BUTTONS)
    assert state.held == {"0", "1"}
    state.decode(RELEASED)
    assert state.held == frozenset()


def test_newer_devices_send_translation_and_rotation_in_one_report() -> None:
    state = SpaceMouseState()
    state.decode(bytes([1]) + struct.pack("<6h", 35, 70, -105, 140, -175, 350))
    np.testing.assert_allclose(state.axes, [0.1, 0.2, -0.3, 0.4, -0.5, 1.0])


def test_other_reports_are_ignored_and_values_are_kept_between_reports() -> None:
    state = SpaceMouseState()
    state.decode(PUSH_AWAY)
    state.decode(bytes.fromhex("17 64"))  # battery report of a wireless device
    state.decode(b"")
    state.decode(TWIST_CCW)
    np.testing.assert_allclose(state.axes, [0, -1, 0, 0, 0, -1])


@pytest.mark.parametrize(("reports", "expected"), [
    ([PUSH_AWAY], [1.0, 0, 0, 0, 0, 0]),  # push away from the operator -> forward (+x)
    ([LIFT], [0, 0, 0.5, 0, 0, 0]),  # pull up -> up (+z)
    ([TWIST_CCW], [0, 0, 0, 0, 0, 1.0]),  # counter-clockwise seen from above -> +yaw
])
def test_default_mapping_puts_operator_motions_on_base_frame_axes(reports: list[bytes], expected: list[float]) -> None:
    device = SpaceMouseDevice()
    for report in reports:
        device.state.decode(report)
    proc = make_processor(device, deadband=0.0)
    reading = DeviceReading(axes=device.state.axes, buttons=device.state.held)
    np.testing.assert_allclose(proc.process(reading).twist, expected)


def test_left_button_takes_over_and_right_toggles_the_gripper() -> None:
    device = SpaceMouseDevice()
    device.state.decode(LEFT_BUTTON)
    proc = make_processor(device)
    assert proc.process(DeviceReading(axes=device.state.axes, buttons=device.state.held)).held == {Action.INTERVENE}
    device.state.decode(bytes.fromhex("03 02 00"))
    assert proc.process(DeviceReading(axes=device.state.axes, buttons=device.state.held)).held == {
        Action.GRIPPER_TOGGLE}


def test_device_ids() -> None:
    assert is_space_mouse(0x256F, 0xC635)  # SpaceMouse Compact
    assert is_space_mouse(0x046D, 0xC626)  # SpaceNavigator
    assert not is_space_mouse(0x046D, 0xC52B)  # a Logitech unifying receiver


class FakeHid:
    """hidapi's device object: read() returns queued reports, then [] (nothing new), or raises when unplugged."""

    def __init__(self, reports: list[bytes]) -> None:
        self.reports = [list(r) for r in reports]
        self.unplugged = False
        self.closed = False

    def read(self, size: int) -> list[int]:
        if self.unplugged:
            raise OSError("read error")
        return self.reports.pop(0) if self.reports else []

    def close(self) -> None:
        self.closed = True


def test_read_drains_reports_and_an_unplug_reads_as_disconnected() -> None:
    device = SpaceMouseDevice()
    fake = FakeHid([PUSH_AWAY, LEFT_BUTTON])
    device._hid = fake
    reading = device.read(0.0)
    assert reading.connected and reading.buttons == {"0"}
    np.testing.assert_allclose(reading.axes, [0, -1, 0, 0, 0, 0])
    fake.unplugged = True
    reading = device.read(0.1)
    assert not reading.connected and "unplugged" in reading.error and fake.closed
    assert not device.read(0.2).connected


def test_an_unplugged_spacemouse_is_reopened_when_it_comes_back(monkeypatch: pytest.MonkeyPatch) -> None:
    inner = SpaceMouseDevice()
    device = Reconnecting(inner, retry_s=1.0)
    first = FakeHid([PUSH_AWAY])
    inner._hid = first
    assert device.read(0.0).connected
    first.unplugged = True
    opens: list[float] = []

    def reopen() -> None:
        opens.append(1.0)
        if len(opens) == 1:
            raise DeviceError("no 3Dconnexion SpaceMouse found")
        inner._hid = FakeHid([LIFT])

    monkeypatch.setattr(inner, "open", reopen)
    assert not device.read(0.1).connected
    assert not device.read(0.5).connected and not opens  # waits retry_s before trying
    reading = device.read(1.2)
    assert not reading.connected and "no 3Dconnexion" in reading.error and len(opens) == 1
    reading = device.read(2.3)
    assert reading.connected and len(opens) == 2
    assert device.name == "spacemouse" and device.default_axis_map == inner.default_axis_map


# Button reports of the Pro family and the Enterprise (report 3, one bit per key, lowest byte first).
PRO_KEY_1 = bytes.fromhex("03 00 10 00 00")  # bit 12: key 1
PRO_ESC_AND_KEY_2 = bytes.fromhex("03 00 20 40 00")  # bit 13 (key 2) and bit 22 (Esc)
ENTERPRISE_KEY_11_AND_SPACE = bytes.fromhex("03" + "00" * 9 + "10" + "00" * 11 + "80")  # bits 76 and 175
ENTERPRISE_MOTION = bytes.fromhex("01 2300 4600 9dff 8c00 51ff 5e01")  # x y z rx ry rz in one report


def held_actions(device: SpaceMouseDevice, *reports: bytes) -> frozenset[Action]:
    for report in reports:
        device.state.decode(report)
    reading = DeviceReading(axes=device.state.axes, buttons=device.state.held)
    return make_processor(device).process(reading).held


@pytest.mark.parametrize(("product", "model"), [
    (0xC632, PRO),  # SpaceMouse Pro Wireless through its receiver
    (0xC631, PRO),  # ...on its cable
    (0xC638, PRO),  # ...over Bluetooth
    (0xC633, ENTERPRISE),
    (0xC652, UNIVERSAL_RECEIVER),
    (0xC62F, TWO_BUTTON),  # SpaceMouse Wireless receiver
    (0xC635, TWO_BUTTON),  # Compact
])
def test_wireless_receivers_and_models_are_recognised(product: int, model: object) -> None:
    assert is_space_mouse(0x256F, product) and model_for(0x256F, product) is model
    assert model_for(0x046D, 0xC62B) is PRO  # the Logitech-era SpaceMouse Pro


def test_pro_keys_take_over_toggle_the_gripper_and_stop() -> None:
    device = SpaceMouseDevice()
    device.model, device.default_buttons = PRO, dict(PRO.default_buttons)
    assert held_actions(device, PRO_KEY_1) == {Action.INTERVENE}
    assert device.state.held == {"12"}
    assert held_actions(device, PRO_ESC_AND_KEY_2) == {Action.GRIPPER_TOGGLE, Action.ESTOP}
    assert held_actions(device, RELEASED) == frozenset()
    assert "1: intervene" in device.help() and "Esc: estop" in device.help()


def test_enterprise_long_button_report_and_six_axis_motion_report() -> None:
    device = SpaceMouseDevice()
    device.model, device.default_buttons = ENTERPRISE, dict(ENTERPRISE.default_buttons)
    device.state.decode(ENTERPRISE_MOTION)
    np.testing.assert_allclose(device.state.axes, [35 / 350, 70 / 350, -99 / 350, 140 / 350, -175 / 350, 1.0])
    assert held_actions(device, ENTERPRISE_KEY_11_AND_SPACE) == frozenset()  # not mapped by default
    assert device.state.held == {"76", "175"}
    assert [ENTERPRISE.label(b) for b in sorted(device.state.held, key=int)] == ["11", "Space"]
    assert held_actions(device, PRO_KEY_1) == {Action.INTERVENE}  # the Pro's key 1 bit, on the Enterprise too


def test_universal_receiver_defaults_work_for_either_paired_mouse() -> None:
    device = SpaceMouseDevice()
    device.model, device.default_buttons = UNIVERSAL_RECEIVER, dict(UNIVERSAL_RECEIVER.default_buttons)
    assert held_actions(device, LEFT_BUTTON) == {Action.INTERVENE}  # a two-button SpaceMouse Wireless
    assert held_actions(device, PRO_KEY_1) == {Action.INTERVENE}  # a Pro Wireless


RECEIVER_INTERFACES = [
    {"vendor_id": 0x046D, "product_id": 0xC52B, "usage_page": 1, "usage": 2, "path": b"/dev/hidraw1"},
    {"vendor_id": 0x256F, "product_id": 0xC652, "usage_page": 1, "usage": 2, "path": b"/dev/hidraw2"},  # CadMouse
    {"vendor_id": 0x256F, "product_id": 0xC652, "usage_page": 1, "usage": 8, "path": b"/dev/hidraw3"},
]


def test_the_multi_axis_interface_of_a_receiver_is_chosen() -> None:
    chosen = choose_interface(RECEIVER_INTERFACES)
    assert chosen is not None and chosen["path"] == b"/dev/hidraw3"
    assert choose_interface(RECEIVER_INTERFACES, "/dev/hidraw2") is RECEIVER_INTERFACES[1]
    assert choose_interface(RECEIVER_INTERFACES[:1]) is None


def test_open_picks_the_models_buttons_also_behind_the_reconnecting_wrapper(monkeypatch: pytest.MonkeyPatch) -> None:
    class HidModule:
        """The two calls SpaceMouseDevice.open makes on hidapi's module, over a Pro Wireless receiver."""

        @staticmethod
        def enumerate() -> list[dict[str, object]]:
            return [{"vendor_id": 0x256F, "product_id": 0xC632, "usage_page": 1, "usage": 8, "path": b"/dev/hidraw5"}]

        class device:  # noqa: N801 - hidapi's name
            def open_path(self, path: bytes) -> None:
                self.path = path

            def set_nonblocking(self, flag: int) -> None:
                pass

            def close(self) -> None:
                pass

    monkeypatch.setitem(sys.modules, "hid", HidModule)
    wrapped = Reconnecting(SpaceMouseDevice())
    wrapped.open()
    assert make_processor(wrapped).buttons["12"] is Action.INTERVENE
    assert "SpaceMouse Pro" in wrapped.help()
