"""glibc settings for processes that carry camera frames: freed frame buffers are reused, not unmapped.

glibc serves allocations above its mmap threshold (128 KB, raised dynamically up to the size of the
largest block freed) with fresh ``mmap`` pages and returns them on ``free``, and trims the heap top
above twice that. A 640x480 rgb8 frame (900 KB) passes through several such buffers on its way from
DDS to Python (reassembly, take, the Python bytes), so each received frame faulted in ~640 fresh pages.
Measured on the 2-core CPU:

- the policy server: 3.7 ms of CPU per frame, and the second camera's frame reached the node ~10 ms
  after it was published instead of ~3 ms;
- a bare subscriber of two 640x480 cameras at 10 Hz: 681 -> 40 minor faults a frame, ~1.6 ms less CPU
  a frame, the second frame in its callback 7.4 -> 3.8 ms after the stamp;
- a publishing process: no change (its buffers are reused under glibc's dynamic threshold already).

Fixed thresholds (``keep_large_buffers``) keep freed blocks in the heap for reuse. ``run_node``
applies them to every robot_rl node before rclpy allocates anything; nodes that never allocate large
blocks are unaffected.
"""
from __future__ import annotations

import ctypes
import ctypes.util

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
