"""``robot-rl reward``: train reward models from a replay store and relabel stored episodes.

    robot-rl reward train-classifier runs/sim/replay.zarr --out runs/sim/reward [--override reward.epochs=50]
                                     [--keep keep.json]   (episodes kept by robot-rl replay inspect --keep)
    robot-rl reward train-progress runs/sim/replay.zarr --out runs/sim/reward
    robot-rl reward relabel runs/sim/replay.zarr runs/sim/reward/progress-1.safetensors [--group G]
    robot-rl reward screen runs/sim/replay.zarr runs/sim/reward/progress-1.safetensors [--json]

Training settings come from the ``reward`` config group (``--config``, ``--override``). Relabelling
writes ``rewards/<model version>/`` inside each group and leaves the recorded data as it was. User
mistakes print ``error: ...`` and exit 2.
"""
from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable

from robot_rl.config import ConfigError, load_config, to_object
from robot_rl.replay.errors import ReplayError
from robot_rl.reward.interface import RewardError


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``reward`` with its subcommands to a top-level ``robot-rl`` parser."""
    reward = subparsers.add_parser("reward", help="train reward models, relabel and screen episodes",
                                   description=(__doc__ or "").splitlines()[0])
    sub = reward.add_subparsers(dest="reward_command", required=True)
    for name, func, what in (("train-classifier", cmd_train_classifier, "a success classifier"),
                             ("train-progress", cmd_train_progress, "a goal-conditioned progress critic")):
        p = sub.add_parser(name, help=f"train {what} from a replay store")
        p.add_argument("store", help="replay store path or fsspec URL")
        p.add_argument("--out", required=True, help="directory for the model file (numbered, never overwritten)")
        p.add_argument("--keep", help="train only on the episodes this screening file keeps "
                       "(robot-rl replay inspect STORE --progress-model M --min-voc X --keep FILE)")
        _common(p)
        p.set_defaults(func=_guarded(func))
    p = sub.add_parser("relabel", help="store rewards of a newer model next to the recorded ones")
    p.add_argument("store")
    p.add_argument("model", help="a .safetensors reward model file")
    p.add_argument("--goal", help="goal text for a progress critic (default: each group's recorded goal)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing relabel of the same model")
    p.add_argument("--group", action="append", default=[], help="group to relabel (repeatable; default: all)")
    p.add_argument("--device", default="cpu", help="cpu | cuda | cuda:N | auto")
    p.set_defaults(func=_guarded(cmd_relabel))
    p = sub.add_parser("screen", help="value-order correlation and negative-delta rate per episode")
    p.add_argument("store")
    p.add_argument("model", help="a progress critic .safetensors file")
    p.add_argument("--goal", help="goal text (default: each group's recorded goal)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.add_argument("--group", action="append", default=[], help="group to screen (repeatable; default: all)")
    p.add_argument("--device", default="cpu", help="cpu | cuda | cuda:N | auto")
    p.set_defaults(func=_guarded(cmd_screen))


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--group", action="append", default=[], help="group to read (repeatable; default: all)")
    p.add_argument("--config", default="sim", help="top-level config whose reward group is used")
    p.add_argument("--override", action="append", default=[], help="hydra override (repeatable)")


def _error(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2


def _guarded(command: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        try:
            return command(args)
        except (RewardError, ReplayError, ConfigError) as err:
            return _error(str(err))
        except (FileExistsError, FileNotFoundError, PermissionError) as err:
            return _error(f"{err.strerror}: {err.filename}")
    return run


def _cfg(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    return to_object(load_config(args.config, args.override)).reward


def _keep(args: argparse.Namespace) -> dict[str, set[int]] | None:
    from robot_rl.reward.screening import load_keep

    return load_keep(args.keep) if args.keep else None


def cmd_train_classifier(args: argparse.Namespace) -> int:
    from robot_rl.reward.train import train_classifier_from_store

    path = train_classifier_from_store(args.store, args.out, _cfg(args), args.group or None, keep=_keep(args))
    print(path)
    return 0


def cmd_train_progress(args: argparse.Namespace) -> int:
    from robot_rl.reward.train import train_progress_from_store

    path = train_progress_from_store(args.store, args.out, _cfg(args), args.group or None, keep=_keep(args))
    print(path)
    return 0


def cmd_relabel(args: argparse.Namespace) -> int:
    from robot_rl.reward.train import relabel_store

    relabel_store(args.store, args.model, args.group or None, args.goal, args.overwrite, args.device)
    return 0


def cmd_screen(args: argparse.Namespace) -> int:
    from robot_rl.reward.screening import screen_lines, screen_store

    screens = screen_store(args.store, args.model, args.group or None, args.goal, args.device)
    if args.json:
        print(json.dumps([s.to_dict() for s in screens], indent=1))
        return 0
    print("\n".join(screen_lines(screens)))
    return 0
