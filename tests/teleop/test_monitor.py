"""The operator's view: the status line (mode, episode, who drives, rates over the last N episodes, device
health) and the end-of-session plot and summary."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from robot_rl.teleop.monitor import SessionMonitor


def run_episode(monitor: SessionMonitor, outcome: str, steps: int, intervened: int, demo: bool = False) -> None:
    monitor.on_demo(demo)
    monitor.on_status("running")
    for step in range(steps):
        monitor.intervening = step < intervened
        monitor.tick()
    monitor.intervening = False
    monitor.on_status(outcome)
    monitor.on_status("resetting")
    monitor.on_status("idle")


@pytest.fixture
def session() -> SessionMonitor:
    monitor = SessionMonitor(window=2, session_mode="guided", device="spacemouse")
    run_episode(monitor, "success", 10, 10, demo=True)  # a demonstration: not in the policy's rates
    run_episode(monitor, "failure", 10, 5)
    run_episode(monitor, "success", 10, 2)
    run_episode(monitor, "success", 10, 0)
    return monitor


def test_rates_cover_the_policys_last_n_episodes(session: SessionMonitor) -> None:
    assert session.rates(2) == (1.0, 0.1)  # the last two: both succeeded, 2 of 20 steps corrected
    success, interventions = session.rates()
    assert success == pytest.approx(2 / 3) and interventions == pytest.approx(7 / 30)


def test_status_line_shows_mode_episode_control_rates_and_device_health(session: SessionMonitor) -> None:
    session.on_status("running")
    session.intervening = True
    session.on_device(True)
    line = session.status_line()
    for part in ("[guided]", "ep 5 running (HUMAN)", "policy episodes 3 (+1 demos)", "success 100%",
                 "interventions 10% (last 2)", "spacemouse ok"):
        assert part in line, f"{part!r} missing from {line!r}"
    session.on_device(False, "teleop unhealthy: device reads only zeros for 2.0 s")
    assert "spacemouse UNHEALTHY: teleop unhealthy: device reads only zeros" in session.status_line()
    assert "not reported" in SessionMonitor(device="keyboard").status_line()


def test_end_of_session_plot_and_summary(session: SessionMonitor, tmp_path: Path) -> None:
    written = session.write_report(tmp_path / "monitor", "session-test")
    assert written is not None
    png, summary = written
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000
    data = json.loads(summary.read_text())
    assert data["session_mode"] == "guided" and data["episodes"] == 4 and data["policy_episodes"] == 3
    assert [e["outcome"] for e in data["per_episode"]] == ["success", "failure", "success", "success"]
    assert [e["demo"] for e in data["per_episode"]] == [True, False, False, False]
    assert SessionMonitor().write_report(tmp_path / "empty", "none") is None
