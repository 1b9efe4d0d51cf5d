"""``robot-rl``: bring up the graph, check launch files, show configuration, work with recorded data.

    robot-rl sim [--duration S] [name:=value ...]     the whole graph on the simulated arm
    robot-rl launch FILE [--duration S] [name:=value ...]
    robot-rl check FILE [name:=value ...]
    robot-rl config NAME [override ...]
    robot-rl replay inspect|verify|export|import ...
    robot-rl train ...
    robot-rl reward train-classifier|train-progress|relabel|screen ...
    robot-rl sim2real STORE [--checkpoint W] [--out DIR]
    robot-rl calibrate intrinsics|handeye|workspace|check ...
"""
from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from types import FrameType

from omegaconf import OmegaConf

from robot_rl.bringup.checks import check_description, check_no_twin_graph
from robot_rl.bringup.environment import graph_environment
from robot_rl.bringup.launch_file import LaunchFileError, parse_launch_file
from robot_rl.bringup.paths import package_share
from robot_rl.bringup.supervisor import Supervisor
from robot_rl.calibration.cli import register as register_calibrate
from robot_rl.learn.cli import register as register_train
from robot_rl.replay.cli import register as register_replay
from robot_rl.reward.cli import register as register_reward
from robot_rl.sim2real.cli import register as register_sim2real
from robot_rl.config import ConfigError, load_config


class UsageError(ValueError):
    """A mistake on the command line."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (UsageError, LaunchFileError, ConfigError, FileNotFoundError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="robot-rl", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)

    sim = sub.add_parser("sim", help="bring up the whole graph on the simulated arm (sim_launch.xml)")
    _add_launch_options(sim)
    sim.set_defaults(func=lambda a: run_launch("sim_launch.xml", a))

    launch = sub.add_parser("launch", help="bring up the nodes of a ROS 2 XML launch file")
    launch.add_argument("file", help="a launch file path, or a file name in the package's launch/ folder")
    _add_launch_options(launch)
    launch.set_defaults(func=lambda a: run_launch(a.file, a))

    check = sub.add_parser("check", help="parse a launch file and check executables and configs, start nothing")
    check.add_argument("file")
    check.add_argument("launch_args", nargs="*", metavar="name:=value")
    check.set_defaults(func=run_check)

    config = sub.add_parser("config", help="print a composed configuration")
    config.add_argument("name", help="top-level config: sim, robot, teleop")
    config.add_argument("overrides", nargs="*", help="hydra overrides, e.g. robot.control_hz=20")
    config.set_defaults(func=lambda a: print(OmegaConf.to_yaml(load_config(a.name, a.overrides), resolve=True)))

    register_replay(sub)
    register_train(sub)
    register_reward(sub)
    register_sim2real(sub)
    register_calibrate(sub)

    return parser


def _add_launch_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("launch_args", nargs="*", metavar="name:=value", help="launch arguments")
    parser.add_argument("--duration", type=float, default=None, help="stop after this many seconds")
    parser.add_argument("--log-dir", type=Path, default=None, help="also write each node's output here")
    parser.add_argument("--skip-graph-check", action="store_true",
                        help="do not look for an already running graph on this ROS domain")


def launch_path(file: str) -> Path:
    path = Path(file)
    if path.is_file():
        return path
    candidate = package_share() / "launch" / file
    if candidate.is_file():
        return candidate
    available = sorted(p.name for p in (package_share() / "launch").glob("*_launch.xml"))
    raise UsageError(f"launch file {file!r} not found; the package has {', '.join(available)}")


def parse_launch_args(items: Sequence[str]) -> dict[str, str]:
    args = {}
    for item in items:
        name, sep, value = item.partition(":=")
        if not sep or not name:
            raise UsageError(f"launch argument {item!r} must be written name:=value")
        args[name] = value
    return args


def run_check(args: argparse.Namespace) -> int:
    path = launch_path(args.file)
    description = parse_launch_file(path, parse_launch_args(args.launch_args))
    check_description(description)
    for spec in description.nodes:
        print(f"ok  {spec.fully_qualified_name:<32} {spec.package}/{spec.executable}")
    return 0


def run_launch(file: str, args: argparse.Namespace) -> int:
    path = launch_path(file)
    description = parse_launch_file(path, parse_launch_args(args.launch_args))
    check_description(description)
    env = graph_environment()
    env.update(description.env)
    if not args.skip_graph_check:
        from robot_rl.ros.graph import running_nodes  # rclpy only when a graph is actually started

        check_no_twin_graph(description.nodes, running_nodes)
    log_dir = args.log_dir or Path("runs") / "logs" / datetime.now().strftime("%Y%m%d-%H%M%S")
    supervisor = Supervisor(description.nodes, env=env, log_dir=log_dir)
    stop = threading.Event()
    _stop_on_signals(stop)
    print(f"[robot-rl] {path.name}: starting {len(description.nodes)} node(s); logs in {log_dir}", flush=True)
    supervisor.start()
    reason = supervisor.wait(duration_s=args.duration, stop=stop)
    print(f"[robot-rl] {reason}; shutting down", flush=True)
    codes = supervisor.shutdown()
    failed = {name: code for name, code in codes.items() if code not in (0, -2, -15)}
    if failed:
        print(f"[robot-rl] node(s) ended with errors: {failed}", file=sys.stderr)
        return 1
    return 0


def _stop_on_signals(stop: threading.Event) -> None:
    def handler(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)


if __name__ == "__main__":
    sys.exit(main())
