"""The episode state machine: idle -> running -> success | failure | timeout -> resetting -> idle.

    idle ──start──> running ──mark_success / success from the reward model──> success
                       │ ──mark_failure──> failure
                       │ ──time limit──> timeout
    any state but resetting ──reset──> resetting ──robot reset done──> idle (or running: auto_start)

``start`` is accepted only from idle, so every episode begins from a reset scene; an invalid request
raises ``EpisodeError`` whose message says what to do instead. Reset from running aborts the episode
(the replay writer drops it: no end was written). Time is whatever clock the caller passes (ROS time,
so a simulation that publishes /clock gets time limits in simulated seconds).
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, field


class EpisodeState(str, enum.Enum):
    IDLE = "idle"
    RUNNING = "running"
    SUCCESS = "success"
    FAILURE = "failure"
    TIMEOUT = "timeout"
    RESETTING = "resetting"


ENDED = (EpisodeState.SUCCESS, EpisodeState.FAILURE, EpisodeState.TIMEOUT)


class EpisodeError(RuntimeError):
    """A request that is not valid in the current state; the message says what to do instead."""


@dataclass
class EpisodeMachine:
    time_limit_s: float = 20.0  # a running episode ends as timeout after this long (0 = no limit)
    auto_start: bool = False  # start the next episode as soon as a reset succeeds
    state: EpisodeState = EpisodeState.IDLE
    episode: int = 0  # index of the current (or last) episode, counted from 1
    started_at: float = 0.0
    last_reset_error: str = ""  # why the last reset failed ("" = it did not)
    history: list[EpisodeState] = field(default_factory=list)  # outcome of each ended episode

    def __post_init__(self) -> None:
        if self.time_limit_s < 0:
            raise ValueError(f"episode.time_limit_s={self.time_limit_s}: use a positive limit, or 0 for none")

    def start(self, now: float) -> EpisodeState:
        if self.state is not EpisodeState.IDLE:
            raise EpisodeError(self._why_not("start"))
        if self.last_reset_error:
            raise EpisodeError(f"cannot start: the last reset failed ({self.last_reset_error}); "
                               "call episode/reset again")
        self.episode += 1
        self.started_at = now
        return self._go(EpisodeState.RUNNING)

    def mark_success(self) -> EpisodeState:
        return self._end(EpisodeState.SUCCESS, "mark_success")

    def mark_failure(self) -> EpisodeState:
        return self._end(EpisodeState.FAILURE, "mark_failure")

    def tick(self, now: float) -> EpisodeState | None:
        """Ends a running episode at its time limit; returns the new state when it changed."""
        if self.state is EpisodeState.RUNNING and self.time_limit_s > 0 and self.elapsed(now) >= self.time_limit_s:
            return self._end(EpisodeState.TIMEOUT, "timeout")
        return None

    def begin_reset(self) -> EpisodeState:
        if self.state is EpisodeState.RESETTING:
            raise EpisodeError("a reset is already in progress: wait for episode/status to leave 'resetting'")
        return self._go(EpisodeState.RESETTING)

    def finish_reset(self, ok: bool, now: float, error: str = "") -> EpisodeState:
        """The robot's reset finished; idle, or the next episode when auto_start and the reset worked."""
        if self.state is not EpisodeState.RESETTING:
            raise EpisodeError(f"finish_reset in state {self.state.value}: no reset in progress")
        self.last_reset_error = "" if ok else (error or "robot reset failed")
        self._go(EpisodeState.IDLE)
        if ok and self.auto_start:
            return self.start(now)
        return self.state

    def elapsed(self, now: float) -> float:
        return max(0.0, now - self.started_at) if self.state is EpisodeState.RUNNING else 0.0

    def _end(self, outcome: EpisodeState, request: str) -> EpisodeState:
        if self.state is not EpisodeState.RUNNING:
            raise EpisodeError(self._why_not(request))
        self.history.append(outcome)
        return self._go(outcome)

    def _go(self, state: EpisodeState) -> EpisodeState:
        self.state = state
        return state

    def _why_not(self, request: str) -> str:
        if self.state is EpisodeState.RUNNING:
            return f"cannot {request}: episode {self.episode} is running; mark it success/failure or reset first"
        if self.state is EpisodeState.RESETTING:
            return f"cannot {request}: the robot is resetting; wait for episode/status 'idle'"
        if self.state in ENDED:
            return (f"cannot {request}: episode {self.episode} already ended ({self.state.value}); "
                    "call episode/reset, then episode/start")
        return f"cannot {request}: no episode is running (idle); call episode/start first"
