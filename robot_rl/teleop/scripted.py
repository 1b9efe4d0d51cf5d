"""A deterministic operator for simulation and tests, behind the same interface as a human's device.

A rule looks at the latest observation (what the node passes to ``observe``: ``policy_twist`` in
m/s and rad/s, ``policy_gripper``, ``ee_position``, ...) and the seconds since the device opened, and
returns a ``ScriptedCommand`` (SI units, like the policy's proposal) to take over with, or None to
let the policy act. ``ScriptedDevice`` divides it by the policy's speeds (``scale``), so it reads as
a human's device does: normalised axes in [-1, 1]. Taking over is always hold-style: the operator is
in control exactly while its rule returns a command.

``guard_rule`` is the simplest operator: it takes over while the policy's linear action makes no
progress along a direction (or towards a target point, given the end-effector position) and drives
the correction itself, handing back as soon as the policy's proposal is good again.

``CorrectingOperator`` is the operator the simulation's main job uses, a stand-in for a HIL-SERL
operator: it demonstrates the first episodes whole, then watches the policy and takes over when it
fails (no progress towards the next waypoint of a pick for ``patience_ticks``, or drifting away from
its best), drives a scripted pick (``robot_rl.sim.scripted.ScriptedPick``, from the cube's position)
and hands back once the gripper hovers above the cube; a takeover at the cube (descend, grasp, lift)
finishes the pick, as an operator who has the cube in hand would.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from robot_rl.sim.scripted import Phase, ScriptedPick
from robot_rl.teleop.device import Action, DeviceReading, TeleopDevice, disconnected


@dataclass(frozen=True)
class ScriptedCommand:
    twist: Sequence[float]  # base-frame twist [vx vy vz wx wy wz] in m/s and rad/s, as the policy proposes
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


_PHASES = (Phase.APPROACH, Phase.DESCEND, Phase.GRASP, Phase.LIFT)


class CorrectingOperator:
    """A rule (see ``Rule``) that corrects a policy the way a human operator would, HIL-SERL style.

    Observations it reads: ``episode_status`` (a new ``running`` starts a new episode),
    ``ee_position`` and ``cube_position`` (base frame, m), and ``gripper_position`` (the gripper joint, as
    in the policy's state) when it is known: the pick's phase then follows the state, so its corrections
    do what its demonstrations do from the same state (``ScriptedPick``). Its twists are in the units of the
    policy's proposal (m/s, base frame), at most ``max_speed``. Call once per control tick.

    Progress is the pick's potential: the index of its phase minus the distance to that phase's
    waypoint (hover above the cube, the cube, the lift target); the policy fails when the potential
    has not risen by ``progress_m`` over the last ``patience_ticks`` ticks, or has fallen ``drift_m``
    below its best in this episode.
    """

    def __init__(self, control_dt: float, max_speed: float = 0.1, demo_episodes: int = 2,
                 patience_ticks: int = 15, progress_m: float = 0.01, drift_m: float = 0.05,
                 min_takeover_ticks: int = 5) -> None:
        if patience_ticks < 1 or min_takeover_ticks < 0 or progress_m < 0 or drift_m <= 0 or max_speed <= 0:
            raise ValueError("CorrectingOperator: patience_ticks >= 1, min_takeover_ticks >= 0, progress_m >= 0, "
                             "drift_m > 0 and max_speed > 0 are required")
        self.control_dt, self.max_speed = control_dt, max_speed
        self.demo_episodes, self.patience_ticks = demo_episodes, patience_ticks
        self.progress_m, self.drift_m, self.min_takeover_ticks = progress_m, drift_m, min_takeover_ticks
        self.regrasp_m = 0.04  # cube this far from the pinch point during grasp or lift: it was dropped
        self.episodes = 0  # episodes seen starting
        self.takeovers = 0  # corrections started (demos not counted)
        self.demonstrating = demo_episodes > 0  # this (or, between episodes, the next) episode is a demonstration
        self.intervening = False
        self._status = ""
        self._pick = ScriptedPick(control_dt, max_speed=max_speed)
        self._potentials: list[float] = []
        self._best = -np.inf
        self._takeover_ticks = 0
        self._takeover_phase = Phase.APPROACH

    def new_episode(self) -> None:
        self.episodes += 1
        self.demonstrating = self.episodes <= self.demo_episodes
        self.intervening = False
        self._pick = ScriptedPick(self.control_dt, max_speed=self.max_speed)
        self._potentials, self._best = [], -np.inf

    def potential(self, ee: np.ndarray, cube: np.ndarray) -> float:
        """Phase index minus the distance to the current waypoint (rises as a pick goes well)."""
        pick = self._pick
        if pick.phase is Phase.APPROACH:
            waypoint = cube + [0.0, 0.0, pick.hover_m]
        elif pick.phase is Phase.LIFT and pick.lift_target is not None:
            waypoint = pick.lift_target
        else:
            waypoint = cube
        return _PHASES.index(pick.phase) - float(np.linalg.norm(waypoint - ee))

    def failing(self) -> bool:
        """No progress over the patience window, or a drift from the best potential of the episode."""
        now = self._potentials[-1]
        if now < self._best - self.drift_m:
            return True
        if len(self._potentials) <= self.patience_ticks:
            return False
        return now - self._potentials[-1 - self.patience_ticks] < self.progress_m

    def __call__(self, observation: Mapping[str, Any], elapsed_s: float) -> ScriptedCommand | None:
        status = str(observation.get("episode_status", ""))
        if status != self._status:
            self._status = status
            if status == "running":
                self.new_episode()
        ee, cube = observation.get("ee_position"), observation.get("cube_position")
        if status != "running":
            self.demonstrating = self.episodes < self.demo_episodes  # announced before the next episode starts
        if status != "running" or ee is None or cube is None:
            self.intervening = False
            return None
        ee, cube = np.asarray(ee, dtype=float), np.asarray(cube, dtype=float)
        if self._pick.phase in (Phase.GRASP, Phase.LIFT) and np.linalg.norm(cube - ee) > self.regrasp_m:
            self._pick = ScriptedPick(self.control_dt, max_speed=self.max_speed)  # the cube got away: start over
        phase_before = self._pick.phase
        gripper = observation.get("gripper_position")
        # advances the pick's phase whoever drives (with the gripper known, the phase follows the state)
        command = self._pick.act(ee, cube, None if gripper is None else float(gripper))
        self._potentials.append(self.potential(ee, cube))
        self._best = max(self._best, self._potentials[-1])
        if self.demonstrating:
            self.intervening = True
        elif self.intervening:
            self._takeover_ticks += 1
            advanced = _PHASES.index(self._pick.phase) > _PHASES.index(self._takeover_phase)
            if advanced and self._pick.phase is Phase.DESCEND and self._takeover_ticks >= self.min_takeover_ticks:
                self.intervening = False  # the sub-goal is reached: hand back, judge the policy afresh
                self._potentials, self._best = [self._potentials[-1]], self._potentials[-1]
        elif self.failing():
            self.intervening, self._takeover_ticks, self._takeover_phase = True, 0, phase_before
            self.takeovers += 1
        if not self.intervening:
            return None
        return ScriptedCommand(twist=(*command.linear, 0.0, 0.0, 0.0), gripper=command.gripper)


class ScriptedDevice(TeleopDevice):
    name = "scripted"
    forces_hold = True
    default_buttons = {action.value: action for action in Action}  # its buttons are named by their action

    def __init__(self, rule: Rule, disconnect_after_s: float = 0.0, scale: Sequence[float] = (1.0,) * 6) -> None:
        self.rule = rule
        self.scale = np.asarray(scale, dtype=float)  # the policy's m/s and rad/s at action 1.0, per twist axis
        if self.scale.shape != (6,) or not np.all(self.scale > 0):
            raise ValueError(f"scripted device scale {list(scale)}: give 6 positive speeds (m/s, rad/s)")
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
        axes = np.clip(np.asarray(command.twist, dtype=float) / self.scale, -1.0, 1.0)
        return DeviceReading(axes=axes, buttons=buttons, gripper=command.gripper)

    @property
    def demonstrating(self) -> bool:
        """The rule demonstrates this whole episode (recorded as source=demo)."""
        return bool(getattr(self.rule, "demonstrating", False))

    def close(self) -> None:
        self._open = False

    def help(self) -> str:
        return "scripted operator: takes over while its rule says the policy is failing"
