"""The replay_writer node on a real ROS 2 graph: a fake robot publishes at 20 Hz, episode/status drives
commits and aborts, and the store holds exactly the committed episodes afterwards, also when the end of
one reaches the writer just after it was told to stop."""
from __future__ import annotations

import signal
import time
from pathlib import Path

import numpy as np
import pytest
from diagnostic_msgs.msg import DiagnosticArray
from geometry_msgs.msg import PoseStamped, TwistStamped
from sensor_msgs.msg import Image, JointState
from std_msgs.msg import Float32, String

from robot_rl.bringup.supervisor import Supervisor
from robot_rl.replay import ReplaySampler, Source, verify
from robot_rl.ros import qos
from tests.ros_harness import NodeProcesses, RosProbe, wait_until

pytestmark = pytest.mark.ros
NS = "/robot_rl"
GRIPPER = "robotiq_85_left_knuckle_joint"


class FakeRobot:
    """Cameras, state, the executed command and a reward at 20 Hz; episode/status on demand."""

    def __init__(self, probe: RosProbe) -> None:
        self.node = probe.node
        self.cameras = {c: probe.publisher(Image, f"{NS}/camera/{c}/color/image_raw", qos.SENSOR)
                        for c in ("wrist", "front")}
        self.joint = probe.publisher(JointState, f"{NS}/robot/state", qos.SENSOR)
        self.pose = probe.publisher(PoseStamped, f"{NS}/robot/ee_pose", qos.SENSOR)
        self.command = probe.publisher(TwistStamped, f"{NS}/robot/command", qos.COMMAND)
        self.reward = probe.publisher(Float32, f"{NS}/reward", qos.EVENTS)
        self.status = probe.publisher(String, f"{NS}/episode/status", qos.LATCHED)
        self.diagnostics = probe.subscribe(DiagnosticArray, "/diagnostics", qos.EVENTS)
        self.node.create_timer(0.05, self.publish)

    def publish(self) -> None:
        stamp = self.node.get_clock().now().to_msg()
        for c, pub in self.cameras.items():
            pub.publish(Image(header=_header(stamp), height=48, width=64, encoding="rgb8", step=192,
                              data=np.full(48 * 64 * 3, 100 if c == "wrist" else 200, np.uint8).tobytes()))
        self.joint.publish(JointState(header=_header(stamp), name=[GRIPPER], position=[0.2]))
        msg = PoseStamped(header=_header(stamp))
        msg.pose.position.x, msg.pose.orientation.w = 0.5, 1.0
        self.pose.publish(msg)
        twist = TwistStamped(header=_header(stamp))
        twist.twist.linear.x = 0.05
        self.command.publish(twist)
        self.reward.publish(Float32(data=1.0))

    def send(self, status: str) -> None:
        self.status.publish(String(data=status))

    def wait_for_writer(self) -> None:
        wait_until(lambda: any(s.name.endswith("replay_writer") for a in self.diagnostics for s in a.status), 20.0,
                   "the replay_writer's diagnostics")


def start_writer(node_processes: NodeProcesses, store: Path) -> Supervisor:
    overrides = f"replay.path={store} replay.group=test robot.control_hz=10 cameras.policy_image_size=32"
    return node_processes.start("replay_writer", parameters={"config": "sim", "overrides": overrides})


def test_replay_writer_records_commits_and_aborts(tmp_path: Path, ros_probe: RosProbe,
                                                  node_processes: NodeProcesses) -> None:
    store = tmp_path / "replay.zarr"
    start_writer(node_processes, store)
    robot = FakeRobot(ros_probe)
    diagnostics = robot.diagnostics
    robot.wait_for_writer()
    robot.send("running")
    time.sleep(1.5)
    robot.send("success")
    time.sleep(0.3)
    robot.send("running")
    time.sleep(0.6)
    robot.send("resetting")  # aborted: never visible

    def values() -> dict[str, str]:
        for array in reversed(diagnostics):
            for s in array.status:
                if s.name.endswith("replay_writer"):
                    return {kv.key: kv.value for kv in s.values}
        return {}

    wait_until(lambda: values().get("aborted") == "1" and values().get("episodes") == "1", 10.0,
               lambda: f"one committed and one aborted episode in diagnostics {values()}")
    node_processes.stop_all()
    report = verify(store)
    assert report.ok and report.episodes == {"test": 1}
    steps = report.steps["test"]
    assert 8 <= steps <= 17, f"{steps} steps in 1.5 s at 10 Hz"
    sampler = ReplaySampler(str(store))
    batch = sampler.sample(16)
    assert batch.images["wrist"].shape == (16, 32, 32, 3) and np.all(batch.images["wrist"] == 100)
    assert np.all(batch.images["front"] == 200)
    np.testing.assert_allclose(batch.action[:, 0], 0.05 / 0.1, rtol=1e-5)  # normalised by policy.max_linear_speed
    np.testing.assert_allclose(batch.state[:, 0], 0.5)
    assert np.all(batch.source == Source.POLICY)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_an_episode_end_on_its_way_when_the_writer_stops_is_committed(
        tmp_path: Path, ros_probe: RosProbe, node_processes: NodeProcesses, signum: int) -> None:
    """Ctrl-C reaches every node of the graph at once: an end the episode node published as it landed counts."""
    store = tmp_path / "replay.zarr"
    writer = start_writer(node_processes, store).processes[0].popen
    robot = FakeRobot(ros_probe)
    robot.wait_for_writer()
    robot.send("running")
    time.sleep(1.0)
    writer.send_signal(signum)
    time.sleep(0.05)  # the writer has stopped its loop by now; without taking what was in flight it loses the end
    robot.send("success")
    assert writer.wait(timeout=20) == 0
    report = verify(store)
    assert report.ok and report.episodes == {"test": 1}, report.problems
    assert 5 <= report.steps["test"] <= 12, f"{report.steps['test']} steps in 1 s at 10 Hz"


def _header(stamp: object) -> object:
    from std_msgs.msg import Header
    return Header(stamp=stamp, frame_id="")
