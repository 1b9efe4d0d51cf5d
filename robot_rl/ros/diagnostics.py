"""Each node's status on /diagnostics, one DiagnosticStatus per node, published once a second."""
from __future__ import annotations

from typing import Any

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from rclpy.node import Node

from robot_rl.ros import qos

OK = DiagnosticStatus.OK
WARN = DiagnosticStatus.WARN
ERROR = DiagnosticStatus.ERROR
STALE = DiagnosticStatus.STALE


class Diagnostics:
    """Holds a node's current status and publishes it on ``/diagnostics`` (absolute, as ROS tools expect).

    ``report`` changes the status and publishes at once, so a fault is visible without waiting for the
    next periodic publish.
    """

    def __init__(self, node: Node, hardware_id: str = "", period_s: float = 1.0) -> None:
        self._node = node
        self._name = node.get_fully_qualified_name().lstrip("/")
        self._hardware_id = hardware_id
        self._level = OK
        self._message = "starting"
        self._values: dict[str, Any] = {}
        self._publisher = node.create_publisher(DiagnosticArray, "/diagnostics", qos.EVENTS)
        self._timer = node.create_timer(period_s, self.publish)

    def report(self, level: bytes, message: str, **values: Any) -> None:
        self._level, self._message = level, message
        self._values.update(values)
        self.publish()

    def set_values(self, **values: Any) -> None:
        """Update counters without publishing; the next periodic publish carries them."""
        self._values.update(values)

    def publish(self) -> None:
        status = DiagnosticStatus(
            level=self._level,
            name=self._name,
            message=self._message,
            hardware_id=self._hardware_id,
            values=[KeyValue(key=k, value=str(v)) for k, v in self._values.items()],
        )
        array = DiagnosticArray(status=[status])
        array.header.stamp = self._node.get_clock().now().to_msg()
        self._publisher.publish(array)
