"""``robot-rl replay``: inspect, verify, export and import replay stores.

    robot-rl replay inspect runs/sim/replay.zarr [--json]
    robot-rl replay inspect runs/sim/replay.zarr --progress-model critic.safetensors --min-voc 0.8 --keep keep.json
    robot-rl replay verify runs/sim/replay.zarr
    robot-rl replay export runs/sim/replay.zarr out_bag --format rosbag2 [--group G] [--episodes 0-9]
    robot-rl replay import bag_folder runs/sim/replay.zarr --group session1 [--task T --goal G]

``register`` adds the command to the top-level ``robot-rl`` parser. User mistakes print ``error: ...`` and exit 2; a store that
fails verification exits 1.
"""
from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any

import numpy as np
from tqdm import tqdm

from robot_rl.replay.errors import ReplayError
from robot_rl.replay.schema import Source
from robot_rl.replay.store import array, group_names, open_group, open_root, read_episode_ends


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``replay`` with its subcommands to a top-level ``robot-rl`` parser."""
    replay = subparsers.add_parser("replay", help="inspect, verify, export and import replay stores",
                                   description=__doc__.splitlines()[0])
    sub = replay.add_subparsers(dest="replay_command", required=True)

    p = sub.add_parser("inspect", help="groups, episodes, steps, sources, sizes and schema of a store")
    p.add_argument("store", help="replay store path or fsspec URL")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.add_argument("--progress-model", help="a progress critic .safetensors file: also report each episode's "
                   "value-order correlation and negative-delta rate (robot_rl.reward.screening)")
    p.add_argument("--goal", help="goal text for the critic (default: each group's recorded goal)")
    p.add_argument("--min-voc", type=float, help="filter: keep episodes with at least this value-order correlation")
    p.add_argument("--max-negative-rate", type=float, help="filter: keep episodes with at most this negative-delta rate")
    p.add_argument("--keep", help="write the episodes that pass the filter to this JSON file "
                   "(robot-rl reward train-* --keep FILE trains on them)")
    p.add_argument("--device", default="cpu", help="device for the critic: cpu | cuda | cuda:N | auto")
    p.set_defaults(func=_guarded(cmd_inspect))

    p = sub.add_parser("verify", help="read every committed chunk; report damage with its episodes")
    p.add_argument("store")
    p.set_defaults(func=_guarded(cmd_verify))

    p = sub.add_parser("export", help="write a group as a rosbag2 recording (or a LeRobot dataset)")
    p.add_argument("store")
    p.add_argument("out", help="output folder (must not exist)")
    p.add_argument("--format", required=True, choices=["rosbag2", "lerobot"])
    p.add_argument("--group", help="group to export (default: the only one)")
    p.add_argument("--episodes", help="episodes to export, e.g. 0-9,12 (default: all)")
    p.add_argument("--namespace", default="/robot_rl", help="topic namespace in the bag")
    p.set_defaults(func=_guarded(cmd_export))

    p = sub.add_parser("import", help="rebuild steps from a rosbag2 recording of the graph's topics")
    p.add_argument("bag", help="rosbag2 folder")
    p.add_argument("store", help="replay store to write (created if missing)")
    p.add_argument("--group", required=True, help="group to write; one writer per group")
    p.add_argument("--config", default="sim", help="config that names cameras, image size, rate and task")
    p.add_argument("--override", action="append", default=[], help="hydra override (repeatable)")
    p.add_argument("--namespace", default="/robot_rl", help="topic namespace in the bag")
    p.set_defaults(func=_guarded(cmd_import))


def _error(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2


def _guarded(command: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """``args.func(args)`` runs the command with user errors turned into one ``error:`` line and exit 2.

    The guard travels with the parser, so the top-level ``robot-rl`` dispatcher needs no replay knowledge.
    """
    def run(args: argparse.Namespace) -> int:
        try:
            return command(args)
        except ReplayError as err:
            return _error(str(err))
        except (FileExistsError, FileNotFoundError, PermissionError) as err:
            return _error(f"{err.strerror}: {err.filename}")
    return run


def summarize(location: str) -> dict[str, Any]:
    """What ``inspect`` prints, as data."""
    root = open_root(location, "r")
    groups = {}
    for name in group_names(root):
        group, info = open_group(root, name)
        ends = read_episode_ends(group)
        n = int(ends[-1]) if ends.size else 0
        lengths = np.diff(np.concatenate(([0], ends)))
        source = np.asarray(array(group, "data/source")[:n])
        terminated = np.asarray(array(group, "data/terminated")[:n])
        truncated = np.asarray(array(group, "data/truncated")[:n])
        stored = sum(int(array(group, s.path).nbytes_stored()) for s in info.array_specs())
        raw = sum(int(np.prod(s.step_shape, dtype=np.int64)) * np.dtype(s.dtype).itemsize for s in info.array_specs()) * n
        groups[name] = {
            "schema_version": info.schema_version, "writer": info.writer, "task": info.task, "goal": info.goal,
            "robot": info.robot, "control_hz": info.control_hz, "cameras": info.camera_names,
            "image_size": list(info.image_size), "state_dim": info.state_dim, "action_dim": info.action_dim,
            "calibration": info.calibration, "episodes": int(ends.size), "steps": n,
            "episode_length": {"min": int(lengths.min()), "mean": round(float(lengths.mean()), 1),
                               "max": int(lengths.max())} if ends.size else None,
            "terminated": int(terminated.sum()), "truncated": int(truncated.sum()),
            "steps_by_source": {s.name.lower(): int((source == s.value).sum()) for s in Source},
            "bytes_stored": stored, "bytes_raw": int(raw),
        }
    return {"store": location, "groups": groups}


def _screen(args: argparse.Namespace) -> tuple[list[Any], list[str]]:
    """Screens and their table for ``inspect --progress-model`` (none without it)."""
    if not args.progress_model:
        if args.min_voc is not None or args.max_negative_rate is not None or args.keep or args.goal is not None:
            raise ReplayError("--goal, --min-voc, --max-negative-rate and --keep need --progress-model MODEL "
                              "(a critic from robot-rl reward train-progress)")
        return [], []
    from robot_rl.reward.interface import RewardError
    from robot_rl.reward import screening

    try:
        screens = screening.screen_store(args.store, args.progress_model, goal=args.goal, device=args.device)
    except RewardError as err:
        raise ReplayError(str(err)) from None
    if args.keep:
        kept = screening.kept_episodes(screens, args.min_voc, args.max_negative_rate)
        screening.write_keep(args.keep, kept, store=args.store, model=args.progress_model, goal=args.goal,
                             min_voc=args.min_voc, max_negative_rate=args.max_negative_rate)
    return screens, screening.screen_lines(screens, args.min_voc, args.max_negative_rate)


def cmd_inspect(args: argparse.Namespace) -> int:
    summary = summarize(args.store)
    screens, table = _screen(args)
    if args.json:
        if args.progress_model:
            from robot_rl.reward.screening import passes

            summary["screening"] = [dict(s.to_dict(), keep=passes(s, args.min_voc, args.max_negative_rate))
                                    for s in screens]
        print(json.dumps(summary, indent=2))
        return 0
    print(f"{args.store}: {len(summary['groups'])} group(s)")
    for name, g in summary["groups"].items():
        ratio = g["bytes_stored"] / g["bytes_raw"] if g["bytes_raw"] else 0.0
        print(f"  {name}: {g['episodes']} episodes, {g['steps']} steps "
              f"({g['terminated']} terminated, {g['truncated']} truncated)")
        print(f"    task {g['task']!r}, goal {g['goal']!r}, robot {g['robot']!r}, {g['control_hz']} Hz, schema v{g['schema_version']}")
        print(f"    cameras {g['cameras']} {g['image_size'][0]}x{g['image_size'][1]}, state {g['state_dim']}, action {g['action_dim']}")
        print("    steps by source: " + ", ".join(f"{k} {v}" for k, v in g["steps_by_source"].items()))
        if g["episode_length"]:
            el = g["episode_length"]
            print(f"    episode length min {el['min']} mean {el['mean']} max {el['max']}")
        print(f"    {g['bytes_stored'] / 1e6:.1f} MB stored, {g['bytes_raw'] / 1e6:.1f} MB raw ({ratio:.2f})")
        if g["writer"]:
            w = g["writer"]
            print(f"    written by {w.get('program') or '?'} on {w.get('host')} (pid {w.get('pid')}) since {w.get('created')}")
    if table:
        print(f"screening with {args.progress_model}:")
        print("\n".join("  " + line for line in table))
    if args.keep:
        print(f"wrote the episodes to keep to {args.keep}")
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    from robot_rl.replay.verify import count_chunks, verify

    total = count_chunks(args.store)
    with tqdm(total=total, desc="verify", unit="chunk", disable=not sys.stderr.isatty()) as bar:
        report = verify(args.store, on_chunk=lambda: bar.update(1))
    for name in report.episodes:
        print(f"{name}: {report.episodes[name]} episodes, {report.steps[name]} steps")
    if report.ok:
        print("ok: every committed episode is readable and consistent")
        return 0
    for problem in report.problems:
        print(f"damaged: {problem}")
    for name in report.episodes:
        bad = report.bad_episodes(name)
        if bad:
            print(f"{name}: {len(bad)} damaged episode(s): {bad}")
    return 1


def _pick_group(store: str, group: str | None) -> str:
    names = group_names(open_root(store, "r"))
    if group:
        return group
    if len(names) != 1:
        raise ReplayError(f"{store} has groups {names}: choose one with --group")
    return names[0]


def parse_episodes(text: str | None) -> list[int] | None:
    if not text:
        return None
    out: list[int] = []
    try:
        for part in text.split(","):
            lo, _, hi = part.partition("-")
            out.extend(range(int(lo), int(hi or lo) + 1))
    except ValueError:
        raise ReplayError(f"--episodes {text!r}: use numbers and ranges like 0-9,12") from None
    return out


def cmd_export(args: argparse.Namespace) -> int:
    group = _pick_group(args.store, args.group)
    episodes = parse_episodes(args.episodes)
    root = open_root(args.store, "r")
    zgroup, _ = open_group(root, group)
    available = int(read_episode_ends(zgroup).size)
    if episodes and max(episodes) >= available:
        raise ReplayError(f"--episodes {args.episodes}: {args.store}::{group} has episodes 0-{available - 1}")
    with tqdm(total=len(episodes) if episodes else available, desc="export", unit="episode",
              disable=not sys.stderr.isatty()) as bar:
        if args.format == "lerobot":
            from robot_rl.replay.lerobot import export_lerobot

            count = export_lerobot(args.store, group, args.out, episodes=episodes, on_episode=lambda: bar.update(1))
        else:
            from robot_rl.replay.rosbag import export_rosbag2

            count = export_rosbag2(args.store, group, args.out, namespace=args.namespace, episodes=episodes,
                                   on_episode=lambda: bar.update(1))
    print(f"wrote {count} episodes of {args.store}::{group} to {args.out} ({args.format})")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from robot_rl.config import ConfigError, load_config, to_object
    from robot_rl.policy.state import STATE_DIM
    from robot_rl.replay.recorder import ACTION_NAMES
    from robot_rl.replay.rosbag import import_rosbag2
    from robot_rl.replay.schema import GroupInfo

    try:
        s = to_object(load_config(args.config, args.override))
    except ConfigError as err:
        raise ReplayError(str(err)) from None
    size = s.cameras.policy_image_size
    info = GroupInfo(camera_names=list(s.cameras.names), image_size=(size, size), state_dim=STATE_DIM,
                     action_dim=len(ACTION_NAMES), task=s.replay.task, goal=s.replay.goal, robot=s.robot.name,
                     control_hz=s.robot.control_hz, action_names=list(ACTION_NAMES),
                     action_scale=[s.policy.max_linear_speed] * 3 + [s.policy.max_angular_speed] * 3 + [1.0])
    count = import_rosbag2(args.bag, args.store, args.group, info, namespace=args.namespace,
                           gripper_joint=s.robot.gripper_joint)
    print(f"imported {count} episodes from {args.bag} into {args.store}::{args.group}")
    return 0
