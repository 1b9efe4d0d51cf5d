"""Turn the graph's latest inputs into steps at the control rate, and ``episode/status`` into episodes.

The replay writer node (and ``robot-rl replay import`` for a recorded bag) feed this class the
messages they receive, already converted to numbers, and call ``tick`` on the control timer. The
observation is assembled exactly as the policy server does (``perception.ObservationAssembler``:
newest frame per camera, state nearest the frames' capture time, stale inputs rejected), so the
store holds what the policy saw.

Episode statuses: ``running`` opens an episode; ``success``/``failure`` commit it as terminated
(``success`` with reward 1.0 on its last step, whoever ended it), ``timeout`` as truncated;
``resetting`` or ``idle`` without an end aborts it (nothing is stored).

Per-episode metadata: ``set_context`` keeps the newest value of facts no step holds (the simulator's
cube position); the values current at an episode's first step are committed with the episode
(``EpisodeWriter.end_episode(metadata=...)``), e.g. ``initial_cube_position`` for ``robot-rl sim2real``.
Demonstrations: ``set_demo(True)`` (teleop/demo) before or during an episode marks all of it source=demo.
"""
from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from robot_rl.perception import ObservationAssembler
from robot_rl.replay.errors import StepError
from robot_rl.replay.schema import Source
from robot_rl.replay.writer import EpisodeWriter, Step

STATUSES = ("idle", "running", "success", "failure", "timeout", "resetting")
ACTION_NAMES = ["vx", "vy", "vz", "wx", "wy", "wz", "gripper"]
SUCCESS_REWARD = 1.0  # the sparse success reward the last step of an episode ended as ``success`` carries


@dataclass
class _Stamped:
    value: np.ndarray
    time_s: float


