"""The intervention arbiter: the policy acts unless the human takes over.

Two inputs drive it:

- ``tick`` at the control rate with the newest ``TeleopInput``: decides who is in control, checks the
  device's health, turns button presses into operator actions, and returns the command to execute when
  the human is in control or the arm must hold;
- ``on_policy_twist`` / ``on_policy_gripper`` whenever the policy proposes an action: returns the
  command to execute when the policy is in control (forwarded at once, keeping the policy's stamp).

Modes: ``policy`` (the policy's action is executed), ``handback`` (the human just let go: the executed
command moves from the human's last command to the policy's by at most ``handback_rate`` action units
per second, so the commanded twist never jumps), ``human`` (the human's command is executed) and
``hold`` (zero twist: policy paused or no episode running, a demonstration session where only the
human drives, e-stop, or the device is unhealthy, so nobody could take over).
Taking over is immediate (the human gets what they command; the safety node bounds accelerations).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from robot_rl.teleop.device import Action, FloatArray, TeleopInput
from robot_rl.teleop.health import HEALTHY, Health, HealthMonitor

# Actions that are reported on their press (rising edge) for the node to act on.
EVENT_ACTIONS = (Action.START, Action.SUCCESS, Action.FAILURE, Action.RESET, Action.ESTOP, Action.ESTOP_CLEAR,
                 Action.PAUSE)


@dataclass(frozen=True)
class TickResult:
    mode: str  # policy | handback | human | hold
    intervening: bool  # the human's command is being executed
    human_twist: FloatArray | None  # the human's command (teleop/action) while intervening, else None
    human_gripper: float | None
    twist: FloatArray | None  # command to execute now (human or hold); None when the policy drives
    gripper: float | None
    pressed: tuple[Action, ...]  # operator actions pressed this tick
    health: Health
    paused: bool
    estop: bool


@dataclass
class Arbiter:
    takeover: str = "hold"  # hold | toggle
    handback_rate: float = 4.0  # action units per second during hand-back
    control_hz: float = 10.0
    zero_timeout_s: float = 2.0
    paused: bool = False  # the operator paused the policy
    gated: bool = False  # no episode is running: the policy waits (the human may still drive)
    autonomous: bool = True  # false (teleop.mode=demo): only the human moves the arm, the policy never does
    ramp_on_resume: bool = True  # false (teleop.mode=replay): after a hold, the next action is executed as is
    estop: bool = False
    interventions: int = 0  # takeovers since start (a counter for diagnostics)
    _requested: bool = field(default=False, init=False)  # the operator asks to be in control
    _held: frozenset[Action] = field(default=frozenset(), init=False)
    _mode: str = field(default="policy", init=False)
    _human_twist: FloatArray = field(default_factory=lambda: np.zeros(6), init=False)
    _human_gripper: float = field(default=-1.0, init=False)
    _last_twist: FloatArray = field(default_factory=lambda: np.zeros(6), init=False)  # last executed
    _last_gripper: float = field(default=-1.0, init=False)
    _gripper_blending: bool = field(default=False, init=False)
    _health: Health = field(default=HEALTHY, init=False)
    _monitor: HealthMonitor = field(init=False)

    def __post_init__(self) -> None:
        if self.takeover not in ("hold", "toggle"):
            raise ValueError(f"teleop.takeover={self.takeover!r}: use hold or toggle")
        if self.handback_rate <= 0:
            raise ValueError(f"teleop.handback_rate={self.handback_rate}: must be > 0 (action units per second)")
        self._monitor = HealthMonitor(self.zero_timeout_s)

    @property
    def mode(self) -> str:
        return self._mode

    @property
    def max_step(self) -> float:
        """Largest change of any command component per control step during hand-back."""
        return self.handback_rate / self.control_hz

    def tick(self, now: float, teleop: TeleopInput) -> TickResult:
        pressed = tuple(a for a in Action if a in teleop.held and a not in self._held)
        self._held = teleop.held
        for action in pressed:
            if action is Action.PAUSE:
                self.paused = not self.paused
            elif action is Action.ESTOP:
                self.estop = True
            elif action is Action.ESTOP_CLEAR:
                self.estop = False
        if self.takeover == "hold":
            requested = Action.INTERVENE in teleop.held
        else:
            requested = self._requested != (Action.INTERVENE in pressed)
        if not teleop.connected:
            requested = False  # a toggle never survives an unplug: plugging back in does not grab control
        self._health = self._monitor.update(now, teleop.connected, teleop.error, teleop.raw_zero, requested)
        was_human = self._mode == "human"
        if requested and not self._requested:
            self._human_gripper = self._last_gripper  # start from what the arm does now: no grasp change
        self._requested = requested
        self._update_human(teleop, pressed)

        if self.estop or not self._health.ok:
            self._mode = "hold"
        elif requested:
            if not was_human:
                self.interventions += 1
            self._mode = "human"
        elif self.paused or self.gated or not self.autonomous:
            self._mode = "hold"  # stopping is always safe: no ramp down
        elif was_human:
            self._mode = "handback"
            self._gripper_blending = True
        elif self._mode == "hold" and self.ramp_on_resume:
            self._mode = "handback"  # resuming from a hold ramps up from zero, as a hand-back does
            self._gripper_blending = True
        elif self._mode == "hold":
            self._mode = "policy"  # a replay starts from rest, as its recording did

        twist: FloatArray | None = None
        gripper: float | None = None
        if self._mode == "human":
            twist, gripper = self._human_twist.copy(), self._human_gripper
        elif self._mode == "hold":
            twist, gripper = np.zeros(6), self._last_gripper
        if twist is not None:
            self._last_twist = twist
        if gripper is not None:
            self._last_gripper = gripper
        human = self._mode == "human"
        return TickResult(mode=self._mode, intervening=human,
                          human_twist=self._human_twist.copy() if human else None,
                          human_gripper=self._human_gripper if human else None,
                          twist=twist, gripper=gripper, pressed=pressed, health=self._health,
                          paused=self.paused, estop=self.estop)

    def _update_human(self, teleop: TeleopInput, pressed: tuple[Action, ...]) -> None:
        self._human_twist = np.zeros(6) if Action.STOP in teleop.held else np.asarray(teleop.twist, dtype=float)
        if teleop.gripper is not None:
            self._human_gripper = float(np.clip(teleop.gripper, -1.0, 1.0))
        if Action.GRIPPER_TOGGLE in pressed:
            self._human_gripper = -1.0 if self._human_gripper > 0 else 1.0
        if Action.GRIPPER_OPEN in pressed:
            self._human_gripper = -1.0
        if Action.GRIPPER_CLOSE in pressed:
            self._human_gripper = 1.0

    def on_policy_twist(self, twist: FloatArray) -> FloatArray | None:
        """The command to execute for the policy's proposal, or None when the policy is not in control."""
        if self._mode not in ("policy", "handback"):
            return None
        target = np.clip(np.asarray(twist, dtype=float), -1.0, 1.0)
        if self._mode == "handback":
            step = np.clip(target - self._last_twist, -self.max_step, self.max_step)
            executed = self._last_twist + step
            if np.allclose(executed, target, atol=1e-9):
                self._mode = "policy"
        else:
            executed = target
        self._last_twist = executed
        return executed.copy()

    def on_policy_gripper(self, gripper: float) -> float | None:
        if self._mode not in ("policy", "handback"):
            return None
        target = float(np.clip(gripper, -1.0, 1.0))
        if self._gripper_blending:
            executed = self._last_gripper + float(np.clip(target - self._last_gripper, -self.max_step, self.max_step))
            self._gripper_blending = abs(executed - target) > 1e-9
        else:
            executed = target
        self._last_gripper = executed
        return executed
