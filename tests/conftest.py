"""Test-run environment: a ROS domain of our own, loopback-only discovery, headless rendering.

Set before anything imports rclpy, so every node a test starts (in-process or as a child process)
joins this run's private graph and no other test run on the machine sees it.
"""
from __future__ import annotations

import os
import random

from robot_rl.bringup.environment import graph_environment


def _pick_domain_id() -> int:
    # 1..101 are the domain IDs whose ports stay below the ephemeral range on Linux.
    if "ROBOT_RL_TEST_DOMAIN_ID" in os.environ:
        return int(os.environ["ROBOT_RL_TEST_DOMAIN_ID"])
    return random.Random(os.getpid() ^ int.from_bytes(os.urandom(4), "little")).randint(1, 101)


os.environ["ROS_DOMAIN_ID"] = str(_pick_domain_id())
os.environ["ROS_AUTOMATIC_DISCOVERY_RANGE"] = "LOCALHOST"
os.environ.update(graph_environment())

pytest_plugins = ["tests.ros_harness"]
