"""The graph's QoS profiles on a real DDS graph: what a busy subscriber and a late joiner receive."""
from __future__ import annotations

import time

from std_msgs.msg import String

from robot_rl.ros import qos
from tests.ros_harness import RosProbe, wait_until

STATUSES = ["running", "success", "resetting", "idle"]


def test_a_busy_status_subscriber_still_gets_every_change_and_a_late_one_only_the_last(ros_probe: RosProbe) -> None:
    """episode/status: the episode node publishes LATCHED; a replay writer that is busy while an episode
    ends must still see ``success`` before ``resetting`` (LATCHED_EVERY_CHANGE queues them)."""
    received: list[str] = []

    def busy(msg: String) -> None:
        received.append(msg.data)
        if len(received) == 1:
            time.sleep(0.5)  # the executor is busy while the rest is published

    publisher = ros_probe.publisher(String, "qos_test/status", qos.LATCHED)
    ros_probe.node.create_subscription(String, "qos_test/status", busy, qos.LATCHED_EVERY_CHANGE)
    wait_until(lambda: publisher.get_subscription_count() == 1, 10.0, "the subscriber to match")
    for status in STATUSES:
        publisher.publish(String(data=status))
    wait_until(lambda: len(received) == len(STATUSES), 10.0, lambda: f"every status; got {received}")
    assert received == STATUSES

    late = ros_probe.wait_for_message(String, "qos_test/status", 10.0, qos.LATCHED_EVERY_CHANGE)
    assert late.data == "idle"  # the first a late joiner gets is the current status, not the history
