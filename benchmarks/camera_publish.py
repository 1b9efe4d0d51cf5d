"""Camera node publish rate and frame age at 640x480, through software_device over real DDS on loopback.

    python benchmarks/camera_publish.py [--quick] [--json PATH] [--compare-transports]

The camera node runs as its own process with ``source=software`` (frames injected through
pyrealsense2's software_device at 30 fps); a subscriber in this process (or, for
``--compare-transports``, in a child process per setting) measures

- ``camera_publish_hz``: images received per second by the subscriber, over the measuring window;
- ``camera_frames_published_hz``: frames the node published per second (its diagnostics counter), so
  a gap between the two is loss in transport or a slow subscriber, not a slow camera node;
- ``camera_frame_age_ms_p50``: median of (receipt time - header.stamp), i.e. from the capture
  timestamp to a callback in another process: SDK hand-off, conversion, DDS transport, deserialization.

``--compare-transports`` repeats the measurement with Fast DDS's default transports and with
``FASTDDS_BUILTIN_TRANSPORTS=LARGE_DATA`` (shared memory + TCP), set for both processes.
A benchmark, not a test: it reports numbers and never fails on them.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

WIDTH, HEIGHT, FPS = 640, 480, 30
TOPIC = "/bench/camera/wrist/color/image_raw"


def _environment(transport: str | None) -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("ROS_DOMAIN_ID", str(random.randint(102, 200)))  # above the test runs' 1..101
    env["ROS_AUTOMATIC_DISCOVERY_RANGE"] = "LOCALHOST"
    env["PYTHONUNBUFFERED"] = "1"
    if transport is None:
        env.pop("FASTDDS_BUILTIN_TRANSPORTS", None)
    elif transport != "inherit":
        env["FASTDDS_BUILTIN_TRANSPORTS"] = transport
    return env


def _camera_command() -> list[str]:
    overrides = (f"cameras.names=[wrist] cameras.devices.wrist.source=software cameras.devices.wrist.calibration= "
                 f"cameras.devices.wrist.width={WIDTH} cameras.devices.wrist.height={HEIGHT} "
                 f"cameras.devices.wrist.fps={FPS}")
    return [sys.executable, "-m", "robot_rl.ros.camera_node", "--ros-args", "-r", "__ns:=/bench",
            "-p", "config:=robot", "-p", f"overrides:={overrides}"]


def _subscribe(duration_s: float, warmup_s: float) -> dict[str, Any]:
    """Receive images for ``warmup_s + duration_s``; statistics over the last ``duration_s``."""
    import rclpy
    from rclpy.executors import SingleThreadedExecutor
    from rclpy.node import Node
    from diagnostic_msgs.msg import DiagnosticArray
    from sensor_msgs.msg import Image

    from robot_rl.ros import qos

    rclpy.init()
    node = Node("camera_publish_bench")
    samples: list[tuple[float, float]] = []  # (receipt, age)

    def on_image(msg: Image) -> None:
        now = time.time()
        samples.append((now, now - (msg.header.stamp.sec + msg.header.stamp.nanosec * 1e-9)))

    node.create_subscription(Image, TOPIC, on_image, qos.SENSOR)
    counters: list[tuple[float, int]] = []  # (time, frames the node's camera delivered), from its diagnostics

    def on_diagnostics(msg: DiagnosticArray) -> None:
        for status in msg.status:
            for kv in status.values:
                if kv.key == "wrist/frames" and status.name.startswith("bench/"):
                    counters.append((time.time(), int(kv.value)))

    node.create_subscription(DiagnosticArray, "/diagnostics", on_diagnostics, qos.EVENTS)
    executor = SingleThreadedExecutor()
    executor.add_node(node)
    deadline = time.time() + 30.0
    while not samples and time.time() < deadline:  # wait for the node and discovery
        executor.spin_once(timeout_sec=0.05)
    start = time.time() + warmup_s
    end = start + duration_s
    while time.time() < end:
        executor.spin_once(timeout_sec=0.05)
    node.destroy_node()
    rclpy.try_shutdown()
    window = [(t, age) for t, age in samples if start <= t < end]
    ages_ms = sorted(age * 1000.0 for _, age in window)
    produced = [(t, c) for t, c in counters if start <= t < end]
    produced_hz = ((produced[-1][1] - produced[0][1]) / (produced[-1][0] - produced[0][0])
                   if len(produced) >= 2 and produced[-1][0] > produced[0][0] else None)
    return {
        "camera_publish_hz": round(len(window) / duration_s, 2),
        "camera_frames_published_hz": round(produced_hz, 2) if produced_hz is not None else None,
        "camera_frame_age_ms_p50": round(statistics.median(ages_ms), 2) if ages_ms else None,
        "camera_frame_age_ms_p90": round(ages_ms[int(0.9 * (len(ages_ms) - 1))], 2) if ages_ms else None,
        "frames": len(window),
    }


def _with_camera_node(env: dict[str, str], measure: Any) -> dict[str, Any]:
    node = subprocess.Popen(_camera_command(), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)
    try:
        import psutil

        process = psutil.Process(node.pid)
        cpu_before, wall_before = sum(process.cpu_times()[:2]), time.time()
        result = dict(measure())
        cpu = sum(process.cpu_times()[:2]) - cpu_before
        # how much CPU the node takes (a share of one core): on a loaded machine, rates fall when this can't be had
        result["camera_node_cpu_percent"] = round(100.0 * cpu / (time.time() - wall_before), 1)
        return result
    finally:
        node.terminate()
        try:
            node.wait(timeout=10)
        except subprocess.TimeoutExpired:
            node.kill()
            node.wait()


def measure_camera_publish(quick: bool) -> dict[str, Any]:
    """The camera node's rate and frame age at 640x480@30 with the graph's transport settings.

    Runs the subscriber in a child process so this process's ROS context (if any) and environment
    are untouched.
    """
    return _measure_in_child(quick, "inherit")


def _measure_in_child(quick: bool, transport: str | None) -> dict[str, Any]:
    env = _environment(transport)
    if transport == "inherit":
        from robot_rl.bringup.environment import graph_environment

        env = graph_environment(env)
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child"] + (["--quick"] if quick else [])
    result = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        raise RuntimeError(f"camera benchmark failed:\n{result.stderr[-3000:]}")
    out: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    out["transport"] = env.get("FASTDDS_BUILTIN_TRANSPORTS", "DEFAULT")
    return out


def compare_transports(quick: bool) -> dict[str, Any]:
    return {name: _measure_in_child(quick, setting)
            for name, setting in (("DEFAULT", None), ("LARGE_DATA", "LARGE_DATA"))}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a 3 s window instead of 10 s")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--compare-transports", action="store_true", help="default vs LARGE_DATA Fast DDS transports")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    duration = 3.0 if args.quick else 10.0
    if args.child:
        print(json.dumps(_with_camera_node(dict(os.environ), lambda: _subscribe(duration, warmup_s=1.0))))
        return 0
    results = compare_transports(args.quick) if args.compare_transports else measure_camera_publish(args.quick)
    text = json.dumps(results, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
