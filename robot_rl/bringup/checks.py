"""Checks made before a graph starts: every executable installed, every config resolves, no twin graph."""
from __future__ import annotations

import shlex
from collections.abc import Callable

from robot_rl.bringup.launch_file import LaunchDescription, LaunchFileError, NodeSpec
from robot_rl.bringup.supervisor import resolve_executables
from robot_rl.config import ConfigError, load_config


def check_configs(description: LaunchDescription) -> None:
    """Every node's ``config`` + ``overrides`` parameters compose; raise LaunchFileError otherwise."""
    for spec in description.nodes:
        if "config" not in spec.parameters:
            continue
        overrides = shlex.split(str(spec.parameters.get("overrides") or ""))
        try:
            load_config(str(spec.parameters["config"]), overrides)
        except ConfigError as err:
            raise LaunchFileError(f"node {spec.fully_qualified_name}: {err}") from None


def check_description(description: LaunchDescription) -> None:
    if not description.nodes:
        raise LaunchFileError("the launch file starts no node")
    names = [spec.fully_qualified_name for spec in description.nodes]
    twins = sorted({n for n in names if names.count(n) > 1})
    if twins:
        raise LaunchFileError(f"two nodes share the name(s) {twins}; give each a unique name")
    resolve_executables(description.nodes)
    check_configs(description)


def check_no_twin_graph(specs: list[NodeSpec], running_nodes: Callable[[], set[str]]) -> None:
    """Refuse to start when nodes of the same names already run on this ROS domain."""
    clash = sorted({spec.fully_qualified_name for spec in specs} & running_nodes())
    if clash:
        raise LaunchFileError(f"a graph is already running on this ROS_DOMAIN_ID with node(s) {', '.join(clash)}; "
                              f"stop it first, or start this one with another ROS_DOMAIN_ID or namespace:=...")
