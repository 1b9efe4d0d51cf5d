"""The keyboard device in a real terminal (a pty), as an operator over SSH would use it."""
from __future__ import annotations

import os
import pty
import termios
from collections.abc import Iterator

import numpy as np
import pytest

from robot_rl.teleop import Action, DeviceError, make_processor
from robot_rl.teleop.device import DeviceReading
from robot_rl.teleop.keyboard import KEY_MAP_HELP, KeyboardDevice


@pytest.fixture
def terminal() -> Iterator[tuple[int, str]]:
    master, slave = pty.openpty()
    name = os.ttyname(slave)
    yield master, name
    os.close(slave)
    try:
        os.close(master)
    except OSError:
        pass


def test_key_map_is_printed_and_keys_move_take_over_and_mark(terminal: tuple[int, str]) -> None:
    master, name = terminal
    device = KeyboardDevice(tty_path=name, hold_s=0.7, repeat_hold_s=0.15)
    device.open()
    try:
        printed = os.read(master, 4096).decode()
        assert "take over" in printed and "w/s forward/back" in printed
        proc = make_processor(device, deadband=0.0)
        os.write(master, b"wat")
        out = proc.process(device.read(10.0))
        np.testing.assert_allclose(out.twist, [1, 1, 0, 0, 0, 0])
        assert out.held == {Action.INTERVENE}
        assert proc.process(device.read(10.69)).twist[0] == 1.0  # still held within the repeat delay
        assert not proc.process(device.read(10.71)).twist.any()  # released: stops
        os.write(master, b"y")
        assert proc.process(device.read(11.0)).held == {Action.SUCCESS}
        os.write(master, b"b\x1b[Ag")  # reset, an arrow key (ignored), start
        assert proc.process(device.read(12.0)).held == {Action.RESET, Action.START}
    finally:
        device.close()


def test_auto_repeat_keeps_a_key_held_and_release_stops_within_the_repeat_window(terminal: tuple[int, str]) -> None:
    master, name = terminal
    device = KeyboardDevice(tty_path=name, hold_s=0.7, repeat_hold_s=0.15, show_help=False)
    device.open()
    try:
        times = [0.0, 0.5, 0.55, 0.6, 0.65]  # a press, then auto-repeat after 0.5 s
        for t in times:
            os.write(master, b"r")
            assert device.read(t).axes[2] == 1.0
        assert device.read(0.79).axes[2] == 1.0
        assert device.read(0.81).axes[2] == 0.0  # 0.15 s after the last repeat
        os.write(master, b"d ")  # space stops at once
        assert not device.read(1.0).axes.any()
    finally:
        device.close()


def test_terminal_settings_are_restored_on_close(terminal: tuple[int, str]) -> None:
    master, name = terminal
    fd = os.open(name, os.O_RDWR | os.O_NOCTTY)
    before = termios.tcgetattr(fd)
    device = KeyboardDevice(tty_path=name, show_help=False)
    device.open()
    assert not termios.tcgetattr(fd)[3] & termios.ICANON  # raw keys while open
    device.close()
    assert termios.tcgetattr(fd) == before
    os.close(fd)


def test_closed_terminal_reads_as_disconnected(terminal: tuple[int, str]) -> None:
    master, name = terminal
    device = KeyboardDevice(tty_path=name, show_help=False)
    device.open()
    os.close(master)  # the SSH session went away
    reading = device.read(0.0)
    assert not reading.connected and "closed" in reading.error
    device.close()


def test_no_terminal_says_how_to_fix(tmp_path: object) -> None:
    with pytest.raises(DeviceError, match="teleop.keyboard_tty"):
        KeyboardDevice(tty_path="/nonexistent/tty").open()
    with pytest.raises(DeviceError, match="not a terminal"):
        KeyboardDevice(tty_path="/dev/null").open()


def test_help_lists_every_operator_action() -> None:
    for word in ("start", "success", "failure", "reset", "pause", "E-STOP", "gripper"):
        assert word in KEY_MAP_HELP


def test_an_idle_keyboard_while_in_control_is_not_a_dead_device() -> None:
    proc = make_processor(KeyboardDevice(), deadband=0.0)
    assert not proc.process(DeviceReading(axes=np.zeros(6), buttons=frozenset({"t"}))).raw_zero
