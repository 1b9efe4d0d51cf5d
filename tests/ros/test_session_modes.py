"""teleop.mode on a real ROS 2 graph: a replay session executes a recorded episode's actions (in m/s) and
ends it, a demonstration session never executes the policy and announces itself on teleop/demo."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from geometry_msgs.msg import TwistStamped
from std_msgs.msg import Bool, String

from robot_rl.policy.state import STATE_DIM
from robot_rl.replay import EpisodeWriter, GroupInfo, Step
from robot_rl.replay.recorder import ACTION_NAMES
from robot_rl.ros import qos
from tests.ros.test_intervention import (  # noqa: F401  (robot_reset is a fixture)
    ALL_LATCHED,
    ALL_OF_IT,
    ANGULAR,
    BAD,
    GOOD,
    LINEAR,
    NS,
    SCRIPTED,
    StubPolicy,
    call,
    robot_reset,
    start_nodes,
    vectors,
)
from tests.ros_harness import NodeProcesses, RosProbe, wait_until

pytestmark = pytest.mark.ros

SCALE = np.array([LINEAR] * 3 + [ANGULAR] * 3)


def recorded_episode(path: Path, steps: int = 12) -> np.ndarray:
    """A one-episode store with distinct actions (action units); returns them."""
    info = GroupInfo(camera_names=[], image_size=(16, 16), state_dim=STATE_DIM, action_dim=len(ACTION_NAMES),
                     action_names=list(ACTION_NAMES), action_scale=[*SCALE.tolist(), 1.0])
    t = np.arange(steps, dtype=np.float32)
    actions = np.stack([0.05 * (t + 1), -0.03 * (t + 1), 0.02 * t, 0 * t, 0 * t, 0.04 * t, np.ones(steps)], axis=1)
    with EpisodeWriter(path, "demo", info) as writer:
        writer.begin_episode()
        for action in actions:
            writer.append(Step(images={}, state=np.zeros(STATE_DIM), action=action))
        writer.end_episode(terminated=True, metadata={"initial_cube_position": [0.4, 0.0, 0.02]})
    return actions.astype(np.float32)


def test_a_replay_session_executes_the_recorded_actions_in_order_then_ends_the_episode(
        node_processes: NodeProcesses, ros_probe: RosProbe, robot_reset: list[float], tmp_path: Path) -> None:
    actions = recorded_episode(tmp_path / "demos.zarr")
    executed = ros_probe.subscribe(TwistStamped, f"{NS}/command/request", ALL_OF_IT)
    status = ros_probe.subscribe(String, f"{NS}/episode/status", ALL_LATCHED)
    replay = f"teleop=scripted teleop.mode=replay teleop.source_path={tmp_path / 'demos.zarr'}"
    start_nodes(node_processes, ros_probe, replay, "episode.time_limit_s=30")
    wait_until(lambda: [m.data for m in status] == ["idle"], 15.0, "episode/status idle")
    StubPolicy(ros_probe)  # a policy that proposes GOOD all along: the replay drives instead
    assert call(ros_probe, "start").success
    wait_until(lambda: status[-1].data == "failure", 15.0,
               lambda: f"the replay ends as a failure (no success arrived); statuses {[m.data for m in status]}; "
                       f"log:\n{node_processes.log('intervention')}")
    moving = [v for v in vectors(executed) if v.any()]
    expected = actions[:, :6] * SCALE
    assert len(moving) == len(expected), f"{len(moving)} moving commands for {len(expected)} recorded actions"
    np.testing.assert_allclose(np.array(moving), expected, atol=1e-6)
    assert not any(np.allclose(v, GOOD) for v in moving), "the policy's proposal must not be executed"


def test_a_demonstration_session_never_executes_the_policy(
        node_processes: NodeProcesses, ros_probe: RosProbe, robot_reset: list[float]) -> None:
    executed = ros_probe.subscribe(TwistStamped, f"{NS}/command/request", ALL_OF_IT)
    status = ros_probe.subscribe(String, f"{NS}/episode/status", ALL_LATCHED)
    start_nodes(node_processes, ros_probe, "teleop=scripted teleop.mode=demo")
    assert ros_probe.wait_for_message(Bool, f"{NS}/teleop/demo", 10.0, qos.LATCHED).data is True
    wait_until(lambda: [m.data for m in status] == ["idle"], 15.0, "episode/status idle")
    policy = StubPolicy(ros_probe)
    assert call(ros_probe, "start").success
    wait_until(lambda: len(executed) >= 20, 10.0, "commands while the episode runs")
    assert all(not v.any() for v in vectors(executed)), "nobody drives: the arm holds, the policy is not executed"
    with policy.lock:
        policy.proposal = list(BAD)  # the scripted operator takes over: its command is executed
    wait_until(lambda: sum(np.allclose(v, SCRIPTED) for v in vectors(executed)) >= 5, 10.0, "the operator's command")
