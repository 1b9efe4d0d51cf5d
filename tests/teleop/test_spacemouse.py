"""SpaceMouse HID reports (recorded byte strings) decode into the right twists and buttons."""
from __future__ import annotations

import struct

import numpy as np
import pytest

from robot_rl.teleop import Action, DeviceError, make_processor
from robot_rl.teleop.device import DeviceReading, Reconnecting
from robot_rl.teleop.spacemouse import SpaceMouseDevice, SpaceMouseState, is_space_mouse

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
