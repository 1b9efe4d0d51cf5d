"""The ROS 2 launch substitutions robot_rl's launch files use: $(var), $(env), $(find-pkg-share), $(dirname).

Anything else (notably ``$(eval)``, which runs code) is refused with a clear error.
"""
from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

from robot_rl.bringup.paths import package_share

_SUBSTITUTION = re.compile(r"\$\(([a-z\-]+)((?:\s+[^)\s]+)*)\s*\)")
TRUE_WORDS = {"true", "1", "yes", "on"}
FALSE_WORDS = {"false", "0", "no", "off", ""}


class SubstitutionError(ValueError):
    """A substitution in a launch file cannot be resolved."""


def substitute(text: str, variables: Mapping[str, str], launch_file: Path) -> str:
    """Resolve every ``$(...)`` in ``text``."""

    def resolve(match: re.Match[str]) -> str:
        kind, args = match.group(1), match.group(2).split()
        if kind == "var":
            _expect_args(kind, args, 1, 1, launch_file)
            if args[0] not in variables:
                raise SubstitutionError(f"{launch_file.name}: $(var {args[0]}) is not declared; add "
                                        f'<arg name="{args[0]}" default="..."/> or pass {args[0]}:=VALUE')
            return variables[args[0]]
        if kind == "env":
            _expect_args(kind, args, 1, 2, launch_file)
            value = os.environ.get(args[0], args[1] if len(args) > 1 else None)
            if value is None:
                raise SubstitutionError(f"{launch_file.name}: environment variable {args[0]} is not set "
                                        f"and $(env {args[0]}) gives no default")
            return value
        if kind == "find-pkg-share":
            _expect_args(kind, args, 1, 1, launch_file)
            try:
                return str(package_share(args[0]))
            except FileNotFoundError as err:
                raise SubstitutionError(f"{launch_file.name}: {err}") from None
        if kind == "dirname":
            return str(launch_file.parent)
        raise SubstitutionError(f"{launch_file.name}: substitution $({kind}) is not supported by robot-rl "
                                f"(supported: var, env, find-pkg-share, dirname)")

    return _SUBSTITUTION.sub(resolve, text)


def as_bool(value: str, what: str) -> bool:
    word = value.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise SubstitutionError(f"{what}={value!r} is not a boolean; use true or false")


def _expect_args(kind: str, args: list[str], low: int, high: int, launch_file: Path) -> None:
    if not low <= len(args) <= high:
        raise SubstitutionError(f"{launch_file.name}: $({kind}) takes {low}..{high} arguments, got {args}")
