"""Per-stage latency of the policy loop, kept over a sliding window, reported as p50/p99/max in ms.

Stages (seconds, host wall clock):

    receive     observation stamp (camera capture) -> the newest frame of the set reached the node
    assemble    start of the callback that triggered the tick (the last frame of the set arriving, or the
                timer) -> observation ready: that frame's crop and resize (the others were resized
                as they arrived), picking the frames and state (CPU)
    preprocess  upload to the model's device (uint8), state tensor
    inference   the actor's forward pass, including the copy of the action back to the host
    publish     building and publishing the action messages
    end_to_end  observation stamp -> action published
"""
from __future__ import annotations

import threading
from collections import deque

import numpy as np

STAGES = ("receive", "assemble", "preprocess", "inference", "publish", "end_to_end")


class LatencyStats:
    """Thread-safe sliding windows of stage durations."""

    def __init__(self, window: int = 2000, stages: tuple[str, ...] = STAGES) -> None:
        if window < 1:
            raise ValueError(f"latency window={window}: must be >= 1")
        self.stages = stages
        self._samples: dict[str, deque[float]] = {s: deque(maxlen=window) for s in stages}
        self._lock = threading.Lock()
        self.count = 0  # end_to_end samples ever recorded (= ticks that published)

    def record(self, stage: str, seconds: float) -> None:
        if stage not in self._samples:
            raise KeyError(f"unknown latency stage {stage!r}; stages are {self.stages}")
        with self._lock:
            self._samples[stage].append(seconds)
            if stage == "end_to_end":
                self.count += 1

    def percentiles_ms(self, stage: str) -> tuple[float, float, float]:
        """(p50, p99, max) in milliseconds over the window; NaN before the first sample."""
        with self._lock:
            values = np.asarray(self._samples[stage], dtype=np.float64)
        if values.size == 0:
            return float("nan"), float("nan"), float("nan")
        p50, p99 = np.percentile(values, [50, 99]) * 1000.0
        return float(p50), float(p99), float(values.max() * 1000.0)

    def summary(self) -> dict[str, float]:
        """Flat keys ``latency_ms_<stage>_p50|p99|max`` (end_to_end also as ``latency_ms_p50`` ...)."""
        out: dict[str, float] = {}
        for stage in self.stages:
            p50, p99, peak = self.percentiles_ms(stage)
            out.update({f"latency_ms_{stage}_p50": p50, f"latency_ms_{stage}_p99": p99,
                        f"latency_ms_{stage}_max": peak})
        if "end_to_end" in self.stages:
            out["latency_ms_p50"] = out["latency_ms_end_to_end_p50"]
            out["latency_ms_p99"] = out["latency_ms_end_to_end_p99"]
            out["latency_ms_max"] = out["latency_ms_end_to_end_max"]
        return out
