"""A scripted pick for tests and benchmarks: above the cube, down, close, lift. Needs the cube's position."""
from __future__ import annotations

from enum import Enum

import numpy as np
import numpy.typing as npt

from robot_rl.robot.interface import RobotCommand

FloatArray = npt.NDArray[np.float64]


class Phase(str, Enum):
    APPROACH = "approach"
    DESCEND = "descend"
    GRASP = "grasp"
    LIFT = "lift"


class ScriptedPick:
    """Proportional base-frame twists towards waypoints; one ``act`` per control tick.

    Given the gripper joint position (``act``'s ``gripper_position``), the phase is a function of the
    state at every tick (``phase_of``): above the cube -> descend, at it -> close, fingers closed on it ->
    lift, anything else -> approach the hover point (which also re-grasps a dropped cube). Without it,
    a timed state machine runs (approach, descend, close for ``grasp_s``, lift). The first keeps what a
    policy imitates Markov in its own state: with the timer the state during the wait (arm still,
    fingers closed) is the same when the demonstrator holds and when it lifts (2 of 10 behaviour-cloned
    picks waited forever), and a correction that starts mid-pick took a path the demonstrations never
    take from that state (back up to the hover point), so corrections and demonstrations disagreed.
    """

    def __init__(self, control_dt: float, max_speed: float = 0.15, gain: float = 3.0,
                 hover_m: float = 0.08, grasp_s: float = 0.8, lift_m: float = 0.2,
                 grasp_closed: float = 0.45) -> None:
        self.control_dt, self.max_speed, self.gain = control_dt, max_speed, gain
        self.hover_m, self.grasp_s, self.lift_m = hover_m, grasp_s, lift_m
        self.grasp_closed = grasp_closed  # gripper joint position that means "closed on the cube"
        self.above_m, self.at_m, self.held_m = 0.01, 0.008, 0.04  # horizontal, grasp and holding tolerances
        self.cone = 0.3  # horizontal tolerance per metre above the cube for descending (the Markov mode)
        self.phase = Phase.APPROACH
        self._grasp_ticks = 0
        self._lift_target: FloatArray | None = None

    @property
    def lift_target(self) -> FloatArray | None:
        """Where the lift ends (set when the lift starts)."""
        return self._lift_target

    def phase_of(self, ee: FloatArray, cube: FloatArray, gripper_position: float) -> Phase:
        """The phase the state calls for (the Markov mode)."""
        offset = cube - ee
        distance = float(np.linalg.norm(offset))
        if gripper_position >= self.grasp_closed and distance < self.held_m:
            return Phase.LIFT
        if gripper_position < self.grasp_closed and distance < self.at_m:
            return Phase.GRASP
        height = float(ee[2] - cube[2])
        # a cone above the cube: descending towards the cube also centres the gripper, so higher up a wider
        # offset still ends over the cube (a narrow column made exploration noise flip the phase back and forth)
        if float(np.linalg.norm(offset[:2])) < max(self.above_m, self.cone * height) and height > -self.at_m:
            return Phase.DESCEND if gripper_position < self.grasp_closed else Phase.APPROACH
        return Phase.APPROACH

    def _towards(self, ee: FloatArray, target: FloatArray, gripper: float) -> tuple[RobotCommand, float]:
        error = target - ee
        velocity = self.gain * error
        speed = float(np.linalg.norm(velocity))
        if speed > self.max_speed:
            velocity *= self.max_speed / speed
        return RobotCommand(linear=velocity, gripper=gripper), float(np.linalg.norm(error))

    def _enter(self, phase: Phase, ee: FloatArray) -> None:
        if phase is Phase.LIFT and (self.phase is not Phase.LIFT or self._lift_target is None):
            self._lift_target = ee + [0.0, 0.0, self.lift_m]
        self.phase = phase

    def act(self, ee_position: FloatArray, cube_position: FloatArray,
            gripper_position: float | None = None) -> RobotCommand:
        ee, cube = np.asarray(ee_position, dtype=np.float64), np.asarray(cube_position, dtype=np.float64)
        markov = gripper_position is not None
        if gripper_position is not None:
            self._enter(self.phase_of(ee, cube, gripper_position), ee)
        if self.phase is Phase.APPROACH:
            command, error = self._towards(ee, cube + [0.0, 0.0, self.hover_m], gripper=-1.0)
            if not markov and error < 0.01:
                self.phase = Phase.DESCEND
            return command
        if self.phase is Phase.DESCEND:
            command, error = self._towards(ee, cube, gripper=-1.0)
            if not markov and error < self.at_m:
                self.phase = Phase.GRASP
            return command
        if self.phase is Phase.GRASP:
            self._grasp_ticks += 1
            if not markov and self._grasp_ticks * self.control_dt >= self.grasp_s:
                self._enter(Phase.LIFT, ee)
            return RobotCommand.hold(gripper=1.0)
        assert self._lift_target is not None
        command, _ = self._towards(ee, self._lift_target, gripper=1.0)
        return command
