"""Launch files parse as ros2 launch reads them; every exec, parameter file and config name is real."""
from pathlib import Path

import pytest

from robot_rl.bringup.checks import check_description
from robot_rl.bringup.launch_file import LaunchFileError, parse_launch_file
from robot_rl.bringup.paths import find_executable, package_share

LAUNCH_FILES = sorted((package_share() / "launch").glob("*_launch.xml"))


def test_the_package_ships_the_three_launch_files() -> None:
    assert {p.name for p in LAUNCH_FILES} >= {"sim_launch.xml", "robot_launch.xml", "teleop_launch.xml"}


@pytest.mark.parametrize("path", LAUNCH_FILES, ids=lambda p: p.name)
def test_every_launch_file_names_installed_executables_and_resolving_configs(path: Path) -> None:
    description = parse_launch_file(path)
    assert description.nodes, f"{path.name} starts no node"
    for spec in description.nodes:
        assert spec.package == "robot_rl"
        assert find_executable(spec.package, spec.executable) is not None, spec.executable
        for params in spec.parameter_files:
            assert params.is_file(), f"{path.name}: parameter file {params} does not exist"
        assert "config" in spec.parameters, f"{spec.name}: every node takes its config by name"
    check_description(description)  # raises on a missing exec or a config that does not compose


def write(tmp_path: Path, name: str, body: str) -> Path:
    path = tmp_path / name
    path.write_text(f"<launch>\n{body}\n</launch>\n")
    return path


def test_args_includes_groups_and_conditions(tmp_path: Path) -> None:
    write(tmp_path, "inner_launch.xml", """
      <arg name="who"/>
      <node pkg="robot_rl" exec="sim_robot" name="$(var who)"><param name="config" value="sim"/></node>""")
    outer = write(tmp_path, "outer_launch.xml", """
      <arg name="ns" default="arm1"/>
      <arg name="with_extra" default="false"/>
      <group>
        <push-ros-namespace namespace="$(var ns)"/>
        <include file="$(dirname)/inner_launch.xml"><arg name="who" value="first"/></include>
        <node pkg="robot_rl" exec="sim_robot" name="second">
          <param name="config" value="sim"/>
          <param name="overrides" value="sim.seed=3 robot.control_hz=20"/>
          <param name="gains" value="1.0;2.5" value-sep=";"/>
          <remap from="robot/command" to="safe/command"/>
          <env name="FOO" value="bar"/>
        </node>
      </group>
      <node pkg="robot_rl" exec="sim_robot" name="extra" if="$(var with_extra)"/>
      <node pkg="robot_rl" exec="sim_robot" name="top" unless="$(var with_extra)"/>""")
    nodes = {n.name: n for n in parse_launch_file(outer).nodes}
    assert set(nodes) == {"first", "second", "top"}
    assert nodes["first"].fully_qualified_name == "/arm1/first"
    assert nodes["top"].fully_qualified_name == "/top"
    second = nodes["second"]
    assert second.parameters == {"config": "sim", "overrides": "sim.seed=3 robot.control_hz=20", "gains": [1.0, 2.5]}
    assert second.remappings == [("robot/command", "safe/command")]
    assert second.env == {"FOO": "bar"}
    assert {n.name for n in parse_launch_file(outer, {"with_extra": "true"}).nodes} == {"first", "second", "extra"}


@pytest.mark.parametrize(
    ("body", "args", "says"),
    [
        ('<executable cmd="rm -rf /"/>', {}, "<executable> is not supported"),
        ('<node pkg="robot_rl" exec="$(eval 1+1)"/>', {}, "$(eval) is not supported"),
        ('<node pkg="robot_rl" exec="$(var nope)"/>', {}, "$(var nope) is not declared"),
        ('<arg name="must"/>', {}, "'must' has no default"),
        ('<arg name="a" default="1"/>', {"b": "2"}, "unknown launch argument(s) ['b']"),
        ('<node pkg="robot_rl"/>', {}, "needs a 'exec' attribute"),
        ('<node pkg="robot_rl" exec="x" if="maybe"/>', {}, "not a boolean"),
    ],
)
def test_launch_file_mistakes_are_named(tmp_path: Path, body: str, args: dict[str, str], says: str) -> None:
    with pytest.raises(LaunchFileError) as info:
        parse_launch_file(write(tmp_path, "bad_launch.xml", body), args)
    assert says in str(info.value)


def test_not_xml_and_wrong_root_are_named(tmp_path: Path) -> None:
    broken = tmp_path / "broken_launch.xml"
    broken.write_text("<launch><node</launch>")
    with pytest.raises(LaunchFileError, match="not valid XML"):
        parse_launch_file(broken)
    wrong = tmp_path / "wrong_launch.xml"
    wrong.write_text("<robot/>")
    with pytest.raises(LaunchFileError, match="root element must be <launch>"):
        parse_launch_file(wrong)


def test_missing_executable_is_named_with_its_node(tmp_path: Path) -> None:
    path = write(tmp_path, "missing_launch.xml",
                 '<node pkg="robot_rl" exec="no_such_node" name="ghost"><param name="config" value="sim"/></node>')
    with pytest.raises(LaunchFileError, match="'no_such_node' \\(node /ghost"):
        check_description(parse_launch_file(path))


def test_config_that_does_not_compose_is_named_with_its_node(tmp_path: Path) -> None:
    path = write(tmp_path, "cfg_launch.xml", """
      <node pkg="robot_rl" exec="sim_robot" name="arm">
        <param name="config" value="sim"/><param name="overrides" value="robot.control_hz=fast"/>
      </node>""")
    with pytest.raises(LaunchFileError, match="node /arm: bad override"):
        check_description(parse_launch_file(path))
