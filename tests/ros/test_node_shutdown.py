"""SIGINT stops a node through rclpy's handler alone, never as a KeyboardInterrupt in the middle of a callback."""
from __future__ import annotations

import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent("""
    import os, signal, threading
    import rclpy
    from rclpy.executors import ExternalShutdownException, SingleThreadedExecutor
    from rclpy.node import Node
    from robot_rl.ros.node_base import stop_on_sigint_through_rclpy_only

    stop_on_sigint_through_rclpy_only()
    rclpy.init()
    node = Node("sigint_probe")
    calls = []
    node.create_timer(0.001, lambda: calls.append(1))  # callbacks (and rclpy tasks) all the time
    executor = SingleThreadedExecutor()
    executor.add_node(node)
    threading.Timer(1.0, os.kill, (os.getpid(), signal.SIGINT)).start()
    try:
        executor.spin()
        print("spin returned")
    except ExternalShutdownException:
        print("external shutdown")
    print("context ok:", rclpy.ok(), "callbacks:", len(calls) > 10)
""")


def test_sigint_shuts_the_context_down_and_the_executor_returns() -> None:
    result = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "KeyboardInterrupt" not in result.stderr and "Traceback" not in result.stderr, result.stderr
    assert result.stdout.split("\n")[0] in ("spin returned", "external shutdown"), result.stdout
    assert "context ok: False callbacks: True" in result.stdout, result.stdout
