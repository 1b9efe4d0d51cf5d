"""One interface for every teleop device, and the processing every device shares.

A device (SpaceMouse, gamepad, keyboard, scripted operator) returns a ``DeviceReading``: its native
axes normalised to [-1, 1] in its own order, the names of its buttons held now, and whether it is
still connected. ``InputProcessor`` turns that into a ``TeleopInput`` in the robot's terms: a 6-DoF
twist [vx, vy, vz, wx, wy, wz] in the base frame (action units, [-1, 1]) after axis mapping, deadband
and scaling, and the operator actions held now (``Action``), mapped from device buttons.
"""
from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


class DeviceError(RuntimeError):
    """The device cannot be opened (not plugged in, no permission); the message says how to fix it."""


class Action(str, enum.Enum):
    """What an operator can ask for with a button or key."""

    INTERVENE = "intervene"  # hold (or toggle) to take over from the policy
    GRIPPER_TOGGLE = "gripper_toggle"
    GRIPPER_OPEN = "gripper_open"
    GRIPPER_CLOSE = "gripper_close"
    STOP = "stop"  # zero the human's twist now (keyboard space bar)
    START = "start"  # start an episode
    SUCCESS = "success"  # mark the running episode a success
    FAILURE = "failure"  # mark the running episode a failure
    RESET = "reset"  # reset the robot and the episode
    PAUSE = "pause"  # pause / resume the policy (the arm holds while paused)
    ESTOP = "estop"  # emergency stop: the safety node holds the arm until cleared
    ESTOP_CLEAR = "estop_clear"


def parse_action(name: str) -> Action:
    try:
        return Action(name)
    except ValueError:
        raise ValueError(f"unknown operator action {name!r}: use one of "
                         f"{', '.join(a.value for a in Action)}") from None


@dataclass(frozen=True)
class DeviceReading:
    """What a device says at one instant."""

    axes: FloatArray  # native axes, normalised to [-1, 1], in the device's own order
    buttons: frozenset[str] = frozenset()  # native names of the buttons (or keys) held now
    gripper: float | None = None  # absolute gripper command in [-1, 1] if the device sets one
    connected: bool = True
    error: str = ""  # why the device is not connected (shown on /diagnostics)


def disconnected(n_axes: int, error: str) -> DeviceReading:
    return DeviceReading(axes=np.zeros(n_axes), connected=False, error=error)


class TeleopDevice(ABC):
    """Base of every device. ``read`` never blocks: it drains what arrived and returns the newest state."""

    name: str = "device"
    n_axes: int = 6
    default_axis_map: tuple[int, ...] = (0, 1, 2, 3, 4, 5)  # native axis feeding each of x y z wx wy wz
    default_axis_sign: tuple[float, ...] = (1.0,) * 6
    default_buttons: Mapping[str, Action] = {}  # native button name -> operator action
    forces_hold: bool = False  # takeover is always hold-to-intervene for this device
    zero_check: bool = True  # all-zero axes while in control can mean a dead device (not for a terminal)

    @abstractmethod
    def open(self) -> None:
        """Acquire the device; raise DeviceError with a fix when it is not there."""

    @abstractmethod
    def read(self, now: float) -> DeviceReading:
        """The newest state; ``now`` is monotonic seconds (used for key hold windows and scripts)."""

    @abstractmethod
    def close(self) -> None:
        """Release the device; safe to call twice."""

    def observe(self, **observation: Any) -> None:
        """What the robot and policy are doing (scripted operators use it; human devices ignore it)."""

    def help(self) -> str:
        """Shown to the operator when the device opens: which button does what."""
        return ", ".join(f"{button}: {action.value}" for button, action in self.default_buttons.items())


@dataclass(frozen=True)
class TeleopInput:
    """A device reading in the robot's terms."""

    twist: FloatArray  # [vx, vy, vz, wx, wy, wz], base frame, action units in [-1, 1]
    held: frozenset[Action]  # operator actions whose button is held now
    gripper: float | None  # absolute gripper command from the device, if any
    raw_zero: bool  # every native axis reads exactly zero (used by the health check)
    connected: bool = True
    error: str = ""


