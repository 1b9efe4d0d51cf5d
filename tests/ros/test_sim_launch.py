"""sim_launch.xml through `robot-rl launch`: every node alive, every topic it owns published, clean exit.

The expectations come from the graph table in DESIGN.md; add a row here when a node joins the launch file.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from diagnostic_msgs.msg import DiagnosticArray
from geometry_msgs.msg import PoseStamped, TwistStamped
from sensor_msgs.msg import CameraInfo, Image, JointState
from std_msgs.msg import Bool, Float32, String

from robot_rl.bringup.launch_file import parse_launch_file
from robot_rl.bringup.paths import package_share
from robot_rl.config import load_config, to_object
from robot_rl.ros import qos
from tests.ros_harness import RosProbe, wait_until

SIM_LAUNCH = package_share() / "launch" / "sim_launch.xml"
CAMERA_TOPICS = {"camera/{camera}/color/image_raw": Image, "camera/{camera}/color/camera_info": CameraInfo}
# executable -> topics (relative to the graph namespace) that DESIGN.md's graph table assigns to it
PUBLISHES: dict[str, dict[str, type]] = {
    "sim_robot": {"robot/state": JointState, "robot/ee_pose": PoseStamped, "robot/success": Bool, **CAMERA_TOPICS},
    "camera": dict(CAMERA_TOPICS),
    "policy_server": {"policy/action": TwistStamped, "policy/weights_version": String},
    "intervention": {"command/request": TwistStamped, "teleop/intervening": Bool},
    "safety": {"robot/command": TwistStamped, "robot/gripper_command": Float32},
    "episode": {"episode/status": String},
    "replay_writer": {},
    "learner": {},
    "reward": {"reward": Float32},
    "monitor": {},
}
# Latched topics are received with the latched profile; the rest with the sensor-data one.
LATCHED_TOPICS = {"policy/weights_version", "teleop/intervening", "episode/status"}

pytestmark = pytest.mark.ros


def start_graph(tmp_path: Path, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "robot_rl.cli", "launch", str(SIM_LAUNCH), "--log-dir", str(tmp_path / "logs"), *extra],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)


@pytest.fixture
def graph(tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    process = start_graph(tmp_path)
    yield process
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)


def expected_topics(namespace: str) -> dict[str, tuple[str, type]]:
    """topic -> (node that must publish it, message type), for every node of sim_launch.xml."""
    cameras = to_object(load_config("sim")).cameras.names
    expected = {}
    for spec in parse_launch_file(SIM_LAUNCH).nodes:
        for pattern, msg_type in PUBLISHES[spec.executable].items():
            for camera in cameras if "{camera}" in pattern else [None]:
                topic = f"{namespace}/{pattern.format(camera=camera)}"
                expected[topic] = (spec.fully_qualified_name, msg_type)
    return expected


def test_sim_launch_brings_up_every_node_and_topic_and_shuts_down_clean(
        graph: subprocess.Popen[str], ros_probe: RosProbe) -> None:
    specs = parse_launch_file(SIM_LAUNCH).nodes
    assert all(spec.executable in PUBLISHES for spec in specs), "add the new node's topics to PUBLISHES"
    ros_probe.wait_for_nodes({spec.fully_qualified_name for spec in specs}, timeout_s=60.0)

    diagnostics = ros_probe.subscribe(DiagnosticArray, "/diagnostics", qos.EVENTS)
    inboxes = {topic: ros_probe.subscribe(msg_type, topic, qos.LATCHED if topic.split("/", 2)[2] in LATCHED_TOPICS
                                          else qos.SENSOR)
               for topic, (_, msg_type) in expected_topics("/robot_rl").items()}
    for topic, (node, _) in expected_topics("/robot_rl").items():
        wait_until(lambda: len(inboxes[topic]) > 0, 30.0, f"a message on {topic}")
        assert node in ros_probe.publishers_of(topic), f"{topic} is not published by {node}"
    reporting = {spec.fully_qualified_name.lstrip("/") for spec in specs}
    wait_until(lambda: reporting <= {s.name for d in diagnostics for s in d.status}, 30.0,
               "a /diagnostics status from every node")

    children = psutil.Process(graph.pid).children(recursive=True)
    assert len(children) >= len(specs)
    started = time.monotonic()
    os.killpg(graph.pid, signal.SIGINT)
    output, _ = graph.communicate(timeout=15)
    took = time.monotonic() - started
    assert graph.returncode == 0, output
    assert took < 10.0, f"shutdown took {took:.1f} s"
    leftovers = [c.pid for c in children if c.is_running() and c.status() != psutil.STATUS_ZOMBIE]
    assert not leftovers, f"processes left behind: {leftovers}"


def test_a_second_graph_on_the_same_domain_is_refused(
        graph: subprocess.Popen[str], ros_probe: RosProbe, tmp_path: Path) -> None:
    ros_probe.wait_for_nodes({spec.fully_qualified_name for spec in parse_launch_file(SIM_LAUNCH).nodes}, 60.0)
    second = start_graph(tmp_path / "second")
    output, _ = second.communicate(timeout=60)
    assert second.returncode == 2, output
    assert "already running on this ROS_DOMAIN_ID" in output
    assert "Traceback" not in output
    assert graph.poll() is None, "the first graph must keep running"
