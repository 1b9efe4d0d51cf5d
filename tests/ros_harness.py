"""Real ROS 2 graphs for tests: start node processes, watch topics, tear everything down.

Fixtures
    ros_probe       an rclpy node in the test process (own context, background executor) to
                    publish, subscribe, call services and wait for topics and nodes
    node_processes  starts installed node executables as child processes (their own process
                    groups) and kills them all at teardown, failing the test if one is left

Every test run has its own ROS_DOMAIN_ID (see conftest.py), so graphs of parallel runs never meet.
"""
from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
import rclpy
from rclpy.context import Context
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from rclpy.qos import QoSProfile

from robot_rl.bringup.launch_file import NodeSpec
from robot_rl.bringup.supervisor import Supervisor
from robot_rl.ros import qos

MsgT = TypeVar("MsgT")


class RosProbe:
    """A test-side node on the graph; every wait has a timeout and fails with what it waited for."""

    def __init__(self, name: str = "test_probe") -> None:
        self.context = Context()
        rclpy.init(context=self.context)
        self.node = Node(name, context=self.context)
        self.executor = SingleThreadedExecutor(context=self.context)
        self.executor.add_node(self.node)
        self._thread = threading.Thread(target=self._spin, daemon=True)
        self._running = True
        self._thread.start()

    def _spin(self) -> None:
        while self._running and self.context.ok():
            self.executor.spin_once(timeout_sec=0.05)

    def close(self) -> None:
        self._running = False
        self._thread.join(timeout=2.0)
        self.executor.shutdown()
        self.node.destroy_node()
        rclpy.try_shutdown(context=self.context)

    def subscribe(self, msg_type: type[MsgT], topic: str, qos_profile: QoSProfile = qos.SENSOR) -> list[MsgT]:
        """Collect every message on ``topic`` into the returned (growing) list."""
        received: list[MsgT] = []
        self.node.create_subscription(msg_type, topic, received.append, qos_profile)
        return received

    def publisher(self, msg_type: type[MsgT], topic: str, qos_profile: QoSProfile = qos.COMMAND) -> Any:
        return self.node.create_publisher(msg_type, topic, qos_profile)

    def wait_for_message(self, msg_type: type[MsgT], topic: str, timeout_s: float = 10.0,
                         qos_profile: QoSProfile = qos.SENSOR,
                         predicate: Callable[[MsgT], bool] = lambda m: True) -> MsgT:
        received = self.subscribe(msg_type, topic, qos_profile)
        wait_until(lambda: any(predicate(m) for m in received), timeout_s, f"a message on {topic}")
        return next(m for m in received if predicate(m))

    def node_names(self) -> set[str]:
        return {f"{ns.rstrip('/')}/{n}" for n, ns in self.node.get_node_names_and_namespaces()}

    def wait_for_nodes(self, names: set[str], timeout_s: float = 15.0) -> None:
        wait_until(lambda: names <= self.node_names(), timeout_s,
                   lambda: f"nodes {sorted(names - self.node_names())}")

    def publishers_of(self, topic: str) -> set[str]:
        infos = self.node.get_publishers_info_by_topic(topic)
        return {f"{i.node_namespace.rstrip('/')}/{i.node_name}" for i in infos}

    def call(self, srv_type: Any, name: str, request: Any, timeout_s: float = 10.0) -> Any:
        client: Any = self.node.create_client(srv_type, name)
        if not client.wait_for_service(timeout_sec=timeout_s):
            raise AssertionError(f"service {name} not available within {timeout_s} s")
        future = client.call_async(request)
        wait_until(future.done, timeout_s, f"a response from {name}")
        return future.result()


def wait_until(condition: Callable[[], bool], timeout_s: float, what: str | Callable[[], str]) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.02)
    described = what() if callable(what) else what
    raise AssertionError(f"timed out after {timeout_s} s waiting for {described}")


class NodeProcesses:
    """Starts node executables through the bring-up supervisor (exactly as ``robot-rl launch`` does)."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.supervisors: list[Supervisor] = []

    def start(self, executable: str, name: str | None = None, namespace: str = "/robot_rl",
              parameters: dict[str, Any] | None = None, remappings: list[tuple[str, str]] | None = None,
              env: dict[str, str] | None = None) -> Supervisor:
        spec = NodeSpec(package="robot_rl", executable=executable, name=name or executable, namespace=namespace,
                        parameters=parameters or {}, remappings=remappings or [], env=env or {})
        supervisor = Supervisor([spec], log_dir=self.log_dir, echo=None)
        supervisor.start()
        self.supervisors.append(supervisor)
        return supervisor

    def log(self, name: str) -> str:
        path = self.log_dir / f"{name}.log"
        return path.read_text() if path.exists() else ""

    def stop_all(self) -> list[int]:
        """Shut every process down; return the pids that did not exit on their own (had to be killed)."""
        stubborn = []
        for supervisor in self.supervisors:
            supervisor.shutdown(grace_s=5.0, term_s=2.0)
            for process in supervisor.processes:
                if process.returncode in (None, -signal.SIGKILL):
                    stubborn.append(process.popen.pid)
        return stubborn


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture
def ros_probe() -> Iterator[RosProbe]:
    probe = RosProbe()
    yield probe
    probe.close()


@pytest.fixture
def node_processes(tmp_path: Path) -> Iterator[NodeProcesses]:
    processes = NodeProcesses(tmp_path / "logs")
    yield processes
    stubborn = processes.stop_all()
    assert not stubborn, f"node processes {stubborn} ignored SIGINT/SIGTERM and had to be killed"
