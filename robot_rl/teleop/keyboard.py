"""The keyboard as a teleop device, read raw from a terminal: works in a plain shell and over SSH.

A terminal reports key presses, never releases. A key counts as held for ``hold_s`` after it was
pressed (longer than the terminal's auto-repeat delay: 0.5 s on GNOME, 0.66 s on X by default), and
once auto-repeat has started for ``repeat_hold_s`` after each repeat, so a held key moves the arm
continuously and a released key stops it within ``repeat_hold_s``. Space stops at once. The price:
two presses of one key less than ``hold_s`` apart read as one held key (press `t` again after a
moment to hand back).
"""
from __future__ import annotations

import os
import termios
import tty
from typing import Any

import numpy as np

from robot_rl.teleop.device import Action, DeviceError, DeviceReading, TeleopDevice, disconnected

# key -> (twist axis, direction); twist axes are x y z wx wy wz in the base frame.
MOTION_KEYS: dict[str, tuple[int, float]] = {
    "w": (0, 1.0), "s": (0, -1.0),  # forward / back
    "a": (1, 1.0), "d": (1, -1.0),  # left / right
    "r": (2, 1.0), "f": (2, -1.0),  # up / down
    "u": (3, 1.0), "o": (3, -1.0),  # roll
    "i": (4, 1.0), "k": (4, -1.0),  # pitch
    "j": (5, 1.0), "l": (5, -1.0),  # yaw
}
ACTION_KEYS: dict[str, Action] = {
    "t": Action.INTERVENE, "c": Action.GRIPPER_CLOSE, "x": Action.GRIPPER_OPEN, " ": Action.STOP,
    "g": Action.START, "y": Action.SUCCESS, "n": Action.FAILURE, "b": Action.RESET, "p": Action.PAUSE,
    "e": Action.ESTOP, "E": Action.ESTOP_CLEAR,
}
KEY_MAP_HELP = """\
robot_rl keyboard teleop
  w/s forward/back   a/d left/right   r/f up/down        space  stop
  u/o roll +/-       i/k pitch +/-    j/l yaw +/-        c/x    gripper close/open
  t   take over (toggle; in hold mode keep it pressed)   p      pause/resume the policy
  g   start episode  y  success       n  failure         b      reset
  e   E-STOP         E  clear e-stop
"""


class KeyboardDevice(TeleopDevice):
    name = "keyboard"
    default_buttons = dict(ACTION_KEYS)
    zero_check = False  # an operator who takes over and waits is not a dead keyboard; a closed terminal is seen

    def __init__(self, tty_path: str = "", hold_s: float = 0.7, repeat_hold_s: float = 0.15,
                 show_help: bool = True) -> None:
        if not 0 < repeat_hold_s <= hold_s:
            raise ValueError(f"teleop.key_repeat_hold_s={repeat_hold_s}, key_hold_s={hold_s}: "
                             "use 0 < key_repeat_hold_s <= key_hold_s")
        self.tty_path = tty_path or "/dev/tty"  # "" = this process's controlling terminal
        self.hold_s, self.repeat_hold_s, self.show_help = hold_s, repeat_hold_s, show_help
        self._fd: int | None = None
        self._saved: list[Any] | None = None
        self._pressed_at: dict[str, float] = {}
        self._held_until: dict[str, float] = {}
        self._escape = False
        self._error = ""

    def open(self) -> None:
        try:
            fd = os.open(self.tty_path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
        except OSError as err:
            raise DeviceError(f"cannot open terminal {self.tty_path!r} for the keyboard ({err}): run the node in "
                              "a terminal, or set teleop.keyboard_tty to one (e.g. /dev/pts/3)") from None
        if not os.isatty(fd):
            os.close(fd)
            raise DeviceError(f"{self.tty_path!r} is not a terminal: set teleop.keyboard_tty to a tty")
        self._saved = termios.tcgetattr(fd)
        tty.setcbreak(fd, termios.TCSANOW)  # keys arrive one by one, unechoed; Ctrl-C still interrupts
        self._fd, self._error = fd, ""
        if self.show_help:
            os.write(fd, KEY_MAP_HELP.replace("\n", "\r\n").encode())

    def read(self, now: float) -> DeviceReading:
        if self._fd is None:
            return disconnected(6, self._error or "not open")
        while True:
            try:
                data = os.read(self._fd, 256)
            except BlockingIOError:
                break
            except OSError as err:  # EIO: the terminal (SSH session) went away
                data = b""
                self._error = f"terminal {self.tty_path} closed ({err})"
            if not data:
                self._error = self._error or f"terminal {self.tty_path} closed"
                self.close()
                return disconnected(6, self._error)
            for char in data.decode(errors="replace"):
                self._key(char, now)
        held = {key for key, until in self._held_until.items() if now < until}
        axes = np.zeros(6)
        for key in held & MOTION_KEYS.keys():
            axis, direction = MOTION_KEYS[key]
            axes[axis] += direction
        return DeviceReading(axes=np.clip(axes, -1.0, 1.0), buttons=frozenset(held - MOTION_KEYS.keys()))

    def _key(self, char: str, now: float) -> None:
        if self._escape:  # skip escape sequences (arrow keys: ESC [ A) up to their final letter
            self._escape = not (char.isalpha() or char == "~")
            return
        if char == "\x1b":
            self._escape = True
            return
        if char == " ":
            for key in MOTION_KEYS:
                self._held_until.pop(key, None)
        repeating = now - self._pressed_at.get(char, -1e9) < self.hold_s
        self._pressed_at[char] = now
        self._held_until[char] = now + (self.repeat_hold_s if repeating else self.hold_s)

    def close(self) -> None:
        if self._fd is not None:
            try:
                if self._saved is not None:
                    termios.tcsetattr(self._fd, termios.TCSANOW, self._saved)
            except termios.error:
                pass  # the terminal is gone; nothing to restore
            os.close(self._fd)
            self._fd, self._saved = None, None

    def help(self) -> str:
        return KEY_MAP_HELP
