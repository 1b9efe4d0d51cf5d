"""Parse a ROS 2 XML launch file into the nodes it starts.

Supports the subset of the launch XML format robot_rl's files use, with the same meaning as
``ros2 launch``: ``<arg>``, ``<let>``, ``<node>`` (with ``<param>``, ``<remap>``, ``<env>``),
``<include>`` (with ``<arg>``), ``<group>`` with ``<push-ros-namespace>``, ``<set-env>``, and the
``if``/``unless`` attributes. Anything else is an error that names the tag, not a silent skip.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from robot_rl.bringup.substitutions import SubstitutionError, as_bool, substitute


class LaunchFileError(ValueError):
    """A launch file cannot be brought up; the message names the file and what to change."""


@dataclass
class NodeSpec:
    """One node process, as a launch file describes it."""

    package: str
    executable: str
    name: str
    namespace: str = "/"
    parameters: dict[str, Any] = field(default_factory=dict)
    parameter_files: list[Path] = field(default_factory=list)
    remappings: list[tuple[str, str]] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    arguments: list[str] = field(default_factory=list)
    shutdown_on_exit: bool = False  # on_exit="shutdown": the graph stops when this node ends
    source: str = ""  # the launch file that declared it

    @property
    def fully_qualified_name(self) -> str:
        return f"{self.namespace.rstrip('/')}/{self.name}"


@dataclass
class LaunchDescription:
    nodes: list[NodeSpec]
    arguments: dict[str, str]  # every declared <arg> of the top file, resolved
    env: dict[str, str]  # from <set-env>, applied to every node


@dataclass
class _Scope:
    variables: dict[str, str]
    namespace: str
    env: dict[str, str]


def parse_launch_file(path: str | Path, arguments: Mapping[str, str] | None = None) -> LaunchDescription:
    """Read ``path`` with launch ``arguments`` (name -> value) and return its nodes, includes expanded."""
    launch_file = Path(path).resolve()
    scope = _Scope(variables={}, namespace="/", env={})
    nodes: list[NodeSpec] = []
    try:
        declared = _parse_file(launch_file, dict(arguments or {}), scope, nodes)
    except SubstitutionError as err:
        raise LaunchFileError(str(err)) from None
    return LaunchDescription(nodes=nodes, arguments=declared, env=scope.env)


def _parse_file(launch_file: Path, given: dict[str, str], scope: _Scope, nodes: list[NodeSpec]) -> dict[str, str]:
    if not launch_file.is_file():
        raise LaunchFileError(f"launch file {launch_file} does not exist")
    try:
        root = ET.parse(launch_file).getroot()
    except ET.ParseError as err:
        raise LaunchFileError(f"{launch_file}: not valid XML ({err})") from None
    if root.tag != "launch":
        raise LaunchFileError(f"{launch_file}: the root element must be <launch>, not <{root.tag}>")
    file_scope = _Scope(variables={}, namespace=scope.namespace, env=scope.env)
    declared = {a.get("name", "") for a in root.findall("arg")}
    unknown = set(given) - declared
    if unknown:
        raise LaunchFileError(f"{launch_file.name}: unknown launch argument(s) {sorted(unknown)}; "
                              f"declared: {sorted(declared)}")
    _parse_children(root, launch_file, given, file_scope, nodes)
    return {k: v for k, v in file_scope.variables.items() if k in declared}


def _parse_children(element: ET.Element, launch_file: Path, given: dict[str, str], scope: _Scope,
                    nodes: list[NodeSpec]) -> None:
    for child in element:
        if not _enabled(child, scope, launch_file):
            continue
        tag = child.tag.replace("_", "-")
        if tag == "arg":
            _declare_arg(child, launch_file, given, scope)
        elif tag == "let":
            scope.variables[_required(child, "name", launch_file)] = _value(child, "value", scope, launch_file)
        elif tag == "node":
            nodes.append(_parse_node(child, launch_file, scope))
        elif tag == "include":
            _parse_include(child, launch_file, scope, nodes)
        elif tag == "group":
            inner = _Scope(dict(scope.variables), scope.namespace, scope.env)
            _parse_children(child, launch_file, given, inner, nodes)
            if not as_bool(child.get("scoped", "true"), "group scoped"):
                scope.variables.update(inner.variables)
        elif tag == "push-ros-namespace":
            scope.namespace = _join_namespace(scope.namespace, _value(child, "namespace", scope, launch_file))
        elif tag == "set-env":
            scope.env[_required(child, "name", launch_file)] = _value(child, "value", scope, launch_file)
        else:
            raise LaunchFileError(f"{launch_file.name}: <{child.tag}> is not supported by robot-rl's bring-up "
                                  f"(supported: arg, let, node, include, group, push-ros-namespace, set-env)")


def _declare_arg(element: ET.Element, launch_file: Path, given: dict[str, str], scope: _Scope) -> None:
    name = _required(element, "name", launch_file)
    if name in given:
        scope.variables[name] = given[name]
    elif element.get("default") is not None:
        scope.variables[name] = _value(element, "default", scope, launch_file)
    else:
        raise LaunchFileError(f"{launch_file.name}: launch argument {name!r} has no default; pass {name}:=VALUE")


def _parse_node(element: ET.Element, launch_file: Path, scope: _Scope) -> NodeSpec:
    executable = _value(element, "exec", scope, launch_file)
    spec = NodeSpec(
        package=_value(element, "pkg", scope, launch_file),
        executable=executable,
        name=element.get("name") and _value(element, "name", scope, launch_file) or executable,
        namespace=_join_namespace(scope.namespace, _value(element, "namespace", scope, launch_file, "")),
        arguments=_value(element, "args", scope, launch_file, "").split(),
        shutdown_on_exit=_value(element, "on_exit", scope, launch_file, "") == "shutdown",
        env=dict(scope.env),
        source=str(launch_file),
    )
    for child in element:
        tag = child.tag.replace("_", "-")
        if tag == "param":
            _parse_param(child, launch_file, scope, spec)
        elif tag == "remap":
            spec.remappings.append((_value(child, "from", scope, launch_file), _value(child, "to", scope, launch_file)))
        elif tag == "env":
            spec.env[_required(child, "name", launch_file)] = _value(child, "value", scope, launch_file)
        else:
            raise LaunchFileError(f"{launch_file.name}: <{child.tag}> inside <node> is not supported "
                                  f"(supported: param, remap, env)")
    return spec


def _parse_param(element: ET.Element, launch_file: Path, scope: _Scope, spec: NodeSpec) -> None:
    if element.get("from") is not None:
        spec.parameter_files.append(Path(_value(element, "from", scope, launch_file)))
        return
    name = _required(element, "name", launch_file)
    text = _value(element, "value", scope, launch_file)
    separator = element.get("value-sep")
    if separator is not None:
        spec.parameters[name] = [_typed(item) for item in text.split(separator)] if text else []
    else:
        spec.parameters[name] = _typed(text)


def _parse_include(element: ET.Element, launch_file: Path, scope: _Scope, nodes: list[NodeSpec]) -> None:
    target = Path(_value(element, "file", scope, launch_file))
    if not target.is_absolute():
        target = launch_file.parent / target
    args = {}
    for child in element:
        if child.tag != "arg":
            raise LaunchFileError(f"{launch_file.name}: <{child.tag}> inside <include> is not supported")
        args[_required(child, "name", launch_file)] = _value(child, "value", scope, launch_file)
    _parse_file(target.resolve(), args, scope, nodes)


def _typed(text: str) -> Any:
    """Parameter values are typed the way ros2 launch types them: YAML scalars, strings otherwise."""
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    return value if isinstance(value, (bool, int, float, str, list)) else text


def _enabled(element: ET.Element, scope: _Scope, launch_file: Path) -> bool:
    if element.get("if") is not None and not as_bool(_value(element, "if", scope, launch_file), "if"):
        return False
    return element.get("unless") is None or not as_bool(_value(element, "unless", scope, launch_file), "unless")


def _value(element: ET.Element, attribute: str, scope: _Scope, launch_file: Path, default: str | None = None) -> str:
    raw = element.get(attribute, default)
    if raw is None:
        raise LaunchFileError(f"{launch_file.name}: <{element.tag}> needs a {attribute!r} attribute")
    return substitute(raw, scope.variables, launch_file)


def _required(element: ET.Element, attribute: str, launch_file: Path) -> str:
    value = element.get(attribute)
    if not value:
        raise LaunchFileError(f"{launch_file.name}: <{element.tag}> needs a {attribute!r} attribute")
    return value


def _join_namespace(outer: str, inner: str) -> str:
    if not inner:
        return outer
    if inner.startswith("/"):
        return inner.rstrip("/") or "/"
    return f"{outer.rstrip('/')}/{inner.strip('/')}"
