"""Gamepads (Xbox / PlayStation layout) through SDL (pygame) or Linux evdev, decoded to one layout.

Native axes of a ``GamepadState`` (sticks: right and down are positive, as both backends report them;
d-pad: right and up are positive; triggers 0 released .. 1 pressed):

    0 left_x   1 left_y   2 right_x   3 right_y   4 dpad_x   5 dpad_y   6 left_trigger   7 right_trigger

Default mapping to the base frame (operator behind the robot facing its +x):
    x = -left_y (stick forward = forward), y = -left_x, z = -right_y, wx = dpad_x, wy = dpad_y,
    wz = -right_x.  Triggers: right closes the gripper, left opens it.
Default buttons: LB hold to intervene, RB toggle gripper, A success, B failure, X reset,
START start episode, BACK pause policy, GUIDE e-stop, Y clear e-stop.
"""
from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from robot_rl.teleop.device import Action, DeviceError, DeviceReading, TeleopDevice, disconnected

AXES = ("left_x", "left_y", "right_x", "right_y", "dpad_x", "dpad_y", "left_trigger", "right_trigger")
TRIGGER_PRESSED = 0.5  # a trigger beyond this commands the gripper

# SDL joystick indices of an Xbox-layout pad on Linux (what pygame.joystick reports).
SDL_AXES = {0: "left_x", 1: "left_y", 2: "left_trigger", 3: "right_x", 4: "right_y", 5: "right_trigger"}
SDL_BUTTONS = {0: "a", 1: "b", 2: "x", 3: "y", 4: "lb", 5: "rb", 6: "back", 7: "start", 8: "guide",
               9: "ls", 10: "rs"}
# evdev codes (linux/input-event-codes.h); buttons by position as Documentation/input/gamepad.rst says.
EV_KEY, EV_ABS = 1, 3
EVDEV_AXES = {0: "left_x", 1: "left_y", 2: "left_trigger", 3: "right_x", 4: "right_y", 5: "right_trigger",
              16: "dpad_x", 17: "dpad_y"}
EVDEV_BUTTONS = {304: "a", 305: "b", 307: "y", 308: "x", 310: "lb", 311: "rb", 314: "back", 315: "start",
                 316: "guide", 317: "ls", 318: "rs"}


class GamepadState:
    """The pad's axes and buttons, fed by either backend."""

    def __init__(self) -> None:
        self.axes = np.zeros(len(AXES))
        self.buttons: set[str] = set()

    def set_axis(self, name: str, value: float) -> None:
        self.axes[AXES.index(name)] = float(np.clip(value, -1.0, 1.0))

    def set_button(self, name: str, pressed: bool) -> None:
        (self.buttons.add if pressed else self.buttons.discard)(name)

    def apply_evdev(self, events: Iterable[tuple[int, int, int]], absinfo: Mapping[int, tuple[int, int]]) -> None:
        """Apply raw evdev events ``(type, code, value)``; ``absinfo`` gives each axis's (min, max)."""
        for ev_type, code, value in events:
            if ev_type == EV_KEY and code in EVDEV_BUTTONS:
                self.set_button(EVDEV_BUTTONS[code], value != 0)
            elif ev_type == EV_ABS and code in EVDEV_AXES:
                name = EVDEV_AXES[code]
                lo, hi = absinfo.get(code, (-1, 1))
                if name.endswith("trigger"):
                    self.set_axis(name, (value - lo) / max(hi - lo, 1))
                else:
                    normalised = (2.0 * (value - lo) / max(hi - lo, 1)) - 1.0
                    self.set_axis(name, -normalised if name == "dpad_y" else normalised)  # evdev: up is -1

    def apply_sdl(self, axes: list[float], buttons: list[bool], hat: tuple[int, int]) -> None:
        """Apply one SDL snapshot: joystick axes, buttons, and hat 0 (x right, y up)."""
        for index, value in enumerate(axes):
            if index in SDL_AXES:
                name = SDL_AXES[index]
                self.set_axis(name, (value + 1.0) / 2.0 if name.endswith("trigger") else value)
        for index, pressed in enumerate(buttons):
            if index in SDL_BUTTONS:
                self.set_button(SDL_BUTTONS[index], pressed)
        self.set_axis("dpad_x", hat[0])
        self.set_axis("dpad_y", hat[1])

    def reading(self) -> DeviceReading:
        left, right = self.axes[AXES.index("left_trigger")], self.axes[AXES.index("right_trigger")]
        gripper = 1.0 if right > TRIGGER_PRESSED else -1.0 if left > TRIGGER_PRESSED else None
        return DeviceReading(axes=self.axes.copy(), buttons=frozenset(self.buttons), gripper=gripper)


