"""The replay_writer node on a real ROS 2 graph: a fake robot publishes at 20 Hz, episode/status drives
commits and aborts, and the store holds exactly the committed episode afterwards."""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from diagnostic_msgs.msg import DiagnosticArray
from geometry_msgs.msg import PoseStamped, TwistStamped
from sensor_msgs.msg import Image, JointState
from std_msgs.msg import Float32, String

from robot_rl.replay import ReplaySampler, Source, verify
from robot_rl.ros import qos
from tests.ros_harness import NodeProcesses, RosProbe, wait_until

pytestmark = pytest.mark.ros
NS = "/robot_rl"
GRIPPER = "robotiq_85_left_knuckle_joint"


def test_replay_writer_records_commits_and_aborts(tmp_path: Path, ros_probe: RosProbe,
                                                  node_processes: NodeProcesses) -> None:
    store = tmp_path / "replay.zarr"
    overrides = f"replay.path={store} replay.group=test robot.control_hz=10 cameras.policy_image_size=32"
    node_processes.start("replay_writer", parameters={"config": "sim", "overrides": overrides})
    node = ros_probe.node
    pubs = {c: ros_probe.publisher(Image, f"{NS}/camera/{c}/color/image_raw", qos.SENSOR) for c in ("wrist", "front")}
    joint = ros_probe.publisher(JointState, f"{NS}/robot/state", qos.SENSOR)
    pose = ros_probe.publisher(PoseStamped, f"{NS}/robot/ee_pose", qos.SENSOR)
    command = ros_probe.publisher(TwistStamped, f"{NS}/robot/command", qos.COMMAND)
    reward = ros_probe.publisher(Float32, f"{NS}/reward", qos.EVENTS)
    status = ros_probe.publisher(String, f"{NS}/episode/status", qos.LATCHED)
    diagnostics = ros_probe.subscribe(DiagnosticArray, "/diagnostics", qos.EVENTS)

    def publish() -> None:
        stamp = node.get_clock().now().to_msg()
        for c, pub in pubs.items():
            pub.publish(Image(header=_header(stamp), height=48, width=64, encoding="rgb8", step=192,
                              data=np.full(48 * 64 * 3, 100 if c == "wrist" else 200, np.uint8).tobytes()))
        joint.publish(JointState(header=_header(stamp), name=[GRIPPER], position=[0.2]))
        msg = PoseStamped(header=_header(stamp))
        msg.pose.position.x, msg.pose.orientation.w = 0.5, 1.0
        pose.publish(msg)
        twist = TwistStamped(header=_header(stamp))
        twist.twist.linear.x = 0.05
        command.publish(twist)
        reward.publish(Float32(data=1.0))

    node.create_timer(0.05, publish)
    wait_until(lambda: any(s.name.endswith("replay_writer") for a in diagnostics for s in a.status), 20.0,
               "the replay_writer's diagnostics")
    status.publish(String(data="running"))
    time.sleep(1.5)
    status.publish(String(data="success"))
    time.sleep(0.3)
    status.publish(String(data="running"))
    time.sleep(0.6)
    status.publish(String(data="resetting"))  # aborted: never visible

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


def _header(stamp: object) -> object:
    from std_msgs.msg import Header
    return Header(stamp=stamp, frame_id="")
