"""The reward node on a real graph ends a simulated episode as success when the cube is lifted.

The node serves a trained success classifier (``reward.kind=classifier``) on the simulated wrist and
front cameras and the robot state vector the node assembles: ``tests/reward/fixture/classifier-1.safetensors``, trained on the reward benchmark's
recorded episodes by ``tests/reward/fixture/make_classifier.py`` (committed with its script, 0.6 MB;
training one here would take minutes). The simulator's ground truth (``robot/success``) only checks
the node: nothing but the node's `success` can end the episode.
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from diagnostic_msgs.msg import DiagnosticArray
from geometry_msgs.msg import PoseStamped, TwistStamped
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy
from std_msgs.msg import Bool, Float32, String
from std_srvs.srv import Trigger

from robot_rl.ros import qos
from robot_rl.sim.scripted import Phase, ScriptedPick
from tests.ros_harness import NodeProcesses, RosProbe, wait_until

CLASSIFIER = Path(__file__).resolve().parents[1] / "reward" / "fixture" / "classifier-1.safetensors"

pytestmark = pytest.mark.ros
NS = "/robot_rl"
STATUS = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=50, reliability=ReliabilityPolicy.RELIABLE,
                    durability=DurabilityPolicy.TRANSIENT_LOCAL)


def _xyz(pose: PoseStamped) -> np.ndarray:
    p = pose.pose.position
    return np.array([p.x, p.y, p.z])


def test_reward_node_ends_the_episode_as_success_when_the_cube_is_lifted(
        node_processes: NodeProcesses, ros_probe: RosProbe) -> None:
    # only the reward node's `success` may end the episode (not the simulator's robot/success)
    node_processes.start("sim_robot", parameters={"overrides": "sim.seed=5"})
    node_processes.start("episode", parameters={"overrides": "episode.success_topics=[success] "
                                                             "episode.time_limit_s=0"})
    node_processes.start("reward", parameters={"overrides": f"reward=classifier reward.model_path={CLASSIFIER}"})
    poses = ros_probe.subscribe(PoseStamped, f"{NS}/robot/ee_pose")
    cubes = ros_probe.subscribe(PoseStamped, f"{NS}/sim/cube_pose")
    truth = ros_probe.subscribe(Bool, f"{NS}/robot/success")
    rewards = ros_probe.subscribe(Float32, f"{NS}/reward", qos.EVENTS)
    status = ros_probe.subscribe(String, f"{NS}/episode/status", STATUS)
    diagnostics = ros_probe.subscribe(DiagnosticArray, "/diagnostics", qos.EVENTS)
    wait_until(lambda: bool(poses and cubes and rewards), 90.0, "sim poses and the reward node's first reward")
    wait_until(lambda: bool(status) and status[-1].data in ("idle", "running"), 30.0, "episode/status idle or running")
    if status[-1].data != "running":  # the sim episode config may start the first episode by itself
        response = ros_probe.call(Trigger, f"{NS}/episode/start", Trigger.Request(), timeout_s=15.0)
        assert response.success or "running" in response.message, response.message
    wait_until(lambda: status[-1].data == "running", 10.0, "episode/status running")
    started = len(status) - 1
    assert all(r.data == 0.0 for r in rewards[-5:])  # the arm at home: no success

    twist_pub = ros_probe.publisher(TwistStamped, f"{NS}/robot/command")
    gripper_pub = ros_probe.publisher(Float32, f"{NS}/robot/gripper_command")
    policy = ScriptedPick(control_dt=0.1)
    lifted_at: float | None = None
    before_lift = 0  # rewards published before the scripted operator started lifting
    deadline = time.monotonic() + 60.0
    while status[-1].data == "running":
        assert time.monotonic() < deadline, f"the episode never ended; phase {policy.phase}, status {status[-1].data}"
        assert lifted_at is None or time.monotonic() - lifted_at < 10.0, "cube lifted, but no success within 10 s"
        if truth and truth[-1].data and lifted_at is None:
            lifted_at = time.monotonic()
        if policy.phase is not Phase.LIFT:
            before_lift = len(rewards)
        # the scripted lift goes on to its end and holds there, as in the episodes the classifier learned from
        command = policy.act(_xyz(poses[-1]), _xyz(cubes[-1]))
        msg = TwistStamped()
        msg.header.frame_id = "panda_link0"
        msg.header.stamp = ros_probe.node.get_clock().now().to_msg()
        msg.twist.linear.x, msg.twist.linear.y, msg.twist.linear.z = command.linear.tolist()
        twist_pub.publish(msg)
        gripper_pub.publish(Float32(data=float(command.gripper or -1.0)))
        time.sleep(0.1)
    time.sleep(0.3)
    ended = [s.data for s in status[started:] if s.data != "running"]
    assert ended and ended[0] == "success", ended  # the episode node may already have moved on to resetting
    assert any(t.data for t in truth), "the reward node declared success before the simulator saw the cube lifted"
    assert before_lift > 10 and all(r.data == 0.0 for r in rewards[:before_lift]), \
        "the classifier scored success before the lift started"
    assert any(r.data == 1.0 for r in rewards)
    wait_until(lambda: any(kv.key == "rate_hz" and float(kv.value) > 0 for d in diagnostics for s in d.status
                           if s.name.endswith("reward") for kv in s.values), 5.0, "the scoring rate on /diagnostics")
