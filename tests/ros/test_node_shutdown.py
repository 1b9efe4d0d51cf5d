"""SIGINT and SIGTERM stop a node through run_node between two callbacks, never as a KeyboardInterrupt in the
middle of one; with drain_s the node still takes a message that was on its way, with its timers stopped;
a second signal interrupts a callback that never returns, but not the node's final work in destroy_node."""
from __future__ import annotations

import signal
import subprocess
import sys
import textwrap

import pytest

SCRIPT = textwrap.dedent("""
    import os, signal, sys, threading, time
    import rclpy
    from rclpy.node import Node
    from std_msgs.msg import String
    from robot_rl.ros.node_base import run_node

    SIGNAL, DRAIN_S, NODE = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]

    class Probe(Node):
        def __init__(self):
            super().__init__("stop_probe")
            self.signalled, self.ticks, self.late_ticks = None, 0, 0
            self.create_timer(0.001, self.tick)  # callbacks (and rclpy tasks) all the time
            self.create_subscription(String, "in_flight", lambda m: print("took:", m.data, flush=True), 10)
            self.pub = self.create_publisher(String, "in_flight", 10)
            threading.Timer(1.0, self.signal_then_publish).start()

        def tick(self):
            self.ticks += 1
            if self.signalled is not None and time.monotonic() > self.signalled + 0.1:
                self.late_ticks += 1

        def signal_then_publish(self):
            self.signalled = time.monotonic()
            os.kill(os.getpid(), SIGNAL)
            time.sleep(0.05)
            try:
                self.pub.publish(String(data="sent after the signal"))
            except Exception as err:  # without a drain the node may be gone already
                print("publish failed:", type(err).__name__, flush=True)

        def destroy_node(self):
            print("ticks:", self.ticks > 10, "late ticks:", self.late_ticks, "context ok:", rclpy.ok(), flush=True)
            super().destroy_node()

    class Stuck(Node):
        def __init__(self):
            super().__init__("stuck_probe")
            self.create_timer(0.01, self.forever)
            threading.Timer(1.0, os.kill, (os.getpid(), signal.SIGINT)).start()
            threading.Timer(2.2, os.kill, (os.getpid(), SIGNAL)).start()  # asked again, more than REPEAT_S later

        def forever(self):
            while True:
                time.sleep(0.01)

    class SlowToFinish(Stuck):
        def forever(self):
            pass

        def destroy_node(self):  # a final commit or checkpoint (from 1.0 s): the second signal lands during it
            time.sleep(2.0)
            print("finished", flush=True)
            super().destroy_node()

    class Busy(Node):  # a long callback (a learner round) while Ctrl-C arrives from the terminal and from ros2 launch
        def __init__(self):
            super().__init__("busy_probe")
            self.create_timer(0.01, lambda: time.sleep(0.3))
            threading.Timer(1.0, self.signal_twice).start()

        def signal_twice(self):
            os.kill(os.getpid(), SIGNAL)
            time.sleep(0.01)  # each handled on its own (a pair sent back to back is delivered as one)
            os.kill(os.getpid(), SIGNAL)

        def destroy_node(self):
            print("finished", flush=True)
            super().destroy_node()

    nodes = {"probe": Probe, "stuck": Stuck, "slow_to_finish": SlowToFinish, "busy": Busy}
    code = run_node(nodes[NODE], drain_s=DRAIN_S)
    print("exit", code, "context ok:", rclpy.ok(), flush=True)
    raise SystemExit(code)
""")


def run_script(node: str, signum: int, drain_s: float = 0.0) -> subprocess.CompletedProcess[str]:
    """SCRIPT in a child process with one of its nodes (probe, stuck, busy, slow_to_finish)."""
    return subprocess.run([sys.executable, "-c", SCRIPT, str(int(signum)), str(drain_s), node],
                          capture_output=True, text=True, timeout=60, check=False)


def run_probe(signum: int, drain_s: float) -> subprocess.CompletedProcess[str]:
    result = run_script("probe", signum, drain_s)
    assert result.returncode == 0, result.stderr
    assert "KeyboardInterrupt" not in result.stderr and "Traceback" not in result.stderr, result.stderr
    # the context outlives the node's destroy_node, and run_node shuts it down
    assert "ticks: True late ticks: 0 context ok: True" in result.stdout, result.stdout
    assert "exit 0 context ok: False" in result.stdout, result.stdout
    return result


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_stops_the_spin_and_a_drain_takes_what_was_on_its_way(signum: int) -> None:
    assert "took: sent after the signal" in run_probe(signum, drain_s=0.5).stdout


def test_without_a_drain_the_node_stops_at_once() -> None:
    assert "took:" not in run_probe(signal.SIGINT, drain_s=0.0).stdout


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_second_signal_interrupts_a_callback_that_never_returns(signum: int) -> None:
    result = run_script("stuck", signum)
    assert result.returncode == 130 and "exit 130 context ok: False" in result.stdout, (result.stdout, result.stderr)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_the_same_stop_delivered_twice_lets_the_callback_finish(signum: int) -> None:
    result = run_script("busy", signum)
    assert result.returncode == 0 and "finished" in result.stdout and "Traceback" not in result.stderr, result


def test_a_second_signal_leaves_destroy_node_to_finish() -> None:
    result = run_script("slow_to_finish", signal.SIGTERM)
    assert result.returncode == 0 and "finished" in result.stdout and "Traceback" not in result.stderr, result
