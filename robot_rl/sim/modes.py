"""The session modes of ``robot_rl.teleop.protocol`` on the simulated arm, in one process.

``start_state`` brings the simulator to the first state of a recorded episode, or to the state before
one of its steps: reset with the episode's recorded seed (or, for an episode the ROS graph recorded,
reset and put the cube where its metadata says), then execute its first ``step`` recorded actions.
MuJoCo is deterministic on one machine, so that is the recorded state, not an approximation of it.
``ModeSession`` runs a ``SimSession``'s episodes in one mode and tags them in the replay store
(steps by source, episodes with ``mode`` and ``source`` in their metadata).
"""
from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from robot_rl.robot.interface import RobotObservation
from robot_rl.sim.pick_cube import PickCubeSim
from robot_rl.sim.session import (
    EpisodeOutcome,
    OperatorFn,
    PolicyFn,
    SimSession,
    command_from_action,
)
from robot_rl.teleop.protocol import (
    ActionReplay,
    ProtocolError,
    SessionMode,
    SourceEpisode,
    autonomous_source,
    parse_mode,
)


def start_state(sim: PickCubeSim, episode: SourceEpisode, scale: npt.NDArray[np.float32],
                step: int = 0) -> RobotObservation:
    """Reset to ``episode``'s start, then replay its first ``step`` actions; returns the observation there."""
    if step:
        episode.check_step(step)
    observation = sim.reset(force=True, seed=episode.seed)
    cube = episode.initial_cube_position
    if episode.seed is None and cube is not None:
        observation = sim.place_cube(cube)
    for action in episode.actions[:step]:
        sim.command(command_from_action(action, scale))
        observation = sim.step()
    return observation


class ModeSession:
    """Runs episodes of one mode; ``source`` is the recorded episode replay and return_explore start from."""

    def __init__(self, session: SimSession, mode: str | SessionMode, source: SourceEpisode | None = None,
                 return_step: int = 0) -> None:
        self.session = session
        self.mode = mode if isinstance(mode, SessionMode) else parse_mode(mode)
        if self.mode.needs_source:
            if source is None:
                raise ProtocolError(f"teleop.mode={self.mode.value} needs a recorded episode: set teleop.source_path")
            source.check_scale(session.scale)
            if self.mode is SessionMode.RETURN_EXPLORE:
                source.check_step(return_step)
        self.source, self.return_step = source, return_step

    def run_episode(self, policy: PolicyFn | None, operator: OperatorFn | None, max_steps: int,
                    seed: int | None = None) -> EpisodeOutcome:
        """One episode; in replay mode at most as many steps as the recording has (``policy`` is not used)."""
        mode, source, session = self.mode, self.source, self.session
        metadata: dict[str, Any] = {"mode": mode.value}
        if mode is SessionMode.DEMO:
            return session.run_episode(None, operator, max_steps, seed=seed, demo=True, metadata=metadata)
        if mode is SessionMode.GUIDED or source is None:
            return session.run_episode(policy, operator, max_steps, seed=seed, metadata=metadata)
        step = self.return_step if mode is SessionMode.RETURN_EXPLORE else 0
        metadata["source"] = source.describe(step)

        def start(sim: PickCubeSim) -> RobotObservation:
            return start_state(sim, source, session.scale, step)

        if mode is SessionMode.REPLAY:
            replay = ActionReplay(source.actions)
            return session.run_episode(lambda images, state: replay.next(), operator, min(max_steps, len(source)),
                                       seed=source.seed, start=start, source=autonomous_source(mode),
                                       metadata=metadata)
        return session.run_episode(policy, operator, max_steps, seed=source.seed, start=start, metadata=metadata)