class GamepadDevice(TeleopDevice):
    name = "gamepad"
    n_axes = len(AXES)
    default_axis_map = (1, 0, 3, 4, 5, 2)
    default_axis_sign = (-1.0, -1.0, -1.0, 1.0, 1.0, -1.0)
    default_buttons = {"lb": Action.INTERVENE, "rb": Action.GRIPPER_TOGGLE, "a": Action.SUCCESS,
                       "b": Action.FAILURE, "x": Action.RESET, "start": Action.START, "back": Action.PAUSE,
                       "guide": Action.ESTOP, "y": Action.ESTOP_CLEAR}

    def __init__(self, backend: str = "sdl", index: int = 0, path: str = "") -> None:
        if backend not in ("sdl", "evdev"):
            raise ValueError(f"teleop.gamepad_backend={backend!r}: use sdl or evdev")
        self.backend, self.index, self.path = backend, index, path
        self.state = GamepadState()
        self._joystick: Any = None  # pygame Joystick or evdev InputDevice
        self._absinfo: dict[int, tuple[int, int]] = {}
        self._error = ""

    def open(self) -> None:
        if self.backend == "sdl":
            self._open_sdl()
        else:
            self._open_evdev()

    def _open_sdl(self) -> None:
        os.environ.setdefault("SDL_VIDEODRIVER", "dummy")  # no window: works over SSH and on a headless PC
        os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
        try:
            import pygame
        except ImportError as err:
            raise DeviceError(f"the SDL gamepad backend needs pygame: pip install pygame ({err})") from None
        pygame.display.init()
        pygame.joystick.init()
        if self.index >= pygame.joystick.get_count():
            raise DeviceError(f"no gamepad {self.index} found ({pygame.joystick.get_count()} connected): plug one "
                              "in, or set teleop.gamepad_index")
        self._joystick = pygame.joystick.Joystick(self.index)
        self._joystick.init()

    def _open_evdev(self) -> None:
        try:
            import evdev
        except ImportError as err:
            raise DeviceError(f"the evdev gamepad backend needs evdev: pip install evdev ({err})") from None
        paths = [self.path] if self.path else evdev.list_devices()
        for path in paths:
            try:
                device = evdev.InputDevice(path)
            except OSError as err:
                if self.path:
                    raise DeviceError(f"cannot open {path}: {err}; add this user to the 'input' group") from None
                continue
            keys = device.capabilities().get(EV_KEY, [])
            if 304 in keys or self.path:  # BTN_SOUTH: a gamepad
                abs_caps: Any = device.capabilities(absinfo=True).get(EV_ABS, [])
                self._absinfo = {code: (info.min, info.max) for code, info in abs_caps}
                self._joystick = device
                return
            device.close()
        raise DeviceError("no evdev gamepad found under /dev/input: plug one in, add this user to the 'input' "
                          "group, or set teleop.gamepad_path")

    def read(self, now: float) -> DeviceReading:
        if self._joystick is None:
            return disconnected(self.n_axes, self._error or "not open")
        try:
            if self.backend == "sdl":
                self._read_sdl()
            else:
                self._read_evdev()
        except (OSError, RuntimeError) as err:
            self._error = f"gamepad read failed ({err}): unplugged?"
            self.close()
            return disconnected(self.n_axes, self._error)
        return self.state.reading()

    def _read_sdl(self) -> None:
        import pygame

        for event in pygame.event.get():
            if event.type == pygame.JOYDEVICEREMOVED and event.instance_id == self._joystick.get_instance_id():
                raise RuntimeError("SDL reports the joystick removed")
        js = self._joystick
        self.state.apply_sdl([js.get_axis(i) for i in range(js.get_numaxes())],
                             [bool(js.get_button(i)) for i in range(js.get_numbuttons())],
                             js.get_hat(0) if js.get_numhats() else (0, 0))

    def _read_evdev(self) -> None:
        try:
            events = [(e.type, e.code, e.value) for e in self._joystick.read()]
        except BlockingIOError:
            return
        self.state.apply_evdev(events, self._absinfo)

    def close(self) -> None:
        if self._joystick is not None:
            if self.backend == "sdl":
                self._joystick.quit()
            else:
                self._joystick.close()
            self._joystick = None

    def help(self) -> str:
        return ("gamepad: left stick x/y, right stick z/yaw, d-pad roll/pitch; hold LB to take over, RB or the "
                "triggers for the gripper; START start, A success, B failure, X reset, BACK pause, GUIDE e-stop, "
                "Y clear e-stop")