@dataclass
class InputProcessor:
    """Axis mapping, deadband and scaling, and the button map, for one device."""

    axis_map: Sequence[int]  # native axis index feeding each of the 6 twist axes (-1 = none)
    axis_sign: Sequence[float]  # sign (or gain) per twist axis after mapping
    buttons: Mapping[str, Action]  # native button name -> action
    deadband: float = 0.05  # |value| below this reads as zero; above, rescaled so there is no step
    linear_scale: float = 1.0
    angular_scale: float = 1.0
    zero_check: bool = True  # report raw_zero (False for devices that cannot fail silently)
    _scale: FloatArray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if len(self.axis_map) != 6 or len(self.axis_sign) != 6:
            raise ValueError(f"axis_map {list(self.axis_map)} and axis_sign {list(self.axis_sign)} need "
                             "6 entries each, one per twist axis [x, y, z, wx, wy, wz]")
        if not 0.0 <= self.deadband < 1.0:
            raise ValueError(f"deadband={self.deadband}: use 0 <= deadband < 1")
        self._scale = np.array([self.linear_scale] * 3 + [self.angular_scale] * 3) * np.asarray(self.axis_sign)

    def process(self, reading: DeviceReading) -> TeleopInput:
        axes = np.asarray(reading.axes, dtype=np.float64)
        mapped = np.array([axes[i] if 0 <= i < axes.size else 0.0 for i in self.axis_map])
        twist = np.clip(apply_deadband(mapped, self.deadband) * self._scale, -1.0, 1.0)
        held = frozenset(self.buttons[b] for b in reading.buttons if b in self.buttons)
        return TeleopInput(twist=twist, held=held, gripper=reading.gripper,
                           raw_zero=self.zero_check and not np.any(axes),
                           connected=reading.connected, error=reading.error)


def apply_deadband(values: FloatArray, deadband: float) -> FloatArray:
    """Zero inside the deadband, linear from 0 at its edge to 1 at full scale (continuous, no step)."""
    magnitude = np.clip((np.abs(values) - deadband) / (1.0 - deadband), 0.0, None)
    return np.sign(values) * magnitude


def make_processor(device: TeleopDevice, axis_map: Sequence[int] = (), axis_sign: Sequence[float] = (),
                   button_map: Mapping[str, str] | None = None, deadband: float = 0.05,
                   linear_scale: float = 1.0, angular_scale: float = 1.0) -> InputProcessor:
    """A processor with the device's defaults wherever the configuration leaves a setting empty."""
    buttons = ({str(b): parse_action(a) for b, a in button_map.items()} if button_map
               else dict(device.default_buttons))
    return InputProcessor(axis_map=list(axis_map) or list(device.default_axis_map),
                          axis_sign=list(axis_sign) or list(device.default_axis_sign),
                          buttons=buttons, deadband=deadband, linear_scale=linear_scale,
                          angular_scale=angular_scale, zero_check=device.zero_check)


class Reconnecting(TeleopDevice):
    """Wraps a hardware device: after an unplug, tries to open it again every ``retry_s`` seconds.

    Until it is back the readings say disconnected (so the arm holds and /diagnostics shows ERROR);
    once it is back, the operator has control again without restarting the node.
    """

    def __init__(self, device: TeleopDevice, retry_s: float = 1.0) -> None:
        self.device, self.retry_s = device, retry_s
        self.name, self.n_axes, self.forces_hold = device.name, device.n_axes, device.forces_hold
        self.zero_check = device.zero_check
        self.default_axis_map, self.default_axis_sign = device.default_axis_map, device.default_axis_sign
        self._next_try: float | None = None
        self._last_error = ""

    @property
    def default_buttons(self) -> Mapping[str, Action]:  # type: ignore[override]
        """The wrapped device's, read after ``open`` (a SpaceMouse's depend on the model found)."""
        return self.device.default_buttons

    def open(self) -> None:
        self.device.open()

    def read(self, now: float) -> DeviceReading:
        if self._next_try is not None and now >= self._next_try:
            try:
                self.device.open()
                self._next_try = None
            except DeviceError as err:
                self._last_error = str(err)
                self._next_try = now + self.retry_s
        reading = self.device.read(now) if self._next_try is None else disconnected(self.n_axes, self._last_error)
        if not reading.connected and self._next_try is None:
            self._last_error, self._next_try = reading.error, now + self.retry_s
        return reading

    def close(self) -> None:
        self.device.close()

    def observe(self, **observation: Any) -> None:
        self.device.observe(**observation)

    def help(self) -> str:
        return self.device.help()