class StepRecorder:
    """Holds the newest action-side inputs, assembles steps on ``tick`` and drives the writer."""

    def __init__(self, writer: EpisodeWriter, assembler: ObservationAssembler, action_scale: Sequence[float],
                 max_action_age_s: float, demo: bool = False, source: Source = Source.POLICY,
                 metadata: dict[str, Any] | None = None) -> None:
        self.writer = writer
        self.assembler = assembler
        self.action_scale = np.asarray(action_scale, dtype=np.float32)
        self.max_action_age_s = max_action_age_s
        self.demo = demo  # whole episodes demonstrated by the operator: source DEMO instead of HUMAN
        self.source = source  # steps the operator did not drive (REPLAY in a replay session)
        self.metadata = dict(metadata or {})  # added to every episode's (the session's mode and source)
        self.status = "idle"
        self.counts: Counter[str] = Counter()
        self._command: _Stamped | None = None
        self._policy: _Stamped | None = None
        self._human: _Stamped | None = None
        self._gripper = {"command": 0.0, "policy": 0.0, "human": 0.0}
        self._intervening = False
        self._reward = 0.0
        self._context: dict[str, Any] = {}
        self._episode_meta: dict[str, Any] = {}
        self._demo_signal = False  # newest teleop/demo value
        self._demo_episode = False  # the open episode is a whole demonstration

    # -- inputs ------------------------------------------------------------------------------------

    def set_twist(self, which: str, linear: Sequence[float], angular: Sequence[float], time_s: float) -> None:
        """``which``: command (executed), policy or human; twists in SI units, stored normalised."""
        value = _Stamped(np.concatenate([linear, angular]).astype(np.float32), time_s)
        setattr(self, {"command": "_command", "policy": "_policy", "human": "_human"}[which], value)

    def set_gripper(self, which: str, value: float) -> None:
        self._gripper[which] = float(value)

    def set_intervening(self, value: bool) -> None:
        self._intervening = bool(value)

    def set_context(self, key: str, value: Any) -> None:
        """The newest value of an episode fact (JSON-able); recorded as ``initial_<key>`` at the first step."""
        self._context[key] = value

    def set_demo(self, value: bool) -> None:
        """teleop/demo: True before or during an episode makes the whole episode a demonstration."""
        self._demo_signal = bool(value)
        if self._demo_signal and self.writer.in_episode:
            self._demo_episode = True

    def set_reward(self, value: float) -> None:
        """The reward of the current step (the newest value before the tick wins)."""
        self._reward = float(value)

    def set_status(self, status: str) -> str | None:
        """Apply an ``episode/status`` value; returns what happened (begin, terminated, truncated, abort)."""
        status = status.strip().lower()
        if status not in STATUSES:
            self.counts["bad_status"] += 1
            return None
        previous, self.status = self.status, status
        if status == previous:
            return None
        if status == "running":
            if self.writer.in_episode:
                self.writer.abort()
                self.counts["aborted"] += 1
            self.writer.begin_episode()
            self._reward = 0.0
            self._episode_meta, self._demo_episode = {}, self._demo_signal
            return "begin"
        if not self.writer.in_episode:
            return None
        if status in ("success", "failure", "timeout"):
            if self._demo_episode:
                self.writer.set_episode_source(Source.DEMO)
            last = SUCCESS_REWARD if status == "success" else self._reward
            if last != 0.0 and self.writer.episode_length > 0:
                # success: reward training reads an episode's outcome from its last step, and an operator's
                # mark_success comes with no reward of its own; otherwise a reward that arrived after the
                # last step was recorded (the end raced it)
                self.writer.amend_last_reward(last)
            self._reward = 0.0
            meta = dict(self.metadata, **self._episode_meta, outcome=status, demo=self._demo_episode or self.demo)
            index = self.writer.end_episode(terminated=status != "timeout", truncated=status == "timeout",
                                            metadata=meta)
            if index >= 0:
                self.counts["episodes"] += 1
            return "truncated" if status == "timeout" else "terminated"
        self.writer.abort()  # resetting or idle without an end: the episode is dropped
        self.counts["aborted"] += 1
        return "abort"

    # -- the tick ----------------------------------------------------------------------------------

    def tick(self, now: float) -> str:
        """Record one step if an episode runs and every input is fresh; returns the outcome."""
        if not self.writer.in_episode:
            return "idle"
        observation = self.assembler.assemble(now)
        if observation.stale:
            self.counts["late_observation"] += 1
            return "late_observation"
        if self._command is None or now - self._command.time_s > self.max_action_age_s:
            self.counts["late_action"] += 1
            return "late_action"
        human = self._intervening and self._human is not None and now - self._human.time_s <= self.max_action_age_s
        policy_fresh = self._policy is not None and now - self._policy.time_s <= self.max_action_age_s
        source = (Source.DEMO if self.demo or self._demo_episode
                  else Source.HUMAN if self._intervening else self.source)
        frames = observation.frames.values()  # type: ignore[union-attr]
        step = Step(
            images=observation.images,  # type: ignore[union-attr]
            state=observation.state,  # type: ignore[union-attr]
            action=self._action(self._command, self._gripper["command"]),
            reward=self._reward,
            source=source,
            intervention=self._intervening,
            policy_action=self._action(self._policy, self._gripper["policy"]) if policy_fresh else None,
            human_action=self._action(self._human, self._gripper["human"]) if human else None,
            capture_time=min((f.capture_time_s for f in frames), default=math.nan),
            receive_time=now,
        )
        self._reward = 0.0
        try:
            self.writer.append(step)
            if self.writer.episode_length == 1:
                self._episode_meta = {f"initial_{k}": v for k, v in self._context.items()}
        except StepError:
            self.counts["bad_steps"] += 1
            raise
        self.counts["steps"] += 1
        return "recorded"

    def _action(self, twist: _Stamped | None, gripper: float) -> np.ndarray:
        assert twist is not None
        return np.append(twist.value, gripper).astype(np.float32) / self.action_scale
