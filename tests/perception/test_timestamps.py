"""Camera timestamps to host time: host domains pass through, the hardware clock gets an offset."""
from __future__ import annotations

import pytest

from robot_rl.perception.timestamps import ClockMapper


@pytest.mark.parametrize("domain", ["global_time", "system_time"])
def test_host_domains_are_used_as_is(domain: str) -> None:
    assert ClockMapper().to_host_s(1_700_000_000_123.5, domain, receive_time_s=0.0) == pytest.approx(
        1_700_000_000.1235, abs=1e-6)


def test_hardware_clock_offset_is_the_fastest_frame() -> None:
    mapper = ClockMapper()
    # device clock starts at 5 s; host = device + 1000 s; transport delays 9, 3, 6 ms
    stamps = [mapper.to_host_s(5000.0 + 33.0 * i, "hardware_clock", 1005.0 + 0.033 * i + delay)
              for i, delay in enumerate([0.009, 0.003, 0.006])]
    assert stamps[2] == pytest.approx(1005.066 + 0.003, abs=1e-9)  # offset from the 3 ms frame
    assert stamps[0] == pytest.approx(1005.009, abs=1e-9)  # the first frame only had itself


def test_hardware_clock_jump_starts_a_new_estimate() -> None:
    mapper = ClockMapper()
    mapper.to_host_s(5000.0, "hardware_clock", 1005.0)
    assert mapper.to_host_s(10.0, "hardware_clock", 1006.0) == pytest.approx(1006.0)  # device reset


def test_unknown_domain() -> None:
    with pytest.raises(ValueError, match="timestamp domain"):
        ClockMapper().to_host_s(0.0, "tai", 0.0)
