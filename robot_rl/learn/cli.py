"""``robot-rl train``: the learner as a plain command (no ROS), single process or under torchrun.

    robot-rl train                                  # config "sim", follows learner.replays
    robot-rl train --config robot learner.batch_size=128 learner.utd_ratio=8
    torchrun --nproc_per_node=2 -m robot_rl.learn.cli --config sim learner.device=cuda

Weights for the policy server land in ``policy.weights_dir`` every ``learner.weights_every_s``; the
policy server picks up the newest on start, and the ``learner`` ROS node (``robot_rl.ros.learner_node``)
also announces each one on ``policy/weights``. Ctrl-C (or SIGTERM) writes a final checkpoint; the
next start resumes from it.
"""
from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from robot_rl.config import ConfigError, load_config, to_object


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("overrides", nargs="*", help="hydra overrides, e.g. learner.batch_size=128")
    parser.add_argument("--config", default="sim", help="top-level config (sim, robot, ...)")
    parser.add_argument("--max-updates", type=int, default=None, help="stop after this many critic updates in all")
    parser.add_argument("--max-seconds", type=float, default=None, help="stop after this long")
    parser.add_argument("--stop-when-idle", action="store_true",
                        help="stop once every committed step has had its updates (offline training)")
    parser.add_argument("--no-resume", action="store_true",
                        help="ignore checkpoints in learner.checkpoint_dir (new ones still go there)")
    parser.add_argument("--no-progress", action="store_true", help="no console progress bar")
    parser.add_argument("--synthetic", metavar="N|FILE", default=None,
                        help="train on synthetic transitions (N committed steps, or a JSON file {source: steps}) "
                             "instead of the replay stores: for tests and benchmarks")


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``train`` to the ``robot-rl`` command."""
    parser = subparsers.add_parser("train", help="run the SAC learner on the replay store(s)",
                                   description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(parser)
    parser.set_defaults(func=run_train)


def run_train(args: argparse.Namespace) -> int:
    import torch  # after argument parsing: --help stays fast

    from robot_rl.learn import distributed
    from robot_rl.learn.checkpoint import CheckpointError
    from robot_rl.learn.data import open_replay_sampler, open_synthetic_sampler
    from robot_rl.learn.trainer import Trainer

    config = to_object(load_config(args.config, args.overrides))
    info = distributed.DistInfo()
    if distributed.launched_by_torchrun():
        import os

        device = distributed.resolve_device(config.learner.device, int(os.environ.get("LOCAL_RANK", "0")))
        info = distributed.init_distributed(device)
    device = distributed.resolve_device(config.learner.device, info.local_rank)
    if device.type == "cuda":
        torch.cuda.set_device(device)
    seed = config.learner.seed + 7919 * info.rank
    try:
        sampler = (open_synthetic_sampler(config, args.synthetic, seed) if args.synthetic is not None
                   else open_replay_sampler(config, seed))
        trainer = Trainer(config, sampler, max_updates=args.max_updates, console=not args.no_progress,
                          dist_info=info, device=device, resume=not args.no_resume,
                          on_weights=lambda w: print(f"weights v{w.version}: {w.path}", file=sys.stderr))
        trainer.run(stop_when_idle=args.stop_when_idle, max_seconds=args.max_seconds)
    except CheckpointError as err:  # robot-rl's main reports ConfigError itself; this one is ours
        print(f"error: {err}", file=sys.stderr)
        return 2
    finally:
        distributed.shutdown(info)
    if info.is_main:
        print(f"learner stopped: {trainer.counters()}", file=sys.stderr)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="robot-rl train", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        return run_train(args)
    except (ConfigError, FileNotFoundError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
