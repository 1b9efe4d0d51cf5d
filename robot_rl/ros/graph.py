"""Look at the live ROS 2 graph: which nodes already run on this ROS_DOMAIN_ID."""
from __future__ import annotations

import time

import rclpy
from rclpy.context import Context
from rclpy.node import Node


def running_nodes(discovery_s: float = 1.5) -> set[str]:
    """Fully qualified names of the nodes visible on this domain after ``discovery_s`` of discovery."""
    context = Context()
    rclpy.init(context=context)
    try:
        node = Node("robot_rl_graph_probe", context=context, start_parameter_services=False,
                    enable_rosout=False)
        try:
            deadline = time.monotonic() + discovery_s
            names: set[str] = set()
            while time.monotonic() < deadline:
                names |= {f"{ns.rstrip('/')}/{name}" for name, ns in node.get_node_names_and_namespaces()}
                time.sleep(0.1)
            names.discard(node.get_fully_qualified_name())
            return names
        finally:
            node.destroy_node()
    finally:
        rclpy.shutdown(context=context)
