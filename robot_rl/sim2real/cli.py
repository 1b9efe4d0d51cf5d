"""``robot-rl sim2real STORE [override ...] [--options]``: replay recorded episodes against the simulator (and a policy checkpoint).

Exit status: 0 every episode within the thresholds, 1 the gate failed, 2 a usage error.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from robot_rl.config import ConfigError, load_config, to_object
from robot_rl.replay.errors import ReplayError
from robot_rl.sim2real.config import Sim2RealConfig
from robot_rl.sim2real.core import Sim2RealError, run_sim2real
from robot_rl.sim2real.report import write_report

DEFAULTS = Sim2RealConfig()


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "sim2real", help="replay recorded episodes in the simulator and through a policy; gate on divergence",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("store", help="replay store (path or fsspec URL); for a rosbag2 recording, "
                                      "`robot-rl replay import` it first")
    parser.add_argument("--group", default="", help="replay group (default: the store's only group)")
    parser.add_argument("--checkpoint", default="", help="policy weights (.safetensors) to compare actions with")
    parser.add_argument("--out", type=Path, default=Path("runs/sim2real"), help="report folder")
    parser.add_argument("--config", default="sim", help="top-level config describing the simulator")
    parser.add_argument("--episodes", type=int, default=DEFAULTS.episodes, help="last N episodes (0 = all)")
    parser.add_argument("--image-every", type=int, default=DEFAULTS.image_every,
                        help="compare every N-th frame (0 = no image statistics)")
    parser.add_argument("--max-ee-rmse-m", type=float, default=DEFAULTS.max_ee_rmse_m)
    parser.add_argument("--max-action-error", type=float, default=DEFAULTS.max_action_error)
    parser.add_argument("--max-image-mad", type=float, default=DEFAULTS.max_image_mad)
    parser.add_argument("--ignore-outcome", action="store_true", help="do not fail on a different task outcome")
    parser.add_argument("overrides", nargs="*", help="hydra overrides for the simulator, e.g. sim.image_size=64")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        config = Sim2RealConfig(max_ee_rmse_m=args.max_ee_rmse_m, max_action_error=args.max_action_error,
                                max_image_mad=args.max_image_mad, episodes=args.episodes,
                                image_every=args.image_every, require_outcome=not args.ignore_outcome)
        settings = to_object(load_config(args.config, list(args.overrides)))
        report = run_sim2real(args.store, settings, config, group=args.group, checkpoint=args.checkpoint)
    except (ConfigError, Sim2RealError, ReplayError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    paths = write_report(report, args.out)
    for e in report.episodes:
        extra = f", action error {e.action_error:.3f}" if e.action_error is not None else ""
        images = ", ".join(f"{c} MAD {s['mad']:.1f}" for c, s in e.image.items())
        print(f"episode {e.index}: ee RMSE {e.ee_rmse_m * 1000:.1f} mm (max {e.ee_max_m * 1000:.1f}), "
              f"success recorded/replayed {e.recorded_success}/{e.replayed_success}{extra}"
              f"{', ' + images if images else ''}{'  FAIL: ' + '; '.join(e.failures) if e.failures else ''}")
    print(f"{'PASS' if report.passed else 'FAIL'}: {len(report.episodes)} episodes; report {paths['json']}")
    return 0 if report.passed else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="robot-rl")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["sim2real", *(argv if argv is not None else sys.argv[1:])])
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
