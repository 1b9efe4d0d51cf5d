"""VLAC's graded protocol as modes of a session, and the recorded episode that a mode starts from.

| mode (``teleop.mode``) | who acts | steps recorded as |
|---|---|---|
| ``demo`` | the operator, every step; the policy is never executed | demo |
| ``replay`` | a recorded episode's executed actions, open loop (the operator may still take over) | replay (human while they do) |
| ``return_explore`` | the policy, from the state before step ``return_step`` of a recorded episode; the operator corrects | policy / human |
| ``guided`` | the policy; the operator corrects (HIL-SERL's online phase) | policy / human |

The recorded episode (``teleop.source_path``, ``source_group``, ``source_episode``) is read once,
through ``robot_rl.replay``. Its executed actions are in action units, so they replay on any
configuration whose ``action_scale`` matches the recording's (checked at load).
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from robot_rl.config.schema import ConfigError
from robot_rl.replay.errors import ReplayError
from robot_rl.replay.schema import Source
from robot_rl.replay.store import (
    array,
    episode_metadata,
    episode_starts,
    group_names,
    open_group,
    open_root,
    read_episode_ends,
)


class ProtocolError(ConfigError):
    """The recorded episode a mode needs cannot be used; the message says what to change."""


class SessionMode(str, enum.Enum):
    DEMO = "demo"
    REPLAY = "replay"
    RETURN_EXPLORE = "return_explore"
    GUIDED = "guided"

    @property
    def needs_source(self) -> bool:
        return self in (SessionMode.REPLAY, SessionMode.RETURN_EXPLORE)

    @property
    def policy_acts(self) -> bool:
        return self in (SessionMode.RETURN_EXPLORE, SessionMode.GUIDED)


def parse_mode(name: str) -> SessionMode:
    try:
        return SessionMode(name)
    except ValueError:
        raise ProtocolError(f"teleop.mode={name!r}: use one of {', '.join(m.value for m in SessionMode)}") from None


def autonomous_source(mode: SessionMode) -> Source:
    """How a step is tagged when no human drove it (demo episodes are tagged whole, as demonstrations)."""
    if mode is SessionMode.DEMO:
        return Source.DEMO
    return Source.REPLAY if mode is SessionMode.REPLAY else Source.POLICY


@dataclass
class SourceEpisode:
    """One committed episode of a replay store, as a mode replays it."""

    location: str
    group: str
    index: int
    actions: npt.NDArray[np.float32]  # (T, A) executed actions, action units
    states: npt.NDArray[np.float32]  # (T, S) the state before each action
    action_scale: list[float]  # the recording's action units -> SI
    metadata: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.actions)

    @property
    def seed(self) -> int | None:
        """The simulator seed the episode was recorded with (``robot_rl.sim.session`` records it)."""
        seed = self.metadata.get("seed")
        return int(seed) if seed is not None else None

    @property
    def initial_cube_position(self) -> list[float] | None:
        cube = self.metadata.get("initial_cube_position")
        return [float(v) for v in cube] if cube is not None else None

    def check_step(self, step: int) -> None:
        if not 0 <= step < len(self):
            raise ProtocolError(f"teleop.return_step={step}: episode {self.index} of {self.location}::{self.group} "
                                f"has {len(self)} steps; choose 0..{len(self) - 1}")

    def check_scale(self, scale: npt.ArrayLike) -> None:
        """Refuse a configuration whose action units differ from the recording's (the replay would be off)."""
        ours = np.asarray(scale, dtype=np.float64)
        if self.action_scale and not np.allclose(ours, self.action_scale, rtol=1e-5):
            raise ProtocolError(f"{self.location}::{self.group} was recorded with action_scale {self.action_scale}, "
                                f"this configuration has {ours.tolist()}: set policy.max_linear_speed and "
                                "policy.max_angular_speed as they were when it was recorded")

    def describe(self, step: int | None = None) -> dict[str, Any]:
        """Where a session's episodes came from, for their metadata."""
        where: dict[str, Any] = {"path": self.location, "group": self.group, "episode": self.index}
        if step is not None:
            where["step"] = step
        return where


def load_source_episode(location: str, group: str = "", index: int = -1) -> SourceEpisode:
    """Episode ``index`` (negative: from the end) of ``group`` (or the store's only group)."""
    if not location:
        raise ProtocolError("no recorded episode given: set teleop.source_path=<replay store>")
    try:
        root = open_root(location)
        names = group_names(root)
        if not group and len(names) != 1:
            raise ProtocolError(f"{location} holds groups {names}: choose one with teleop.source_group")
        group = group or names[0]
        zgroup, info = open_group(root, group)
    except ReplayError as err:
        raise ProtocolError(f"teleop.source_path: {err}") from None
    ends = read_episode_ends(zgroup)
    if ends.size == 0:
        raise ProtocolError(f"{location}::{group} has no committed episodes to replay: record one first")
    position = index if index >= 0 else ends.size + index
    if not 0 <= position < ends.size:
        raise ProtocolError(f"teleop.source_episode={index}: {location}::{group} has {ends.size} episodes "
                            f"(0..{ends.size - 1}, or -1 for the last)")
    start, stop = int(episode_starts(ends)[position]), int(ends[position])
    return SourceEpisode(location=str(location), group=group, index=position,
                         actions=np.asarray(array(zgroup, "data/action")[start:stop], dtype=np.float32),
                         states=np.asarray(array(zgroup, "data/state")[start:stop], dtype=np.float32),
                         action_scale=[float(s) for s in info.action_scale],
                         metadata=episode_metadata(zgroup, position))


class ActionReplay:
    """Hands out a recorded episode's actions one per control tick; after the last, the arm holds."""

    def __init__(self, actions: npt.NDArray[np.float32]) -> None:
        if actions.ndim != 2 or len(actions) == 0:
            raise ProtocolError(f"nothing to replay: actions of shape {actions.shape}")
        self.actions = actions
        self.position = 0

    @property
    def done(self) -> bool:
        return self.position >= len(self.actions)

    def restart(self) -> None:
        self.position = 0

    def next(self) -> npt.NDArray[np.float32]:
        """The next recorded action; once they ran out, zero motion with the last gripper command."""
        if self.done:
            hold = np.zeros_like(self.actions[-1])
            hold[6:] = self.actions[-1][6:]
            return hold
        action = self.actions[self.position]
        self.position += 1
        return action.copy()
