"""Assemble the observation for one control tick: one fresh frame per camera plus the matching robot state.

For a tick at time ``t`` the assembler takes, per camera, the newest frame captured at or before
``t``; if that frame is older than ``max_frame_age_s`` (or there is none), the camera has stopped or
fallen behind and the whole observation is stale. The robot state is the sample nearest in time to
the frames' capture time (the mean over cameras), because the image shows the arm as it was then,
not as it is at ``t``; a state farther than ``max_frame_age_s`` from that time is stale too.

A stale tick returns ``StaleObservation``, a different type that carries no images or state, so it
cannot be fed to a policy or written as a step by mistake; it says which input is stale and by how much.
"""
from __future__ import annotations

import bisect
import threading
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from robot_rl.perception.frames import CameraFrame, FrameBuffers
from robot_rl.perception.image import crop_resize

STATE = "robot_state"  # the key under which a stale robot state is reported


class StateFormatError(ValueError):
    """A robot state sample has the wrong length or is not finite."""


@dataclass(frozen=True)
class StateSample:
    time_s: float  # host wall-clock time the state was measured
    values: npt.NDArray[np.float32]  # the state vector (joints, end-effector pose, gripper), fixed length


class StateHistory:
    """The last ``capacity`` robot states in time order, thread-safe; finds the one nearest a time."""

    def __init__(self, state_dim: int, capacity: int = 256) -> None:
        self.state_dim = state_dim
        self._times: deque[float] = deque(maxlen=capacity)
        self._samples: deque[StateSample] = deque(maxlen=capacity)
        self._lock = threading.Lock()

    def put(self, time_s: float, values: Sequence[float] | npt.NDArray[np.floating]) -> None:
        array = np.asarray(values, dtype=np.float32)
        if array.shape != (self.state_dim,):
            raise StateFormatError(f"robot state: expected {self.state_dim} values, got shape {array.shape}")
        if not np.all(np.isfinite(array)):
            raise StateFormatError(f"robot state at t={time_s:.3f} contains NaN or inf: {array.tolist()}")
        with self._lock:
            if self._times and time_s < self._times[-1]:
                raise StateFormatError(
                    f"robot state at t={time_s:.6f} is older than the previous one ({self._times[-1]:.6f}); "
                    "states must arrive in time order")
            self._times.append(time_s)
            self._samples.append(StateSample(time_s, array))

    def nearest(self, t: float) -> StateSample | None:
        with self._lock:
            if not self._samples:
                return None
            times = list(self._times)
            i = bisect.bisect_left(times, t)
            candidates = [j for j in (i - 1, i) if 0 <= j < len(times)]
            best = min(candidates, key=lambda j: abs(times[j] - t))
            return self._samples[best]


@dataclass(frozen=True)
class Observation:
    """Everything the policy sees at one tick; only ever built from fresh inputs."""

    time_s: float  # the control tick
    images: dict[str, npt.NDArray[np.uint8]]  # per camera, policy_image_size^2 x 3 RGB, in cameras.names order
    state: npt.NDArray[np.float32]
    frames: dict[str, CameraFrame]  # the frames the images came from (capture stamps, frame numbers)
    state_time_s: float

    @property
    def stale(self) -> bool:
        return False


@dataclass(frozen=True)
class StaleObservation:
    """A tick whose inputs are too old (or missing): never fed to the policy, never stored."""

    time_s: float
    ages_s: dict[str, float]  # stale input (camera name or "robot_state") -> age in s (inf = never received)
    max_age_s: float

    @property
    def stale(self) -> bool:
        return True

    def describe(self) -> str:
        parts = [f"{name} {'never received' if np.isinf(age) else f'{age * 1000:.0f} ms old'}"
                 for name, age in self.ages_s.items()]
        return f"stale observation at t={self.time_s:.3f} (limit {self.max_age_s * 1000:.0f} ms): " + ", ".join(parts)


class ObservationAssembler:
    """Builds ``Observation`` (or ``StaleObservation``) for control ticks from frame buffers and state history."""

    def __init__(self, frames: FrameBuffers, states: StateHistory, cameras: Sequence[str],
                 max_frame_age_s: float, image_size: int, crop: str = "center") -> None:
        if max_frame_age_s <= 0:
            raise ValueError(f"max_frame_age_s={max_frame_age_s}: must be > 0")
        missing = [c for c in cameras if c not in frames.cameras]
        if missing:
            raise ValueError(f"cameras {missing} have no frame buffer; buffers exist for {frames.cameras}")
        self.frames = frames
        self.states = states
        self.cameras = list(cameras)
        self.max_frame_age_s = max_frame_age_s
        self.image_size = image_size
        self.crop = crop

    def assemble(self, t: float) -> Observation | StaleObservation:
        chosen: dict[str, CameraFrame] = {}
        stale: dict[str, float] = {}
        for camera in self.cameras:
            frame = self.frames[camera].newest_at(t)
            age = float("inf") if frame is None else t - frame.capture_time_s
            if age > self.max_frame_age_s:
                stale[camera] = age
            elif frame is not None:
                chosen[camera] = frame
        reference = float(np.mean([f.capture_time_s for f in chosen.values()])) if chosen else t
        state = self.states.nearest(reference)
        state_gap = float("inf") if state is None else abs(state.time_s - reference)
        if state_gap > self.max_frame_age_s:
            stale[STATE] = state_gap
        if stale:
            return StaleObservation(time_s=t, ages_s=stale, max_age_s=self.max_frame_age_s)
        assert state is not None  # a missing state is reported as stale above
        images = {c: crop_resize(chosen[c].image, self.image_size, crop=self.crop)  # type: ignore[arg-type]
                  for c in self.cameras}
        return Observation(time_s=t, images=images, state=state.values, frames=chosen, state_time_s=state.time_s)
