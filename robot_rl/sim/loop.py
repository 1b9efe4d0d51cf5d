"""What the sim_robot node does each control tick, without ROS: take the newest valid command (or hold
when it is stale), step the simulation, render the cameras, and report what to publish.

Times passed in (``now``) are on one clock chosen by the caller: wall time when the simulation runs in
real time, the sim clock (``sim.time``) when it runs as fast as it can. A command's age is measured on
that clock, so a command timeout means the same thing in both modes: control periods without input.
"""
from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from robot_rl.robot.interface import CommandBuffer, RobotCommand, RobotObservation
from robot_rl.sim.pick_cube import PickCubeSim

FloatArray = npt.NDArray[np.float64]


@dataclass
class SimTick:
    """The outcome of one control tick: everything the node publishes."""

    sim_time: float  # s, sim clock after the step
    observation: RobotObservation
    command: RobotCommand  # what was executed (hold when the newest command was stale)
    held: bool  # True when no fresh command arrived: the arm held still
    success: bool  # ground truth: cube lifted and held
    cube_position: FloatArray  # m, base frame
    images: dict[str, npt.NDArray[np.uint8]] = field(default_factory=dict)
    step_s: float = 0.0  # wall time spent stepping physics
    render_s: float = 0.0  # wall time spent rendering every camera


class SimRunner:
    """The simulated arm plus its command buffer; one ``tick`` per control period."""

    def __init__(self, sim: PickCubeSim, command_timeout_s: float) -> None:
        self.sim = sim
        self.commands = CommandBuffer(command_timeout_s)
        self.ticks = 0
        self.rejected = 0

    def submit_twist(self, frame_id: str, linear: Sequence[float], angular: Sequence[float], now: float) -> None:
        """Queue a stamped twist; raises ``InvalidCommandError`` (NaN, inf, unknown frame) and keeps holding."""
        try:
            command = RobotCommand.from_frame_id(frame_id, linear, angular, base_frame=self.sim.base_frame,
                                                 ee_frame=self.sim.ee_frame)
        except ValueError:
            self.rejected += 1
            raise
        self.commands.put(command, now)

    def submit_gripper(self, target: float) -> None:
        """Set the gripper target in [-1 open, +1 closed]; raises ``InvalidCommandError`` otherwise."""
        try:
            self.commands.set_gripper(target)
        except ValueError:
            self.rejected += 1
            raise

    def tick(self, now: float, render: bool = True) -> SimTick:
        held = self.commands.is_stale(now)
        command = self.commands.current(now)
        self.sim.command(command)
        start = time.perf_counter()
        observation = self.sim.step()
        stepped = time.perf_counter()
        images = self.sim.render() if render else {}
        rendered = time.perf_counter()
        self.ticks += 1
        return SimTick(sim_time=self.sim.time, observation=observation, command=command, held=held,
                       success=self.sim.success(), cube_position=self.sim.cube_position(), images=images,
                       step_s=stepped - start, render_s=rendered - stepped)

    def reset(self, force: bool = False) -> RobotObservation:
        """Reset the episode (raises ``RobotMovingError`` while the arm moves) and drop queued commands."""
        observation = self.sim.reset(force=force)
        self.commands.clear()
        return observation
