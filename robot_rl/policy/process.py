"""Garbage-collector settings for the policy server's low-latency loop.

After torch and rclpy are imported and the actors built, the process holds ~210,000 GC-tracked
objects and a full collection takes ~95 ms (more on a busy machine), at a moment no one picks, in the
middle of a tick. ``freeze_startup_objects`` moves everything alive after configure to the permanent
generation, so later collections scan only what the loop made; ``GcPauses`` reports what is left.
(The frames' page faults are handled for every node by ``robot_rl.ros.process_memory``.)
"""
from __future__ import annotations

import gc
import time


def freeze_startup_objects() -> None:
    """Collect once, then exclude every object alive now from future collections (``gc.freeze``)."""
    gc.collect()
    gc.freeze()


class GcPauses:
    """Counts the collections of each generation and keeps the longest pause (``gc.callbacks``), for diagnostics."""

    def __init__(self) -> None:
        self.collections = [0, 0, 0]
        self.max_pause_s = 0.0
        self._started = 0.0
        gc.callbacks.append(self._on_gc)

    def _on_gc(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
            return
        self.collections[info["generation"]] += 1
        self.max_pause_s = max(self.max_pause_s, time.perf_counter() - self._started)

    def close(self) -> None:
        if self._on_gc in gc.callbacks:
            gc.callbacks.remove(self._on_gc)
