"""`robot-rl` answers a user's mistake with one line that says what to fix, never a traceback."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest


def robot_rl(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "robot_rl.cli", *args], capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["check", "sim_launch.xml", "config:=nope"], "unknown config 'nope'"),
        (["check", "sim_launch.xml", "overrides:=robot.control_hz=fast"], "bad override"),
        (["check", "sim_launch.xml", "seed:=3"], "unknown launch argument(s) ['seed']"),
        (["check", "sim_launch.xml", "overrides"], "must be written name:=value"),
        (["check", "no_such_launch.xml"], "launch file 'no_such_launch.xml' not found"),
        (["config", "sim", "robot.driver=teleport"], "use sim, moveit_servo or cartesian_controllers"),
    ],
)
def test_mistakes_are_one_line_errors(args: list[str], says: str) -> None:
    result = robot_rl(*args)
    assert result.returncode == 2, result.stderr
    assert says in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("error: ")


def test_missing_executable_is_named_before_anything_starts(tmp_path: Path) -> None:
    launch = tmp_path / "ghost_launch.xml"
    launch.write_text('<launch><node pkg="robot_rl" exec="no_such_node" name="ghost">'
                      '<param name="config" value="sim"/></node></launch>')
    result = robot_rl("launch", str(launch), "--duration", "1")
    assert result.returncode == 2
    assert "'no_such_node' (node /ghost" in result.stderr and "Traceback" not in result.stderr


def test_check_lists_every_node_of_the_sim_graph() -> None:
    result = robot_rl("check", "sim_launch.xml")
    assert result.returncode == 0, result.stderr
    assert "/robot_rl/sim_robot" in result.stdout and "/robot_rl/safety" in result.stdout
