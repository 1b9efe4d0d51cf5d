"""Process settings for a low-latency loop that receives camera frames: page faults and GC pauses.

Two costs that no profile of the Python code shows, both measured in the policy server's process:

- **Page faults on every frame.** glibc serves allocations above its mmap threshold (128 KB, raised
  dynamically up to the size of the largest block freed) with fresh ``mmap`` pages and returns them on
  ``free``, and trims the heap top above twice that. A 640x480 rgb8 frame (900 KB) passes through
  several such buffers on its way from DDS to Python (reassembly, take, the message's array), so each
  frame touched ~640 fresh pages: 3.7 ms of CPU per frame on this VM, and the second camera's frame
  reached the node ~10 ms after it was published instead of ~3 ms. Fixed thresholds
  (``keep_large_buffers``) keep freed blocks in the heap for reuse; the faults per frame drop to ~0.
- **Full garbage collections.** After torch and rclpy are imported and the actors built, the process
  holds ~210,000 GC-tracked objects and a full collection takes ~95 ms (more on a busy machine), at a
  moment no one picks, in the middle of a tick. ``freeze_startup_objects`` moves everything alive
  after configure to the permanent generation, so later collections scan only what the loop made.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import gc
import time

# mallopt parameters (glibc malloc.h)
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3

MMAP_THRESHOLD_BYTES = 16 * 1024 * 1024  # above several frames; glibc caps it at 32 MB on 64-bit
TRIM_THRESHOLD_BYTES = 128 * 1024 * 1024  # free heap kept for reuse before it is returned to the system


def keep_large_buffers() -> bool:
    """Fix glibc's mmap and trim thresholds for this process; False where libc is not glibc (nothing changes)."""
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        mallopt = ctypes.CDLL(name).mallopt
    except (OSError, AttributeError):  # musl and others have no mallopt
        return False
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)) and bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES))


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
