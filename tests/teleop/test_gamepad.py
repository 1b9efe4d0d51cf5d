"""Gamepad events (recorded evdev events, SDL snapshots) decode into the right twists and buttons."""
from __future__ import annotations

import numpy as np
import pytest

from robot_rl.teleop import Action, DeviceError, make_processor
from robot_rl.teleop.gamepad import EV_ABS, EV_KEY, GamepadDevice, GamepadState

# An Xbox pad under xpad: sticks -32768..32767, triggers 0..1023, hat -1..1.
ABSINFO = {0: (-32768, 32767), 1: (-32768, 32767), 2: (0, 1023), 3: (-32768, 32767), 4: (-32768, 32767),
           5: (0, 1023), 16: (-1, 1), 17: (-1, 1)}
EV_SYN = 0
RECORDED = [  # left stick fully forward, LB held, right trigger pulled, d-pad up
    (EV_ABS, 1, -32768), (EV_KEY, 310, 1), (EV_ABS, 5, 1023), (EV_ABS, 17, -1), (EV_SYN, 0, 0),
]


def test_recorded_evdev_events_decode_to_forward_takeover_gripper_close_and_pitch() -> None:
    state = GamepadState()
    state.apply_evdev(RECORDED, ABSINFO)
    reading = state.reading()
    assert reading.gripper == 1.0
    out = make_processor(GamepadDevice(), deadband=0.1).process(reading)
    np.testing.assert_allclose(out.twist, [1.0, 0, 0, 0, 1.0, 0], atol=1e-4)
    assert out.held == {Action.INTERVENE}


def test_evdev_release_events_return_to_zero() -> None:
    state = GamepadState()
    state.apply_evdev(RECORDED, ABSINFO)
    state.apply_evdev([(EV_ABS, 1, 0), (EV_KEY, 310, 0), (EV_ABS, 5, 0), (EV_ABS, 17, 0)], ABSINFO)
    out = make_processor(GamepadDevice(), deadband=0.1).process(state.reading())
    assert not out.twist.any() and out.held == frozenset() and state.reading().gripper is None


def test_sdl_snapshot_decodes_the_same_layout() -> None:
    state = GamepadState()
    axes = [-1.0, 0.0, -1.0, 0.5, 0.0, -1.0]  # left stick full left, right stick half right, triggers released
    buttons = [True] + [False] * 6 + [True]  # A and START
    state.apply_sdl(axes, buttons, (1, 0))  # d-pad right
    reading = state.reading()
    assert reading.gripper is None
    out = make_processor(GamepadDevice(), deadband=0.0).process(reading)
    np.testing.assert_allclose(out.twist, [0.0, 1.0, 0.0, 1.0, 0.0, -0.5])  # +y (left), +roll, -yaw (right)
    assert out.held == {Action.SUCCESS, Action.START}


def test_unopened_gamepad_reads_disconnected() -> None:
    reading = GamepadDevice().read(0.0)
    assert not reading.connected and reading.error


def test_no_gamepad_plugged_in_says_how_to_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")
    monkeypatch.setenv("SDL_JOYSTICK_DEVICE", "/nonexistent")  # no real pads, even on a desk machine
    with pytest.raises(DeviceError, match="teleop.gamepad_index"):
        GamepadDevice(backend="sdl", index=7).open()
    with pytest.raises(DeviceError, match="teleop.gamepad_path|cannot open"):
        GamepadDevice(backend="evdev", path="/nonexistent/event0").open()
