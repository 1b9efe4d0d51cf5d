"""A deterministic operator for simulation and tests, behind the same interface as a human's device.

A rule looks at the latest observation (what the node passes to ``observe``: ``policy_twist``,
``policy_gripper``, ``ee_position``, ...) and the seconds since the device opened, and returns a
``ScriptedCommand`` to take over with, or None to let the policy act. Taking over is always
hold-style: the operator is in control exactly while its rule returns a command.

``guard_rule`` is the operator the simulation uses: it takes over while the policy's linear action
makes no progress along a direction (or towards a target point, given the end-effector position) and
drives the correction itself, handing back as soon as the policy's proposal is good again.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from robot_rl.teleop.device import Action, DeviceReading, TeleopDevice, disconnected


@dataclass(frozen=True)
class ScriptedCommand:
    twist: Sequence[float]  # base-frame twist in action units [vx vy vz wx wy wz]
    gripper: float | None = None  # absolute gripper command, or None to keep it
    actions: frozenset[Action] = frozenset()  # further operator actions held (success, reset, ...)


Rule = Callable[[Mapping[str, Any], float], "ScriptedCommand | None"]


def guard_rule(twist: Sequence[float], direction: Sequence[float] = (1.0, 0.0, 0.0), threshold: float = 0.0,
               target: Sequence[float] = ()) -> Rule:
    """Take over while ``policy_twist[:3] . direction < threshold`` and command ``twist``.

    With ``target`` (a point in the base frame) and an ``ee_position`` observation, the direction is
    from the end effector to the target and the correction drives towards it at ``|twist[:3]|``.
    """
    correction = np.asarray(twist, dtype=float)
    fixed = np.asarray(direction, dtype=float)
    if correction.shape != (6,) or fixed.shape != (3,) or not np.any(fixed):
        raise ValueError(f"scripted twist {list(twist)} needs 6 values and direction {list(direction)} 3 non-zero")
    goal = np.asarray(target, dtype=float) if len(target) else None
    if goal is not None and goal.shape != (3,):
        raise ValueError(f"scripted target {list(target)}: give a point [x, y, z] or nothing")

    def rule(observation: Mapping[str, Any], elapsed_s: float) -> ScriptedCommand | None:
        action = observation.get("policy_twist")
        if action is None:
            return None
        command = correction
        unit = fixed / np.linalg.norm(fixed)
        if goal is not None and observation.get("ee_position") is not None:
            offset = goal - np.asarray(observation["ee_position"], dtype=float)
            if np.linalg.norm(offset) < 1e-3:
                return None
            unit = offset / np.linalg.norm(offset)
            command = np.concatenate([unit * np.linalg.norm(correction[:3]), correction[3:]])
        if float(np.dot(np.asarray(action, dtype=float)[:3], unit)) >= threshold:
            return None
        return ScriptedCommand(twist=tuple(command))

    return rule


class ScriptedDevice(TeleopDevice):
    name = "scripted"
    forces_hold = True
    default_buttons = {action.value: action for action in Action}  # its buttons are named by their action

    def __init__(self, rule: Rule, disconnect_after_s: float = 0.0) -> None:
        self.rule = rule
        # simulate an unplug this long after the first takeover (0 = never): the dead-device test
        self.disconnect_after_s = disconnect_after_s
        self.observation: dict[str, Any] = {}
        self._opened_at: float | None = None
        self._first_takeover: float | None = None
        self._open = False

    def open(self) -> None:
        self._open, self._opened_at, self._first_takeover = True, None, None

    def observe(self, **observation: Any) -> None:
        self.observation.update(observation)

    def read(self, now: float) -> DeviceReading:
        if not self._open:
            return disconnected(6, "not open")
        if self._opened_at is None:
            self._opened_at = now
        if (self._first_takeover is not None and self.disconnect_after_s > 0
                and now - self._first_takeover >= self.disconnect_after_s):
            return disconnected(6, f"scripted unplug {self.disconnect_after_s} s after the first takeover")
        command = self.rule(self.observation, now - self._opened_at)
        if command is None:
            return DeviceReading(axes=np.zeros(6))
        if self._first_takeover is None:
            self._first_takeover = now
        buttons = frozenset({Action.INTERVENE.value} | {a.value for a in command.actions})
        return DeviceReading(axes=np.clip(np.asarray(command.twist, dtype=float), -1.0, 1.0), buttons=buttons,
                             gripper=command.gripper)

    def close(self) -> None:
        self._open = False

    def help(self) -> str:
        return "scripted operator: takes over while its rule says the policy is failing"
