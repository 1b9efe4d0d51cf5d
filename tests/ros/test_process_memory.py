"""glibc keeps large freed buffers for reuse in every robot_rl node (robot_rl.ros.process_memory)."""
from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

# Fills and frees buffers of 1, 2, ... 8 MB (frames of growing cameras, DDS buffers that grow) and prints the
# page faults. By default glibc maps each block above its (dynamically raised) threshold afresh, so every
# page of every block faults (~9,200 pages); with fixed thresholds the heap reuses what was freed (~4,600).
FAULTS = textwrap.dedent("""
    import resource, sys
    from robot_rl.ros.process_memory import keep_large_buffers
    if sys.argv[1] == "tuned":
        assert keep_large_buffers()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for megabytes in range(1, 9):
        block = bytearray(megabytes << 20)
        block[::4096] = b"x" * len(range(0, megabytes << 20, 4096))  # write every page
    print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
""")


def page_faults(mode: str) -> int:
    out = subprocess.run([sys.executable, "-c", FAULTS, mode], capture_output=True, text=True, check=True)
    return int(out.stdout.strip())


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc mallopt and Linux page-fault counters")
def test_keep_large_buffers_reuses_freed_frames_instead_of_faulting_in_fresh_pages() -> None:
    default, tuned = page_faults("default"), page_faults("tuned")
    assert default > 8_000 and tuned < 0.6 * default, (default, tuned)
